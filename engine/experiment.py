"""One experiment from config to final metrics: the phases of engine.schedule, each
trained by engine.trainer, evaluated, checkpointed and reported as events."""

from __future__ import annotations

import dataclasses
import importlib.metadata
import logging
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine.assets import cache_root
from engine.checkpoint import Checkpoints, RunState
from engine.config import Config
from engine.data import SequenceDataset, load_dataset
from engine.distill import DistillTerm, Teacher
from engine.evaluate import evaluate, ranks_event
from engine.events import Emitter
from engine.metrics import TIE_RULE
from engine.params import param_histograms
from engine.phase_cache import PhaseCache, resolved_values, round0_key
from engine.protocol import Checkpoint, Eval, Log, PhaseStarted, RoundEnd, RunFinished, RunStarted
from engine.runtime import Cancelled, CancelToken, pick_device, rng_state, seed_everything, set_rng_state
from engine.schedule import Phase, plan_phases
from engine.teachers import CachedTeacher, LiveTeacher
from engine.trainer import PhaseProgress, PhaseSettings, phase_seed, train_phase

log = logging.getLogger(__name__)

Metrics = dict[str, float]


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in ("torch", "transformers", "peft", "numpy"):
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "missing"
    return out


def evaluation_protocol(config: Config, data: SequenceDataset) -> dict[str, Any]:
    """What a metric means; results under different protocols are never ranked together."""
    return {
        "split": "leave-one-out",
        "ranking": "full",
        "mask_history": config.eval.mask_history,
        "ties": TIE_RULE,
        "dataset": data.name,
        "dataset_hash": data.fingerprint,
        "users_dropped": users_dropped(data),
        "ks": list(config.eval.ks),
    }


def users_dropped(data: SequenceDataset) -> int | None:
    """Users of the raw files that preprocessing removed (too short, k-core, filters)."""
    raw = data.preprocessing.get("raw", {})
    return None if "users" not in raw else int(raw["users"]) - data.num_users


class Models:
    """The CRM and (when the run needs it) the LLM, built lazily and rebuilt on restart."""

    def __init__(self, config: Config, data: SequenceDataset, device: torch.device) -> None:
        self.config, self.data, self.device = config, data, device
        self.crm = self._build_crm()
        self.llm = self._build_llm() if config.trains_llm else None

    def _build_crm(self) -> Any:
        from engine.models.crm import build_crm

        return build_crm(self.config, self.data, device=self.device)

    def _build_llm(self) -> Any:
        from engine.models.llm import build_llm

        return build_llm(self.config, self.data, self.crm.item_embeddings(), device=self.device)

    def get(self, name: str) -> Any:
        model = self.crm if name == "crm" else self.llm
        assert model is not None, f"the {name} is not part of this run"
        return model

    def restart(self, name: str) -> None:
        if name == "crm":
            self.crm = self._build_crm()
        else:
            self.llm = self._build_llm()

    def state(self) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor] | None]:
        crm_state = {k: v.detach().cpu().clone() for k, v in self.crm.state_dict().items()}
        llm_state = None if self.llm is None else self.llm.trainable_state()
        return crm_state, llm_state

    def phase_state(self, name: str) -> dict[str, torch.Tensor]:
        """The state one phase of ``name`` changes (what a reused phase must restore)."""
        crm_state, llm_state = self.state()
        return crm_state if name == "crm" else (llm_state or {})

    def load_phase_state(self, name: str, state: dict[str, torch.Tensor]) -> None:
        if name == "crm":
            self.crm.load_state_dict(state)
        else:
            self.get("llm").load_trainable_state(state)

    def load(self, state: RunState) -> None:
        if state.crm is not None:
            self.crm.load_state_dict(state.crm)
        if state.llm is not None and self.llm is not None:
            self.llm.load_trainable_state(state.llm)

    def parameter_counts(self) -> dict[str, int]:
        counts = {"crm_trainable": sum(p.numel() for p in self.crm.trainable_parameters())}
        if self.llm is not None:
            counts.update({f"llm_{k}": v for k, v in self.llm.parameter_counts().items()})
        return counts


def run_experiment(
    config: Config, run_dir: Path, emitter: Emitter, resume: bool = False, cancel: CancelToken | None = None
) -> dict[str, Metrics]:
    """Train, distil and evaluate as the config says; returns the final test metrics per model."""
    started = time.perf_counter()
    cancel = cancel or CancelToken()
    if config.train.threads:
        torch.set_num_threads(config.train.threads)
    seed_everything(config.run.seed)
    device = pick_device(config.train.device)
    data = load_dataset(config.data)
    phases = plan_phases(config)
    checkpoints = Checkpoints(run_dir)
    loaded = checkpoints.load(config.hash()) if resume else None
    state = loaded or RunState(config_hash=config.hash())

    models = Models(config, data, device)
    if loaded is not None:
        models.load(loaded)
        set_rng_state(loaded.rng)
    emitter.emit(
        RunStarted(
            config_hash=config.hash(),
            resumed=loaded is not None,
            versions=package_versions(),
            device=str(device),
            params=models.parameter_counts(),
            dataset=data.stats(),
            protocol=evaluation_protocol(config, data),
        )
    )
    latest: dict[str, Metrics] = {k: v for k, v in state.history.get("latest", {}).items()}
    teachers: dict[str, Teacher] = {}  # one_way keeps L0's logits for every round
    shared = PhaseCache(cache_root(config.data.cache_dir) / "phases") if config.train.reuse_round0 else None
    saver = RunCheckpoints(checkpoints, state, models, emitter)
    resolved = _resolved_round0(config, device, data) if shared is not None else {}

    try:
        for index in range(state.next_phase, len(phases)):
            phase = phases[index]
            # A phase stopped after an epoch continues from it: its student is loaded already.
            progress, state.progress = state.progress, None
            cancel.check()
            if progress is None and phase.round > 0 and not config.distill.warm_start:
                # Reseeded from the phase: a replayed (reused) round 0 leaves the global RNG
                # elsewhere than a trained one, and the fresh model must not depend on that.
                seed_everything(restart_seed(config.run.seed, phase.round, phase.model))
                models.restart(phase.model)
            student = models.get(phase.model)
            if progress is None and phase.model == "llm" and (phase.round == 0 or config.distill.refresh_embeddings):
                student.set_item_embeddings(models.crm.item_embeddings())
            key = round0_key(config, phase.model, resolved) if shared is not None and phase.round == 0 else None
            if key is not None and shared is not None and shared.has(key):
                latest[phase.model] = _replay_phase(shared, key, models, phase.model, emitter)
            else:
                record = key is not None and progress is None  # a stored phase replays all its epochs
                if record:
                    emitter.start_recording()
                on_epoch = saver.after_epoch(index, phase)
                test = _train_and_test(
                    config, data, models, phase, device, emitter, cancel, run_dir, teachers, progress, on_epoch
                )
                latest[phase.model] = test
                if record and key is not None and shared is not None:
                    events = [e for e in emitter.stop_recording() if not isinstance(e, Checkpoint)]
                    shared.save(key, events, models.phase_state(phase.model), test)
            if phase.ends_round:
                emitter.emit(RoundEnd(round=phase.round, metrics={k: dict(v) for k, v in latest.items()}))
            state.history.setdefault(str(phase.round), {})[phase.model] = latest[phase.model]
            state.history["latest"] = latest
            saver.save(phase, index + 1)
    except Cancelled:
        newest = saver.newest
        raise Cancelled("cancel requested", str(newest) if newest else None) from None
    finally:
        for kept in teachers.values():
            kept.close()

    emitter.emit(RunFinished(metrics=latest, seconds=time.perf_counter() - started))
    return latest


def _resolved_round0(config: Config, device: torch.device, data: SequenceDataset) -> dict[str, str]:
    """A CRM-only run's key ignores llm.*, so it need not import transformers to resolve the dtype."""
    if not config.trains_llm:
        return resolved_values(config, device.type, config.llm.dtype, data.fingerprint)
    from engine.backbones import resolve_dtype

    return resolved_values(config, device.type, str(resolve_dtype(config.llm.dtype, device)), data.fingerprint)


def restart_seed(seed: int, round_: int, model: str) -> int:
    """The seed a cold-started phase builds its fresh model from."""
    return int(np.random.default_rng([*phase_seed(seed, round_, model), 1]).integers(2**31))


class RunCheckpoints:
    """Writes the run's checkpoints, one per phase and one per finished epoch, each
    announced by a checkpoint event; remembers the newest (what a cancelled run reports)."""

    def __init__(self, checkpoints: Checkpoints, state: RunState, models: Models, emitter: Emitter) -> None:
        self.checkpoints, self.state, self.models, self.emitter = checkpoints, state, models, emitter
        self.newest = checkpoints.latest()

    def save(self, phase: Phase, next_phase: int, progress: PhaseProgress | None = None) -> None:
        """Both models as they are now; with ``progress``, phase ``next_phase`` is under way."""
        self.state.next_phase = next_phase
        self.state.crm, self.state.llm = self.models.state()
        self.state.rng = rng_state()
        self.state.progress = progress
        try:
            self.newest = self.checkpoints.save(self.state)
        finally:
            self.state.progress = None  # the record references live optimizer tensors
        self.emitter.emit(Checkpoint(round=phase.round, model=phase.model, path=str(self.newest)))

    def after_epoch(self, index: int, phase: Phase) -> Callable[[PhaseProgress], None]:
        """The train_phase callback that checkpoints phase ``index`` after each epoch."""
        return lambda progress: self.save(phase, index, progress)


def _train_and_test(
    config: Config,
    data: SequenceDataset,
    models: Models,
    phase: Phase,
    device: torch.device,
    emitter: Emitter,
    cancel: CancelToken,
    run_dir: Path,
    teachers: dict[str, Teacher],
    progress: PhaseProgress | None = None,
    on_epoch: Callable[[PhaseProgress], None] | None = None,
) -> Metrics:
    """Train one phase (with its teacher, if any), then evaluate the student on test.

    With ``progress`` the phase continues after its last checkpointed epoch; its teacher
    is built again as for a fresh phase (the teacher model's state is in the checkpoint)."""
    student = models.get(phase.model)
    distill, cache_info = None, {}
    if phase.teacher is not None:
        one_way = phase.teacher == "llm" and config.distill.mode == "one_way"
        teacher = teachers.get("one_way") if one_way else None
        if teacher is None:
            teacher = build_teacher(config, data, models.get(phase.teacher), phase.teacher, run_dir)
        if one_way:
            teachers["one_way"] = teacher
        cache_info = _cache_info(teacher)
        distill = make_distill_term(config, phase, teacher)
    emitter.emit(
        PhaseStarted(
            round=phase.round,
            model=phase.model,
            teacher=phase.teacher,
            epochs=config.train.crm_epochs if phase.model == "crm" else config.train.llm_epochs,
            teacher_cache=cache_info,
        )
    )
    if progress is not None:
        message = (
            f"round {phase.round} {phase.model} phase resumes from its checkpoint after epoch {progress.epochs_done}"
        )
        emitter.emit(Log(level="info", message=message))
    settings = PhaseSettings.from_config(config, phase.model, device=device, round=phase.round)
    try:
        train_phase(student, data, settings, emitter, cancel, phase.round, phase.model, distill, progress, on_epoch)
    finally:
        if distill is not None and distill.teacher not in teachers.values():
            distill.teacher.close()  # a mutual round's teacher serves this phase only
    test = evaluate(
        student,
        data,
        "test",
        ks=config.eval.ks,
        batch_size=config.eval.batch_size,
        mask_history=config.eval.mask_history,
    )
    emitter.emit(
        Eval(
            round=phase.round,
            model=phase.model,
            split="test",
            metrics=test.metrics,
            users=test.users,
            seconds=test.seconds,
        )
    )
    at = (phase.round, phase.model, "test")
    emitter.emit(ranks_event(data, test.user_index, test.targets, test.ranks, *at))
    for event in param_histograms(student, phase.round, phase.model):
        emitter.emit(event)
    return test.metrics


def _replay_phase(shared: PhaseCache, key: str, models: Models, name: str, emitter: Emitter) -> Metrics:
    """Load a stored round-0 phase and send its events again, announcing the reuse. They are
    stamped with the time of the replay: the phase took no time in this run, and the run's
    attempt history and time axes must not reach back to when another run trained it."""
    events, state, metrics = shared.load(key)
    models.load_phase_state(name, state)
    emitter.emit(Log(level="info", message=f"round 0 {name} phase reused from the phase cache ({key})"))
    now = time.time()
    for event in events:
        emitter.emit(dataclasses.replace(event, ts=now))
    return metrics


def build_teacher(config: Config, data: SequenceDataset, model: Any, name: str, run_dir: Path) -> Teacher:
    """The CRM teacher runs live (cheap); the LLM teacher covers the most recent
    ``teacher_samples_per_user`` samples of each user, computed once per phase unless
    distill.teacher_cache = 'off'."""
    model.eval()
    if name == "crm":
        return LiveTeacher(model, data, config.data.max_seq_len)
    keys = data.llm_samples(teacher_samples_per_user(config))
    if config.distill.teacher_cache == "off":
        return LiveTeacher(model, data, config.data.llm_max_history, covered=keys)
    return CachedTeacher.build(
        model,
        data,
        keys,
        config.data.llm_max_history,
        batch_size=max(1, config.train.llm_batch_size * 2),
        mode=config.distill.teacher_cache,
        run_dir=run_dir,
        dtype=config.distill.teacher_dtype,
    )


def teacher_samples_per_user(config: Config) -> int:
    """How many of each user's most recent training samples the LLM teacher scores in a CRM
    phase: distill.teacher_samples_per_user, or by default the LLM's own sample cap."""
    chosen = config.distill.teacher_samples_per_user
    return config.data.llm_samples_per_user if chosen is None else chosen


def _cache_info(teacher: Teacher) -> dict[str, Any]:
    if isinstance(teacher, CachedTeacher):
        return {
            "samples": len(teacher._keys),
            "bytes": int(teacher.nbytes),
            "where": teacher.where,
            "dtype": teacher.dtype,
            "seconds": round(teacher.seconds, 3),
        }
    return {"where": "live"}


def make_distill_term(config: Config, phase: Phase, teacher: Teacher) -> DistillTerm:
    d = config.distill
    llm_student = phase.model == "llm"
    return DistillTerm(
        teacher=teacher,
        temperature=d.t1 if llm_student else d.t2,
        coef=d.gamma if llm_student else d.beta,
        t_squared=d.t_squared,
        use_weights=d.sample_weights,
        weight_name="w1" if llm_student else "w2",
    )
