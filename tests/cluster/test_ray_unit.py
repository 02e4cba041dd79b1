"""Ray placement without a Ray cluster: the missing extra, Slurm-only options, what the workers get."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from llmd4rec_tui.cluster import ray_workers
from llmd4rec_tui.cluster.placement import PlacementError, WorkerSpec

#: The CLI in an interpreter where `import ray` fails, as it does without the extra.
WITHOUT_RAY = "import sys; sys.modules['ray'] = None; from llmd4rec_tui.cli import main; main()"
CLI_WITHOUT_RAY = [sys.executable, "-c", WITHOUT_RAY]


def test_submit_on_ray_without_ray_says_what_to_install_and_exits_2(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'runs.db'}"
    args = ["--db", db, "cluster", "submit", "--on", "ray", "--same-node", "--runs-dir", str(tmp_path / "runs")]
    done = subprocess.run([*CLI_WITHOUT_RAY, *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    assert "Ray is not installed here: pip install 'llmd4rec[ray]'" in " ".join(done.stderr.split())
    assert "nothing was submitted" in done.stderr
    assert not (tmp_path / "runs.db").exists()


def test_the_cli_never_imports_ray() -> None:
    code = "import sys, llmd4rec_tui.cli, llmd4rec_tui.cli.cluster_cmd; print('ray' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("values", "option"),
    [({"time": "01:00:00"}, "--time"), ({"partition": "gpu"}, "--partition"), ({"sbatch_args": ("-A x",)}, "--sbatch")],
)
def test_slurm_only_options_are_refused(values: dict[str, object], option: str) -> None:
    spec = WorkerSpec(db_url="postgresql+psycopg://me@db/q", runs_dir=Path("/tmp"), **values)  # type: ignore[arg-type]
    with pytest.raises(PlacementError, match=f"{option}.* is a Slurm option"):
        ray_workers.check_ray_spec(spec)
    ray_workers.check_ray_spec(WorkerSpec(db_url=spec.db_url, runs_dir=spec.runs_dir, gpus=2, mem="16G"))


def test_memory_takes_slurms_units() -> None:
    assert ray_workers.mem_bytes("16G") == 16 * 2**30
    assert ray_workers.mem_bytes("500") == 500 * 2**20  # megabytes, as --mem=500 in sbatch
    assert ray_workers.mem_bytes("2048K") == 2 * 2**20


def test_workers_get_the_llmd4rec_settings_and_their_job_id(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMD4REC_ENGINE_CMD", "python fake.py")
    monkeypatch.setenv("LLMD4REC_CLUSTER_JOB", "the submitter's own")
    monkeypatch.setenv("UNRELATED", "x")
    env = ray_workers.worker_env("ray-0badc0de_1")
    assert env["LLMD4REC_ENGINE_CMD"] == "python fake.py" and env["LLMD4REC_CLUSTER_JOB"] == "ray-0badc0de_1"
    assert "UNRELATED" not in env
