"""The study TOML: base config, search space, validation objective, budget and pruner.

[study]
name = "smoke"
base = "../configs/smoke/llmd4rec.toml"   # relative to this file; its [sweep] may hold only seeds
n_trials = 4
seeds = [0]                 # one run per seed for every trial; the trial's value is their mean
parallelism = 2             # at most this many trials queued or running at once
metric = "ndcg@10"          # on the validation split, never test
model = "mean"              # crm, llm or mean (of both)
sampler_seed = 0
final_seeds = [0, 1, 2]     # the seeds `search best --config-out` writes for the rerun on test
enqueue = [{"distill.t1" = 2.0}]   # optional: trials to run first, with these parameters

[study.pruner]
kind = "median"             # median or none
startup_trials = 2          # trials that finish before any is pruned
warmup_rounds = 1           # rounds of every trial that are never pruned

[space]
"distill.t1" = {low = 0.5, high = 8.0, log = true}   # floats
"train.crm_epochs" = {low = 5, high = 40}            # ints (both bounds integers)
"distill.beta" = {choices = [0.1, 0.5, 1.0]}
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.config import Config, ConfigError, config_from_dict, config_to_toml, flatten, read_toml
from llmd4rec_tui.queue.enqueue import anchor_data_paths
from llmd4rec_tui.results import METRICS
from llmd4rec_tui.search.tags import best_tag, study_tag, trial_tag

MODELS = ("crm", "llm", "mean")
PRUNERS = ("median", "none")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")


@dataclass(frozen=True)
class Dimension:
    """One searched key: a float or int range (log-scaled or not), or a list of choices."""

    key: str
    low: float | int | None = None
    high: float | int | None = None
    log: bool = False
    choices: tuple[Any, ...] = ()

    @property
    def is_int(self) -> bool:
        return isinstance(self.low, int) and isinstance(self.high, int)

    def to_json(self) -> dict[str, Any]:
        if self.choices:
            return {"choices": list(self.choices)}
        return {"low": self.low, "high": self.high, "log": self.log}


@dataclass(frozen=True)
class Pruner:
    kind: str = "median"
    startup_trials: int = 2
    warmup_rounds: int = 1


@dataclass(frozen=True)
class StudySpec:
    """A validated study; base is the base config's tree, its data paths made absolute."""

    name: str
    base: dict[str, Any]
    base_source: str
    space: tuple[Dimension, ...]
    n_trials: int
    seeds: tuple[int, ...]
    parallelism: int
    metric: str
    model: str
    sampler_seed: int
    final_seeds: tuple[int, ...]
    pruner: Pruner = field(default_factory=Pruner)
    enqueue: tuple[dict[str, Any], ...] = ()

    def to_json(self) -> str:
        """What the study keeps in the database: `search run` needs neither file again."""
        return json.dumps(
            {
                "name": self.name,
                "base": self.base,
                "base_source": self.base_source,
                "space": {d.key: d.to_json() for d in self.space},
                "n_trials": self.n_trials,
                "seeds": list(self.seeds),
                "parallelism": self.parallelism,
                "metric": self.metric,
                "model": self.model,
                "sampler_seed": self.sampler_seed,
                "final_seeds": list(self.final_seeds),
                "pruner": {
                    "kind": self.pruner.kind,
                    "startup_trials": self.pruner.startup_trials,
                    "warmup_rounds": self.pruner.warmup_rounds,
                },
                "enqueue": list(self.enqueue),
            },
            sort_keys=True,
        )

    def _tree(self, params: Mapping[str, Any]) -> dict[str, Any]:
        tree = copy.deepcopy(self.base)
        for key, value in params.items():
            section, _, leaf = key.partition(".")
            tree.setdefault(section, {})[leaf] = value
        return tree

    def trial_config(self, params: Mapping[str, Any], seed: int, number: int) -> Config:
        """The base config with the trial's parameters, seed, name and tags."""
        tree = self._tree(params)
        run = tree.setdefault("run", {})
        run["seed"] = seed
        run["name"] = f"{self.name} trial {number} seed {seed}"
        run["tags"] = [*run.get("tags", []), study_tag(self.name), trial_tag(self.name, number)]
        return config_from_dict(tree, f"{self.base_source} [study {self.name}, trial {number}]")

    def best_config_toml(self, params: Mapping[str, Any], number: int) -> str:
        """The best trial's config for the final run on test: the final seeds as a sweep and
        its own tag only, so its results mix neither with the trials (`--tag study:NAME`) nor
        with the base config's set (whose table would otherwise count the base's seeds twice
        when the best trial is the base config itself)."""
        tree = self._tree(params)
        run = tree.setdefault("run", {})
        run["name"] = f"{self.name} best (trial {number})"
        run["tags"] = [best_tag(self.name)]
        config = config_from_dict(tree, f"{self.base_source} [study {self.name}, best trial {number}]")
        chosen = ", ".join(f"{k} = {json.dumps(v)}" for k, v in sorted(params.items()))
        head = f"# Study {self.name}, best trial {number} on validation {self.metric} ({self.model}): {chosen}\n"
        head += "# Seed by seed it repeats trial runs (which differ only in their tags), so queue it with --force:\n"
        head += f"#   llmd4rec queue add THIS.toml --force; then llmd4rec runs results --tag {best_tag(self.name)}\n"
        seeds = ", ".join(str(s) for s in self.final_seeds)
        return head + config_to_toml(config) + f"\n[sweep]\nseeds = [{seeds}]\n"


def _int_list(source: str, key: str, value: Any) -> tuple[int, ...]:
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        raise ConfigError(source, key, value, "a non-empty list of integers")
    return tuple(value)


def _positive(source: str, key: str, value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(source, key, value, "an integer >= 1")
    return value


def _is_dimension(value: Any) -> bool:
    return isinstance(value, dict) and ("choices" in value or "low" in value or "high" in value)


def _space_leaves(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Dotted key -> its range table ('distill.t1 = {low = ...}' nests in TOML)."""
    out: dict[str, Any] = {}
    for key, value in tree.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and not _is_dimension(value):
            out.update(_space_leaves(value, dotted + "."))
        else:
            out[dotted] = value
    return out


def _dimension(source: str, key: str, raw: Any) -> Dimension:
    where = f"space.{key}"
    if not _is_dimension(raw):
        raise ConfigError(source, where, raw, "{low = .., high = .., log = true|false} or {choices = [..]}")
    unknown = sorted(set(raw) - {"low", "high", "log", "choices"})
    if unknown:
        raise ConfigError(source, f"{where}.{unknown[0]}", raw[unknown[0]], "one of low, high, log, choices")
    if "choices" in raw:
        choices = raw["choices"]
        if not isinstance(choices, list) or not choices or len(raw) > 1:
            raise ConfigError(source, where, raw, "{choices = [a non-empty list]} alone")
        return Dimension(key, choices=tuple(choices))
    low, high, log = raw.get("low"), raw.get("high"), raw.get("log", False)
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (low, high))
    if not numbers or low >= high:
        raise ConfigError(source, where, raw, "numbers low < high")
    if not isinstance(log, bool) or (log and low <= 0):
        raise ConfigError(source, f"{where}.log", log, "true or false (true needs low > 0)")
    if isinstance(low, int) != isinstance(high, int):
        low, high = float(low), float(high)  # one float bound makes a float range
    return Dimension(key, low=low, high=high, log=log)


def _base_tree(study_path: Path, base: Any) -> tuple[dict[str, Any], Path]:
    if not isinstance(base, str) or not base:
        raise ConfigError(str(study_path), "study.base", base, "the path of a config TOML (relative to this file)")
    path = (study_path.parent / base).resolve()
    raw = read_toml(path)
    sweep = raw.pop("sweep", None)
    if sweep is not None and (not isinstance(sweep, dict) or set(sweep) - {"seeds"}):
        raise ConfigError(str(path), "sweep", sweep, "no [sweep] but seeds (a study sets what it searches)")
    data = raw.get("data", {})
    for key in ("path", "item_path"):  # relative to the base config, wherever a worker runs
        if isinstance(data, dict) and isinstance(data.get(key), str) and data[key]:
            data[key] = str((path.parent / Path(data[key]).expanduser()).resolve())
    return raw, path


def load_study(path: Path) -> StudySpec:
    """Parse and validate a study file; ConfigError names the file, key and problem."""
    raw = read_toml(path)
    source = str(path)
    unknown = sorted(set(raw) - {"study", "space"})
    if unknown:
        raise ConfigError(source, unknown[0], raw[unknown[0]], "only [study] and [space] tables")
    study = raw.get("study")
    if not isinstance(study, dict):
        raise ConfigError(source, "study", study, "a [study] table")
    allowed = {"name", "base", "n_trials", "seeds", "parallelism", "metric", "model", "sampler_seed", "final_seeds"}
    allowed |= {"pruner", "enqueue"}
    extra = sorted(set(study) - allowed)
    if extra:
        raise ConfigError(source, f"study.{extra[0]}", study[extra[0]], "one of " + ", ".join(sorted(allowed)))
    name = study.get("name")
    if not isinstance(name, str) or not NAME.match(name):
        raise ConfigError(source, "study.name", name, "a name of letters, digits, '_', '.', '-' (at most 80)")
    base, base_path = _base_tree(path, study.get("base"))
    metric = study.get("metric", "ndcg@10")
    if metric not in METRICS:
        raise ConfigError(source, "study.metric", metric, "a validation metric: one of " + ", ".join(METRICS))
    model = study.get("model", "mean")
    if model not in MODELS:
        raise ConfigError(source, "study.model", model, "crm, llm or mean")
    pruner_raw = study.get("pruner", {})
    if not isinstance(pruner_raw, dict) or set(pruner_raw) - {"kind", "startup_trials", "warmup_rounds"}:
        raise ConfigError(source, "study.pruner", pruner_raw, "a table of kind, startup_trials, warmup_rounds")
    kind = pruner_raw.get("kind", "median")
    if kind not in PRUNERS:
        raise ConfigError(source, "study.pruner.kind", kind, "median or none")
    startup, warmup = pruner_raw.get("startup_trials", 2), pruner_raw.get("warmup_rounds", 1)
    for key, value in (("startup_trials", startup), ("warmup_rounds", warmup)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ConfigError(source, f"study.pruner.{key}", value, "an integer >= 0")
    space_raw = raw.get("space")
    if not isinstance(space_raw, dict) or not space_raw:
        raise ConfigError(source, "space", space_raw, "a [space] table with at least one key")
    space = tuple(_dimension(source, key, value) for key, value in _space_leaves(space_raw).items())
    enqueue = study.get("enqueue", [])
    if not isinstance(enqueue, list) or not all(isinstance(e, dict) for e in enqueue):
        raise ConfigError(source, "study.enqueue", enqueue, "a list of tables of searched keys to values")
    keys = {d.key for d in space}
    for index, params in enumerate(enqueue):
        flat = flatten(params)
        if set(flat) - keys:
            bad = sorted(set(flat) - keys)[0]
            raise ConfigError(source, f"study.enqueue[{index}].{bad}", flat[bad], "a key of [space]")
    spec = StudySpec(
        name=name,
        base=base,
        base_source=str(base_path),
        space=space,
        n_trials=_positive(source, "study.n_trials", study.get("n_trials")),
        seeds=_int_list(source, "study.seeds", study.get("seeds", [0])),
        parallelism=_positive(source, "study.parallelism", study.get("parallelism", 1)),
        metric=metric,
        model=model,
        sampler_seed=study.get("sampler_seed", 0) if isinstance(study.get("sampler_seed", 0), int) else 0,
        final_seeds=_int_list(source, "study.final_seeds", study.get("final_seeds", [0, 1, 2])),
        pruner=Pruner(kind, startup, warmup),
        enqueue=tuple(flatten(e) for e in enqueue),
    )
    _check_space(spec, source, base_path)
    return spec


def _check_space(spec: StudySpec, source: str, base_path: Path) -> None:
    """Every key exists in the config and every bound makes a valid config; the data exist."""
    known = set(flatten(Config().to_dict()))
    for dim in spec.space:
        if dim.key not in known:
            raise ConfigError(source, f"space.{dim.key}", dim.key, "a config key such as 'distill.t1'")
        for value in dim.choices or (dim.low, dim.high):
            try:
                config = spec.trial_config({dim.key: value}, spec.seeds[0], 0)
            except ConfigError as exc:
                raise ConfigError(source, f"space.{dim.key}", value, f"a valid value ({exc})") from None
    anchor_data_paths(config, base_path)
    if (spec.model != "crm" and not config.trains_llm) or (spec.model != "llm" and not config.trains_crm):
        raise ConfigError(source, "study.model", spec.model, "a model the base config trains")


def spec_from_json(text: str) -> StudySpec:
    """The study as `search start` stored it."""
    raw = json.loads(text)
    space = tuple(
        Dimension(key, choices=tuple(v["choices"])) if "choices" in v else Dimension(key, v["low"], v["high"], v["log"])
        for key, v in raw["space"].items()
    )
    return StudySpec(
        name=raw["name"],
        base=raw["base"],
        base_source=raw["base_source"],
        space=space,
        n_trials=raw["n_trials"],
        seeds=tuple(raw["seeds"]),
        parallelism=raw["parallelism"],
        metric=raw["metric"],
        model=raw["model"],
        sampler_seed=raw["sampler_seed"],
        final_seeds=tuple(raw["final_seeds"]),
        pruner=Pruner(**raw["pruner"]),
        enqueue=tuple(raw["enqueue"]),
    )
