"""Every engine test computes on one thread: the numbers then do not depend on the machine's
core count, and parallel test workers do not fight over cores."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread() -> None:
    torch.set_num_threads(1)
