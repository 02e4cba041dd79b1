"""The coordinator: trials in, runs out, validation results back.

Each pass reads the study and the trials' runs, reports every newly complete round's
validation value to its trial, prunes (cancelling the trial's runs gracefully), tells
finished trials their value (or failure) and asks for new trials while fewer than
``parallelism`` are open and the budget lasts. It keeps no state of its own: a pass after
a restart sees what the last one left. Only validation metrics are read, never test.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from engine.config import config_to_toml
from llmd4rec_tui.figures.common import final_value
from llmd4rec_tui.queue import control
from llmd4rec_tui.queue.enqueue import DUPLICATE_STATUSES, PendingRun, add_runs
from llmd4rec_tui.search.storage import optuna_storage
from llmd4rec_tui.search.study_file import StudySpec, spec_from_json
from llmd4rec_tui.store.db import Store, StoreError
from llmd4rec_tui.store.models import Run
from llmd4rec_tui.store.queries import runs_by_config_hash
from llmd4rec_tui.store.records import ACTIVE_STATUSES
from llmd4rec_tui.store.rounds import round_metrics

if TYPE_CHECKING:
    import optuna

#: The only split the coordinator reads: a study that looked at test would be tuned on it.
OBJECTIVE_SPLIT = "valid"
SPEC_ATTR = "llmd4rec_spec"
RUNS_ATTR = "run_ids"


@dataclass(frozen=True)
class TrialRecord:
    number: int
    state: str  # RUNNING, COMPLETE, PRUNED, FAIL, WAITING
    value: float | None
    params: dict[str, Any]
    run_ids: tuple[int, ...]
    rounds: dict[int, float] = field(default_factory=dict)  # round -> reported validation value
    note: str = ""


@dataclass(frozen=True)
class StudyRecord:
    name: str
    spec: StudySpec
    trials: tuple[TrialRecord, ...]

    @property
    def best(self) -> TrialRecord | None:
        done = [t for t in self.trials if t.state == "COMPLETE" and t.value is not None]
        return max(done, key=lambda t: (t.value, -t.number)) if done else None

    @property
    def finished(self) -> bool:
        """The budget is spent and no trial is still open."""
        closed = [t for t in self.trials if t.state in ("COMPLETE", "PRUNED", "FAIL")]
        return len(closed) >= self.spec.n_trials and not any(t.state in ("RUNNING", "WAITING") for t in self.trials)


def _sampler(spec: StudySpec, trials_so_far: int = 0) -> Any:
    """TPE seeded by the study's seed and the trials made so far: a coordinator started again
    (a new process, a new sampler) must not draw the parameters of the first trials again."""
    import optuna

    return optuna.samplers.TPESampler(seed=spec.sampler_seed + trials_so_far, n_startup_trials=min(4, spec.n_trials))


def _pruner(spec: StudySpec) -> Any:
    import optuna

    if spec.pruner.kind == "none":
        return optuna.pruners.NopPruner()
    return optuna.pruners.MedianPruner(
        n_startup_trials=spec.pruner.startup_trials, n_warmup_steps=spec.pruner.warmup_rounds
    )


def _distributions(spec: StudySpec) -> dict[str, Any]:
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    out: dict[str, Any] = {}
    for dim in spec.space:
        if dim.choices:
            out[dim.key] = CategoricalDistribution(list(dim.choices))
        elif dim.is_int:
            out[dim.key] = IntDistribution(int(dim.low or 0), int(dim.high or 0), log=dim.log)
        else:
            out[dim.key] = FloatDistribution(float(dim.low or 0), float(dim.high or 0), log=dim.log)
    return out


def create_study(store: Store, spec: StudySpec) -> None:
    """The study in the store's database; StoreError when one of that name exists."""
    import optuna

    storage = optuna_storage(store)
    try:
        study = optuna.create_study(
            study_name=spec.name, storage=storage, direction="maximize", sampler=_sampler(spec), pruner=_pruner(spec)
        )
    except optuna.exceptions.DuplicatedStudyError:
        raise StoreError(
            f"a study named {spec.name!r} exists; `llmd4rec search run {spec.name}` continues it"
        ) from None
    study.set_user_attr(SPEC_ATTR, spec.to_json())
    for params in spec.enqueue:
        study.enqueue_trial(params)


def study_names(store: Store) -> list[str]:
    return [s.study_name for s in optuna_storage(store).get_all_studies()]


def load_spec(store: Store, name: str) -> tuple[Any, StudySpec]:
    """(the Optuna storage, the study's spec); StoreError naming the studies there are."""
    storage = optuna_storage(store)
    studies = {s.study_name: s for s in storage.get_all_studies()}
    if name not in studies:
        known = ", ".join(sorted(studies)) or "none"
        raise StoreError(f"no study named {name!r} in this database (studies: {known})")
    attrs = studies[name].user_attrs
    if SPEC_ATTR not in attrs:
        raise StoreError(f"study {name!r} was not made by `llmd4rec search start` (it has no study spec)")
    return storage, spec_from_json(attrs[SPEC_ATTR])


def load_study(store: Store, name: str) -> tuple[optuna.Study, StudySpec]:
    import optuna

    storage, spec = load_spec(store, name)
    made = len(storage.get_all_trials(storage.get_study_id_from_name(name), deepcopy=False))
    return optuna.load_study(study_name=name, storage=storage, sampler=_sampler(spec, made), pruner=_pruner(spec)), spec


def read_study(store: Store, name: str) -> StudyRecord:
    study, spec = load_study(store, name)
    trials = tuple(
        TrialRecord(
            number=t.number,
            state=t.state.name,
            value=t.value if t.state.name in ("COMPLETE", "PRUNED") else None,
            params=dict(t.params),
            run_ids=tuple(int(i) for i in t.user_attrs.get(RUNS_ATTR, [])),
            rounds={int(k): float(v) for k, v in t.intermediate_values.items()},
            note=str(t.user_attrs.get("note", "")),
        )
        for t in study.get_trials(deepcopy=False)
    )
    return StudyRecord(name, spec, trials)


def objective_value(spec: StudySpec, per_round: dict[int, Any], run_id: int, round_: int | None = None) -> float | None:
    """The run's validation value: after ``round_``, or after its last round; the mean of
    both models' for model = 'mean'. None while a model has no value there yet."""
    models = ("crm", "llm") if spec.model == "mean" else (spec.model,)
    values = []
    for model in models:
        if round_ is None:
            value = final_value(per_round, run_id, model, spec.metric)
        else:
            value = per_round.get(run_id, {}).get(round_, {}).get(model, {}).get(spec.metric)
        if value is None:
            return None
        values.append(float(value))
    return sum(values) / len(values)


def _mean(values: Sequence[float | None]) -> float | None:
    return (
        None if not values or any(v is None for v in values) else sum(v for v in values if v is not None) / len(values)
    )


class Coordinator:
    def __init__(self, store: Store, name: str, log: Callable[[str], None] = lambda _: None) -> None:
        self.store = store
        self.study, self.spec = load_study(store, name)
        self.log = log

    def _enqueue(self, params: dict[str, Any], number: int) -> list[int]:
        """One run per seed; a run of the same config already queued or done is used instead."""
        configs = [self.spec.trial_config(params, seed, number) for seed in self.spec.seeds]
        with self.store.session() as session:
            existing = runs_by_config_hash(session, [c.hash() for c in configs], DUPLICATE_STATUSES)
        source = Path(self.spec.base_source)
        new = [PendingRun(source, c, config_to_toml(c)) for c in configs if c.hash() not in existing]
        added = iter(add_runs(self.store, new).added) if new else iter(())
        return [existing[c.hash()] if c.hash() in existing else next(added) for c in configs]

    def _live(self, trial: optuna.trial.FrozenTrial) -> optuna.trial.Trial:
        """The handle that reports to and annotates a running trial, also one asked by an earlier coordinator."""
        import optuna

        return optuna.trial.Trial(self.study, trial._trial_id)

    def _runs_of(self, trial: optuna.trial.FrozenTrial) -> list[int]:
        ids = trial.user_attrs.get(RUNS_ATTR)
        if ids is None:  # asked but not enqueued (a coordinator stopped in between): enqueue now
            ids = self._enqueue(dict(trial.params), trial.number)
            self._live(trial).set_user_attr(RUNS_ATTR, ids)
            self.log(f"trial {trial.number}: runs {', '.join(map(str, ids))} {trial.params}")
        return [int(i) for i in ids]

    def _follow(self, trial: optuna.trial.FrozenTrial) -> None:
        import optuna

        ids = self._runs_of(trial)
        with self.store.session() as session:
            statuses = dict(session.execute(select(Run.id, Run.status).where(Run.id.in_(ids))).all())
            per_round = round_metrics(session, ids, [self.spec.metric], OBJECTIVE_SPLIT)
        live = self._live(trial)
        rounds = sorted({r for i in ids for r in per_round.get(i, {})})
        for round_ in rounds:
            value = _mean([objective_value(self.spec, per_round, i, round_) for i in ids])
            if value is not None and round_ not in trial.intermediate_values:
                live.report(value, round_)
                if live.should_prune():
                    self._prune(trial, ids, statuses, round_)
                    return
        if any(statuses.get(i) in ACTIVE_STATUSES for i in ids):
            return
        if len(statuses) == len(ids) and all(statuses[i] == "succeeded" for i in ids):
            value = _mean([objective_value(self.spec, per_round, i) for i in ids])
            if value is not None:
                self.study.tell(trial.number, value)
                self.log(f"trial {trial.number}: {self.spec.metric} (valid, {self.spec.model}) = {value:.5f}")
                return
        ended = ", ".join(f"run {i} {statuses.get(i, 'deleted')}" for i in ids)
        live.set_user_attr("note", ended)
        self.study.tell(trial.number, state=optuna.trial.TrialState.FAIL)
        self.log(f"trial {trial.number}: failed ({ended})")

    def _prune(self, trial: optuna.trial.FrozenTrial, ids: list[int], statuses: dict[int, str], round_: int) -> None:
        import optuna

        active = [i for i in ids if statuses.get(i) in ACTIVE_STATUSES]
        note = f"pruned after round {round_}" + (f"; runs {', '.join(map(str, active))} cancelled" if active else "")
        self._live(trial).set_user_attr("note", note)
        self.study.tell(trial.number, state=optuna.trial.TrialState.PRUNED)
        if active:
            control.cancel(self.store, active)
        self.log(f"trial {trial.number}: {note}")

    def step(self) -> StudyRecord:
        """One pass; the study as it stands after it."""
        import optuna

        trials = self.study.get_trials(deepcopy=False)
        for trial in trials:
            if trial.state == optuna.trial.TrialState.RUNNING:
                self._follow(trial)
        trials = self.study.get_trials(deepcopy=False)
        open_ = sum(t.state == optuna.trial.TrialState.RUNNING for t in trials)
        made = sum(t.state != optuna.trial.TrialState.WAITING for t in trials)
        while open_ < self.spec.parallelism and made < self.spec.n_trials:
            asked = self.study.ask(_distributions(self.spec))
            self._runs_of(next(t for t in self.study.get_trials(deepcopy=False) if t.number == asked.number))
            open_, made = open_ + 1, made + 1
        return read_study(self.store, self.spec.name)

    def run(self, poll_s: float = 5.0, until: Callable[[], bool] = lambda: False) -> StudyRecord:
        """Passes every poll_s until the budget is spent and every trial is closed."""
        while True:
            record = self.step()
            if record.finished or until():
                return record
            time.sleep(poll_s)
