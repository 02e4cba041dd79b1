"""A run's attempt history, read back from the events each attempt left.

Every event row carries its attempt number, so retries, lost leases and resumes need no
table of their own: an attempt starts at its first event and ends at its last ending
event. A ``retried`` event (written by ``runs retry``) says best how an attempt ended,
since a worker failure or a refused run directory sends no engine event.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from llmd4rec_tui.store.models import EventRow, Run
from llmd4rec_tui.store.records import AttemptRecord

#: Event types that end an attempt, and the ending each one means.
ENDINGS = {"run_finished": "succeeded", "run_failed": "failed", "run_cancelled": "cancelled", "lost": "lost"}


def _ending(type_: str, payload: dict[str, Any]) -> tuple[str, str]:
    if type_ == "retried":
        kind = payload.get("failure_kind")
        status = str(payload.get("status") or "?")
        return (f"{status} ({kind})" if kind and kind != status else status), str(payload.get("error") or "")
    if type_ == "run_failed":
        return f"failed ({payload.get('kind') or 'exception'})", str(payload.get("message") or "")
    return ENDINGS[type_], str(payload.get("message") or "")


def _moment(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC)


def attempt_history(session: Session, run: Run) -> tuple[AttemptRecord, ...]:
    """Each attempt that left events, oldest first; the current one ends as the run stands."""
    # The first event stored, not the earliest stamp: events replayed from the phase cache by
    # older engines kept the time another run trained that phase.
    first_ids = select(func.min(EventRow.id)).where(EventRow.run_id == run.id).group_by(EventRow.attempt)
    starts = dict(session.execute(select(EventRow.attempt, EventRow.ts).where(EventRow.id.in_(first_ids))).all())
    endings: dict[int, tuple[float, str, str, bool]] = {}
    rows = session.execute(
        select(EventRow.attempt, EventRow.ts, EventRow.type, EventRow.payload)
        .where(EventRow.run_id == run.id, EventRow.type.in_((*ENDINGS, "retried")))
        .order_by(EventRow.id)
    )
    for attempt, ts, type_, payload in rows:
        retried = type_ == "retried"
        if attempt in endings and endings[attempt][3] and not retried:
            continue  # what runs retry recorded stands
        ended, message = _ending(type_, dict(payload or {}))
        # a retry is written after the attempt ended: keep the ending's time, take its verdict
        when = endings[attempt][0] if retried and attempt in endings else ts
        endings[attempt] = (when, ended, message, retried)
    history = []
    for attempt in sorted(starts.keys() | endings.keys()):
        if attempt in endings:
            when, ended, message, _ = endings[attempt]
            history.append(AttemptRecord(attempt, _moment(starts.get(attempt)), _moment(when), ended, message))
        else:
            current = attempt == run.attempts
            status = run.status + (f" ({run.failure_kind})" if run.failure_kind else "") if current else "unknown"
            history.append(AttemptRecord(attempt, _moment(starts.get(attempt)), None, status))
    return tuple(history)
