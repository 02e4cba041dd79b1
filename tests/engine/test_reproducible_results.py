"""What makes a result trustworthy beyond its number: a reused round 0 changes nothing
(warm or cold later rounds), the round-0 cache key sees through 'auto' and paths, a
diverging model fails instead of being kept, and every final evaluation leaves per-user
ranks that reproduce its metrics exactly."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.evaluate import NonFiniteValues
from engine.metrics import summarise
from engine.phase_cache import content_stamp, resolved_values, round0_key
from engine.protocol import Eval, Ranks
from tests.engine.test_experiment import private_cache, run, tiny  # noqa: F401  (private_cache: autouse)

pytestmark = pytest.mark.xdist_group("torch")


def final_metrics(events: Sequence[object]) -> list[dict[str, float]]:
    return [e.metrics for e in events if isinstance(e, Eval)]


@pytest.mark.parametrize("warm_start", [True, False])
def test_reusing_round_zero_gives_the_metrics_of_training_it(tmp_path: Path, warm_start: bool) -> None:
    """A replayed round 0 leaves the global RNG elsewhere than a trained one; a cold
    restart reseeds from its phase, so reuse never shows in the numbers."""
    run(tiny(rounds=2, warm_start=warm_start), tmp_path / "fills-the-cache")
    _, reused = run(tiny(rounds=2, warm_start=warm_start), tmp_path / "reuses")
    assert any("reused" in getattr(e, "message", "") for e in reused)
    _, fresh = run(tiny(rounds=2, warm_start=warm_start, reuse=False), tmp_path / "trains")
    assert final_metrics(reused) == final_metrics(fresh)


def test_round_zero_key_uses_resolved_device_and_dtype() -> None:
    config = tiny()
    cpu = resolved_values(config, "cpu", "torch.float32", "data-1")
    gpu = resolved_values(config, "cuda", "torch.bfloat16", "data-1")
    assert round0_key(config, "crm", cpu) != round0_key(config, "crm", gpu)
    # 'auto' and the value it resolves to here are the same phase
    explicit = replace(config, train=replace(config.train, device="cpu"))
    assert round0_key(config, "crm", cpu) == round0_key(explicit, "crm", cpu)


def test_round_zero_key_follows_the_data_content_not_its_path() -> None:
    config = tiny()
    moved = replace(config, data=replace(config.data, path="/elsewhere/same.csv"))
    content_a = resolved_values(config, "cpu", "torch.float32", "content-a")
    assert round0_key(config, "crm", content_a) == round0_key(moved, "crm", content_a)
    content_b = resolved_values(config, "cpu", "torch.float32", "content-b")
    assert round0_key(config, "crm", content_a) != round0_key(config, "crm", content_b)


def test_a_local_backbone_folder_is_keyed_by_its_files(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    weights = folder / "model.safetensors"
    weights.write_bytes(b"a" * 3_000_000)
    (folder / "config.json").write_text("{}")
    config = replace(tiny(), llm=replace(tiny().llm, backbone=str(folder)))
    before = round0_key(config, "llm", resolved_values(config, "cpu", "f32", "d"))
    stamp = content_stamp(folder)
    with weights.open("r+b") as handle:  # an edit in the last MiB, same size
        handle.seek(2_999_000)
        handle.write(b"b")
    os.utime(weights, ns=(weights.stat().st_atime_ns, weights.stat().st_mtime_ns))
    assert content_stamp(folder) != stamp
    assert round0_key(config, "llm", resolved_values(config, "cpu", "f32", "d")) != before
    assert round0_key(config, "crm", resolved_values(config, "cpu", "f32", "d")) == round0_key(
        tiny(), "crm", resolved_values(tiny(), "cpu", "f32", "d")
    )


def test_a_diverging_phase_fails_naming_model_round_and_epoch(tmp_path: Path) -> None:
    config = tiny(mode="none", model="crm")
    config = replace(config, train=replace(config.train, crm_lr=float("inf")))
    with pytest.raises(NonFiniteValues, match=r"non-finite (loss|scores) .*in the CRM at round 0, epoch 1"):
        run(config, tmp_path)


def test_every_final_evaluation_leaves_ranks_that_reproduce_its_metrics(tmp_path: Path) -> None:
    _, events = run(tiny(rounds=1), tmp_path)
    evals = [e for e in events if isinstance(e, Eval)]
    ranks = {(e.round, e.model, e.split): e for e in events if isinstance(e, Ranks)}
    assert len(evals) == 8 and set(ranks) == {(e.round, e.model, e.split) for e in evals}
    for evaluation in evals:
        stored = ranks[(evaluation.round, evaluation.model, evaluation.split)]
        assert len(stored.users) == len(stored.items) == len(stored.ranks) == evaluation.users
        recomputed = summarise(torch.from_numpy(np.asarray(stored.ranks)), [5, 10, 20])
        assert recomputed == evaluation.metrics  # exactly: the same ranks, the same sums
