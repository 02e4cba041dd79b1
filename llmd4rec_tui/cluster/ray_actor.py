"""The Ray actor behind one placed worker: it starts an ordinary `llmd4rec worker` and lives as long.

A plain class, made a Ray actor by cluster/ray_workers.py: Ray imports this module by name
on the node that runs the actor, so that node needs this same installation (as a Slurm
node does). The actor owns its worker process and ends itself when the worker exits, so
a finished worker (`--until-empty`) leaves no actor behind. Stopping goes through
``terminate``: SIGTERM first, which a worker inside a cluster job takes as preemption
(its runs go back to the queue as preempted), SIGKILL only if it is still there later.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import threading
from pathlib import Path


class WorkerActor:
    """One `llmd4rec worker` process on the node Ray placed this actor on."""

    def __init__(self, command: list[str], env: dict[str, str], log_path: str) -> None:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "ab") as log:  # appended to: a restarted actor keeps the earlier worker's lines
            self.proc = subprocess.Popen(
                command,
                env={**os.environ, **env},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # signals reach the worker only as sent here
            )
        threading.Thread(target=self._end_with_worker, daemon=True, name="worker-watch").start()

    def _end_with_worker(self) -> None:
        self.proc.wait()
        import ray  # inside a Ray worker process: always there

        ray.kill(ray.get_runtime_context().current_actor, no_restart=True)

    def terminate(self, kill_after_s: float) -> None:
        """SIGTERM the worker now (it requeues its runs as preempted); SIGKILL it if still there after kill_after_s."""
        self._send(signal.SIGTERM)
        timer = threading.Timer(kill_after_s, self._send, args=(signal.SIGKILL,))
        timer.daemon = True
        timer.start()

    def _send(self, sig: signal.Signals) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(sig)

    def info(self) -> dict[str, object]:
        return {"pid": self.proc.pid, "host": socket.gethostname(), "returncode": self.proc.poll()}
