"""The experiment schema: typed sections with defaults, help text and validation.

Standard library only, so the front end can validate configs without importing torch.
A config file is TOML; every error names the file, the key path, the bad value and what
was expected. A resolved config (all defaults filled in) serialises to canonical JSON and
hashes stably, so identical experiments are recognised wherever they were written.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import hashlib
import itertools
import json
import math
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from engine import catalog

#: The largest integer any config key may hold: what the database (SQLite, BIGINT) stores.
INT_MAX = 2**63 - 1
#: Why the size keys have upper bounds: past them a run hangs or exhausts memory, not computes.
TOO_BIG = "larger would take hours or exhaust memory"

#: Keys that label a run but do not change what it computes; left out of the hash.
LABEL_KEYS = frozenset({"run.name", "run.tags", "run.notes"})


class ConfigError(ValueError):
    """A config that cannot be used; the message says where, what and what was expected."""

    def __init__(self, source: str, key: str, value: object, expected: str) -> None:
        self.source, self.key, self.value, self.expected = source, key, value, expected
        where = f"{source}: " if source else ""
        shown = repr(value) if not isinstance(value, _Missing) else "(missing)"
        super().__init__(f"{where}{key} = {shown}: expected {expected}")


class _Missing:
    pass


def _f(default: Any, help: str, **checks: Any) -> Any:
    """A field with help text and optional checks (min, max, choices are in the type)."""
    meta = {"help": help, **checks}
    if isinstance(default, list | dict):
        return field(default_factory=lambda: copy.deepcopy(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class RunSection:
    name: str = _f("run", "Human-readable name shown in listings.")
    seed: int = _f(0, "Seed for Python, NumPy and torch; same seed and config give the same metrics on CPU.", min=0)
    tags: list[str] = _f([], "Free labels for filtering and grouping runs.")
    notes: str = _f("", "Free text kept with the run.")
    max_attempts: int = _f(3, "How often a lost run is re-queued before it is failed.", min=1, max=1000)


@dataclass(frozen=True)
class DataSection:
    dataset: str = _f(
        catalog.SYNTHETIC,
        f"Built-in dataset ({', '.join(d for d in catalog.DATASETS if d != catalog.PATH)}) "
        f"or '{catalog.PATH}' to read data.path.",
    )
    path: str = _f(
        "",
        "User data: a RecBole .inter file, a CSV of user,item,timestamp, a sequences file "
        "(user item1 item2 ...) or an Amazon/Yelp review dump (JSON lines, optionally gzipped).",
    )
    item_path: str = _f(
        "",
        "Optional item text: a .item or CSV file with a title column; for sequences an "
        "item<TAB>title file or an E4SRec item list; for review dumps the meta_*.json(.gz) "
        "or Yelp business JSON.",
    )
    format: Literal["auto", "atomic", "csv", "sequences", "amazon", "yelp"] = _f(
        "auto",
        "Format of data.path; auto decides by suffix (.inter/.tsv atomic, .csv CSV, .txt sequences, "
        ".json/.jsonl(.gz) a review dump whose fields say Amazon or Yelp).",
    )
    user_column: str = _f("user_id", "User column name in data.path.")
    item_column: str = _f("item_id", "Item column name in data.path (and item_path).")
    time_column: str = _f("timestamp", "Timestamp column name in data.path.")
    rating_column: str = _f("rating", "Rating column name (used only with min_rating).")
    title_column: str = _f("movie_title", "Title column name in the item file.")
    year_column: str = _f("release_year", "Optional year column in the item file (appended to titles).")
    genre_column: str = _f("genre", "Optional genre column in the item file (space- or |-separated).")
    min_rating: float | None = _f(None, "Keep interactions rated at least this; none keeps all.")
    time_min: float | None = _f(None, "Keep interactions at or after this time (Unix seconds); none keeps all.")
    time_max: float | None = _f(None, "Keep interactions at or before this time (Unix seconds); none keeps all.")
    user_core: int = _f(0, "Iterated k-core: drop users with fewer interactions (0 = off).", min=0)
    item_core: int = _f(0, "Iterated k-core: drop items with fewer interactions (0 = off).", min=0)
    min_seq_len: int = _f(3, "Users with fewer interactions are dropped (need train, valid, test).", min=3)
    max_seq_len: int = _f(50, "Most recent items kept per CRM training sequence.", min=2, max=10_000, why=TOO_BIG)
    llm_max_history: int = _f(10, "Most recent history items in one LLM prompt.", min=1, max=1_000, why=TOO_BIG)
    llm_samples_per_user: int = _f(
        0, "Cap on LLM prefix samples per user, most recent first (0 = all prefixes).", min=0
    )
    cache_dir: str = _f("", "Where fetched packages and processed data live (default: user cache).")
    synthetic_users: int = _f(300, "Synthetic dataset: number of users.", min=4, max=1_000_000, why=TOO_BIG)
    synthetic_items: int = _f(120, "Synthetic dataset: number of items.", min=8, max=1_000_000, why=TOO_BIG)
    synthetic_length: int = _f(20, "Synthetic dataset: mean interactions per user.", min=4, max=10_000, why=TOO_BIG)
    synthetic_seed: int = _f(0, "Synthetic dataset: generator seed (independent of run.seed).", min=0)


@dataclass(frozen=True)
class CRMSection:
    model: Literal["sasrec", "gru4rec"] = _f("sasrec", "Conventional recommender.")
    hidden_size: int = _f(64, "Item embedding and hidden size.", min=1, max=16_384, why=TOO_BIG)
    num_layers: int = _f(2, "Transformer blocks (SASRec) or GRU layers (GRU4Rec).", min=1, max=128, why=TOO_BIG)
    num_heads: int = _f(2, "Attention heads (SASRec).", min=1, max=256, why=TOO_BIG)
    dropout: float = _f(0.2, "Dropout probability.", min=0.0, max=0.99)
    loss: Literal["ce", "bce"] = _f("ce", "Full softmax cross-entropy, or BCE with sampled negatives.")
    num_negatives: int = _f(1, "Sampled negatives per position for loss = 'bce'.", min=1, max=100_000, why=TOO_BIG)


@dataclass(frozen=True)
class LLMSection:
    backbone: str = _f(
        catalog.TINY_RANDOM,
        f"{', '.join(catalog.BACKBONES)} (built in code) or a local Hugging Face model folder.",
    )
    num_layers: int = _f(0, "Keep only the first k decoder layers (0 = all); faster, less accurate.", min=0)
    dtype: Literal["auto", "float32", "bfloat16"] = _f("auto", "auto: float32 on CPU, bfloat16 on CUDA.")
    prompt: Literal["ids", "titles", "hybrid", "title_emb"] = _f(
        "ids",
        "History as soft ID tokens, title text, title text then soft token, or title_emb: one soft "
        "token per item, W_in(CRM embedding) + W_text(the frozen backbone's title vector, cached).",
    )
    readout: Literal["last", "every_item"] = _f(
        "last",
        "last: one prompt per prefix sample read at its answer cue (E4SRec); every_item: one "
        "causal pass per training window (the CRM's windows of data.llm_max_history items) read "
        "at the last token of every item, CE over all positions; evaluation reads the last item.",
    )
    padding_side: Literal["left", "right"] = _f("left", "Where batches are padded.")
    max_title_tokens: int = _f(
        12, "Title tokens kept per history item (prompt modes titles, hybrid, title_emb).", min=1, max=512, why=TOO_BIG
    )
    lora_r: int = _f(8, "LoRA rank.", min=1, max=4_096, why=TOO_BIG)
    lora_alpha: int = _f(16, "LoRA alpha.", min=1)
    lora_dropout: float = _f(0.05, "LoRA dropout.", min=0.0, max=0.99)
    target_modules: list[str] = _f(["q_proj", "v_proj"], "Module names that receive LoRA adapters.")


@dataclass(frozen=True)
class DistillSection:
    mode: Literal["none", "one_way", "mutual"] = _f(
        "none", "none: a model alone; one_way: CRM from a frozen LLM; mutual: LLMD4Rec."
    )
    model: Literal["crm", "llm", "both"] = _f("crm", "With mode = 'none': which model(s) to train.")
    rounds: int = _f(2, "Distillation rounds after round 0 (R).", min=1, max=1_000, why=TOO_BIG)
    t1: float = _f(2.0, "Temperature of the LLM phase (CRM teacher).", min=1e-6)
    t2: float = _f(2.0, "Temperature of the CRM phase (LLM teacher).", min=1e-6)
    gamma: float = _f(1.0, "Weight of the KL term in the LLM phase.", min=0.0)
    beta: float = _f(1.0, "Weight of the KL term in the CRM phase.", min=0.0)
    t_squared: bool = _f(True, "Multiply the KL term by T^2 (Hinton).")
    sample_weights: bool = _f(True, "Rank-based sample weights w1/w2; false is the 'w/o w' ablation.")
    refresh_embeddings: bool = _f(True, "Inject the latest CRM item embeddings every round ('w/o eu' = false).")
    warm_start: bool = _f(True, "Continue both models across rounds; false restarts each phase.")
    keep_start_if_best: bool = _f(
        False,
        "With warm_start: the model a phase starts from competes with its epochs on validation "
        "NDCG@10 (reported as epoch 0), so no phase leaves a model worse on validation than it found it.",
    )
    round_patience: int | None = _f(
        None,
        "Patience of the phases of rounds 1..R (none = train.patience). Round 0 trains to "
        "convergence; warm-started rounds often peak within a few epochs, and the no-KD "
        "control with the same value keeps the budgets matched.",
        min=1,
    )
    teacher_cache: Literal["auto", "memory", "disk", "off"] = _f(
        "auto", "Frozen teacher logits: computed once per phase and kept (auto: disk when large)."
    )
    teacher_dtype: Literal["float16", "float32"] = _f(
        "float16",
        "How cached LLM teacher logits are stored (memory or disk); float16 halves the cache "
        "(see docs/llm.md for what it does to the KL).",
    )
    teacher_samples_per_user: int | None = _f(
        None,
        "CRM phase: training samples per user the frozen LLM teacher scores, most recent first "
        "(0 = every training position; none = the LLM's own samples, data.llm_samples_per_user).",
        min=0,
    )


@dataclass(frozen=True)
class TrainSection:
    device: Literal["auto", "cpu", "cuda"] = _f("auto", "auto uses CUDA when available.")
    threads: int = _f(0, "torch CPU threads (0 = torch default).", min=0, max=4_096)
    crm_epochs: int = _f(20, "Most CRM epochs per phase.", min=1, max=100_000, why=TOO_BIG)
    llm_epochs: int = _f(2, "Most LLM epochs per phase.", min=1, max=100_000, why=TOO_BIG)
    crm_batch_size: int = _f(128, "CRM batch size (sequences).", min=1, max=1_000_000, why=TOO_BIG)
    llm_batch_size: int = _f(16, "LLM batch size (prompts).", min=1, max=100_000, why=TOO_BIG)
    crm_lr: float = _f(1e-3, "CRM learning rate (Adam).", min=0.0)
    llm_lr: float = _f(1e-3, "LLM learning rate (AdamW) for LoRA, W_in and W_out.", min=0.0)
    weight_decay: float = _f(0.0, "Weight decay.", min=0.0)
    patience: int = _f(3, "Epochs without validation NDCG@10 gain before the phase stops.", min=1)
    step_every_s: float = _f(1.0, "At most one step event per this many seconds.", min=0.0)
    reuse_round0: bool = _f(
        True, "Reuse round-0 phases an earlier run with the same data, model, training settings and seed stored."
    )


@dataclass(frozen=True)
class EvalSection:
    ks: list[int] = _f([5, 10, 20], "Cut-offs for HR@k and NDCG@k.")
    batch_size: int = _f(256, "Users per evaluation batch.", min=1, max=1_000_000, why=TOO_BIG)
    mask_history: bool = _f(True, "Mask items already in the user's history before ranking.")
    valid_users: int = _f(0, "Evaluate validation on a fixed subset of users (0 = all).", min=0)


@dataclass(frozen=True)
class Config:
    run: RunSection = field(default_factory=RunSection)
    data: DataSection = field(default_factory=DataSection)
    crm: CRMSection = field(default_factory=CRMSection)
    llm: LLMSection = field(default_factory=LLMSection)
    distill: DistillSection = field(default_factory=DistillSection)
    train: TrainSection = field(default_factory=TrainSection)
    eval: EvalSection = field(default_factory=EvalSection)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        """Canonical JSON: sorted keys, no spaces; the input of the hash."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    def hash(self) -> str:
        """Stable hash of what the run computes (labels such as name and tags excluded)."""
        flat = {k: v for k, v in flatten(self.to_dict()).items() if k not in LABEL_KEYS}
        text = json.dumps(flat, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def trains_crm(self) -> bool:
        return self.distill.mode != "none" or self.distill.model in ("crm", "both")

    @property
    def trains_llm(self) -> bool:
        return self.distill.mode != "none" or self.distill.model in ("llm", "both")


SECTION_TYPES: dict[str, type] = {
    "run": RunSection,
    "data": DataSection,
    "crm": CRMSection,
    "llm": LLMSection,
    "distill": DistillSection,
    "train": TrainSection,
    "eval": EvalSection,
}


def flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """{'crm': {'hidden_size': 64}} -> {'crm.hidden_size': 64}."""
    out: dict[str, Any] = {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, path + "."))
        else:
            out[path] = value
    return out


def _describe(tp: Any) -> str:
    origin = get_origin(tp)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(tp))
    if origin in (types.UnionType, typing.Union):
        return " or ".join(_describe(a) for a in get_args(tp))
    if origin is list:
        (inner,) = get_args(tp)
        return f"a list of {_describe(inner)}"
    return {
        int: "an integer",
        float: "a number",
        str: "a string",
        bool: "true or false",
        type(None): "none (leave the key out)",
    }.get(tp, str(tp))


def _coerce(tp: Any, value: Any, source: str, key: str, meta: Mapping[str, Any]) -> Any:
    """Check one value against its declared type and range; return it normalised."""
    origin = get_origin(tp)
    if origin is Literal:
        if value not in get_args(tp):
            close = difflib.get_close_matches(str(value), [str(a) for a in get_args(tp)], n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(source, key, value, _describe(tp) + hint)
        return value
    if origin in (types.UnionType, typing.Union):
        errors: list[ConfigError] = []
        for option in get_args(tp):
            if option is type(None):
                if value is None:
                    return None
                continue
            try:
                return _coerce(option, value, source, key, meta)
            except ConfigError as exc:
                errors.append(exc)
        if len(errors) == 1 and value is not None and errors[0].expected != _describe(get_args(tp)[0]):
            raise ConfigError(source, key, value, f"{errors[0].expected}, or none (leave the key out)")
        raise ConfigError(source, key, value, _describe(tp))
    if origin is list:
        (inner,) = get_args(tp)
        if not isinstance(value, list):
            raise ConfigError(source, key, value, _describe(tp))
        return [_coerce(inner, v, source, f"{key}[{i}]", meta) for i, v in enumerate(value)]
    ok: bool
    if tp is bool:
        ok = isinstance(value, bool)
    elif tp is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif tp is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif tp is str:
        ok = isinstance(value, str)
    else:  # pragma: no cover - schema error, not user error
        raise TypeError(f"unsupported config type {tp!r} for {key}")
    if not ok:
        raise ConfigError(source, key, value, _describe(tp))
    if tp is float and not math.isfinite(value):  # the range checks below are comparisons: NaN passes them
        raise ConfigError(source, key, value, "a finite number")
    if "min" in meta and value < meta["min"]:
        raise ConfigError(source, key, value, f"{_describe(tp)} >= {meta['min']}")
    top = meta.get("max", INT_MAX if tp is int else None)
    if top is not None and value > top:
        why = f" ({meta['why']})" if "why" in meta else ""
        raise ConfigError(source, key, value, f"{_describe(tp)} <= {top:,}{why}")
    if tp is int and value < -INT_MAX:
        raise ConfigError(source, key, value, f"{_describe(tp)} >= {-INT_MAX:,}")
    return value


def _unknown(source: str, key: str, choices: list[str], value: object) -> ConfigError:
    leaf = key.rsplit(".", 1)[-1]
    close = difflib.get_close_matches(leaf, choices, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return ConfigError(source, key, value, f"a known key: {', '.join(choices)}{hint}")


def _build_section(cls: type, raw: Any, source: str, name: str) -> Any:
    if not isinstance(raw, Mapping):
        raise ConfigError(source, name, raw, "a table of keys")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in fields:
            raise _unknown(source, f"{name}.{key}", list(fields), value)
        values[key] = _coerce(hints[key], value, source, f"{name}.{key}", fields[key].metadata)
    return cls(**values)


def config_from_dict(raw: Mapping[str, Any], source: str = "") -> Config:
    """Validate a parsed TOML/JSON tree into a Config (defaults fill what is missing)."""
    sections: dict[str, Any] = {}
    for name, value in raw.items():
        if name not in SECTION_TYPES:
            raise _unknown(source, name, list(SECTION_TYPES), value)
        sections[name] = _build_section(SECTION_TYPES[name], value, source, name)
    config = Config(**sections)
    _check_cross_field(config, source)
    return config


def _check_cross_field(config: Config, source: str) -> None:
    """Rules that involve several keys."""
    if config.crm.model == "sasrec" and config.crm.hidden_size % config.crm.num_heads:
        raise ConfigError(
            source,
            "crm.num_heads",
            config.crm.num_heads,
            f"a divisor of crm.hidden_size ({config.crm.hidden_size})",
        )
    if config.data.dataset not in catalog.DATASETS:
        expected = "one of " + ", ".join(map(repr, catalog.DATASETS))
        raise ConfigError(source, "data.dataset", config.data.dataset, expected)
    if config.data.dataset == catalog.PATH and not config.data.path:
        raise ConfigError(source, "data.path", config.data.path, "a file path when data.dataset = 'path'")
    untimed = config.data.format == "sequences" or (
        config.data.format == "auto" and config.data.path.lower().removesuffix(".gz").endswith(".txt")
    )
    for key in ("time_min", "time_max", "min_rating"):
        value = getattr(config.data, key)
        if value is not None and config.data.dataset == catalog.PATH and untimed:
            raise ConfigError(
                source, f"data.{key}", value, "none for a sequences file (it has no timestamps or ratings)"
            )
    if not config.eval.ks or any(k < 1 for k in config.eval.ks):
        raise ConfigError(source, "eval.ks", config.eval.ks, "a non-empty list of integers >= 1")
    if 10 not in config.eval.ks:
        raise ConfigError(source, "eval.ks", config.eval.ks, "a list that contains 10 (early stopping uses NDCG@10)")
    if not config.llm.target_modules:
        raise ConfigError(source, "llm.target_modules", [], "at least one module name")


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file; syntax errors name the file, line and column."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(path), "(file)", str(path), "an existing config file") from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), "(file)", str(path), f"a readable UTF-8 TOML file ({exc})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), "(syntax)", str(exc), "valid TOML") from None


def load_config(path: str | Path) -> Config:
    """Load one config file without a [sweep] table."""
    configs = expand_file(Path(path))
    if len(configs) != 1:
        raise ConfigError(str(path), "sweep", f"{len(configs)} runs", "a single run (no [sweep])")
    return configs[0]


def expand_file(path: Path) -> list[Config]:
    """Load a config file and expand its optional [sweep] table into one Config per run.

    [sweep] maps dotted keys to lists of values (the grid) and may hold ``seeds``, a list
    of seeds; every combination becomes a run whose name records the swept values.
    """
    raw = read_toml(path)
    sweep = raw.pop("sweep", None)
    base = config_from_dict(raw, str(path))
    if sweep is None:
        return [base]
    return expand_sweep(raw, sweep, str(path), base.run.name)


def expand_sweep(raw: dict[str, Any], sweep: Any, source: str, base_name: str) -> list[Config]:
    if not isinstance(sweep, Mapping):
        raise ConfigError(source, "sweep", sweep, "a table of dotted keys to lists of values")
    grid: dict[str, list[Any]] = {}
    for key, values in flatten(sweep).items():
        name = "run.seed" if key == "seeds" else key
        if not isinstance(values, list) or not values:
            raise ConfigError(source, f"sweep.{key}", values, "a non-empty list of values")
        grid[name] = values
    out: list[Config] = []
    for combo in itertools.product(*grid.values()):
        tree = copy.deepcopy(raw)
        labels = []
        for key, value in zip(grid, combo, strict=True):
            section, _, leaf = key.partition(".")
            if not leaf:
                raise ConfigError(source, f"sweep.{key}", value, "a dotted key such as 'crm.hidden_size'")
            tree.setdefault(section, {})
            if not isinstance(tree[section], dict):
                raise ConfigError(source, f"sweep.{key}", value, "a key inside a config section")
            tree[section][leaf] = value
            if key != "run.seed":
                labels.append(f"{leaf}={value}")
        tree.setdefault("run", {})
        tree["run"]["name"] = base_name + (" " + " ".join(labels) if labels else "")
        out.append(config_from_dict(tree, f"{source} [sweep {dict(zip(grid, combo, strict=True))}]"))
    return out


def config_to_toml(config: Config) -> str:
    """Write a resolved config back as TOML (for reruns and exports)."""
    lines: list[str] = []
    for name, section in config.to_dict().items():
        lines.append(f"[{name}]")
        for key, value in section.items():
            if value is None:
                continue
            lines.append(f"{key} = {json.dumps(value)}")
        lines.append("")
    return "\n".join(lines)
