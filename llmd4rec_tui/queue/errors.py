"""The one error the queue raises for a request it cannot carry out."""

from __future__ import annotations


class QueueError(Exception):
    """A queue operation that cannot be done; the message names the run and the reason."""
