"""Typed messages that DB-reading thread workers post back to their screens.

Workers only read and post; screens only draw. Every answer to a read carries the
question it answers (``screens.polling``), so a screen drops an answer to a question it
no longer asks (a filter typed since the read started).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from textual.message import Message

from llmd4rec_tui.store.records import EventRecord, RunDetail, RunPage, WorkerRecord
from llmd4rec_tui.store.views import CompareInput


class ReadAnswer(Message):
    """What one read of the store found; ``request`` is set by the poller that asked."""

    request: int = 0


class RunsLoaded(ReadAnswer):
    def __init__(
        self, page: RunPage, workers: Sequence[WorkerRecord], now: datetime, queue: dict[int, int] | None = None
    ) -> None:
        self.page, self.workers, self.now, self.queue = page, workers, now, queue or {}
        super().__init__()


class RunLoaded(ReadAnswer):
    def __init__(self, info: RunDetail | None, events: Sequence[EventRecord], now: datetime) -> None:
        self.info, self.events, self.now = info, events, now
        super().__init__()


class CompareLoaded(ReadAnswer):
    def __init__(self, runs: tuple[CompareInput, ...]) -> None:
        self.runs = runs
        super().__init__()


class ActionDone(Message):
    """A queue action finished: what it did, or why it was refused."""

    def __init__(self, text: str, error: bool = False) -> None:
        self.text, self.error = text, error
        super().__init__()


class ReadFailed(ReadAnswer):
    """A read that raised: shown in the status line, the poll carries on."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__()
