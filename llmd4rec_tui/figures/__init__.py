"""Publication figures of stored runs (`llmd4rec runs plot`, the TUI's figure key).

Each kind turns a FigureSource (records the store read) into FigureData, the exact numbers
it draws, and then draws only those, so the CSV written beside a figure is what the figure
shows. matplotlib is imported only here and only when a figure is made: the CLI and the
TUI start without it.
"""
