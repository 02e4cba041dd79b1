"""llmd4rec's front end: CLI, queue workers, store and the Textual app. Never imports torch."""

__version__ = "0.1.0"
