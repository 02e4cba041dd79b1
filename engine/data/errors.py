"""The one exception type for unusable data: it says which file, where, what and what was expected."""

from __future__ import annotations


class DataError(ValueError):
    """A data file (or a filter result) that cannot be used.

    Carries the pieces separately so callers (CLI, worker) can show or store them, and
    formats them into one line: ``FILE, line L, column C: found VALUE; expected EXPECTED``.
    """

    def __init__(
        self,
        file: str,
        expected: str,
        *,
        value: object = None,
        line: int | None = None,
        column: str | None = None,
    ) -> None:
        self.file, self.expected, self.value, self.line, self.column = file, expected, value, line, column
        where = file
        if line is not None:
            where += f", line {line}"
        if column is not None:
            where += f", column {column!r}"
        found = f"found {value!r}; " if value is not None else ""
        super().__init__(f"{where}: {found}expected {expected}")
