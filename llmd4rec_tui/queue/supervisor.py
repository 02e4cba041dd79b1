"""One attempt of one run: start the engine, stream its events into the store, end it.

A supervisor thread owns one engine, started and stopped through the executor seam
(queue/executor.py). It reads the engine's stdout line by line as bytes (a reader thread
feeds a queue; a line that is not UTF-8 costs one bad_line), ingests events in batches,
renews the run's lease every heartbeat, watches for a cancel request, and on a stop has
the engine signalled (SIGINT, then SIGTERM and SIGKILL once the grace period runs out).
The worker decides what a stop means: a shutdown or a preemption puts the run back in
the queue without counting the attempt.
Whatever goes wrong in the supervisor itself, the engine is stopped before the run is
marked failed, so no engine ever trains unsupervised. The run directory is locked for
the engine's lifetime (queue/run_dir.py), and the engine stops itself when its lease
file is not renewed (engine/lease_watch.py), so one directory never has two engines.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import queue
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from engine.protocol import ENV_LEASE_FILE, BadLine, Event, RunCancelled, RunFailed, RunFinished, decode_bytes
from llmd4rec_tui.queue.claim import ClaimedRun
from llmd4rec_tui.queue.executor import EngineHandle, EngineProcess, Executor, LocalExecutor, pump_lines
from llmd4rec_tui.queue.lease import renew_lease
from llmd4rec_tui.queue.observer import NoObserver, WorkerObserver
from llmd4rec_tui.queue.outcome import (
    Ending,
    Outcome,
    classify,
    oom_kill_count,
    preemption_limited,
    write_failure,
)
from llmd4rec_tui.queue.repro import capture
from llmd4rec_tui.queue.run_dir import (
    LEASE_NAME,
    ForeignRunDir,
    RunDirBusy,
    RunDirLock,
    stamp_database,
    write_lease,
)
from llmd4rec_tui.queue.settings import WorkerSettings
from llmd4rec_tui.store.db import Store
from llmd4rec_tui.store.identity import database_id, database_label
from llmd4rec_tui.store.ingest import RunIngestor
from llmd4rec_tui.store.models import Run
from llmd4rec_tui.store.records import now_utc

log = logging.getLogger(__name__)
_EOF = object()
CANCEL_POLL_S = 1.0
LOCK_MARGIN_S = 5.0  # on top of lease and grace: how long a new attempt waits for an old engine
STDERR_LINE_CHARS = 4_000  # per line of the kept stderr tail


class Supervisor(threading.Thread):
    def __init__(
        self,
        store: Store,
        claim: ClaimedRun,
        settings: WorkerSettings,
        worker_id: str,
        interrupt: threading.Event,
        on_exit: threading.Event | None = None,
        preempt: threading.Event | None = None,
        executor: Executor | None = None,
        observer: WorkerObserver | None = None,
    ) -> None:
        super().__init__(name=f"run-{claim.id}", daemon=True)
        self.observer = observer or NoObserver()
        self.store, self.claim, self.settings, self.worker_id = store, claim, settings, worker_id
        self.interrupt = interrupt  # the worker is stopping: stop the engine, put the run back
        self.preempt = preempt or threading.Event()  # ... because the worker was preempted
        self.on_exit = on_exit
        self.executor = executor or LocalExecutor()
        self.outcome: Outcome | None = None
        self.proc: EngineProcess | None = None
        self._stopper: EngineHandle | None = None

    @functools.cached_property
    def run_dir(self) -> Path:
        """The stored one (older runs keep theirs), else runs/<db-name>-<uuid8>/<id>."""
        if self.claim.run_dir:
            return Path(self.claim.run_dir)
        return self.settings.runs_dir / database_label(self.store) / str(self.claim.id)

    def run(self) -> None:
        try:
            self._attempt()
        except Exception:
            log.exception("run %s: the worker failed while supervising it", self.claim.id)
            failure = traceback.format_exc()
            if self._stopper is not None:  # never leave an engine training unsupervised
                self._stopper.stop("the worker failed while supervising this run")
                self._stopper.wait_exit()
            message = "the worker failed while supervising this run; its engine was stopped"
            try:
                self._finish(Outcome("failed", "worker", message, failure))
            except Exception:  # the database refuses writes too: the lease expires and the reaper records it
                log.exception("run %s: cannot record the failure either", self.claim.id)
        finally:
            if self.on_exit is not None:
                self.on_exit.set()

    # -- starting ---------------------------------------------------------------------

    def _command(self, config_path: Path) -> list[str]:
        args = ["run", "--config", str(config_path), "--run-dir", str(self.run_dir)]
        return [*self.settings.engine_cmd, *args, *(["--resume"] if self.claim.resume else [])]

    def _own_run_dir(self) -> RunDirLock | None:
        """Lock the run directory, waiting while an old attempt's engine still holds it."""
        lock = RunDirLock(self.run_dir)
        wait_s = self.settings.lease_s + 2 * self.settings.grace_s + LOCK_MARGIN_S
        next_beat = time.monotonic() + self.settings.heartbeat_s

        def keep_alive() -> None:  # our own lease must not run out while we wait
            nonlocal next_beat
            if time.monotonic() >= next_beat:
                next_beat = time.monotonic() + self.settings.heartbeat_s
                with contextlib.suppress(OperationalError):
                    renew_lease(self.store, self.claim.id, self.worker_id, self.settings.lease_s)

        try:
            lock.acquire(wait_s, keep_alive)
        except RunDirBusy as exc:
            self._finish(Outcome("failed", "run_dir", f"{exc}; retry the run once that engine has exited"))
            return None
        return lock

    def _start(self) -> EngineProcess | None:
        config_path = self.run_dir / "config.json"
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            stamp_database(self.run_dir, database_id(self.store))
        except ForeignRunDir as exc:
            self._finish(Outcome("failed", "run_dir", str(exc)))
            return None
        except OSError as exc:
            self._finish(write_failure(self.run_dir, exc))
            return None
        lock = self._own_run_dir()
        if lock is None:
            return None
        try:
            return self._spawn(lock, config_path)
        finally:
            lock.release()  # the engine holds its own copy from here on

    def _spawn(self, lock: RunDirLock, config_path: Path) -> EngineProcess | None:
        try:
            write_atomic(config_path, self.claim.config_json)
        except OSError as exc:
            self._finish(write_failure(config_path, exc))
            return None
        write_lease(self.run_dir, time.time() + self.settings.lease_s)
        command = self._command(config_path)
        facts = capture(self.claim.seed, self.claim.config_hash)
        assert lock.fd is not None
        env = {**os.environ, "PYTHONUNBUFFERED": "1", ENV_LEASE_FILE: str(self.run_dir / LEASE_NAME)}
        try:
            proc = self.executor.start(command, env, keep_fds=(lock.fd,))
        except OSError as exc:
            self._finish(Outcome("failed", "exception", f"cannot start the engine {command[0]!r}: {exc}"))
            return None
        lock.stamp(f"pid {proc.pid}, attempt {self.claim.attempt}, worker {self.worker_id}")
        environment = {**facts.environment, "attempt": self.claim.attempt, "command": command}
        with self.store.write() as session:
            session.execute(
                update(Run)
                .where(Run.id == self.claim.id, Run.worker_id == self.worker_id)
                .values(
                    pid=proc.pid,
                    run_dir=str(self.run_dir),
                    git_commit=facts.git.commit,
                    git_dirty=facts.git.dirty,
                    environment=environment,
                )
                .execution_options(synchronize_session=False)
            )
        return proc

    # -- running ----------------------------------------------------------------------

    def _attempt(self) -> None:
        oom_before = oom_kill_count()
        proc = self._start()
        if proc is None:
            return
        self.proc = proc
        assert proc.stdout is not None and proc.stderr is not None
        lines: queue.Queue[Any] = queue.Queue()
        tail: deque[str] = deque(maxlen=self.settings.stderr_lines)

        def keep_stderr(raw: bytes) -> None:
            tail.append(raw[:STDERR_LINE_CHARS].decode("utf-8", errors="replace"))

        readers = [
            threading.Thread(target=pump_lines, args=(proc.stdout, lines.put, lambda: lines.put(_EOF)), daemon=True),
            threading.Thread(target=pump_lines, args=(proc.stderr, keep_stderr, lambda: None), daemon=True),
        ]
        for reader in readers:
            reader.start()
        ingestor = RunIngestor(self.store, self.claim.id, self.claim.attempt, owner=self.worker_id)
        end = Ending(returncode=0)
        stopper = self._stopper = EngineHandle(proc, self.settings.grace_s, _noting_stop(ingestor))
        lease_held = self._stream(lines, ingestor, end, stopper)
        end.returncode = stopper.wait_exit()
        if self.interrupt.is_set():  # the engine may have had the same signal first (scancel signals the job)
            end.worker_stopping, end.preempted = True, self.preempt.is_set()
        for reader in readers:
            reader.join(timeout=5)
        ingestor.flush()
        if not lease_held:
            log.warning("run %s: lease lost; another worker owns it now, its result is not recorded", self.claim.id)
            return
        oom_after = oom_kill_count()
        end.escalated = stopper.escalated
        end.oom_killed = oom_before is not None and oom_after is not None and oom_after > oom_before
        end.stderr_last_line = tail[-1].strip() if tail else ""
        outcome = preemption_limited(classify(end), self.claim.preemptions, self.settings.max_preemptions)
        self._finish(outcome, returncode=end.returncode, stderr_tail="".join(tail))

    def _stream(self, lines: queue.Queue[Any], ingestor: RunIngestor, end: Ending, stopper: EngineHandle) -> bool:
        """Ingest until the engine closes stdout; False when the lease was lost meanwhile."""
        now = time.monotonic()
        next_beat, next_cancel_check = now + self.settings.heartbeat_s, now + CANCEL_POLL_S
        while True:
            try:
                line = lines.get(timeout=0.2)
            except queue.Empty:
                line = None
            if line is _EOF:
                return True
            try:
                if line is not None:
                    event = _take(line, ingestor, end)
                    if event is not None:
                        self.observer.event(self.claim, event)
                if ingestor.due:
                    ingestor.flush()
                if not ingestor.owned:  # a flush found the run taken away: the lease is gone
                    stopper.stop("lease lost")
                    stopper.wait_exit()
                    return False
                now = time.monotonic()
                if now >= next_cancel_check:
                    next_cancel_check = now + CANCEL_POLL_S
                    end.cancel_requested = end.cancel_requested or self._cancel_requested()
                if now >= next_beat:
                    next_beat = now + self.settings.heartbeat_s
                    lease = renew_lease(self.store, self.claim.id, self.worker_id, self.settings.lease_s)
                    if lease.held:
                        write_lease(self.run_dir, time.time() + self.settings.lease_s)
                    if not lease.held:
                        stopper.stop("lease lost")
                        stopper.wait_exit()
                        return False
                    end.cancel_requested = end.cancel_requested or lease.cancel_requested
            except OperationalError as exc:  # rows stay buffered; the next flush retries
                log.warning("run %s: database error, retrying: %s", self.claim.id, exc)
            if end.cancel_requested:
                stopper.stop("cancel requested")
            elif self.interrupt.is_set():
                end.worker_stopping, end.preempted = True, self.preempt.is_set()
                stopper.stop("worker preempted" if end.preempted else "worker stopping")
            stopper.escalate()

    def _cancel_requested(self) -> bool:
        with self.store.session() as session:
            return bool(session.scalar(select(Run.cancel_requested).where(Run.id == self.claim.id)))

    # -- ending -----------------------------------------------------------------------

    def _finish(self, outcome: Outcome, returncode: int | None = None, stderr_tail: str | None = None) -> None:
        self.outcome = outcome
        self.observer.ended(self.claim, outcome)
        requeue = outcome.status == "queued"
        values: dict[str, Any] = {
            "status": outcome.status,
            "failure_kind": outcome.failure_kind,
            "error": outcome.error,
            "traceback": outcome.traceback,
            "exit_code": returncode,
            "stderr_tail": stderr_tail,
            "pid": None,
            "lease_expires_at": None,
            "finished_at": None if requeue else now_utc(),
            "cancel_requested": False,
        }
        if requeue:  # a worker shutdown is not the run's fault: the attempt does not use up the
            # budget, but keeps its number, so the next attempt's events are told apart from it
            values.update(max_attempts=Run.max_attempts + 1, worker_id=None)
        if outcome.failure_kind == "preempted":
            values.update(preemptions=Run.preemptions + 1)
        with self.store.write() as session:
            session.execute(
                update(Run)
                .where(Run.id == self.claim.id, Run.worker_id == self.worker_id, Run.status == "running")
                .values(**values)
                .execution_options(synchronize_session=False)
            )


def _noting_stop(ingestor: RunIngestor) -> Callable[[str, str], None]:
    """The run's events record each stop the worker asks for, with its reason and signal."""
    return lambda reason, sig: ingestor.note("stop", {"reason": reason, "signal": sig})


def write_atomic(path: Path, text: str) -> None:
    """Write through a temp file and rename; a failed write (a full disk) leaves no temp file."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _take(line: bytes, ingestor: RunIngestor, end: Ending) -> Event | None:
    """Decode one stdout line, note how the attempt ends, and hand it to the ingestor; the event, if it is one."""
    item = decode_bytes(line)
    if isinstance(item, RunFinished):
        end.finished = item
    elif isinstance(item, RunFailed):
        end.failed = item
    elif isinstance(item, RunCancelled):
        end.cancelled = item
    ingestor.add(item)
    return None if isinstance(item, BadLine) else item
