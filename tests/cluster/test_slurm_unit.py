"""The job script and the state parsing, against output recorded from a real Slurm 22.05."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

from engine.protocol import EXIT_PREEMPTED
from llmd4rec_tui.cluster import slurm
from llmd4rec_tui.cluster.placement import WorkerSpec

RECORDED = Path(__file__).resolve().parents[1] / "fixtures" / "slurm"


def _spec(**values: object) -> WorkerSpec:
    base: dict[str, object] = {"db_url": "postgresql+psycopg://me@db/queue", "runs_dir": Path("/shared/runs")}
    base.update(values)
    return WorkerSpec(**base)  # type: ignore[arg-type]


def _directives(script: str) -> list[str]:
    return [line.removeprefix("#SBATCH ") for line in script.splitlines() if line.startswith("#SBATCH ")]


def test_the_script_is_one_array_that_signals_appends_and_requeues() -> None:
    script = slurm.sbatch_script(_spec(workers=3), Path("/shared/runs/cluster"))
    directives = _directives(script)
    assert directives[:5] == [
        "--job-name=llmd4rec-worker",
        "--array=0-2",
        "--signal=B:USR1@90",
        "--open-mode=append",
        "--requeue",
    ]
    assert "--output=/shared/runs/cluster/worker-%A_%a.log" in directives
    assert not any(d.startswith(("--gres", "--mem", "--time", "--partition", "--nodelist")) for d in directives)
    assert 'export LLMD4REC_CLUSTER_JOB="${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}"' in script
    assert " --db postgresql+psycopg://me@db/queue worker --runs-dir /shared/runs &" in script
    assert f'if [ "$status" -eq {EXIT_PREEMPTED} ] && [ -n "${{time_limit:-}}" ]; then' in script
    subprocess.run(["bash", "-n"], input=script, text=True, check=True)  # valid bash


def test_resources_and_extras_become_directives_and_worker_options() -> None:
    spec = _spec(
        workers=1,
        gpus=2,
        cpus=8,
        mem="64G",
        time="1-12:00:00",
        partition="gpu",
        until_empty=True,
        same_node=True,
        worker_args=("--concurrency=2",),
    )
    directives = _directives(slurm.sbatch_script(spec, Path("/logs")))
    assert {"--gres=gpu:2", "--cpus-per-task=8", "--mem=64G", "--time=1-12:00:00", "--partition=gpu"} <= set(directives)
    assert any(d.startswith("--nodelist=") for d in directives)
    assert spec.worker_command()[-2:] == ["--until-empty", "--concurrency=2"]


def test_a_path_with_spaces_is_quoted_for_bash(tmp_path: Path) -> None:
    spec = _spec(runs_dir=Path("/shared/my runs"), python="/opt/my env/bin/python")
    script = slurm.sbatch_script(spec, Path("/logs"))
    assert "'/opt/my env/bin/python' -m llmd4rec_tui" in script
    assert "--runs-dir '/shared/my runs'" in script


def _job_script_with_worker(tmp_path: Path, worker_body: str) -> Path:
    """The generated script with its worker replaced by a small bash stand-in (same signals, same exits)."""
    worker = tmp_path / "worker.sh"
    worker.write_text(f"#!/bin/bash\n{worker_body}\n")
    worker.chmod(0o755)
    script = slurm.sbatch_script(_spec(), tmp_path)
    line = next(line for line in script.splitlines() if line.endswith(" &") and "llmd4rec_tui" in line)
    script = script.replace(line, f"{worker} &")
    requeue_log = tmp_path / "requeued"
    script = script.replace('scontrol requeue "$LLMD4REC_CLUSTER_JOB"', f'echo "$LLMD4REC_CLUSTER_JOB" > {requeue_log}')
    path = tmp_path / "job.sh"
    path.write_text(script)
    return path


@pytest.mark.parametrize(("sig", "requeued"), [("USR1", True), ("TERM", False)])
def test_the_script_forwards_signals_and_requeues_only_on_the_time_limit(
    tmp_path: Path, sig: str, requeued: bool
) -> None:
    # the stand-in exits 75 on either signal, as a preempted worker does
    body = f"trap 'exit {EXIT_PREEMPTED}' USR1 TERM\necho ready > {tmp_path}/ready\nwhile :; do sleep 0.05; done"
    path = _job_script_with_worker(tmp_path, body)
    env = {"PATH": "/usr/bin:/bin", "SLURM_JOB_ID": "42", "SLURM_ARRAY_JOB_ID": "41", "SLURM_ARRAY_TASK_ID": "1"}
    proc = subprocess.Popen(["bash", str(path)], env=env, stdout=subprocess.PIPE, text=True)
    for _ in range(200):
        if (tmp_path / "ready").exists():
            break
        subprocess.run(["sleep", "0.05"], check=True)
    subprocess.run(["kill", f"-{sig}", str(proc.pid)], check=True)
    out, _ = proc.communicate(timeout=20)
    assert proc.returncode == EXIT_PREEMPTED
    assert "job 41_1 (Slurm job 42)" in out
    assert (tmp_path / "requeued").exists() is requeued
    if requeued:  # the task, not the array (whose id is also the first task's SLURM_JOB_ID)
        assert (tmp_path / "requeued").read_text().strip() == "41_1"


def test_squeue_output_parses_per_array_task() -> None:
    states = slurm.parse_squeue((RECORDED / "squeue.txt").read_text())
    assert states["11_5"] == slurm.SlurmState("11_5", "PENDING", "", "Resources")
    assert states["11_2"] == slurm.SlurmState("11_2", "RUNNING", "vm", "")
    assert set(states) == {"11_1", "11_2", "11_3", "11_4", "11_5"}


def test_scontrol_output_gives_finished_tasks_by_array_id() -> None:
    states = slurm.parse_scontrol((RECORDED / "scontrol_show_job.txt").read_text())
    assert states["10_0"].state == "FAILED" and states["10_1"].state == "FAILED"
    assert states["11_0"] == slurm.SlurmState("11_0", "CANCELLED", "vm", "")


def _recorded_runner(calls: list[list[str]]) -> slurm.Runner:
    def run(args: Sequence[str]) -> subprocess.CompletedProcess[str]:
        calls.append(list(args))
        if args[0] == "squeue":
            return subprocess.CompletedProcess(args, 0, (RECORDED / "squeue.txt").read_text(), "")
        if args[0] == "scontrol" and args[-1] in ("10", "11"):
            return subprocess.CompletedProcess(args, 0, (RECORDED / "scontrol_show_job.txt").read_text(), "")
        return subprocess.CompletedProcess(args, 1, "", "slurm_load_jobs error: Invalid job id specified")

    return run


def test_states_come_from_squeue_then_scontrol_and_never_sacct() -> None:
    calls: list[list[str]] = []
    states = slurm.job_states(["11_5", "11_0", "10_1", "3_0"], run=_recorded_runner(calls))
    assert [s.state for s in states.values()] == ["PENDING", "CANCELLED", "FAILED", slurm.GONE]
    assert [c[0] for c in calls] == ["squeue", "scontrol", "scontrol", "scontrol"]
    assert calls[0][:3] == ["squeue", "--noheader", "--array"] and calls[0][3] == "--jobs=10,11,3"


def test_sbatch_output_and_errors() -> None:
    def answer(out: str, rc: int = 0, err: str = "") -> slurm.Runner:
        return lambda args: subprocess.CompletedProcess(args, rc, out, err)

    assert slurm.submit(Path("/x.sbatch"), run=answer("123\n")) == "123"
    assert slurm.submit(Path("/x.sbatch"), run=answer("124;other\n")) == "124"
    with pytest.raises(slurm.SlurmError, match=r"sbatch failed \(exit 1\): sbatch: error: Invalid partition name"):
        slurm.submit(Path("/x.sbatch"), run=answer("", 1, "sbatch: error: Invalid partition name specified"))
    with pytest.raises(slurm.SlurmError, match="squeue-not-here not found: run this on a Slurm login node"):
        slurm.job_states(["1_0"], run=lambda args: slurm.run_command(["squeue-not-here", *args[1:]]))
