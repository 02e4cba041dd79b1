"""Reproducibility facts captured by the worker when an attempt starts.

Versions come from package metadata, never by importing torch here; the engine's own
run_started event later adds the device, the versions it actually loaded and the
dataset fingerprint (store/ingest.py).
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PACKAGES = ("torch", "transformers", "peft", "numpy", "llmd4rec")
PROJECT_DIR = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class GitState:
    commit: str | None
    dirty: bool | None


@dataclass(frozen=True)
class Capture:
    git: GitState
    environment: dict[str, Any] = field(default_factory=dict)


GIT_TTL_S = 30.0  # a busy worker asks git at most this often (two subprocesses each time)
_git_cache: dict[Path, tuple[float, GitState]] = {}


def git_state(directory: Path = PROJECT_DIR) -> GitState:
    """HEAD and whether tracked files differ from it; (None, None) outside a checkout."""
    cached = _git_cache.get(directory)
    if cached is not None and time.monotonic() - cached[0] < GIT_TTL_S:
        return cached[1]
    state = _ask_git(directory)
    _git_cache[directory] = (time.monotonic(), state)
    return state


def _ask_git(directory: Path) -> GitState:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=directory, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return GitState(None, None)
    return GitState(commit or None, bool(status.strip()))


def package_versions() -> dict[str, str]:
    out: dict[str, str] = {}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "missing"
    return out


def capture(seed: int, config_hash: str, directory: Path = PROJECT_DIR) -> Capture:
    return Capture(
        git=git_state(directory),
        environment={
            "host": socket.gethostname(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "versions": package_versions(),
            "seed": seed,
            "config_hash": config_hash,
        },
    )
