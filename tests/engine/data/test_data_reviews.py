"""Amazon (2014/2018, 2023) and Yelp review dumps: gzip, meta titles, the iterated 5-core on
a case one pass does not settle, the same split as the equivalent CSV, and bad records."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.config import DataSection
from engine.data.dataset import SequenceDataset
from engine.data.errors import DataError
from engine.data.load import load_dataset

CORE = [f"c{k}" for k in range(1, 6)]
SHORT = [f"x{k}" for k in range(1, 5)]


def five_core_case() -> list[tuple[str, str, int]]:
    """(user, item, time) rows; the 5-core needs three passes.

    c1..c5 rate A..E (a stable 5-core). x1..x4 rate G and three of A..E (4 rows each);
    w rates A, B, C, D and G (5 rows). Pass 1 drops the x users (4 < 5); G is left with w
    alone and goes in pass 2; w is then left with 4 rows and goes in pass 3.
    One pass would keep w and G: 6 users, 6 items, 30 rows.
    """
    rows = [(user, item, 1000 * u + 10 * i) for u, user in enumerate(CORE) for i, item in enumerate("ABCDE")]
    rows += [(user, item, 5000 + 10 * i) for user in SHORT for i, item in enumerate("GABC")]
    rows += [("w", item, 7000 - 10 * i) for i, item in enumerate("ABCDG")]  # w's file order is newest first
    return rows


def amazon_2014(rows: list[tuple[str, str, int]]) -> str:
    return "".join(
        json.dumps({"reviewerID": u, "asin": i, "unixReviewTime": t, "overall": 5.0, "reviewText": "ok"}) + "\n"
        for u, i, t in rows
    )


def split_of(data: SequenceDataset) -> dict[str, object]:
    test = data.eval_split("test")
    return {
        "users": data.user_ids,
        "items": data.item_ids,
        "sequences": [s.tolist() for s in data.sequences],
        "valid": data.eval_split("valid").targets.tolist(),
        "test": test.targets.tolist(),
        "train": [s.tolist() for s in data.train_sequences()],
    }


def test_amazon_2014_gzip_5_core_and_meta(
    tmp_path: Path, section: Callable[..., DataSection], write_csv: Callable[..., Path]
) -> None:
    rows = five_core_case()
    reviews = tmp_path / "reviews_Beauty_5.json.gz"
    reviews.write_bytes(gzip.compress(amazon_2014(rows).encode()))
    # 2014 meta files are Python literals, not JSON; B has no meta record, C no title.
    meta_lines = [
        "{'asin': 'A', 'title': \"Rose 'Oil'\", 'categories': [['Beauty']]}",
        '{"asin": "C", "price": 3.5}',
        "{'asin': 'D', 'title': 'Matte\\n Lipstick'}",
        "{'asin': 'E', 'title': 'Shampoo'}",
        "{'asin': 'E', 'title': 'a later duplicate'}",
        "{'asin': 'Z', 'title': 'never reviewed'}",
    ]
    meta = tmp_path / "meta_Beauty.json.gz"
    meta.write_bytes(gzip.compress(("\n".join(meta_lines) + "\n").encode()))
    config = section(dataset="path", path=str(reviews), item_path=str(meta), user_core=5, item_core=5)
    data = load_dataset(config)
    stats = data.stats()
    assert data.name == "reviews_Beauty_5"
    assert (stats["users"], stats["items"], stats["interactions"]) == (5, 5, 25)
    assert stats["density"] == pytest.approx(1.0)
    assert data.preprocessing["raw"] == {"users": 10, "items": 6, "interactions": 46}
    assert data.preprocessing["layout"] == "amazon-2014/2018" and data.preprocessing["format"] == "reviews"
    assert data.user_ids == CORE and data.item_ids == ["", "A", "B", "C", "D", "E"]
    assert data.item_text == ["", "Rose 'Oil'", "", "", "Matte Lipstick", "Shampoo"]
    assert data.time_range == (0.0, 4040.0)
    # The same split as the same interactions written as a CSV.
    csv_path = write_csv("beauty.csv", ("user_id", "item_id", "timestamp"), rows)
    same = load_dataset(section(dataset="path", path=str(csv_path), user_core=5, item_core=5))
    assert split_of(data) == split_of(same)
    # Without the k-core, w's rows come out in time order although the file has them newest first.
    loose = load_dataset(section(dataset="path", path=str(reviews), format="amazon"))
    assert (loose.num_users, loose.num_items) == (10, 6)
    w = loose.sequences[loose.user_ids.index("w")]
    assert [loose.item_ids[i] for i in w] == ["G", "D", "C", "B", "A"]


def test_amazon_2023_layout_milliseconds_and_rating(tmp_path: Path, section: Callable[..., DataSection]) -> None:
    records = [
        {"user_id": "U1", "parent_asin": "P1", "asin": "V1", "timestamp": 1_600_000_000_000, "rating": 5.0},
        {"user_id": "U1", "parent_asin": "P2", "asin": "V2", "timestamp": 1_600_000_002_000, "rating": 1.0},
        {"user_id": "U1", "parent_asin": "P3", "asin": "V3", "timestamp": 1_600_000_001_000, "rating": 4.0},
        {"user_id": "U1", "parent_asin": "P4", "asin": "V4", "timestamp": 1_600_000_003_000, "rating": 4.0},
    ]
    path = tmp_path / "All_Beauty.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    meta = tmp_path / "meta_All_Beauty.jsonl"
    meta.write_text("".join(json.dumps({"parent_asin": f"P{k}", "title": f"Item {k}"}) + "\n" for k in range(1, 5)))
    data = load_dataset(section(dataset="path", path=str(path), item_path=str(meta), format="amazon"))
    assert data.preprocessing["layout"] == "amazon-2023"
    assert [data.item_ids[i] for i in data.sequences[0]] == ["P1", "P3", "P2", "P4"]
    assert data.time_range == (1_600_000_000.0, 1_600_000_003.0)  # seconds
    assert data.item_text[1:] == ["Item 1", "Item 2", "Item 3", "Item 4"]
    rated = load_dataset(section(dataset="path", path=str(path), min_rating=4.0))
    assert [rated.item_ids[i] for i in rated.sequences[0]] == ["P1", "P3", "P4"]


def test_yelp_dates_window_and_business_names(tmp_path: Path, section: Callable[..., DataSection]) -> None:
    dates = ["2018-12-31 23:59:59", "2019-01-01 00:00:00", "2019-06-01 10:00:00", "2019-03-01 09:00:00"]
    dates += ["2019-12-30 23:00:00", "2019-12-31 00:00:00", "2019-12-31 08:00:00"]
    reviews = tmp_path / "yelp_academic_dataset_review.json"
    lines = [
        {"review_id": f"r{k}", "user_id": "Ua", "business_id": f"B{k}", "stars": 4, "date": d}
        for k, d in enumerate(dates)
    ]
    reviews.write_text("".join(json.dumps(r) + "\n" for r in lines))
    business = tmp_path / "yelp_academic_dataset_business.json"
    business.write_text("".join(json.dumps({"business_id": f"B{k}", "name": f"Cafe {k}"}) + "\n" for k in range(7)))
    # S3-Rec's Yelp window: 2019-01-01 00:00:00 <= date <= 2019-12-31 00:00:00 (UTC).
    config = section(
        dataset="path",
        path=str(reviews),
        item_path=str(business),
        format="yelp",
        time_min=1546300800.0,
        time_max=1577750400.0,
    )
    data = load_dataset(config)
    assert data.preprocessing["layout"] == "yelp" and data.preprocessing["raw"]["interactions"] == 7
    assert [data.item_ids[i] for i in data.sequences[0]] == ["B1", "B3", "B2", "B4", "B5"]
    assert [data.item_text[i] for i in data.sequences[0]] == ["Cafe 1", "Cafe 3", "Cafe 2", "Cafe 4", "Cafe 5"]
    auto = load_dataset(section(dataset="path", path=str(reviews)))  # auto: the fields say Yelp
    assert auto.preprocessing["layout"] == "yelp" and auto.num_items == 7


def _reviews(tmp_path: Path, lines: list[str], name: str = "r.json") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


GOOD = json.dumps({"reviewerID": "u", "asin": "a", "unixReviewTime": 1})


@pytest.mark.parametrize(
    ("lines", "fmt", "message"),
    [
        (
            [GOOD, json.dumps({"reviewerID": "u", "unixReviewTime": 2})],
            "amazon",
            r"r.json, line 2: found '\(missing\)'; expected a non-empty id in field 'asin' \(amazon-2014/2018\)",
        ),
        (
            [GOOD, json.dumps({"reviewerID": "u", "asin": "b", "unixReviewTime": "yesterday"})],
            "amazon",
            r"r.json, line 2, column 'unixReviewTime': found 'yesterday'; expected a numeric time in Unix seconds",
        ),
        (
            [GOOD, json.dumps({"reviewerID": "u", "asin": "b"})],
            "amazon",
            r"line 2, column 'unixReviewTime': found '\(missing\)'",
        ),
        ([GOOD, "{not json"], "amazon", r"r.json, line 2: found '\{not json'; expected one JSON object per line"),
        ([GOOD, "", GOOD], "amazon", r"r.json, line 2: found ''; expected one JSON object per line"),
        ([GOOD, "[1, 2]"], "amazon", r"line 2: found '\[1, 2\]'; expected one JSON object per line"),
        (
            [json.dumps({"user": "u", "item": "a"})],
            "amazon",
            r"line 1: found \['item', 'user'\]; expected a review record with the fields "
            r"reviewerID/asin/unixReviewTime \(amazon-2014/2018\); user_id/parent_asin/timestamp \(amazon-2023\)$",
        ),
        (
            [json.dumps({"user_id": "u", "business_id": "b", "date": "2019-01-01"})],
            "amazon",
            r"expected the review fields of data.format = 'amazon'; this file has those of yelp "
            r"\(user_id/business_id/date\), so set data.format = 'yelp'",
        ),
        (
            [
                json.dumps({"user_id": "u", "business_id": "b", "date": "2019-01-01"}),
                '{"user_id": "u", "business_id": "c", "date": "Jan 2"}',
            ],
            "yelp",
            r"line 2, column 'date': found 'Jan 2'; expected a date like '2019-01-31 12:00:00'",
        ),
    ],
)
def test_bad_review_dumps(
    tmp_path: Path, section: Callable[..., DataSection], lines: list[str], fmt: str, message: str
) -> None:
    with pytest.raises(DataError, match=message):
        load_dataset(section(dataset="path", path=str(_reviews(tmp_path, lines)), format=fmt))


def test_bad_rating_only_matters_with_a_threshold(tmp_path: Path, section: Callable[..., DataSection]) -> None:
    lines = [json.dumps({"reviewerID": "u", "asin": f"a{k}", "unixReviewTime": k, "overall": 5}) for k in range(3)]
    lines.append(json.dumps({"reviewerID": "u", "asin": "b", "unixReviewTime": 9, "overall": "n/a"}))
    path = _reviews(tmp_path, lines)
    assert load_dataset(section(dataset="path", path=str(path))).num_users == 1
    with pytest.raises(DataError, match=r"line 4, column 'overall': found 'n/a'; expected a numeric rating"):
        load_dataset(section(dataset="path", path=str(path), min_rating=4.0))


def test_corrupt_gzip_and_bad_meta(tmp_path: Path, section: Callable[..., DataSection]) -> None:
    broken = tmp_path / "r.json.gz"
    broken.write_bytes(gzip.compress(amazon_2014(five_core_case()).encode())[:-20])
    with pytest.raises(DataError, match=r"r.json.gz: found '\(corrupt or truncated gzip\)'; expected a complete gzip"):
        load_dataset(section(dataset="path", path=str(broken)))
    path = _reviews(tmp_path, [GOOD, json.dumps({"reviewerID": "u", "asin": "b", "unixReviewTime": 2})] * 2)
    meta = _reviews(tmp_path, ["{'asin': 'a', 'title': 'x'}", "{'title': 'no id'}"], name="meta.json")
    with pytest.raises(DataError, match=r"meta.json, line 2: found '\(missing\)'; expected a non-empty id in field"):
        load_dataset(section(dataset="path", path=str(path), item_path=str(meta)))
