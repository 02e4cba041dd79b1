"""A screen that re-reads the store on a timer.

The timer pauses while another screen is on top (that one polls for itself), and a
screen coming back to the top reads at once, so what it shows is never a stale page.
"""

from __future__ import annotations

from textual.screen import Screen
from textual.timer import Timer


class PollingScreen(Screen[None]):
    poll: Timer

    def start_polling(self, every_s: float) -> None:
        self.poll = self.set_interval(every_s, self.reload)

    def reload(self) -> None:
        """Start one read of the store; subclasses say what to read."""
        raise NotImplementedError

    def on_screen_suspend(self) -> None:
        self.poll.pause()

    def on_screen_resume(self) -> None:
        self.poll.resume()
        self.reload()
