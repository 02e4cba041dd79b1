"""The S3-Rec / E4SRec sequences format: hand-counted statistics, the same split as the
equivalent CSV, item text files, gzip, and every bad line."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.config import ConfigError, DataSection, config_from_dict
from engine.data.dataset import SequenceDataset
from engine.data.errors import DataError
from engine.data.load import load_dataset

#: user -> items in time order. u4 (2 items) is too short for a split; u10 sorts after u2.
SEQUENCES = {
    "1": ["3", "1", "2", "1", "5"],
    "2": ["2", "3", "4"],
    "10": ["5", "4", "3", "2"],
    "4": ["1", "2"],
}


def sequences_text(sequences: dict[str, list[str]] = SEQUENCES, sep: str = " ") -> str:
    return "".join(sep.join([user, *items]) + "\n" for user, items in sequences.items())


def as_rows(sequences: dict[str, list[str]]) -> list[tuple[str, str, int]]:
    """The same interactions as user,item,timestamp rows, the position on the line as time."""
    return [(user, item, t) for user, items in sequences.items() for t, item in enumerate(items)]


def split_of(data: SequenceDataset) -> dict[str, object]:
    named = [[data.item_ids[i] for i in seq] for seq in data.sequences]
    valid, test = data.eval_split("valid"), data.eval_split("test")
    return {
        "users": data.user_ids,
        "items": data.item_ids,
        "sequences": named,
        "train": [s.tolist() for s in data.train_sequences()],
        "valid": valid.targets.tolist(),
        "test": test.targets.tolist(),
        "test_history": [h.tolist() for h in test.histories],
    }


def test_hand_counted_statistics_and_the_same_split_as_csv(
    tmp_path: Path, section: Callable[..., DataSection], write_csv: Callable[..., Path]
) -> None:
    path = tmp_path / "Beauty.txt"
    path.write_text(sequences_text())
    data = load_dataset(section(dataset="path", path=str(path)))
    stats = data.stats()
    # u4 is dropped (2 < min_seq_len 3): 3 users, items 1..5 all still used, 5 + 3 + 4 = 12 rows.
    assert (stats["users"], stats["items"], stats["interactions"]) == (3, 5, 12)
    assert stats["density"] == pytest.approx(12 / 15)
    assert data.preprocessing["raw"] == {"users": 4, "items": 5, "interactions": 14}
    assert data.preprocessing["format"] == "sequences"
    assert data.name == "Beauty" and data.time_range is None and stats["time_min"] is None
    assert data.user_ids == ["1", "2", "10"]
    assert data.sequences[0].tolist() == [3, 1, 2, 1, 5]  # file order, repeats kept
    csv_path = write_csv("beauty.csv", ("user_id", "item_id", "timestamp"), as_rows(SEQUENCES))
    assert split_of(data) == split_of(load_dataset(section(dataset="path", path=str(csv_path))))


def test_gzip_tabs_and_the_cache(tmp_path: Path, section: Callable[..., DataSection]) -> None:
    path = tmp_path / "Toys.txt.gz"
    path.write_bytes(gzip.compress(sequences_text(sep="\t").encode()))
    first = load_dataset(section(dataset="path", path=str(path)))
    assert first.name == "Toys" and first.num_users == 3
    again = load_dataset(section(dataset="path", path=str(path)))  # from the processed cache
    assert again.time_range is None and again.fingerprint == first.fingerprint
    assert [s.tolist() for s in again.sequences] == [s.tolist() for s in first.sequences]
    assert len(list((Path(section().cache_dir) / "processed").glob("Toys-*.npz"))) == 1


def test_k_core_applies_to_sequences(tmp_path: Path, section: Callable[..., DataSection]) -> None:
    path = tmp_path / "s.txt"
    path.write_text("a x y z w\nb x y z\nc x y q\n")
    # Pass 1 drops w and q (one row each < item_core 2); c is left with x y (< 3), dropped in pass 2.
    data = load_dataset(section(dataset="path", path=str(path), item_core=2))
    assert data.user_ids == ["a", "b"] and data.item_ids == ["", "x", "y", "z"]
    assert [s.tolist() for s in data.sequences] == [[1, 2, 3], [1, 2, 3]]


def test_item_text_files(tmp_path: Path, section: Callable[..., DataSection]) -> None:
    path = tmp_path / "s.txt"
    path.write_text(sequences_text())
    titles = tmp_path / "titles.tsv"
    titles.write_text("1\tRose Oil, 30 ml\n2\tMatte  Lipstick \n3\tShampoo\n")
    data = load_dataset(section(dataset="path", path=str(path), item_path=str(titles)))
    assert data.item_text == ["", "Rose Oil, 30 ml", "Matte  Lipstick", "Shampoo", "", ""]
    assert data.stats()["items_with_text"] == 3
    item_list = tmp_path / "item_list.txt"
    item_list.write_text("org_id remap_id\nB0001 1\nB0002 2\nB0003 3\nB0004 4\nB0005 5\n")
    data = load_dataset(section(dataset="path", path=str(path), item_path=str(item_list)))
    assert data.item_text == ["", "B0001", "B0002", "B0003", "B0004", "B0005"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "1 2 3 4\n2 3 4 5\n1 5 6 7\n",
            r"s.txt, line 3: found '1'; expected each user on one line \(user '1' is already on line 1\)",
        ),
        ("1 2 3 4\n\n2 3 4 5\n", r"s.txt, line 2: found ''; expected a user and their items \(no empty lines\)"),
        ("1 2 3 4\n2 3,4,5\n", r"s.txt, line 2: found '3,4,5'; expected space-separated id tokens .*comma-separated"),
        ('1 2 3 4\n2 "x" 4\n', r"s.txt, line 2: found '\"x\"'; expected space-separated id tokens"),
        ("1 2 3 4\n2\n", r"s.txt, line 2: found '2'; expected at least one item after the user id"),
        ("\n\n", r"s.txt: found '\(empty file\)'"),
    ],
)
def test_bad_sequence_files(tmp_path: Path, section: Callable[..., DataSection], text: str, message: str) -> None:
    path = tmp_path / "s.txt"
    path.write_text(text)
    with pytest.raises(DataError, match=message):
        load_dataset(section(dataset="path", path=str(path)))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1\tOne\n2 Two\n", r"t.tsv, line 2: found '2 Two'; expected item<TAB>title"),
        ("1\tOne\n1\tAgain\n", r"t.tsv, line 2: found '1'; expected each item id listed once"),
        ("org_id remap_id\nB1 1\nB2\n", r"t.tsv, line 3: found 'B2'; expected two fields: org_id remap_id"),
    ],
)
def test_bad_item_text_files(tmp_path: Path, section: Callable[..., DataSection], text: str, message: str) -> None:
    path = tmp_path / "s.txt"
    path.write_text(sequences_text())
    titles = tmp_path / "t.tsv"
    titles.write_text(text)
    with pytest.raises(DataError, match=message):
        load_dataset(section(dataset="path", path=str(path), item_path=str(titles)))


def test_time_and_rating_filters_are_refused_for_sequences() -> None:
    base = {"dataset": "path", "path": "data/Beauty.txt"}
    for key, value in (("time_min", 0), ("time_max", 1.0), ("min_rating", 4.0)):
        with pytest.raises(ConfigError, match=rf"data.{key} = .*: expected none for a sequences file"):
            config_from_dict({"data": {**base, key: value}}, "exp.toml")
    with pytest.raises(ConfigError, match=r"data\.time_min"):
        config_from_dict({"data": {**base, "path": "x.dat", "format": "sequences", "time_min": 0}})
    with pytest.raises(ConfigError, match=r"data\.time_max"):
        config_from_dict({"data": {**base, "path": "Beauty.txt.gz", "time_max": 1}})
    assert config_from_dict({"data": {**base, "format": "sequences"}}).data.format == "sequences"
