"""Writers for small hand-made data files and wheels, so tests never need the network."""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from engine.config import DataSection

Rows = Sequence[Sequence[object]]


def atomic_text(header: Sequence[str], rows: Rows, newline: str = "\n") -> str:
    lines = ["\t".join(header), *("\t".join(str(v) for v in row) for row in rows)]
    return newline.join(lines) + newline


def csv_text(header: Sequence[str], rows: Rows) -> str:
    def cell(value: object) -> str:
        text = str(value)
        return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\n') else text

    return "\n".join(",".join(cell(v) for v in row) for row in [list(header), *rows]) + "\n"


def build_wheel(folder: Path, name: str, version: str, members: dict[str, bytes | str]) -> Path:
    """A minimal valid wheel (pip accepts it with --find-links)."""
    dist = f"{name.replace('-', '_')}-{version}"
    path = folder / f"{dist}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for member, data in members.items():
            archive.writestr(member, data)
        archive.writestr(f"{dist}.dist-info/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        wheel = "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        archive.writestr(f"{dist}.dist-info/WHEEL", wheel)
        archive.writestr(f"{dist}.dist-info/RECORD", "")
    return path


INTER_HEADER = ("user_id:token", "item_id:token", "rating:float", "timestamp:float")
ITEM_HEADER = ("item_id:token", "movie_title:token_seq", "release_year:token", "genre:token_seq")


@pytest.fixture
def write_atomic(tmp_path: Path) -> Callable[..., Path]:
    def write(name: str, header: Sequence[str], rows: Rows, newline: str = "\n") -> Path:
        path = tmp_path / name
        path.write_bytes(atomic_text(header, rows, newline).encode())
        return path

    return write


@pytest.fixture
def write_csv(tmp_path: Path) -> Callable[..., Path]:
    def write(name: str, header: Sequence[str], rows: Rows) -> Path:
        path = tmp_path / name
        path.write_text(csv_text(header, rows), encoding="utf-8")
        return path

    return write


@pytest.fixture
def section(tmp_path: Path) -> Callable[..., DataSection]:
    """A [data] section with its cache inside tmp_path."""

    def make(**values: Any) -> DataSection:
        values.setdefault("cache_dir", str(tmp_path / "cache"))
        return DataSection(**values)

    return make


@pytest.fixture
def small_inter() -> list[tuple[str, str, int, int]]:
    """Four users, five items, a timestamp tie for u1; u4 has too few rows for a split."""
    return [
        ("u1", "i1", 5, 100),
        ("u1", "i3", 4, 300),
        ("u1", "i2", 3, 200),
        ("u1", "i4", 1, 200),
        ("u2", "i2", 5, 50),
        ("u2", "i3", 5, 60),
        ("u2", "i5", 2, 70),
        ("u10", "i1", 4, 10),
        ("u10", "i2", 4, 20),
        ("u10", "i3", 4, 30),
        ("u4", "i1", 5, 1),
        ("u4", "i5", 5, 2),
    ]


@pytest.fixture
def make_wheel() -> Callable[[Path, str, str, dict[str, bytes | str]], Path]:
    return build_wheel
