"""How a run's engine is started, signalled, watched and reaped: the executor seam.

The supervisor (queue/supervisor.py) owns what an attempt means: ingesting events,
renewing the lease, recording the outcome. Everything about the engine as a process is
here, behind ``Executor.start`` and the ``EngineHandle`` it returns, so the supervisor
never touches a pid or a signal itself. ``LocalExecutor`` runs the engine as a child
process of the worker in its own session (a Ctrl-C meant for the worker never reaches it
directly), and gives each engine its share of the worker's GPUs (queue/gpus.py) through
CUDA_VISIBLE_DEVICES. A cluster does not need another executor: it places workers
(llmd4rec_tui/cluster), and each worker starts its engines locally through this one.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from typing import IO, Protocol

from llmd4rec_tui.queue.gpus import ENV_CUDA, Share


class EngineProcess(Protocol):
    """The part of ``subprocess.Popen`` the supervisor relies on."""

    pid: int
    stdout: IO[bytes] | None
    stderr: IO[bytes] | None

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...

    def send_signal(self, sig: int) -> None: ...


class Executor(Protocol):
    def start(self, command: list[str], env: dict[str, str], keep_fds: tuple[int, ...]) -> EngineProcess:
        """Start the engine with stdout and stderr as pipes; OSError when it cannot start."""
        ...


class LocalExecutor:
    """The engine as a child process of this worker, in a session of its own.

    With GPU shares (one per engine slot), each engine gets the first share no running
    engine holds as its CUDA_VISIBLE_DEVICES; without, it inherits the worker's.
    """

    def __init__(self, gpu_shares: Sequence[Share] = ()) -> None:
        self.gpu_shares = tuple(gpu_shares)
        self._holders: dict[int, EngineProcess] = {}  # share index -> the engine using it
        self._lock = threading.Lock()

    def start(self, command: list[str], env: dict[str, str], keep_fds: tuple[int, ...]) -> EngineProcess:
        with self._lock:  # supervisors start engines from their own threads
            share = self._free_share()
            if share is not None:
                env = {**env, ENV_CUDA: ",".join(self.gpu_shares[share])}
            proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
                pass_fds=keep_fds,
                env=env,
            )
            if share is not None:
                self._holders[share] = proc
        return proc

    def _free_share(self) -> int | None:
        """The first share whose engine has exited (or that never had one); the first if all are held."""
        if not self.gpu_shares:
            return None
        for index in range(len(self.gpu_shares)):
            holder = self._holders.get(index)
            if holder is None or holder.poll() is not None:
                return index
        return 0  # more engines than slots, which a worker never starts: share rather than fail


class EngineHandle:
    """Stops one engine: SIGINT first, SIGTERM after the grace period, SIGKILL after another.

    ``on_stop(reason, signal name)`` is told once, when the first signal goes out, so the
    run's events say why its engine was stopped.
    """

    def __init__(self, proc: EngineProcess, grace_s: float, on_stop: Callable[[str, str], None]) -> None:
        self.proc, self.grace_s, self.on_stop = proc, grace_s, on_stop
        self.signalled_at: float | None = None
        self.escalated: str | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self, reason: str) -> None:
        if self.signalled_at is not None or self.proc.poll() is not None:
            return
        self.on_stop(reason, "SIGINT")
        self._send(signal.SIGINT)
        self.signalled_at = time.monotonic()

    def escalate(self) -> None:
        if self.signalled_at is None or self.proc.poll() is not None:
            return
        waited = time.monotonic() - self.signalled_at
        if waited > 2 * self.grace_s and self.escalated != "SIGKILL":
            self.escalated = "SIGKILL"
            self._send(signal.SIGKILL)
        elif waited > self.grace_s and self.escalated is None:
            self.escalated = "SIGTERM"
            self._send(signal.SIGTERM)

    def _send(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(sig)

    def wait_exit(self) -> int:
        """The engine closed stdout; wait for it to exit, stopping it if it lingers past the grace."""
        closed_at = time.monotonic()
        while True:
            try:
                return self.proc.wait(timeout=0.2)
            except subprocess.TimeoutExpired:
                if self.signalled_at is None and time.monotonic() - closed_at > self.grace_s:
                    self.stop("stdout closed but the engine did not exit")
                self.escalate()


def pump_lines(stream: IO[bytes], sink: Callable[[bytes], None], at_end: Callable[[], None]) -> None:
    """Hand each raw line of an engine's pipe to sink (on a reader thread), then call at_end."""
    try:
        for line in stream:
            sink(line)
    except (ValueError, OSError):  # stream closed under us
        pass
    finally:
        at_end()
