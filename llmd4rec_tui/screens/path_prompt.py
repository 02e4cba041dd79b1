"""Pick config files to queue: type a path or glob, or choose a .toml in the tree."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DirectoryTree, Input, Static

from llmd4rec_tui.queue.enqueue import expand_patterns
from llmd4rec_tui.queue.errors import QueueError


class TomlTree(DirectoryTree):
    """Folders and .toml files only, hidden entries left out."""

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        return [p for p in paths if not p.name.startswith(".") and (p.is_dir() or p.suffix == ".toml")]


def expand_paths(text: str, base: Path) -> list[Path]:
    """Space-separated paths, globs or folders (their *.toml), relative to base.

    Raises QueueError naming a word that matches nothing.
    """
    patterns = []
    for word in text.split():
        path = Path(word).expanduser()
        path = path if path.is_absolute() else base / path
        patterns.append(str(path / "*.toml") if path.is_dir() else str(path))
    if not patterns:
        raise QueueError("type at least one config path (or pick one in the tree)")
    paths = expand_patterns(patterns)
    missing = next((p for p in paths if not p.exists()), None)
    if missing is not None:
        raise QueueError(f"{missing}: no such file")
    return paths


class PathPrompt(ModalScreen[list[Path] | None]):
    CSS_PATH = "path_prompt.tcss"
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, base: Path) -> None:
        super().__init__()
        self.base = base

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Add configs to the queue (enter adds; escape cancels)"
            yield Input(placeholder="configs/*.toml or a folder", id="path-input")
            yield Static("", id="path-error")
            yield TomlTree(self.base)

    def on_directory_tree_file_selected(self, event: DirectoryTree.FileSelected) -> None:
        path_input = self.query_one("#path-input", Input)
        path_input.value = str(event.path)
        path_input.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        try:
            self.dismiss(expand_paths(event.value, self.base))
        except QueueError as exc:
            self.query_one("#path-error", Static).update(str(exc))

    def action_cancel(self) -> None:
        self.dismiss(None)
