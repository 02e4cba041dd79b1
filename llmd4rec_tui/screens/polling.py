"""A screen that re-reads the store on a timer, one read at a time, in a thread.

The one place the screens' reads are written: ``reload`` runs the screen's ``read_store``
in a Textual thread worker, which posts its answer (or a ``ReadFailed``) back as a typed
message; the UI thread only draws. Each answer carries the question it answers: a screen
bumps the question with ``ask`` when what to show changes (a filter, a page, a tag), drops
answers to older questions, and a poll that finds the current question already being read
does nothing, so a slow database never piles reads up. The timer pauses while another
screen is on top (that one polls for itself), and a screen coming back reads at once.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.screen import Screen
from textual.timer import Timer

from llmd4rec_tui.screens.messages import ReadAnswer, ReadFailed

#: A read: built on the UI thread (it captures what to read), called in the worker thread.
Read = Callable[[], ReadAnswer]


class PollingScreen(Screen[None]):
    poll: Timer
    #: What the status line says a failed read was trying to read.
    READING = "runs"

    def __init__(self) -> None:
        super().__init__()
        self.question = 0  # bumped whenever what to show changes
        self._reading: int | None = None  # the question a read in flight answers

    def start_polling(self, every_s: float) -> None:
        self.poll = self.set_interval(every_s, self.reload)

    def read_store(self) -> Read:
        """What to read now; subclasses say."""
        raise NotImplementedError

    def ask(self) -> None:
        """What to show changed: read it now, and ignore answers to the old question."""
        self.question += 1
        self.reload()

    def reload(self) -> None:
        """Start one read of the store unless the current question is being read already."""
        if self._reading == self.question:
            return
        self._reading = request = self.question
        read, reading = self.read_store(), self.READING

        def work() -> None:
            try:
                answer = read()
            except KeyError as exc:  # a run asked for by id was deleted meanwhile
                answer = ReadFailed(str(exc.args[0]))
            except Exception as exc:  # a locked or vanished database must not kill the UI
                answer = ReadFailed(f"cannot read {reading}: {exc}")
            answer.request = request
            self.post_message(answer)

        self.run_worker(work, thread=True, group="store-read", exit_on_error=False)

    def answered(self, answer: ReadAnswer) -> bool:
        """Note an answer in; True when it answers what the screen shows now."""
        if self._reading == answer.request:
            self._reading = None
        return answer.request == self.question

    def on_screen_suspend(self) -> None:
        self.poll.pause()

    def on_screen_resume(self) -> None:
        self.poll.resume()
        self.reload()
