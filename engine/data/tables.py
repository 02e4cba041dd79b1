"""Parse delimited text into named string columns, checking the shape of every line.

Two layouts are read:

* RecBole atomic files: tab-separated, no quoting (titles contain bare ``"``), a header
  whose names carry a type suffix (``item_id:token``) that is stripped here.
* CSV: comma-separated with standard quoting (titles may contain commas), plain header.

Atomic files are split in bulk (one ``str.split`` for the whole file) and the field count
of every line is checked with NumPy, so a million-line file needs no per-line Python work.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Literal

import numpy as np

from engine.data.errors import DataError
from engine.data.sources import DataSource, decode_text

TableFormat = Literal["atomic", "csv"]
_DELIMITERS = {"atomic": "\t", "csv": ","}
_DELIMITER_NAMES = {"\t": "tab", ",": "comma", ";": "semicolon", "|": "pipe", " ": "space"}


@dataclass(frozen=True)
class Table:
    """Header names and one list of strings per column; row i is file line i + 2."""

    source: DataSource
    header: list[str]
    columns: dict[str, list[str]]

    @property
    def num_rows(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0

    def column(self, name: str, purpose: str) -> list[str]:
        """A required column; its absence names what was found and what is expected."""
        if name not in self.columns:
            raise DataError(
                self.source.label,
                f"a column named {name!r} ({purpose})",
                value=self.header,
                column=name,
            )
        return self.columns[name]


def read_table(source: DataSource, fmt: TableFormat, raw: bytes | None = None) -> Table:
    """Read ``source`` (or its already-read bytes) as an atomic or CSV table."""
    text = decode_text(source, source.read_bytes() if raw is None else raw)
    text = text.rstrip("\n")
    if not text.strip():
        raise DataError(source.label, "a header line and at least one data line", value="(empty file)")
    delimiter = _DELIMITERS[fmt]
    first_line = text.split("\n", 1)[0]
    header = [_strip_type(name) if fmt == "atomic" else name.strip() for name in _split_header(first_line, fmt)]
    _check_header(source, header, first_line, delimiter, fmt)
    split = _split_atomic if fmt == "atomic" else _split_csv
    rows = split(source, text, len(header))
    return Table(source, header, dict(zip(header, rows, strict=True)))


def _strip_type(name: str) -> str:
    return name.strip().split(":", 1)[0]


def _split_header(line: str, fmt: TableFormat) -> list[str]:
    if fmt == "atomic":
        return line.split("\t")
    return next(csv.reader([line]))


def _check_header(source: DataSource, header: list[str], line: str, delimiter: str, fmt: TableFormat) -> None:
    if len(header) < 2:
        sniffed = [d for d in _DELIMITER_NAMES if d != delimiter and d in line]
        hint = f"; the header looks {_DELIMITER_NAMES[sniffed[0]]}-separated" if sniffed else ""
        raise DataError(
            source.label,
            f"a {_DELIMITER_NAMES[delimiter]}-separated header with at least 2 columns ({fmt} format){hint}",
            value=line[:200],
            line=1,
        )
    if len(set(header)) != len(header):
        raise DataError(source.label, "distinct column names", value=header, line=1)


def _split_atomic(source: DataSource, text: str, width: int) -> list[list[str]]:
    """Columns of a tab-separated, unquoted file, split in bulk and shape-checked."""
    body_start = text.find("\n") + 1 if "\n" in text else len(text)
    body = text[body_start:]
    if not body:
        raise DataError(source.label, "at least one data line after the header", value="(header only)")
    encoded = np.frombuffer(body.encode("utf-8"), dtype=np.uint8)
    newlines = np.flatnonzero(encoded == ord("\n"))
    tabs = np.flatnonzero(encoded == ord("\t"))
    num_lines = len(newlines) + 1
    tabs_per_line = np.bincount(np.searchsorted(newlines, tabs), minlength=num_lines)
    bad = np.flatnonzero(tabs_per_line != width - 1)
    if len(bad):
        index = int(bad[0])
        line_text = body.split("\n")[index]
        raise DataError(
            source.label,
            f"{width} tab-separated fields like the header",
            value=f"{int(tabs_per_line[index]) + 1} field(s): {line_text[:120]}",
            line=index + 2,
        )
    fields = body.replace("\n", "\t").split("\t")
    return [fields[k::width] for k in range(width)]


def _split_csv(source: DataSource, text: str, width: int) -> list[list[str]]:
    """Columns of a quoted CSV; each row's width is checked against the header."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        next(reader)
        rows = list(reader)
    except csv.Error as exc:
        raise DataError(source.label, f"well-formed CSV ({exc})", line=reader.line_num) from None
    if not rows:
        raise DataError(source.label, "at least one data line after the header", value="(header only)")
    widths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
    bad = np.flatnonzero(widths != width)
    if len(bad):
        index = int(bad[0])
        raise DataError(
            source.label,
            f"{width} comma-separated fields like the header",
            value=f"{int(widths[index])} field(s): {','.join(rows[index])[:120]}",
            line=_csv_line_number(text, index),
        )
    return [list(col) for col in zip(*rows, strict=True)]


def _csv_line_number(text: str, row_index: int) -> int:
    """Physical line of data row ``row_index`` (quoted fields may span lines)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    next(reader)
    for i, _ in enumerate(reader):
        if i == row_index:
            return reader.line_num
    return row_index + 2
