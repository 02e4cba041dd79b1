"""Writing one export from a screen: the file, then a notification naming it or the error."""

from __future__ import annotations

from pathlib import Path

from textual.screen import Screen

#: File suffix of each export format the Compare and Results screens write.
SUFFIXES = {"csv": "csv", "md": "md", "latex": "tex", "json": "json"}


def write_export(screen: Screen[None], path: Path, text: str) -> bool:
    """An unwritable place is a notification naming the path and why, never a crash."""
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        screen.notify(f"cannot write {path}: {exc.strerror or exc}", severity="error")
        return False
    screen.notify(f"wrote {path}")
    return True
