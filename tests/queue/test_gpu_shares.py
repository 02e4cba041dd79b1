"""Each engine's share of its worker's GPUs, as the engine subprocess sees it (no GPU needed)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from llmd4rec_tui.queue.gpus import gpu_shares, owned_gpus
from llmd4rec_tui.store.db import Store, open_store
from tests.fixtures.queued import queue_runs
from tests.queue.workers import FAKE_ENGINE, run_dir_of, run_worker

#: The fake engine, after writing down the CUDA_VISIBLE_DEVICES it was given into its run dir.
RECORD_CUDA = 'for a; do [ "$p" = --run-dir ] && d=$a; p=$a; done; printf %s "${CUDA_VISIBLE_DEVICES-}" > "$d/cuda"'
ENV_RECORDING_ENGINE = [
    "sh",
    "-c",
    f'{RECORD_CUDA}; exec "$0" "$@"',
    sys.executable,
    str(FAKE_ENGINE),
    "--steps",
    "6",
    "--sleep",
    "0.2",
]


def test_the_worker_owns_its_option_else_cuda_visible_devices_else_slurms_allocation() -> None:
    slurm = {"SLURM_JOB_GPUS": "4,5", "SLURM_STEP_GPUS": "6"}
    assert owned_gpus("0, 1", {"CUDA_VISIBLE_DEVICES": "2", **slurm}) == ("0", "1")
    assert owned_gpus(None, {"CUDA_VISIBLE_DEVICES": "2,3", **slurm}) == ("2", "3")
    assert owned_gpus(None, {"CUDA_VISIBLE_DEVICES": "", **slurm}) == ()  # set but empty: no GPU
    assert owned_gpus(None, slurm) == ("6",)
    assert owned_gpus(None, {"SLURM_JOB_GPUS": "4,5"}) == ("4", "5")
    assert owned_gpus(None, {}) == ()


@pytest.mark.parametrize(
    ("gpus", "engines", "shares"),
    [
        ("0123", 2, [("0", "1"), ("2", "3")]),
        ("01234", 2, [("0", "1"), ("2", "3", "4")]),
        ("0123", 4, [("0",), ("1",), ("2",), ("3",)]),
        ("01", 3, [("0",), ("1",), ("0",)]),  # fewer GPUs than engines: round-robin, one each
        ("0", 1, [("0",)]),
        ("", 2, []),
    ],
)
def test_gpus_are_split_evenly_or_shared_round_robin(gpus: str, engines: int, shares: list[tuple[str, ...]]) -> None:
    assert list(gpu_shares(tuple(gpus), engines)) == shares


def _seen(runs_dir: Path, run_id: int) -> str:
    return (run_dir_of(runs_dir, run_id) / "cuda").read_text()


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return open_store(f"sqlite:///{tmp_path / 'runs.db'}")


def test_two_engines_on_four_gpus_get_two_each_and_a_later_engine_a_freed_share(store: Store, tmp_path: Path) -> None:
    ids = queue_runs(store, 3)
    run_worker(store, tmp_path, engine_cmd=ENV_RECORDING_ENGINE, concurrency=2, gpus=("0", "1", "2", "3"))
    seen = [_seen(tmp_path, run_id) for run_id in ids]
    assert sorted(seen[:2]) == ["0,1", "2,3"]  # the first two ran together, one share each
    assert seen[2] in ("0,1", "2,3")


def test_more_engines_than_gpus_share_them_round_robin(store: Store, tmp_path: Path) -> None:
    ids = queue_runs(store, 3)
    run_worker(store, tmp_path, engine_cmd=ENV_RECORDING_ENGINE, concurrency=3, gpus=("0", "1"))
    assert sorted(_seen(tmp_path, run_id) for run_id in ids) == ["0", "0", "1"]


def test_without_gpus_engines_inherit_the_workers_environment(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "7")
    (run_id,) = queue_runs(store, 1)
    run_worker(store, tmp_path, engine_cmd=ENV_RECORDING_ENGINE)
    assert _seen(tmp_path, run_id) == "7"
