"""`llmd4rec runs ...` and `worker`, through the real Typer app, a real SQLite file and subprocesses."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llmd4rec_tui.cli import app
from llmd4rec_tui.store.db import open_store
from tests.queue.workers import CLI, fake_engine, run_dir_of, run_worker

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]
GOOD = '[run]\nname = "{name}"\nseed = {seed}\n'


@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(tmp_path / "runs.db")


def cli(db: str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--db", db, *args])
    return result.exit_code, result.stdout, result.stderr


def add(db: str, tmp_path: Path, count: int) -> None:
    files = []
    for seed in range(count):
        path = tmp_path / f"r{seed}.toml"
        path.write_text(GOOD.format(name=f"r{seed}", seed=seed))
        files.append(str(path))
    assert cli(db, "queue", "add", *files)[0] == 0


def work(db: str, tmp_path: Path, *engine_options: str) -> None:
    store = open_store(f"sqlite:///{db}")
    try:
        run_worker(store, tmp_path / "runs", *engine_options)
    finally:
        store.close()


def test_ls_and_show_after_a_worker_ran(db: str, tmp_path: Path) -> None:
    add(db, tmp_path, 2)
    work(db, tmp_path, "--steps", "2")
    code, out, _ = cli(db, "runs", "ls", "--json")
    listing = json.loads(out)
    assert code == 0 and [(r["id"], r["status"]) for r in listing] == [(2, "succeeded"), (1, "succeeded")]
    assert listing[0]["crm_ndcg10"] == 0.25 and listing[0]["seconds"] > 0
    code, out, _ = cli(db, "runs", "ls", "--csv", "--status", "succeeded", "--limit", "1")
    assert code == 0 and [r["id"] for r in csv.DictReader(io.StringIO(out))] == ["2"]
    code, out, _ = cli(db, "runs", "show", "1", "--json")
    shown = json.loads(out)
    assert code == 0 and shown["run"]["status"] == "succeeded" and shown["metrics"]["crm"]["test"]["ndcg@10"] == 0.25
    assert shown["environment"]["dataset_fingerprint"] == "f00d" and shown["git_commit"]
    code, out, _ = cli(db, "runs", "show", "1")
    assert code == 0 and "succeeded" in out and "ndcg@10" in out and "0.2500" in out


@pytest.mark.parametrize("width", [60, 200])
def test_a_narrow_terminal_drops_columns_instead_of_squeezing_names_and_metrics(
    db: str, tmp_path: Path, width: int
) -> None:
    path = tmp_path / "long.toml"
    path.write_text(GOOD.format(name="a rather long experiment name", seed=0))
    assert cli(db, "queue", "add", str(path))[0] == 0
    work(db, tmp_path, "--steps", "2")
    env = {**os.environ, "COLUMNS": str(width)}
    out = subprocess.run([*CLI, "--db", db, "runs", "ls"], capture_output=True, text=True, env=env, check=True).stdout
    lines = out.splitlines()
    header = next(line for line in lines if "status" in line)
    assert all(len(line) <= width for line in lines), out
    shown = {cell.strip() for cell in header.split("┃") if cell.strip()}
    assert {"id", "name", "status", "crm@10", "llm@10"} <= shown, out
    assert len(shown) == (10 if width >= 200 else 5), out
    assert "0.2500" in out and "a rather" in out and "…" not in out


def test_show_of_a_failed_run_prints_error_traceback_and_stderr(db: str, tmp_path: Path) -> None:
    add(db, tmp_path, 1)
    work(db, tmp_path, "--fail-at", "0")
    code, out, _ = cli(db, "runs", "show", "1")
    assert code == 0 and "failed (exception)" in out and "ValueError: step failed on purpose" in out
    assert "traceback" in out and "failing on purpose" in out


def test_bad_arguments_exit_2_and_refusals_exit_1_with_a_message(db: str, tmp_path: Path) -> None:
    add(db, tmp_path, 1)
    code, _, err = cli(db, "runs", "show", "7")
    assert code == 1 and "no run with id 7" in err
    code, _, err = cli(db, "runs", "ls", "--status", "done")
    assert code == 2 and "--status 'done'" in err and "succeeded" in err
    code, _, err = cli(db, "runs", "retry")
    assert code == 2 and "give run ids or --failed" in err
    code, _, err = cli(db, "runs", "retry", "1")
    assert code == 1 and "run 1 is queued" in err


def test_cancel_retry_and_rm(db: str, tmp_path: Path) -> None:
    add(db, tmp_path, 3)
    code, out, _ = cli(db, "runs", "cancel", "1")
    assert code == 0 and "run 1: cancelled" in out
    work(db, tmp_path, "--fail-at", "0")  # runs 2 and 3 fail
    code, out, _ = cli(db, "runs", "retry", "--failed")
    assert code == 0 and "re-queued 2 run(s): 2, 3" in out
    assert cli(db, "runs", "retry", "1")[0] == 0
    code, out, _ = cli(db, "runs", "rm", "1", "2")
    assert code == 0 and "removed 2 run(s)" in out
    assert [r["id"] for r in json.loads(cli(db, "runs", "ls", "--json")[1])] == [3]


def test_worker_rejects_bad_settings(db: str) -> None:
    code, _, err = cli(db, "worker", "--heartbeat", "100", "--lease", "10")
    assert code == 2 and "heartbeat_s = 100.0" in err


def test_worker_command_runs_the_queue_with_the_engine_from_the_environment(db: str, tmp_path: Path) -> None:
    add(db, tmp_path, 1)
    env = {**os.environ, "LLMD4REC_ENGINE_CMD": subprocess.list2cmdline(fake_engine("--steps", "2"))}
    done = subprocess.run(
        [*CLI, "--db", db, "worker", "--until-empty", "--poll", "0.1"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert (run_dir_of(tmp_path / "runs", 1) / "steps.log").exists()  # runs/ beside the SQLite file
    assert json.loads(cli(db, "runs", "show", "1", "--json")[1])["run"]["status"] == "succeeded"


@pytest.mark.slow
def test_smoke_set_end_to_end_with_the_real_engine(tmp_path: Path) -> None:
    """queue add -> worker --until-empty -> runs show / results / ranks, with `python -m
    engine` and a SQLite file, over the smoke set (baseline, no-KD control, LLMD4Rec; 2 seeds)."""
    db = str(tmp_path / "runs.db")
    env = {k: v for k, v in os.environ.items() if k not in ("LLMD4REC_ENGINE_CMD", "LLMD4REC_RUNS_DIR")}

    def llmd4rec(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*CLI, "--db", db, *args], env=env, capture_output=True, text=True, cwd=tmp_path)

    configs = sorted(str(p) for p in (ROOT / "examples" / "configs" / "smoke").glob("*.toml"))
    added = llmd4rec("queue", "add", *configs)
    assert added.returncode == 0, added.stderr
    worked = llmd4rec("worker", "--until-empty", "--poll", "0.2")
    assert worked.returncode == 0, worked.stderr
    shown = llmd4rec("runs", "show", "1", "--json")
    detail = json.loads(shown.stdout)
    assert detail["run"]["status"] == "succeeded", detail["run"]["error"]
    assert detail["run"]["exit_code"] == 0 and detail["run"]["seconds"] > 0
    assert 0 < detail["metrics"]["crm"]["test"]["ndcg@10"] <= 1 and detail["run"]["crm_ndcg10"] > 0
    assert detail["environment"]["device"] == "cpu" and detail["environment"]["dataset_fingerprint"]
    assert detail["protocol"]["ranking"] == "full" and detail["environment"]["versions"]["torch"]
    assert detail["protocol"]["ties"].startswith("pessimistic")
    assert sys.executable in detail["environment"]["command"][0]

    results = json.loads(llmd4rec("runs", "results", "--tag", "smoke", "--format", "json").stdout)
    (table,) = results
    assert len(table["gains"]) >= 3 and table["gains"][0]["fair"]
    for gain in table["gains"]:
        assert gain["seeds"] == [0, 1] and 0 <= gain["p_value"] <= 1
        assert gain["ci95_low"] <= gain["ci95_high"] and gain["tests"]["ndcg@10"]["pairs"] > 0
    crm_phases = [c for c in table["convergence"] if c["method"].startswith(("SASRec", "LLMD4Rec_C"))]
    assert len(crm_phases) == 6 and not any(c["cap_binding"] for c in crm_phases)
    assert all(0 < p["best_epoch"] <= p["epochs_run"] < 200 for c in crm_phases for p in c["phases"])

    for run_id in (1, 5):  # SASRec alone; the mutual run's final CRM and LLM
        stored = json.loads(llmd4rec("runs", "show", str(run_id), "--json").stdout)["metrics"]
        for model in stored:
            ranks = llmd4rec("runs", "ranks", str(run_id), "--model", model, "--format", "csv")
            assert ranks.returncode == 0, ranks.stderr
            rows = list(csv.DictReader(io.StringIO(ranks.stdout)))
            assert list(rows[0]) == ["user", "item", "rank"]
            ndcg = sum(1 / math.log2(int(r["rank"]) + 1) for r in rows if int(r["rank"]) <= 10) / len(rows)
            assert ndcg == pytest.approx(stored[model]["test"]["ndcg@10"], abs=1e-12)


def test_queue_worker_and_store_modules_never_import_torch() -> None:
    code = (
        "import sys\n"
        "import llmd4rec_tui.cli, llmd4rec_tui.queue.worker, llmd4rec_tui.queue.supervisor, llmd4rec_tui.store.ingest\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
