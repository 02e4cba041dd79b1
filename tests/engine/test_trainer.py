"""The phase trainer: early stopping with the best state restored, the teacher term
(gradients, KL averaging, weights and their event), step events and cancellation."""

from __future__ import annotations

import copy
import io

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from engine.config import config_from_dict
from engine.data.dataset import SequenceDataset
from engine.data.synthetic import make_synthetic
from engine.distill import WEIGHT_EDGES, DistillTerm, kl_teacher_student, sample_weights, target_rank
from engine.evaluate import NonFiniteValues, evaluate
from engine.events import Emitter
from engine.models.base import TrainOutput
from engine.models.crm import CRMRecommender, build_crm
from engine.protocol import EpochEnd, Eval, Event, Step, Weights
from engine.runtime import Cancelled, CancelToken
from engine.teachers import LiveTeacher
from engine.trainer import PhaseProgress, PhaseSettings, batch_loss, train_phase


@pytest.fixture(scope="module")
def data() -> SequenceDataset:
    return make_synthetic(users=120, items=60, length=16, seed=1)


def crm(data: SequenceDataset, seed: int = 0) -> CRMRecommender:
    config = config_from_dict(
        {
            "data": {"max_seq_len": 16},
            "crm": {"hidden_size": 16, "num_layers": 1, "num_heads": 1, "dropout": 0.1},
        }
    )
    torch.manual_seed(seed)
    return build_crm(config, data)


class SnapshotEmitter(Emitter):
    """Records events and the student's parameters at every epoch end."""

    def __init__(self, model: CRMRecommender) -> None:
        super().__init__(io.StringIO(), step_every_s=0.0)
        self.model = model
        self.sent: list[Event] = []
        self.snapshots: dict[int, list[torch.Tensor]] = {}

    def emit(self, event: Event) -> None:
        super().emit(event)
        self.sent.append(event)
        if isinstance(event, EpochEnd):
            self.snapshots[event.epoch] = [p.detach().clone() for p in self.model.trainable_parameters()]

    def of(self, kind: type[Event]) -> list[Event]:
        return [e for e in self.sent if isinstance(e, kind)]


def settings(**overrides: object) -> PhaseSettings:
    values: dict[str, object] = {"epochs": 6, "batch_size": 32, "lr": 0.01, "patience": 10, "eval_ks": (10,)}
    values.update(overrides)
    return PhaseSettings(**values)  # type: ignore[arg-type]


def test_the_best_epoch_is_restored_and_later_epochs_are_discarded(data: SequenceDataset) -> None:
    model = crm(data)
    # A large learning rate makes validation NDCG@10 go up and down.
    emitter = SnapshotEmitter(model)
    result = train_phase(model, data, settings(epochs=6, lr=0.05), emitter, CancelToken(), 0, "crm")
    scores = [r.valid["ndcg@10"] for r in result.history]
    assert result.best_epoch == int(np.argmax(scores)) + 1
    assert result.best_epoch < result.epochs_run, "precondition: a later epoch was worse"
    final = model.trainable_parameters()
    assert all(torch.equal(p, s) for p, s in zip(final, emitter.snapshots[result.best_epoch], strict=True))
    assert not all(torch.equal(p, s) for p, s in zip(final, emitter.snapshots[result.epochs_run], strict=True))
    again = evaluate(model, data, "valid", ks=[10]).metrics
    assert again["ndcg@10"] == pytest.approx(result.best_valid["ndcg@10"])
    best_flags = [e.best for e in emitter.of(EpochEnd)]  # type: ignore[attr-defined]
    assert best_flags[result.best_epoch - 1] is True
    (phase_eval,) = emitter.of(Eval)
    assert phase_eval.metrics == result.best_valid  # type: ignore[attr-defined]


def test_patience_stops_after_that_many_epochs_without_gain(data: SequenceDataset) -> None:
    model = crm(data)
    result = train_phase(
        model, data, settings(epochs=30, lr=0.05, patience=1), SnapshotEmitter(model), CancelToken(), 0, "crm"
    )
    assert result.stopped_early
    scores = [r.valid["ndcg@10"] for r in result.history]
    assert scores[-1] <= max(scores[:-1])
    assert result.epochs_run == result.best_epoch + 1


def test_a_phase_resumed_from_its_progress_ends_as_if_it_never_stopped(data: SequenceDataset) -> None:
    """After epoch 1 the rest is trained as before (same shuffling, dropout, optimizer
    moments, best epoch); after the epoch that exhausted patience, nothing is trained."""
    stopping = settings(epochs=30, lr=0.05, patience=1)
    model = crm(data)
    taken: list[tuple[PhaseProgress, dict[str, torch.Tensor]]] = []

    def keep(progress: PhaseProgress) -> None:
        state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        taken.append((copy.deepcopy(progress), state))

    straight_emitter = SnapshotEmitter(model)
    straight = train_phase(model, data, stopping, straight_emitter, CancelToken(), 0, "crm", on_epoch=keep)
    assert straight.stopped_early and straight.epochs_run >= 2, "precondition: patience ends the phase"
    assert [p.epochs_done for p, _ in taken] == list(range(1, straight.epochs_run + 1))
    final = [p.detach().clone() for p in model.trainable_parameters()]
    for progress, state in (taken[0], taken[-1]):
        again = crm(data, seed=7)
        again.load_state_dict(state)
        emitter = SnapshotEmitter(again)
        result = train_phase(again, data, stopping, emitter, CancelToken(), 0, "crm", resume=progress)
        epochs = [e.epoch for e in emitter.of(EpochEnd)]  # type: ignore[attr-defined]
        assert epochs == list(range(progress.epochs_done + 1, straight.epochs_run + 1))
        assert all(torch.equal(p, s) for p, s in zip(again.trainable_parameters(), final, strict=True))
        assert result.best_epoch == straight.best_epoch and result.best_valid == straight.best_valid
        assert [(r.epoch, r.losses, r.valid) for r in result.history] == [
            (r.epoch, r.losses, r.valid) for r in straight.history
        ]


def test_a_competing_start_is_kept_when_no_epoch_beats_it(data: SequenceDataset) -> None:
    """start_competes: the warm start is validated as epoch 0; a phase whose epochs all do
    worse (a destructive learning rate) ends where it began. Without it, the phase ends
    at its best epoch, worse than the start."""
    trained = crm(data)
    train_phase(trained, data, settings(epochs=4), SnapshotEmitter(trained), CancelToken(), 0, "crm")
    start = [p.detach().clone() for p in trained.trainable_parameters()]
    start_score = evaluate(trained, data, "valid", ks=[10]).metrics["ndcg@10"]
    outcomes = {}
    for competes in (True, False):
        model = crm(data)
        with torch.no_grad():
            for param, value in zip(model.trainable_parameters(), start, strict=True):
                param.copy_(value)
        emitter = SnapshotEmitter(model)
        destructive = settings(epochs=3, lr=2.0, patience=3, start_competes=competes)
        result = train_phase(model, data, destructive, emitter, CancelToken(), 1, "crm")
        epochs = [e.epoch for e in emitter.of(EpochEnd)]  # type: ignore[attr-defined]
        kept = all(torch.equal(p, s) for p, s in zip(model.trainable_parameters(), start, strict=True))
        outcomes[competes] = (result, epochs, kept)
    result, epochs, kept = outcomes[True]
    assert epochs == [0, 1, 2, 3] and result.best_epoch == 0 and kept
    assert result.best_valid["ndcg@10"] == pytest.approx(start_score)
    result, epochs, kept = outcomes[False]
    assert epochs == [1, 2, 3] and result.best_epoch >= 1 and not kept
    assert result.best_valid["ndcg@10"] < start_score, "precondition: every epoch did worse than the start"


def test_step_events_carry_all_losses_lr_throughput_and_progress(data: SequenceDataset) -> None:
    model = crm(data)
    emitter = SnapshotEmitter(model)
    train_phase(model, data, settings(epochs=1, lr=0.003), emitter, CancelToken(), 2, "crm")
    steps = emitter.of(Step)
    assert steps, "step_every_s = 0 sends every step"
    for step in steps:
        assert set(step.losses) == {"ce", "kl", "wkl", "total"}  # type: ignore[attr-defined]
        assert step.round == 2 and step.lr == 0.003 and step.samples_per_s > 0  # type: ignore[attr-defined]
    assert steps[-1].progress == pytest.approx(1.0)  # type: ignore[attr-defined]
    assert not emitter.of(Weights), "no teacher, no weights event"


def test_a_non_finite_loss_between_step_events_fails_at_the_epochs_end(data: SequenceDataset) -> None:
    """Losses are read on the host only per step event: with one event per phase (the
    first), an infinite learning rate's NaN losses are still caught before validation."""
    model = crm(data)
    emitter = SnapshotEmitter(model)
    emitter._step_every_s = 1e9
    batches = len(model.train_batches(32, np.random.default_rng(0)))
    with pytest.raises(
        NonFiniteValues, match=rf"non-finite loss \(nan\) in the CRM at round 1, epoch 1, by step {batches}$"
    ):
        train_phase(model, data, settings(epochs=1, lr=float("inf")), emitter, CancelToken(), 1, "crm")
    steps = emitter.of(Step)
    assert len(steps) == 1 and all(np.isfinite(v) for v in steps[0].losses.values())  # type: ignore[attr-defined]
    assert not emitter.of(EpochEnd)


def test_cancel_stops_between_steps(data: SequenceDataset) -> None:
    token = CancelToken()
    token.set()
    with pytest.raises(Cancelled):
        train_phase(crm(data), data, settings(), SnapshotEmitter(crm(data)), token, 0, "crm")


def test_a_student_on_another_device_than_the_settings_is_refused(data: SequenceDataset) -> None:
    with pytest.raises(ValueError, match=r"student is on cpu, settings.device is meta"):
        train_phase(
            crm(data), data, settings(device=torch.device("meta")), SnapshotEmitter(crm(data)), CancelToken(), 0, "crm"
        )


def distill(teacher: CRMRecommender, data: SequenceDataset, use_weights: bool = True) -> DistillTerm:
    teacher.eval()
    return DistillTerm(
        LiveTeacher(teacher, data, 16), temperature=2.0, coef=1.0, use_weights=use_weights, weight_name="w2"
    )


def test_the_teacher_term_trains_only_the_student_and_reports_weights(data: SequenceDataset) -> None:
    teacher, student = crm(data, seed=1), crm(data, seed=2)
    train_phase(teacher, data, settings(epochs=2), SnapshotEmitter(teacher), CancelToken(), 0, "crm")
    teacher_before = [p.detach().clone() for p in teacher.trainable_parameters()]
    student_before = [p.detach().clone() for p in student.trainable_parameters()]
    emitter = SnapshotEmitter(student)
    train_phase(student, data, settings(epochs=2), emitter, CancelToken(), 1, "crm", distill(teacher, data))
    assert all(p.grad is None for p in teacher.trainable_parameters())
    assert all(torch.equal(p, b) for p, b in zip(teacher.trainable_parameters(), teacher_before, strict=True))
    assert not all(torch.equal(p, b) for p, b in zip(student.trainable_parameters(), student_before, strict=True))
    weights = emitter.of(Weights)
    assert [w.epoch for w in weights] == [1, 2]  # type: ignore[attr-defined]
    samples = sum(len(s) - 1 for s in data.train_sequences())
    for event in weights:
        assert event.name == "w2" and event.edges == WEIGHT_EDGES  # type: ignore[attr-defined]
        assert sum(event.counts) == samples  # type: ignore[attr-defined]
        assert 0.0 <= event.mean <= 2.0 and event.std > 0  # type: ignore[attr-defined]
    assert all(e.losses["kl"] > 0 for e in emitter.of(EpochEnd))  # type: ignore[attr-defined]


def test_without_sample_weights_every_weight_is_one(data: SequenceDataset) -> None:
    teacher, student = crm(data, seed=1), crm(data, seed=2)
    emitter = SnapshotEmitter(student)
    train_phase(student, data, settings(epochs=1), emitter, CancelToken(), 1, "crm", distill(teacher, data, False))
    (event,) = emitter.of(Weights)
    assert event.mean == 1.0 and event.std == 0.0  # type: ignore[attr-defined]
    one_bin = WEIGHT_EDGES.index(1.0)
    assert event.counts[one_bin] == sum(event.counts)  # type: ignore[attr-defined]


class HalfTeacher:
    """Covers every other row with fixed logits, like a capped teacher cache."""

    def __init__(self, logits: torch.Tensor) -> None:
        self.logits = logits

    def logits_for(self, keys: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        rows = torch.arange(0, len(keys), 2)
        return rows, self.logits[rows]

    def close(self) -> None:
        pass


def test_kl_is_summed_over_covered_rows_and_divided_by_all_rows() -> None:
    torch.manual_seed(0)
    student = torch.randn(6, 9, requires_grad=True)
    teacher = torch.randn(6, 9)
    targets = torch.tensor([1, 2, 3, 4, 5, 6])
    out = TrainOutput(logits=student, targets=targets, keys=torch.arange(6))
    term = DistillTerm(HalfTeacher(teacher), temperature=3.0, coef=0.5, t_squared=True)
    loss = batch_loss(out, term)
    rows = torch.tensor([0, 2, 4])
    kl = kl_teacher_student(teacher[rows], student[rows], 3.0, True)
    w = sample_weights(target_rank(student[rows], targets[rows]), target_rank(teacher[rows], targets[rows]))
    expected_wkl = (w * kl).sum().detach() / 6
    assert loss.covered == 3
    assert float(loss.wkl) == pytest.approx(float(expected_wkl))
    expected_total = F.cross_entropy(student, targets).detach() + 0.5 * expected_wkl
    assert float(loss.total.detach()) == pytest.approx(float(expected_total))
    loss.total.backward()
    assert student.grad is not None


def test_round_patience_applies_to_the_rounds_after_round_0_only() -> None:
    config = config_from_dict({"train": {"patience": 10}, "distill": {"mode": "mutual", "round_patience": 3}})
    assert PhaseSettings.from_config(config, "crm", round=0).patience == 10
    assert PhaseSettings.from_config(config, "llm", round=0).patience == 10
    assert PhaseSettings.from_config(config, "crm", round=1).patience == 3
    assert PhaseSettings.from_config(config, "llm", round=2).patience == 3
    unset = config_from_dict({"train": {"patience": 10}, "distill": {"mode": "mutual"}})
    assert PhaseSettings.from_config(unset, "crm", round=1).patience == 10
