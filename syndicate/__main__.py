"""``python -m syndicate`` runs the command-line interface."""

from syndicate.cli import main

main()
