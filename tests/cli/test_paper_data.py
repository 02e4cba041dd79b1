"""The paper's datasets from the command line: `data info --format sequences|amazon` on small
stand-ins, and the paper configs queued (held) into a temporary SQLite database."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llmd4rec_tui.cli import app
from llmd4rec_tui.store.db import open_store
from tests.fixtures.queued import read_run

runner = CliRunner()
PAPER = Path(__file__).resolve().parents[2] / "examples" / "configs" / "paper"

#: users / items / interactions each header says a good copy prints (S3-Rec's files).
EXPECTED = {
    "beauty": (22_363, 12_101, 198_502),
    "sports": (35_598, 18_357, 296_337),
    "toys": (19_412, 11_924, 167_597),
    "yelp": (30_431, 20_033, 316_354),
}


def _invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_data_info_on_a_sequences_stand_in(tmp_path: Path) -> None:
    path = tmp_path / "Beauty.txt"
    # u3 has 2 items (< min_seq_len 3) and is dropped: 3 users, items 1..6, 4 + 3 + 5 = 12 rows.
    path.write_text("1 1 2 3 4\n2 2 3 5\n3 1 6\n4 6 5 4 3 2\n")
    cache = str(tmp_path / "cache")
    code, out = _invoke("data", "info", str(path), "--format", "sequences", "--cache-dir", cache, "--json")
    assert code == 0, out
    stats = json.loads(out)
    assert (stats["users"], stats["items"], stats["interactions"]) == (3, 6, 12)
    assert stats["density"] == pytest.approx(12 / 18)
    assert stats["before_filtering"] == {"users": 4, "items": 6, "interactions": 14}
    assert stats["time_min"] is None and stats["preprocessing"]["format"] == "sequences"
    # The paper config's [data] section reads the stand-in the same way.
    config = PAPER / "beauty.toml"
    code, out = _invoke("data", "info", str(path), "--config", str(config), "--cache-dir", cache, "--json")
    assert code == 0 and json.loads(out)["interactions"] == 12
    code, out = _invoke("data", "info", str(path), "--cache-dir", cache)
    assert code == 0 and "sequences" in out and "66.6667%" in out


def test_data_info_on_an_amazon_stand_in(tmp_path: Path) -> None:
    # c1..c4 rate A..D (4-core); x rates A, B and E, the only one to rate E.
    rows = [(u, i, 10 * n) for n, (u, i) in enumerate((u, i) for u in ("c1", "c2", "c3", "c4") for i in "ABCD")]
    rows += [("x", "E", 1), ("x", "A", 2), ("x", "B", 3)]
    records = [{"reviewerID": u, "asin": i, "unixReviewTime": t, "overall": 5.0} for u, i, t in rows]
    path = tmp_path / "reviews_Toys_5.json.gz"
    path.write_bytes(gzip.compress("".join(json.dumps(r) + "\n" for r in records).encode()))
    meta = tmp_path / "meta_Toys.json.gz"
    meta.write_bytes(gzip.compress(b"{'asin': 'A', 'title': 'Kite'}\n{'asin': 'E', 'title': 'Yo-yo'}\n"))
    args = ["data", "info", str(path), "--format", "amazon", "--item-path", str(meta)]
    args += ["--cache-dir", str(tmp_path / "cache"), "--json"]
    code, out = _invoke(*args)
    stats = json.loads(out)
    assert code == 0 and (stats["users"], stats["items"], stats["interactions"]) == (5, 5, 19)
    assert stats["items_with_text"] == 2 and stats["preprocessing"]["layout"] == "amazon-2014/2018"
    # 4-core: x (3 rows) goes, then E (1 row) was already short: 4 users x 4 items.
    code, out = _invoke(*args, "--user-core", "4", "--item-core", "4")
    stats = json.loads(out)
    assert code == 0 and (stats["users"], stats["items"], stats["interactions"], stats["density"]) == (4, 4, 16, 1.0)
    assert stats["before_filtering"] == {"users": 5, "items": 5, "interactions": 19}
    code, out = _invoke("data", "info", str(path), "--format", "yelp", "--cache-dir", str(tmp_path / "cache"))
    assert code == 2 and "so set data.format = 'amazon'" in " ".join(out.split())


def test_bad_sequences_file_exits_2_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "s.txt"
    path.write_text("1 2 3 4\n1 5 6 7\n")
    code, out = _invoke("data", "info", str(path), "--cache-dir", str(tmp_path / "cache"))
    assert code == 2 and "s.txt, line 2: found '1'; expected each user on one line" in " ".join(out.split())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_paper_config_headers_name_file_and_statistics(name: str) -> None:
    text = (PAPER / f"{name}.toml").read_text()
    users, items, interactions = EXPECTED[name]
    header = " ".join(line for line in text.splitlines() if line.startswith("#"))
    assert f"must print users {users:,} / items {items:,} / interactions {interactions:,}" in header
    path = re.search(r'^path = "(.+)"$', text, re.M)
    assert path is not None and Path(path.group(1)).name in header
    assert 'format = "sequences"' in text and "Qwen1.5-0.5B" in text


def test_paper_configs_queue_held(tmp_path: Path) -> None:
    db = str(tmp_path / "runs.db")
    files = sorted(str(p) for p in PAPER.glob("*.toml"))
    assert len(files) == 4
    code, out = _invoke("--db", db, "queue", "add", *files, "--hold", "--json")
    assert code == 0, out
    assert len(json.loads(out)["added"]) == 12  # 4 datasets x 3 seeds
    code, out = _invoke("--db", db, "queue", "ls", "--json")
    runs = json.loads(out)
    assert code == 0 and {r["status"] for r in runs} == {"held"}
    assert sorted({r["name"] for r in runs}) == [
        f"{n} LLMD4Rec (Qwen1.5-0.5B)" for n in ("Beauty", "Sports", "Toys", "Yelp")
    ]


def test_paper_configs_without_their_data_are_refused_unless_held(tmp_path: Path) -> None:
    db = str(tmp_path / "runs.db")
    beauty = PAPER / "beauty.toml"
    code, out = _invoke("--db", db, "queue", "add", str(beauty))
    assert code == 2 and "expected an existing file" in out and "nothing was added" in " ".join(out.split())
    code, out = _invoke("--db", db, "queue", "add", str(beauty), "--hold", "--json")
    assert code == 0, out
    store = open_store(f"sqlite:///{db}")
    try:
        config = read_run(store, json.loads(out)["added"][0]).config
    finally:
        store.close()
    assert config["data"]["path"] == str((PAPER.parents[2] / "data" / "paper" / "Beauty.txt").resolve())
