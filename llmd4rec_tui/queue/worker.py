"""The worker loop: reap lost runs, claim up to N runs, supervise each in a thread.

Stopping: the first SIGINT/SIGTERM stops claiming; without --drain it also interrupts the
running engines gracefully, and their runs go back to the queue to resume elsewhere. With
--drain they finish first; a second signal interrupts them anyway.

Preemption: SIGUSR1 (what a Slurm job gets before its time limit), or SIGTERM for a
worker inside a cluster job (what scancel and a preempting scheduler send), stops the
engines at once whatever --drain says; their runs go back to the queue as `preempted`,
the attempt not counted, and resume after their last checkpoint on any worker.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from llmd4rec_tui.queue.claim import claim_next
from llmd4rec_tui.queue.executor import Executor, LocalExecutor
from llmd4rec_tui.queue.gpus import gpu_shares
from llmd4rec_tui.queue.lease import new_worker_id, reap_expired, register_worker, worker_heartbeat
from llmd4rec_tui.queue.observer import NoObserver, WorkerObserver
from llmd4rec_tui.queue.settings import WorkerSettings
from llmd4rec_tui.queue.supervisor import Supervisor
from llmd4rec_tui.store.db import Store
from llmd4rec_tui.store.models import Run

log = logging.getLogger(__name__)


class QueueWorker:
    def __init__(
        self,
        store: Store,
        settings: WorkerSettings,
        worker_id: str | None = None,
        executor: Executor | None = None,
        observer: WorkerObserver | None = None,
    ) -> None:
        self.store, self.settings = store, settings
        self.observer = observer or NoObserver()
        self.id = worker_id or new_worker_id()
        self.executor = executor or LocalExecutor(gpu_shares(settings.gpus, settings.concurrency))
        self.stopping = threading.Event()  # claim nothing more
        self.interrupt = threading.Event()  # stop the running engines too
        self.preempted = threading.Event()  # ... because this worker is being preempted
        self._wake = threading.Event()
        self._signals = 0
        self.supervisors: list[Supervisor] = []
        self.started: list[int] = []  # run ids this worker claimed, in order

    def request_stop(self) -> None:
        self._signals += 1
        self.stopping.set()
        if not self.settings.drain or self._signals > 1:
            self.interrupt.set()
        self._wake.set()

    def request_preempt(self) -> None:
        """Stop claiming, stop the engines now (--drain or not), and put their runs back as preempted."""
        self.preempted.set()
        self.stopping.set()
        self.interrupt.set()
        self._wake.set()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        preempt = signum == signal.SIGUSR1 or (signum == signal.SIGTERM and self.settings.cluster_job is not None)
        what = "preempted" if preempt else "stopping"
        log.warning("worker %s: %s received, %s", self.id, signal.Signals(signum).name, what)
        if preempt:
            self.request_preempt()
        else:
            self.request_stop()

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGUSR1, self._on_signal)

    def run(self) -> list[int]:
        """Work until stopped (or, with until_empty, until there is nothing left); the run ids claimed."""
        register_worker(self.store, self.id, self.settings.concurrency, self.settings.cluster_job)
        try:
            self._loop()
        except BaseException:
            self.interrupt.set()  # the worker is going down: put its runs back rather than wait for them
            raise
        finally:
            for supervisor in self.supervisors:
                supervisor.join()
            try:
                worker_heartbeat(self.store, self.id, stopped=True)
            except SQLAlchemyError as exc:  # leaving anyway: the heartbeat simply ages out
                log.warning("worker %s: could not record its stop: %s", self.id, exc)
        return self.started

    def _loop(self) -> None:
        while True:
            try:
                if self._tick():
                    return
            except OperationalError as exc:  # the database went away for a moment: retry, do not die
                log.warning("worker %s: database error, retrying in %ss: %s", self.id, self.settings.poll_s, exc)
            self._wake.wait(self.settings.poll_s)
            self._wake.clear()

    def _tick(self) -> bool:
        """One round of reaping, heartbeat and claiming; True when the worker should exit.

        Stopping is decided before any write, so a database that refuses writes (a full
        disk) never keeps a stopping worker alive.
        """
        self.supervisors = [s for s in self.supervisors if s.is_alive()]
        if self.stopping.is_set() and not self.supervisors:
            return True
        reaped = reap_expired(self.store)
        if reaped:
            log.warning("worker %s: leases expired for runs %s", self.id, reaped)
        worker_heartbeat(self.store, self.id)
        queue_empty = False
        while not self.stopping.is_set() and len(self.supervisors) < self.settings.concurrency:
            claim = claim_next(self.store, self.id, self.settings.lease_s)
            if claim is None:
                queue_empty = True
                break
            log.info("worker %s: claimed run %s (attempt %s)", self.id, claim.id, claim.attempt)
            self.observer.claimed(claim)
            supervisor = Supervisor(
                self.store,
                claim,
                self.settings,
                self.id,
                self.interrupt,
                self._wake,
                self.preempted,
                self.executor,
                self.observer,
            )
            supervisor.start()
            self.supervisors.append(supervisor)
            self.started.append(claim.id)
        if not self.supervisors:
            if self.stopping.is_set():
                return True
            if self.settings.until_empty and queue_empty and not self._running_anywhere():
                return True
        return False

    def _running_anywhere(self) -> bool:
        """A run still running on some worker may come back to the queue when its lease expires."""
        with self.store.session() as session:
            return bool(session.scalar(select(func.count()).select_from(Run).where(Run.status == "running")))
