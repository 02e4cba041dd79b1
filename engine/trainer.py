"""One training phase of any Recommender: epochs, optional teacher term, early stopping.

The loop never looks at the model type: it asks the model for its own batches and its
TrainOutput, adds the distillation term when a teacher is given, and keeps the trainable
parameters of the epoch with the best validation NDCG@10, restored at the end.

Loss of one batch of N trained samples (rows of TrainOutput):

    total = CE + coef * wkl,   wkl = sum_{covered rows i} w_i * KL_i / N

CE is the mean over all N rows (or the model's aux_loss). KL_i is
engine.distill.kl_teacher_student at the phase temperature (T^2 when t_squared) and w_i
engine.distill.sample_weights of the student's and the teacher's rank of the target (1
when use_weights is off). Dividing by N, not by the number of covered rows, equals
"mean over covered rows times the covered fraction": an uncovered row contributes zero,
so a teacher that covers only part of the samples (a capped LLM cache) pulls on exactly
the samples it knows, and the CE/KL balance per sample does not depend on coverage.

The losses stay on the student's device until they are read: once per step event (at
most one per train.step_every_s) and once at the epoch's end, so a GPU is not stalled by
a host sync per batch. The non-finite check reads the epoch's running total then: a
NaN or inf in any batch keeps the sum non-finite, so it is caught by the next read.
"""

from __future__ import annotations

import math
import operator
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F

from engine.config import Config
from engine.data.dataset import SequenceDataset
from engine.distill import WEIGHT_EDGES, DistillTerm, histogram, kl_teacher_student, sample_weights, target_rank
from engine.evaluate import EvalResult, NonFiniteValues, evaluate, ranks_event
from engine.events import Emitter
from engine.models.base import Recommender, TrainOutput
from engine.protocol import EpochEnd, Eval, Step, Weights
from engine.runtime import CancelToken

Metrics = dict[str, float]
SELECTION_METRIC = "ndcg@10"


@dataclass(frozen=True)
class PhaseSettings:
    """Everything one phase needs from the config, for either model."""

    epochs: int
    batch_size: int
    lr: float
    weight_decay: float = 0.0
    optimizer: Literal["adam", "adamw"] = "adam"
    patience: int = 3
    eval_ks: tuple[int, ...] = (5, 10, 20)
    eval_batch_size: int = 256
    mask_history: bool = True
    valid_users: int = 0  # 0 = validate on all users
    seed: int = 0
    # The model the phase starts from competes for the best checkpoint (validated before
    # epoch 1, reported as epoch 0), so a warm-started phase never leaves it worse.
    start_competes: bool = False
    # Where the student lives (checked at the start); teacher logits are moved next to it.
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @classmethod
    def from_config(
        cls,
        config: Config,
        model: Literal["crm", "llm"],
        device: torch.device | str = "cpu",
        round: int = 0,
    ) -> PhaseSettings:
        t, e, d = config.train, config.eval, config.distill
        crm = model == "crm"
        return cls(
            epochs=t.crm_epochs if crm else t.llm_epochs,
            batch_size=t.crm_batch_size if crm else t.llm_batch_size,
            lr=t.crm_lr if crm else t.llm_lr,
            weight_decay=t.weight_decay,
            optimizer="adam" if crm else "adamw",
            patience=d.round_patience if round > 0 and d.round_patience is not None else t.patience,
            eval_ks=tuple(e.ks),
            eval_batch_size=e.batch_size,
            mask_history=e.mask_history,
            valid_users=e.valid_users,
            seed=config.run.seed,
            start_competes=d.keep_start_if_best and d.warm_start and round > 0,
            device=torch.device(device),
        )


@dataclass(frozen=True)
class EpochRecord:
    epoch: int
    losses: Metrics
    valid: Metrics
    seconds: float


@dataclass(frozen=True)
class PhaseResult:
    best_epoch: int
    best_valid: Metrics
    epochs_run: int
    stopped_early: bool
    seconds: float
    history: list[EpochRecord]


@dataclass(frozen=True)
class PhaseProgress:
    """Where a phase stands after a finished epoch: what train_phase needs to continue it
    exactly, besides the student's current parameters (the run checkpoint holds those).

    The optimizer state references the live optimizer's tensors: a callback that keeps
    the record past its own return must copy it (engine.experiment writes it to disk).
    """

    epochs_done: int
    optimizer: dict[str, Any]  # optimizer.state_dict()
    best_state: list[torch.Tensor]  # the trainable parameters of the best epoch so far
    best_score: float
    best_epoch: int
    best_valid: Metrics
    stale: int  # epochs since the last gain (patience counter)
    step: int
    history: list[EpochRecord]
    numpy_rng: dict[str, Any]  # the shuffling Generator's bit_generator.state
    torch_rng: torch.Tensor  # torch's CPU RNG (dropout on CPU)
    cuda_rng: list[torch.Tensor] | None = None  # every CUDA device's RNG, on CUDA
    best_ranks: torch.Tensor | None = None  # the best epoch's validation rank per validated user


def phase_seed(seed: int, round_: int, phase: str) -> list[int]:
    """Seed material of one phase: the run seed, the round and a stable code of the phase."""
    return [seed, round_, zlib.crc32(phase.encode())]


def validation_users(data: SequenceDataset, count: int, seed: int) -> np.ndarray | None:
    """A fixed random subset of users for validation (None = all users)."""
    if count <= 0 or count >= data.num_users:
        return None
    return np.sort(np.random.default_rng([seed, count]).choice(data.num_users, size=count, replace=False))


@dataclass
class _EpochTotals:
    """Running sums of one epoch's losses (float64, on the student's device) and weights."""

    samples: int = 0
    kl_rows: int = 0
    sums: torch.Tensor | None = None  # [ce * n, total * n, kl, wkl * n] summed over batches
    weights: list[torch.Tensor] = field(default_factory=list)

    def add(self, loss: BatchLoss, n: int) -> None:
        batch = torch.stack([loss.ce * n, loss.total.detach().double() * n, loss.kl_sum, loss.wkl * n])
        self.sums = batch if self.sums is None else self.sums + batch
        self.samples += n
        self.kl_rows += loss.covered
        if loss.weights is not None:
            self.weights.append(loss.weights.detach())

    def losses(self, sums: list[float]) -> Metrics:
        """The epoch means from ``sums`` (self.sums read on the host)."""
        ce, total, kl, wkl = sums
        n = max(1, self.samples)
        out = {"ce": ce / n, "total": total / n}
        if self.kl_rows:
            out["kl"] = kl / self.kl_rows
            out["wkl"] = wkl / n
        return out


@dataclass(frozen=True)
class BatchLoss:
    """One batch's loss: ``total`` carries the gradient, the rest are detached 0-d float64
    tensors on the student's device (read on the host only when reported)."""

    total: torch.Tensor
    ce: torch.Tensor
    kl_sum: torch.Tensor  # sum of KL over covered rows
    wkl: torch.Tensor  # the term multiplied by coef
    covered: int
    weights: torch.Tensor | None

    def values(self) -> torch.Tensor:
        """[ce, total, kl_sum, wkl] in one tensor, for a single host read."""
        return torch.stack([self.ce, self.total.detach().double(), self.kl_sum, self.wkl])


def batch_loss(out: TrainOutput, distill: DistillTerm | None) -> BatchLoss:
    """CE (or the model's own loss) plus the teacher term described in the module docstring."""
    ce = out.aux_loss if out.aux_loss is not None else F.cross_entropy(out.logits, out.targets)
    zero = torch.zeros((), dtype=torch.float64, device=ce.device)
    if distill is None:
        return BatchLoss(ce, ce.detach().double(), zero, zero, 0, None)
    rows, teacher_logits = distill.teacher.logits_for(out.keys)
    if len(rows) == 0:
        return BatchLoss(ce, ce.detach().double(), zero, zero, 0, None)
    rows = rows.to(out.logits.device)
    student = out.logits[rows]
    teacher = teacher_logits.to(device=student.device, dtype=student.dtype)
    targets = out.targets[rows]
    kl = kl_teacher_student(teacher, student, distill.temperature, distill.t_squared)
    if distill.use_weights:
        weights = sample_weights(target_rank(student.detach(), targets), target_rank(teacher, targets))
    else:
        weights = torch.ones(len(rows), device=kl.device)
    wkl = (weights.to(kl.device) * kl).sum() / len(out.targets)
    total = ce + distill.coef * wkl
    return BatchLoss(total, ce.detach().double(), kl.detach().sum().double(), wkl.detach().double(), len(rows), weights)


def _optimizer(params: list[torch.nn.Parameter], settings: PhaseSettings) -> torch.optim.Optimizer:
    if settings.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=settings.lr, weight_decay=settings.weight_decay)
    return torch.optim.Adam(params, lr=settings.lr, weight_decay=settings.weight_decay)


def _set_training(model: Recommender, training: bool) -> None:
    """Dropout on for training; every model in this project is an nn.Module."""
    if isinstance(model, torch.nn.Module):
        model.train(training)


def _weights_event(totals: _EpochTotals, distill: DistillTerm, round_: int, phase: str, epoch: int) -> Weights:
    values = torch.cat(totals.weights).cpu() if totals.weights else torch.zeros(0)
    return Weights(
        round=round_,
        model=phase,
        epoch=epoch,
        name=distill.weight_name,
        edges=list(WEIGHT_EDGES),
        counts=histogram(values, WEIGHT_EDGES),
        mean=float(values.mean()) if values.numel() else 0.0,
        std=float(values.std()) if values.numel() > 1 else 0.0,
    )


def train_phase(
    student: Recommender,
    data: SequenceDataset,
    settings: PhaseSettings,
    emitter: Emitter,
    cancel: CancelToken,
    round: int,
    phase: str,
    distill: DistillTerm | None = None,
    resume: PhaseProgress | None = None,
    on_epoch: Callable[[PhaseProgress], None] | None = None,
) -> PhaseResult:
    """Train ``student`` for one phase and leave it at its best validation epoch.

    Shuffling uses a NumPy generator and torch's global RNG (dropout) seeded from
    (run seed, round, phase), so the same config gives identical results on CPU and a
    resumed run replays a phase exactly.

    ``on_epoch`` gets a PhaseProgress after every epoch (after its events). Given one as
    ``resume``, with the student holding that epoch's parameters, the phase continues at
    the next epoch as if it had never stopped.
    """
    started = time.perf_counter()
    seed = phase_seed(settings.seed, round, phase)
    rng = np.random.default_rng(seed)
    torch.manual_seed(int(np.random.default_rng(seed).integers(2**62)))
    params = student.trainable_parameters()
    if not params:
        raise ValueError(f"train_phase({phase!r}): the student has no trainable parameters")
    if params[0].device.type != settings.device.type:
        raise ValueError(
            f"train_phase({phase!r}): the student is on {params[0].device}, settings.device is {settings.device}"
        )
    optimizer = _optimizer(params, settings)
    valid_users = validation_users(data, settings.valid_users, settings.seed)
    best_score, best_epoch, best_valid = -math.inf, 0, {}
    best_ranks: torch.Tensor | None = None
    best_state = [p.detach().clone() for p in params]
    history: list[EpochRecord] = []
    stale, step, first_epoch = 0, 0, 1
    if resume is not None:
        _check_progress(resume, params, settings, phase)
        optimizer.load_state_dict(resume.optimizer)
        best_score, best_epoch, best_valid = resume.best_score, resume.best_epoch, dict(resume.best_valid)
        best_state = [
            saved.to(device=p.device, dtype=p.dtype).clone() for p, saved in zip(params, resume.best_state, strict=True)
        ]
        history, stale, step = list(resume.history), resume.stale, resume.step
        best_ranks = resume.best_ranks
        _restore_rng(rng, resume)
        # Patience exhausted at the checkpoint: no epoch is left, only the phase's end.
        first_epoch = resume.epochs_done + 1 if stale < settings.patience else settings.epochs + 1

    def validate(epoch: int) -> EvalResult:
        _set_training(student, False)
        try:
            return evaluate(
                student,
                data,
                "valid",
                ks=settings.eval_ks,
                batch_size=settings.eval_batch_size,
                mask_history=settings.mask_history,
                users=valid_users,
            )
        except NonFiniteValues as exc:
            raise NonFiniteValues(f"{exc} in the {phase.upper()} at round {round}, epoch {epoch}") from None

    if settings.start_competes and resume is None:
        start_time = time.perf_counter()
        start = validate(0)
        best_valid, best_ranks = start.metrics, torch.from_numpy(start.ranks)
        best_score = best_valid[SELECTION_METRIC]
        emitter.emit(
            EpochEnd(
                round=round,
                model=phase,
                epoch=0,
                losses={},
                valid=best_valid,
                seconds=time.perf_counter() - start_time,
                best=True,
            )
        )
    for epoch in range(first_epoch, settings.epochs + 1):
        epoch_start = time.perf_counter()
        totals = _EpochTotals()
        _set_training(student, True)
        batches = student.train_batches(settings.batch_size, rng)
        num_batches = operator.length_hint(batches, 0)
        for index, batch in enumerate(batches, start=1):
            cancel.check()
            out = student.train_step(batch)
            loss = batch_loss(out, distill)
            optimizer.zero_grad(set_to_none=True)
            loss.total.backward()
            optimizer.step()
            step += 1
            totals.add(loss, len(out.targets))
            if not emitter.step_due():
                continue
            assert totals.sums is not None
            read = torch.cat([loss.values(), totals.sums]).tolist()  # the interval's one host sync
            _check_finite(read[5] / totals.samples, phase, round, epoch, step)  # read[4:] = sums
            elapsed = time.perf_counter() - epoch_start
            emitter.step(
                Step(
                    round=round,
                    model=phase,
                    epoch=epoch,
                    step=step,
                    losses=_step_losses(read[:4], loss.covered),
                    lr=optimizer.param_groups[0]["lr"],
                    samples_per_s=totals.samples / elapsed if elapsed > 0 else 0.0,
                    progress=index / num_batches if num_batches else 0.0,
                )
            )
        sums = totals.sums.tolist() if totals.sums is not None else [0.0] * 4
        _check_finite(sums[1] / max(1, totals.samples), phase, round, epoch, step)
        losses = totals.losses(sums)
        result = validate(epoch)
        valid = result.metrics
        seconds = time.perf_counter() - epoch_start
        improved = valid[SELECTION_METRIC] > best_score
        if improved:
            best_score, best_epoch, best_valid, stale = valid[SELECTION_METRIC], epoch, valid, 0
            best_ranks = torch.from_numpy(result.ranks)
            best_state = [p.detach().clone() for p in params]
        else:
            stale += 1
        history.append(EpochRecord(epoch, losses, valid, seconds))
        emitter.emit(
            EpochEnd(
                round=round,
                model=phase,
                epoch=epoch,
                losses=losses,
                valid=valid,
                seconds=seconds,
                best=improved,
            )
        )
        if distill is not None:
            emitter.emit(_weights_event(totals, distill, round, phase, epoch))
        if on_epoch is not None:
            on_epoch(
                PhaseProgress(
                    epochs_done=epoch,
                    optimizer=optimizer.state_dict(),
                    best_state=best_state,
                    best_score=best_score,
                    best_epoch=best_epoch,
                    best_valid=dict(best_valid),
                    stale=stale,
                    step=step,
                    history=list(history),
                    numpy_rng=dict(rng.bit_generator.state),
                    torch_rng=torch.get_rng_state(),
                    cuda_rng=_cuda_rng(settings.device),
                    best_ranks=best_ranks,
                )
            )
        if stale >= settings.patience:
            break
    optimizer.zero_grad(set_to_none=True)  # a finished phase holds no gradients (nor their memory)
    with torch.no_grad():
        for param, saved in zip(params, best_state, strict=True):
            param.copy_(saved)
    if best_ranks is None:  # resumed from a checkpoint written before ranks were kept
        final = validate(best_epoch)
        best_ranks = torch.from_numpy(final.ranks)
    chosen = np.arange(data.num_users) if valid_users is None else valid_users
    emitter.emit(
        Eval(
            round=round,
            model=phase,
            split="valid",
            metrics=best_valid,
            users=data.num_users if valid_users is None else len(valid_users),
            seconds=time.perf_counter() - started,
        )
    )
    valid_targets = data.eval_split("valid").targets[chosen]
    emitter.emit(ranks_event(data, chosen, valid_targets, best_ranks.numpy(), round, phase, "valid"))
    return PhaseResult(
        best_epoch=best_epoch,
        best_valid=best_valid,
        epochs_run=len(history),
        stopped_early=len(history) < settings.epochs,
        seconds=time.perf_counter() - started,
        history=history,
    )


def _check_progress(
    progress: PhaseProgress, params: list[torch.nn.Parameter], settings: PhaseSettings, phase: str
) -> None:
    """A progress record from another model or schedule would resume the wrong thing."""
    shapes = [tuple(t.shape) for t in progress.best_state]
    if shapes != [tuple(p.shape) for p in params]:
        raise ValueError(f"train_phase({phase!r}): the progress to resume from was taken from another model")
    if not 0 < progress.epochs_done <= settings.epochs:
        raise ValueError(
            f"train_phase({phase!r}): progress after epoch {progress.epochs_done}, the phase has {settings.epochs}"
        )


def _cuda_rng(device: torch.device) -> list[torch.Tensor] | None:
    return torch.cuda.get_rng_state_all() if device.type == "cuda" else None


def _restore_rng(rng: np.random.Generator, progress: PhaseProgress) -> None:
    """Shuffling and dropout continue where the recorded epoch left them."""
    rng.bit_generator.state = progress.numpy_rng
    torch.set_rng_state(progress.torch_rng)
    if progress.cuda_rng is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(progress.cuda_rng)


def _step_losses(values: list[float], covered: int) -> Metrics:
    """A step event's losses from BatchLoss.values() read on the host."""
    ce, total, kl_sum, wkl = values
    return {"ce": ce, "kl": kl_sum / covered if covered else 0.0, "wkl": wkl, "total": total}


def _check_finite(mean_total: float, phase: str, round_: int, epoch: int, step: int) -> None:
    """A non-finite loss anywhere in the epoch so far leaves its running total non-finite."""
    if not math.isfinite(mean_total):
        raise NonFiniteValues(
            f"non-finite loss ({mean_total}) in the {phase.upper()} at round {round_}, epoch {epoch}, by step {step}"
        )
