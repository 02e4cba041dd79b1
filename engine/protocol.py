"""The engine -> worker event protocol: one JSON object per stdout line.

Standard library only. Every event carries the protocol version ``v``, its ``type`` and a
wall-clock ``ts``; the rest are the fields of its dataclass below. ``encode`` and
``decode`` are the only pair that touch the wire format. ``decode`` never raises on bad
input: a malformed or unknown line comes back as a ``BadLine`` saying what was wrong, so
a reader logs it and carries on.

Version 2 names the model a phase trains ``model`` (version 1 called it ``phase``, and its
``eval`` and ``ranks`` events carried both, always equal); ``upgrade`` maps a version-1 event
to version 2, so old lines and the payloads stored from them still decode.
"""

from __future__ import annotations

import dataclasses
import json
import time
import types
import typing
from dataclasses import dataclass, field
from typing import Any, ClassVar

VERSION = 2
#: Versions ``decode`` reads; older ones go through ``upgrade``.
READABLE_VERSIONS = (1, 2)

#: How an engine process (``python -m engine run``) exits, and what a worker reads from it.
EXIT_FINISHED = 0  # a run_finished event was sent
EXIT_FAILED = 1  # a run_failed event says why (kind exception, oom or disk_full)
EXIT_USAGE = 2  # bad arguments or config; stderr says which
EXIT_CANCELLED = 130  # stopped on SIGINT/SIGTERM after a checkpoint and a run_cancelled event
#: How a worker exits after it was preempted (SIGUSR1, or SIGTERM inside a cluster job) and put its
#: runs back in the queue: EX_TEMPFAIL, so a job script can tell "requeue me" from "done".
EXIT_PREEMPTED = 75
#: The environment variable naming the file a worker writes its engine's lease expiry to
#: every heartbeat (engine/lease_watch.py reads it).
ENV_LEASE_FILE = "LLMD4REC_LEASE_FILE"

Metrics = dict[str, float]


@dataclass(frozen=True)
class Event:
    type: ClassVar[str] = "event"
    ts: float = field(default_factory=time.time, kw_only=True)


@dataclass(frozen=True)
class RunStarted(Event):
    """Once per engine process (a resumed attempt sends it again, with resumed=True)."""

    type: ClassVar[str] = "run_started"
    config_hash: str
    resumed: bool = False
    versions: dict[str, str] = field(default_factory=dict)
    device: str = "cpu"
    params: dict[str, int] = field(default_factory=dict)
    dataset: dict[str, Any] = field(default_factory=dict)
    protocol: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PhaseStarted(Event):
    type: ClassVar[str] = "phase_started"
    round: int
    model: str  # the model this phase trains: "crm" or "llm"
    teacher: str | None = None  # "crm", "llm" or None when the model trains alone
    epochs: int = 0
    teacher_cache: dict[str, Any] = field(default_factory=dict)  # samples, bytes, where, seconds


@dataclass(frozen=True)
class Step(Event):
    """Throttled training progress inside an epoch."""

    type: ClassVar[str] = "step"
    round: int
    model: str
    epoch: int
    step: int
    losses: Metrics  # ce, kl, wkl, total
    lr: float = 0.0
    samples_per_s: float = 0.0
    progress: float = 0.0  # fraction of the epoch done


@dataclass(frozen=True)
class EpochEnd(Event):
    type: ClassVar[str] = "epoch_end"
    round: int
    model: str
    epoch: int
    losses: Metrics
    valid: Metrics = field(default_factory=dict)
    seconds: float = 0.0
    best: bool = False


@dataclass(frozen=True)
class Eval(Event):
    """Metrics of one model on one split after a phase (or at the end)."""

    type: ClassVar[str] = "eval"
    round: int
    model: str  # "crm" or "llm"
    split: str  # "valid" or "test"
    metrics: Metrics
    users: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class Ranks(Event):
    """The rank of the true item for every evaluated user, sent beside each final Eval
    (a phase's best validation and its test): any metric can be recomputed from it and two
    runs compared user by user. Users and items are the dataset's original ids."""

    type: ClassVar[str] = "ranks"
    round: int
    model: str  # "crm" or "llm"
    split: str  # "valid" or "test"
    users: list[str]
    items: list[str]  # each user's true item
    ranks: list[int]  # engine.metrics' tie rule; 1 is the top


@dataclass(frozen=True)
class Weights(Event):
    """Distribution of the sample weights w1 (LLM phase) or w2 (CRM phase) in one epoch."""

    type: ClassVar[str] = "weights"
    round: int
    model: str
    epoch: int
    name: str  # "w1" or "w2"
    edges: list[float]
    counts: list[int]
    mean: float
    std: float


@dataclass(frozen=True)
class Params(Event):
    """Histogram of one trained tensor at the end of a phase."""

    type: ClassVar[str] = "params"
    round: int
    model: str
    name: str
    edges: list[float]
    counts: list[int]
    mean: float
    std: float
    numel: int = 0


@dataclass(frozen=True)
class Checkpoint(Event):
    type: ClassVar[str] = "checkpoint"
    round: int
    model: str
    path: str


@dataclass(frozen=True)
class RoundEnd(Event):
    type: ClassVar[str] = "round_end"
    round: int
    metrics: dict[str, Metrics]  # model -> test metrics after the round


@dataclass(frozen=True)
class Log(Event):
    type: ClassVar[str] = "log"
    level: str
    message: str


@dataclass(frozen=True)
class RunFinished(Event):
    type: ClassVar[str] = "run_finished"
    metrics: dict[str, Metrics]  # model -> final test metrics
    seconds: float = 0.0


@dataclass(frozen=True)
class RunCancelled(Event):
    """The engine stopped on request after saving what it could resume from."""

    type: ClassVar[str] = "run_cancelled"
    checkpoint: str | None = None


@dataclass(frozen=True)
class RunFailed(Event):
    type: ClassVar[str] = "run_failed"
    message: str
    traceback: str = ""
    kind: str = "exception"  # exception, oom or disk_full


EVENT_TYPES: dict[str, type[Event]] = {
    cls.type: cls
    for cls in (
        RunStarted,
        PhaseStarted,
        Step,
        EpochEnd,
        Eval,
        Ranks,
        Weights,
        Params,
        Checkpoint,
        RoundEnd,
        Log,
        RunFinished,
        RunCancelled,
        RunFailed,
    )
}


@dataclass(frozen=True)
class BadLine:
    """A line that is not a valid event; ``reason`` says why."""

    line: str
    reason: str


def encode(event: Event) -> str:
    """One event as a single JSON line (no trailing newline)."""
    body = dataclasses.asdict(event)
    return json.dumps({"v": VERSION, "type": event.type, **body}, separators=(",", ":"))


_SIMPLE = {int: (int,), float: (int, float), str: (str,), bool: (bool,)}


def _type_ok(tp: Any, value: Any) -> bool:
    """Whether a decoded JSON value fits a field's type, nested containers included."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return any(_type_ok(a, value) for a in typing.get_args(tp))
    if tp is type(None):
        return value is None
    if origin is dict or tp is dict:
        if not isinstance(value, dict):
            return False
        key_type, value_type = typing.get_args(tp) or (Any, Any)
        return all(_type_ok(key_type, k) and _type_ok(value_type, v) for k, v in value.items())
    if origin is list or tp is list:
        if not isinstance(value, list):
            return False
        (item_type,) = typing.get_args(tp) or (Any,)
        return all(_type_ok(item_type, v) for v in value)
    if tp is Any:
        return True
    allowed = _SIMPLE.get(tp)
    if allowed is None:
        return True
    if tp is not bool and isinstance(value, bool):
        return False
    return isinstance(value, allowed)


_FIELDS: dict[str, tuple[tuple[dataclasses.Field[Any], Any], ...]] = {}


def _fields_of(cls: type[Event]) -> tuple[tuple[dataclasses.Field[Any], Any], ...]:
    """Each field with its resolved type, computed once per event class (decode is hot)."""
    if cls.type not in _FIELDS:
        hints = typing.get_type_hints(cls)
        _FIELDS[cls.type] = tuple((f, hints[f.name]) for f in dataclasses.fields(cls))
    return _FIELDS[cls.type]


def decode_bytes(raw: bytes) -> Event | BadLine:
    """Decode one raw stdout line: bytes that are not UTF-8 make it a BadLine, never an error."""
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        text = raw.decode("utf-8", errors="replace").strip()
        return BadLine(text, f"not UTF-8 (byte {raw[exc.start]:#04x} at offset {exc.start})")
    return decode(line)


def decode(line: str) -> Event | BadLine:
    """Parse one line; never raises. Unknown fields of a known type are ignored.

    Non-finite numbers (NaN, Infinity, as Python's json writes them) are accepted: a
    diverging loss is a fact to record, not a malformed line.
    """
    text = line.strip()
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        return BadLine(text, f"not JSON ({exc.msg} at column {exc.colno})")
    except RecursionError:
        return BadLine(text[:200], "not JSON (nested too deeply)")
    if not isinstance(raw, dict):
        return BadLine(text, "not a JSON object")
    version = raw.get("v")
    if version not in READABLE_VERSIONS:
        return BadLine(text, f"protocol version {version!r}, expected one of {READABLE_VERSIONS}")
    return decode_fields(raw.get("type"), raw, text)


def upgrade(raw: dict[str, Any]) -> dict[str, Any]:
    """A version-1 event's fields as version 2 names them: ``phase`` becomes ``model``
    (where both were sent they were equal). Version-2 fields come back as they are."""
    if "phase" not in raw:
        return raw
    fields = {k: v for k, v in raw.items() if k != "phase"}
    fields.setdefault("model", raw["phase"])
    return fields


def decode_fields(type_: Any, raw: dict[str, Any], text: str = "") -> Event | BadLine:
    """An event of ``type_`` from its fields (an already parsed line, or a stored event's
    payload plus ``ts``, of either version), checked as ``decode`` checks a line; never raises."""
    cls = EVENT_TYPES.get(type_)
    if cls is None:
        return BadLine(text, f"unknown event type {type_!r}")
    raw = upgrade(raw)
    kwargs: dict[str, Any] = {}
    for f, hint in _fields_of(cls):
        if f.name not in raw:
            no_default = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            if no_default:
                return BadLine(text, f"{cls.type}: missing field {f.name!r}")
            continue
        value = raw[f.name]
        if not _type_ok(hint, value):
            return BadLine(text, f"{cls.type}.{f.name} = {_short(value)} has the wrong type")
        kwargs[f.name] = value
    return cls(**kwargs)


def _short(value: Any, limit: int = 120) -> str:
    shown = repr(value)
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."
