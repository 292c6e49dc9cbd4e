"""``python -m syndicate`` runs the command-line interface (:func:`syndicate.launch.main`)."""

from syndicate.launch import main

main()
