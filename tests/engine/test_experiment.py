"""The whole round schedule on tiny models: event sequence, ablation switches, resume."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import torch

from engine.checkpoint import CheckpointError
from engine.config import Config, config_from_dict
from engine.data import load_dataset
from engine.events import Emitter
from engine.experiment import run_experiment
from engine.phase_cache import round0_key
from engine.protocol import EpochEnd, Eval, Event, PhaseStarted, Ranks, decode
from engine.runtime import Cancelled, CancelToken

pytestmark = pytest.mark.xdist_group("torch")


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets its own phase cache, so reuse happens only where a test asks for it."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("LLMD4REC_CACHE", str(cache))
    return cache


def tiny(reuse: bool = True, **distill: Any) -> Config:
    return config_from_dict(
        {
            "run": {"seed": 3},
            "data": {
                "dataset": "synthetic",
                "synthetic_users": 40,
                "synthetic_items": 24,
                "synthetic_length": 8,
                "llm_max_history": 4,
                "llm_samples_per_user": 2,
                "max_seq_len": 10,
            },
            "crm": {"hidden_size": 16, "num_layers": 1, "num_heads": 1},
            "llm": {"backbone": "tiny-random", "lora_r": 2, "lora_alpha": 4},
            "distill": {"mode": "mutual", "rounds": 2, **distill},
            "train": {
                "crm_epochs": 2,
                "llm_epochs": 1,
                "crm_batch_size": 16,
                "llm_batch_size": 8,
                "patience": 1,
                "threads": 1,
                "step_every_s": 0.0,
                "reuse_round0": reuse,
            },
            "eval": {"batch_size": 64},
        }
    )


class Crash(Exception):
    """Stands for the process dying right after a checkpoint was written."""


class Recorder(io.StringIO):
    """A stdout stand-in that can cancel the run, or crash it, right after the checkpoint
    event of the file named ``at`` (phase-NNN.pt after a phase, phase-NNN-epoch-EEE.pt
    after an epoch)."""

    def __init__(self, cancel: CancelToken | None = None, at: str = "", crash: bool = False) -> None:
        super().__init__()
        self.cancel, self.at, self.crash = cancel, at, crash

    def write(self, text: str) -> int:
        written = super().write(text)
        if '"type":"checkpoint"' in text and self.at and json.loads(text)["path"].endswith(f"/{self.at}"):
            if self.crash:
                raise Crash(self.at)
            if self.cancel is not None:
                self.cancel.set()
        return written

    def events(self) -> list[Event]:
        out = []
        for line in self.getvalue().splitlines():
            event = decode(line)
            assert isinstance(event, Event), event
            out.append(event)
        return out


def run(config: Config, run_dir: Path, **kwargs: Any) -> tuple[dict[str, dict[str, float]], list[Event]]:
    stream = Recorder()
    metrics = run_experiment(config, run_dir, Emitter(stream, step_every_s=0.0), **kwargs)
    return metrics, stream.events()


def test_mutual_schedule_emits_the_documented_sequence(tmp_path: Path) -> None:
    metrics, events = run(tiny(), tmp_path)
    outline = [
        (e.type, getattr(e, "round", None), getattr(e, "model", None))
        for e in events
        if e.type in ("phase_started", "round_end", "run_finished", "run_started")
    ]
    assert outline == [
        ("run_started", None, None),
        ("phase_started", 0, "crm"),
        ("phase_started", 0, "llm"),
        ("round_end", 0, None),
        ("phase_started", 1, "llm"),
        ("phase_started", 1, "crm"),
        ("round_end", 1, None),
        ("phase_started", 2, "llm"),
        ("phase_started", 2, "crm"),
        ("round_end", 2, None),
        ("run_finished", None, None),
    ]
    weights = [e for e in events if e.type == "weights"]
    assert {(e.round, e.model, e.name) for e in weights} == {  # type: ignore[attr-defined]
        (1, "llm", "w1"),
        (1, "crm", "w2"),
        (2, "llm", "w1"),
        (2, "crm", "w2"),
    }
    tests = [e for e in events if e.type == "eval" and e.split == "test"]  # type: ignore[attr-defined]
    assert len(tests) == 6
    assert {e.name for e in events if e.type == "params"} >= {"lora_A", "lora_B"}  # type: ignore[attr-defined]
    round_ends = [e for e in events if e.type == "round_end"]
    assert set(round_ends[-1].metrics) == {"crm", "llm"}  # type: ignore[attr-defined]
    assert set(metrics) == {"crm", "llm"} and "ndcg@10" in metrics["crm"]
    started = next(e for e in events if e.type == "phase_started" and e.teacher == "llm")  # type: ignore[attr-defined]
    assert started.teacher_cache["samples"] == 40 * 2 and started.teacher_cache["where"] == "memory"  # type: ignore[attr-defined]


def test_without_sample_weights_every_weight_is_one(tmp_path: Path) -> None:
    _, events = run(tiny(sample_weights=False, rounds=1), tmp_path)
    weights = [e for e in events if e.type == "weights"]
    assert weights and all(e.mean == 1.0 and e.std == 0.0 for e in weights)  # type: ignore[attr-defined]


def test_without_refresh_the_llm_keeps_round_zero_embeddings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.models import llm as llm_module

    calls: list[torch.Tensor] = []
    original = llm_module.LLMRecommender.set_item_embeddings

    def spy(self: Any, table: torch.Tensor) -> None:
        calls.append(table.detach().clone())
        original(self, table)

    monkeypatch.setattr(llm_module.LLMRecommender, "set_item_embeddings", spy)
    run(tiny(refresh_embeddings=False, rounds=2), tmp_path / "a")
    injected_without = len(calls)
    calls.clear()
    run(tiny(refresh_embeddings=True, rounds=2), tmp_path / "b")
    assert injected_without + 2 == len(calls)  # one refresh per round 1..R


def test_one_way_never_trains_the_llm_after_round_zero(tmp_path: Path) -> None:
    _, events = run(tiny(mode="one_way", rounds=2), tmp_path)
    phases = [(e.round, e.model) for e in events if e.type == "phase_started"]  # type: ignore[attr-defined]
    assert phases == [(0, "crm"), (0, "llm"), (1, "crm"), (2, "crm")]


def test_resumed_run_ends_with_the_same_metrics(tmp_path: Path) -> None:
    config = tiny(rounds=1)
    straight, _ = run(config, tmp_path / "straight")

    token = CancelToken()
    stream = Recorder(cancel=token, at="phase-002.pt")  # after round 0, before round 1's LLM phase
    with pytest.raises(Cancelled) as stopped:
        run_experiment(config, tmp_path / "split", Emitter(stream, step_every_s=0.0), cancel=token)
    assert stopped.value.args[1].endswith("/phase-002.pt")
    assert epoch_files(tmp_path / "split") == []  # each phase's own checkpoint deleted its epoch files
    resumed, events = run(config, tmp_path / "split", resume=True)
    assert events[0].resumed  # type: ignore[attr-defined]
    assert [e.model for e in events if e.type == "phase_started"] == ["llm", "crm"]  # type: ignore[attr-defined]
    assert json.dumps(resumed, sort_keys=True) == json.dumps(straight, sort_keys=True)


def epoch_files(run_dir: Path) -> list[str]:
    return sorted(p.name for p in (run_dir / "checkpoints").glob("*-epoch-*"))


def longer_phases(config: Config) -> Config:
    """Three CRM and two LLM epochs per phase, all of them trained (patience never ends one)."""
    return replace(config, train=replace(config.train, crm_epochs=3, llm_epochs=2, patience=10))


@pytest.mark.parametrize(
    ("at", "crash", "model", "epochs_after"),
    [
        ("phase-003-epoch-001.pt", False, "crm", [2, 3]),  # round 1's CRM phase, LLM teacher
        ("phase-002-epoch-001.pt", False, "llm", [2]),  # round 1's LLM phase, CRM teacher
        ("phase-003-epoch-003.pt", True, "crm", []),  # died after the last epoch, before the phase's end
    ],
)
def test_a_run_stopped_inside_a_phase_resumes_after_its_last_epoch(
    tmp_path: Path, at: str, crash: bool, model: str, epochs_after: list[int]
) -> None:
    config = longer_phases(tiny(rounds=1))
    straight, straight_events = run(config, tmp_path / "straight")
    assert [e.epoch for e in epoch_ends(straight_events, model)] == ([1, 2, 3] if model == "crm" else [1, 2])

    token = CancelToken()
    stream = Recorder(cancel=token, at=at, crash=crash)
    with pytest.raises(Crash if crash else Cancelled) as stopped:
        run_experiment(config, tmp_path / "split", Emitter(stream, step_every_s=0.0), cancel=token)
    if not crash:
        assert stopped.value.args[1].endswith(f"/{at}")
    assert epoch_files(tmp_path / "split") == [at]
    resumed, events = run(config, tmp_path / "split", resume=True)
    assert [e.epoch for e in epoch_ends(events, model)] == epochs_after  # the epochs before are not trained again
    logs = [e.message for e in events if e.type == "log"]  # type: ignore[attr-defined]
    epoch = int(at[-6:-3])
    assert logs == [f"round 1 {model} phase resumes from its checkpoint after epoch {epoch}"]
    assert [e.model for e in events if e.type == "phase_started"] == (  # type: ignore[attr-defined]
        ["crm"] if model == "crm" else ["llm", "crm"]
    )
    assert json.dumps(resumed, sort_keys=True) == json.dumps(straight, sort_keys=True)


def epoch_ends(events: list[Event], model: str) -> list[EpochEnd]:
    """The epoch_end events of round 1's ``model`` phase."""
    return [e for e in events if isinstance(e, EpochEnd) and e.round == 1 and e.model == model]


def test_a_finished_run_keeps_its_phase_checkpoints_and_no_epoch_checkpoint(tmp_path: Path) -> None:
    _, events = run(longer_phases(tiny(rounds=1)), tmp_path)
    assert epoch_files(tmp_path) == []
    names = sorted(p.name for p in (tmp_path / "checkpoints").glob("*.pt"))
    assert names == ["phase-001.pt", "phase-002.pt", "phase-003.pt", "phase-004.pt"]
    assert json.loads((tmp_path / "checkpoints" / "latest.json").read_text())["path"] == "phase-004.pt"
    paths = [Path(e.path).name for e in events if e.type == "checkpoint"]  # type: ignore[attr-defined]
    # Every epoch and every phase announces its checkpoint, so the store's last_checkpoint is the newest.
    assert paths == [
        "phase-000-epoch-001.pt",
        "phase-000-epoch-002.pt",
        "phase-000-epoch-003.pt",
        "phase-001.pt",
        "phase-001-epoch-001.pt",
        "phase-001-epoch-002.pt",
        "phase-002.pt",
        "phase-002-epoch-001.pt",
        "phase-002-epoch-002.pt",
        "phase-003.pt",
        "phase-003-epoch-001.pt",
        "phase-003-epoch-002.pt",
        "phase-003-epoch-003.pt",
        "phase-004.pt",
    ]


@pytest.mark.parametrize("damage", ["truncated", "other config", "other phase"])
def test_a_damaged_or_foreign_epoch_checkpoint_is_refused_clearly(tmp_path: Path, damage: str) -> None:
    config = longer_phases(tiny(rounds=1, reuse=False))
    with pytest.raises(Crash):
        run_experiment(config, tmp_path, Emitter(Recorder(at="phase-000-epoch-002.pt", crash=True), step_every_s=0.0))
    path = tmp_path / "checkpoints" / "phase-000-epoch-002.pt"
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[:1000])
        expected = "cannot be loaded"
    elif damage == "other config":
        config = replace(config, train=replace(config.train, crm_lr=config.train.crm_lr / 2))
        expected = "resume needs the same config"
    else:  # a progress record that belongs to another phase than the file's
        raw = torch.load(path, weights_only=True)
        raw["progress"]["phase"] = 2
        torch.save(raw, path)
        expected = "phase progress is unusable"
    with pytest.raises(CheckpointError, match=expected) as refused:
        run(config, tmp_path, resume=True)
    assert str(path) in str(refused.value)


def test_round_zero_is_reused_with_identical_results(tmp_path: Path) -> None:
    _first, first_events = run(tiny(rounds=1), tmp_path / "first")
    assert not [e for e in first_events if e.type == "log"]
    # A different distillation setting shares round 0; its round-0 metrics must match.
    _second, events = run(tiny(rounds=1, gamma=0.5), tmp_path / "second")
    reused = [e.message for e in events if e.type == "log"]  # type: ignore[attr-defined]
    assert len(reused) == 2 and all("reused" in m for m in reused)
    # Replayed events carry the replay's time, not the first run's.
    assert min(e.ts for e in events) >= max(e.ts for e in first_events)
    round0 = next(e for e in events if e.type == "round_end")
    first_round0 = next(e for e in first_events if e.type == "round_end")
    assert round0.metrics == first_round0.metrics  # type: ignore[attr-defined]
    # Switched off, round 0 is trained again and gives the same numbers.
    _, fresh = run(tiny(rounds=1, gamma=0.5, reuse=False), tmp_path / "third")
    assert not [e for e in fresh if e.type == "log"]
    assert next(e for e in fresh if e.type == "round_end").metrics == round0.metrics  # type: ignore[attr-defined]


def test_round_zero_crm_does_not_depend_on_the_llm_settings(tmp_path: Path) -> None:
    """Why the CRM's round-0 key may ignore llm.*, data.llm_* and train.llm_*: trained
    from scratch, the CRM alone and the CRM of a run with other LLM settings end equal."""
    base = tiny(reuse=False, mode="none", model="crm")
    other = tiny(reuse=False, rounds=1)
    other = replace(
        other,
        data=replace(other.data, llm_samples_per_user=3, llm_max_history=3),
        llm=replace(other.llm, lora_r=4),
        train=replace(other.train, llm_epochs=2, llm_lr=0.01),
    )
    assert round0_key(base, "crm", {}) == round0_key(other, "crm", {})
    assert round0_key(base, "llm", {}) != round0_key(other, "llm", {})
    _, alone = run(base, tmp_path / "alone")
    _, mixed = run(other, tmp_path / "mixed")
    assert round0_crm_test(alone) == round0_crm_test(mixed)


def round0_crm_test(events: list[Event]) -> dict[str, float]:
    """Test metrics of the first CRM phase (round 0)."""
    tests = [e for e in events if isinstance(e, Eval) and e.split == "test" and e.model == "crm"]
    return tests[0].metrics


def test_the_llm_teacher_can_cover_every_crm_sample_and_leaves_no_cache_file(tmp_path: Path) -> None:
    """teacher_samples_per_user = 0: the frozen LLM scores every CRM training target (the
    weights histogram counts one w2 per target), and its on-disk logits are gone afterwards."""
    config = tiny(mode="one_way", rounds=2, teacher_samples_per_user=0, teacher_cache="disk")
    data = load_dataset(config.data)
    every_target = sum(len(seq) - 3 for seq in data.sequences)
    _, events = run(config, tmp_path)
    started = [e for e in events if e.type == "phase_started" and e.teacher == "llm"]  # type: ignore[attr-defined]
    assert [s.teacher_cache["samples"] for s in started] == [every_target] * 2  # type: ignore[attr-defined]
    assert {s.teacher_cache["where"] for s in started} == {"disk"}  # type: ignore[attr-defined]
    weights = [e for e in events if e.type == "weights"]
    assert weights and all(sum(e.counts) == every_target for e in weights)  # type: ignore[attr-defined]
    assert not list(tmp_path.rglob("teacher_logits.npy"))


def test_by_default_the_llm_teacher_covers_the_llms_own_samples(tmp_path: Path) -> None:
    _, events = run(tiny(rounds=1, teacher_cache="disk"), tmp_path)
    started = next(e for e in events if isinstance(e, PhaseStarted) and e.teacher == "llm")
    assert started.teacher_cache["samples"] == 40 * 2  # data.llm_samples_per_user = 2, 40 users
    weights = next(e for e in events if e.type == "weights" and e.model == "crm")  # type: ignore[attr-defined]
    assert sum(weights.counts) == 40 * 2  # type: ignore[attr-defined]
    assert not list(tmp_path.rglob("teacher_logits.npy"))


def test_round_patience_leaves_round_0_shared() -> None:
    """A [distill] key: the baselines' round 0 stays reusable by a run that shortens its rounds."""
    assert round0_key(tiny(round_patience=1), "crm", {}) == round0_key(tiny(), "crm", {})
    assert round0_key(tiny(round_patience=1), "llm", {}) == round0_key(tiny(), "llm", {})


@pytest.mark.parametrize("warm_start", [True, False])
def test_keep_start_if_best_validates_the_start_of_warm_started_phases_only(tmp_path: Path, warm_start: bool) -> None:
    _, events = run(tiny(rounds=1, keep_start_if_best=True, warm_start=warm_start), tmp_path)
    starts = {(e.round, e.model) for e in events if e.type == "epoch_end" and e.epoch == 0}  # type: ignore[attr-defined]
    assert starts == ({(1, "llm"), (1, "crm")} if warm_start else set())


def test_an_every_item_llm_teaches_every_crm_position_in_float16_and_reports_ranks(tmp_path: Path) -> None:
    """readout = every_item: the LLM trains and scores windows; the CRM phase's teacher
    covers every training target at two bytes a logit and leaves no file; the LLM's final
    evaluations still leave per-user ranks."""
    base = tiny(rounds=1, teacher_samples_per_user=0, teacher_cache="disk")
    config = replace(base, llm=replace(base.llm, readout="every_item"))
    data = load_dataset(config.data)
    every_target = sum(len(seq) - 3 for seq in data.sequences)
    _, events = run(config, tmp_path)
    started = next(e for e in events if e.type == "phase_started" and e.teacher == "llm")  # type: ignore[attr-defined]
    assert started.teacher_cache["samples"] == every_target  # type: ignore[attr-defined]
    assert started.teacher_cache["bytes"] == every_target * (data.num_items + 1) * 2  # type: ignore[attr-defined]
    assert started.teacher_cache["dtype"] == "float16"  # type: ignore[attr-defined]
    assert {e.model for e in events if isinstance(e, Ranks)} >= {"llm", "crm"}
    assert not list(tmp_path.rglob("teacher_logits.npy"))
