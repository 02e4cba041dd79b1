"""How the engine names a failure (oom, disk_full) and what a failed checkpoint write leaves."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any

import pytest
import torch

from engine.__main__ import failure_kind
from engine.checkpoint import Checkpoints, RunState


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (MemoryError(), "oom"),
        (RuntimeError("[enforce fail at alloc_cpu.cpp:83] DefaultCPUAllocator: can't allocate memory"), "oom"),
        (RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB"), "oom"),
        (OSError(errno.ENOSPC, "No space left on device"), "disk_full"),
        (RuntimeError("[enforce fail at inline_container.cc] . PytorchStreamWriter failed writing file"), "exception"),
        (ValueError("bad"), "exception"),
    ],
)
def test_failure_kinds(exc: BaseException, kind: str) -> None:
    assert failure_kind(exc) == kind


def test_a_wrapped_no_space_error_is_disk_full() -> None:
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as inner:
            raise RuntimeError("PytorchStreamWriter failed writing file data") from inner
    except RuntimeError as outer:
        assert failure_kind(outer) == "disk_full"


def test_a_checkpoint_that_finds_the_disk_full_leaves_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checkpoints = Checkpoints(tmp_path)
    first = checkpoints.save(RunState(next_phase=1, crm={"w": torch.zeros(2)}, config_hash="h"))

    def full(obj: Any, path: Path) -> None:
        Path(path).write_bytes(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(torch, "save", full)
    with pytest.raises(OSError) as raised:
        checkpoints.save(RunState(next_phase=2, crm={"w": torch.ones(2)}, config_hash="h"))
    assert failure_kind(raised.value) == "disk_full"
    assert sorted(p.name for p in checkpoints.dir.iterdir()) == ["latest.json", first.name]  # committed one kept
    assert checkpoints.latest() == first
