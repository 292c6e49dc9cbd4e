"""syndicate: publish an article set as multilingual RSS, Atom and JSON feeds.

The pipeline reads top to bottom in the package layout::

    sources/ -> models -> translate/ -> localize -> render/ -> publish

``pipeline.py`` wires the stages; ``cli.py`` is a thin Typer front end.
"""

__version__ = "0.1.0"
