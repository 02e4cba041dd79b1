"""Event encoding round-trips; bad lines are reported, never raised."""

from __future__ import annotations

import json

import pytest

from engine.protocol import (
    EVENT_TYPES,
    VERSION,
    BadLine,
    Eval,
    PhaseStarted,
    RunFailed,
    Step,
    Weights,
    decode,
    decode_fields,
    encode,
)


@pytest.mark.parametrize(
    "event",
    [
        Step(round=1, model="llm", epoch=0, step=10, losses={"ce": 1.0, "kl": 0.5}, lr=1e-3),
        Eval(round=0, model="crm", split="test", metrics={"ndcg@10": 0.1}),
        Weights(round=2, model="crm", epoch=1, name="w2", edges=[0.0, 1.0, 2.0], counts=[3, 4], mean=1.0, std=0.5),
        RunFailed(message="boom", traceback="Traceback ..."),
    ],
)
def test_round_trip(event: object) -> None:
    line = encode(event)  # type: ignore[arg-type]
    assert "\n" not in line
    assert decode(line) == event


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (
            '{"v":1,"type":"step","ts":5.0,"round":1,"phase":"llm","epoch":0,"step":3,"losses":{"ce":1.5}}',
            Step(round=1, model="llm", epoch=0, step=3, losses={"ce": 1.5}, ts=5.0),
        ),
        (
            '{"v":1,"type":"eval","ts":6.0,"round":0,"phase":"crm","model":"crm","split":"test","metrics":{"hr@10":0.2}}',
            Eval(round=0, model="crm", split="test", metrics={"hr@10": 0.2}, ts=6.0),
        ),
        (
            '{"v":1,"type":"phase_started","ts":7.0,"round":2,"phase":"crm","teacher":"llm","epochs":4}',
            PhaseStarted(round=2, model="crm", teacher="llm", epochs=4, ts=7.0),
        ),
    ],
)
def test_a_version_1_line_decodes_to_the_event_its_version_2_line_does(old: str, new: object) -> None:
    assert VERSION == 2 and '"phase"' not in encode(new)  # type: ignore[arg-type]
    assert decode(old) == decode(encode(new)) == new  # type: ignore[arg-type]
    stored = json.loads(old)  # a payload stored from it: no version, ts beside it
    assert decode_fields(stored.pop("type"), stored) == new


def test_every_event_type_is_registered_under_its_name() -> None:
    assert all(cls.type == name for name, cls in EVENT_TYPES.items())
    assert {"run_started", "phase_started", "step", "epoch_end", "eval", "weights", "params"} <= set(EVENT_TYPES)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("not json", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        (json.dumps({"v": 99, "type": "step"}), "protocol version 99"),
        (json.dumps({"v": VERSION, "type": "teleport"}), "unknown event type 'teleport'"),
        (json.dumps({"v": VERSION, "type": "eval", "round": 0}), "missing field 'model'"),
        (
            json.dumps({"v": VERSION, "type": "checkpoint", "round": "one", "model": "crm", "path": "x"}),
            "checkpoint.round",
        ),
        ("", "not JSON"),
    ],
)
def test_bad_lines_come_back_with_a_reason(line: str, reason: str) -> None:
    result = decode(line)
    assert isinstance(result, BadLine)
    assert reason in result.reason


def test_unknown_fields_of_a_known_type_are_ignored() -> None:
    raw = json.loads(encode(RunFailed(message="x")))
    raw["future_field"] = 1
    assert decode(json.dumps(raw)) == RunFailed(message="x", ts=raw["ts"])
