"""`python -m llmd4rec_tui`: the `llmd4rec` command, for jobs that name an interpreter rather than a script."""

from llmd4rec_tui.cli import main

main()
