"""What `cluster submit` asks for, and the checks that run before anything is submitted.

A cluster only places workers: every worker reads and writes the one SQL queue and its
run directories, so both must be reachable from every node. A SQLite file (and a runs
folder on a local disk) is only shared by workers on one node, hence --same-node.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import make_url

#: File systems whose files every node of a cluster sees.
SHARED_FS = frozenset(
    {"nfs", "nfs4", "lustre", "gpfs", "beegfs", "cephfs", "ceph", "glusterfs", "fuse.glusterfs", "panfs", "wekafs"}
    | {"orangefs", "pvfs2", "cifs", "smb3", "fuse.sshfs", "fuse.juicefs", "fuse.s3fs", "virtiofs", "9p"}
)
TIME_RE = re.compile(r"^(\d+-)?\d+:\d{2}:\d{2}$")
MEM_RE = re.compile(r"^\d+[KMGT]?$")


class PlacementError(ValueError):
    """A submission that cannot work as asked; the message says what to change."""


@dataclass(frozen=True)
class WorkerSpec:
    """N ordinary `llmd4rec worker` processes to place on a cluster."""

    db_url: str
    runs_dir: Path
    workers: int = 1
    gpus: int = 0  # per worker
    cpus: int | None = None  # per worker
    mem: str | None = None  # per worker, Slurm's syntax (16G)
    time: str | None = None  # HH:MM:SS or D-HH:MM:SS
    partition: str | None = None
    sbatch_args: tuple[str, ...] = ()
    worker_args: tuple[str, ...] = ()  # extra `llmd4rec worker` options (--concurrency 2, --lease 120...)
    until_empty: bool = False
    same_node: bool = False
    python: str = field(default_factory=lambda: sys.executable)

    def worker_command(self) -> list[str]:
        """The worker each job runs: this interpreter, so the cluster runs this very install."""
        command = [self.python, "-m", "llmd4rec_tui", "--db", self.db_url, "worker", "--runs-dir", str(self.runs_dir)]
        return [*command, *(["--until-empty"] if self.until_empty else []), *self.worker_args]

    def options(self) -> dict[str, object]:
        """What was asked for, as recorded beside each job (the URL is left out: it may hold a password)."""
        return {
            "workers": self.workers,
            "gpus": self.gpus,
            "cpus": self.cpus,
            "mem": self.mem,
            "time": self.time,
            "partition": self.partition,
            "sbatch_args": list(self.sbatch_args),
            "worker_args": list(self.worker_args),
            "until_empty": self.until_empty,
            "same_node": self.same_node,
            "runs_dir": str(self.runs_dir),
        }


def check_spec(spec: WorkerSpec, mounts: str | None = None) -> None:
    """PlacementError unless every worker of this spec can reach the queue and the run directories."""
    if spec.workers < 1:
        raise PlacementError(f"--workers {spec.workers}: expected at least 1")
    if spec.gpus < 0:
        raise PlacementError(f"--gpus-per-worker {spec.gpus}: expected 0 or more")
    if spec.cpus is not None and spec.cpus < 1:
        raise PlacementError(f"--cpus-per-worker {spec.cpus}: expected at least 1")
    if spec.time is not None and not TIME_RE.match(spec.time):
        raise PlacementError(f"--time {spec.time!r}: expected HH:MM:SS or D-HH:MM:SS")
    if spec.mem is not None and not MEM_RE.match(spec.mem):
        raise PlacementError(f"--mem {spec.mem!r}: expected a size such as 16G or 16000M")
    url = make_url(spec.db_url)
    if url.get_backend_name() == "sqlite" and not spec.same_node:
        raise PlacementError(
            f"{spec.db_url} is a SQLite file: it works only when every worker shares one node's file system. "
            "Pass --same-node (the workers are pinned to this node), or use a PostgreSQL URL"
        )
    if not spec.runs_dir.is_absolute():
        raise PlacementError(f"--runs-dir {spec.runs_dir}: expected an absolute path (jobs start elsewhere)")
    try:
        spec.runs_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PlacementError(f"--runs-dir {spec.runs_dir}: cannot create it ({exc.strerror})") from exc
    if not spec.same_node:
        fs_type, mount_point = file_system_of(spec.runs_dir, mounts)
        if fs_type not in SHARED_FS:
            raise PlacementError(
                f"--runs-dir {spec.runs_dir} is on a local file system ({fs_type} at {mount_point}): workers on "
                "other nodes cannot see it. Pass a folder on a shared file system (NFS, Lustre, GPFS, BeeGFS, "
                "CephFS...), or --same-node"
            )


def file_system_of(path: Path, mounts: str | None = None) -> tuple[str, str]:
    """The type and mount point of the file system holding path (from /proc/mounts by default)."""
    text = Path("/proc/mounts").read_text() if mounts is None else mounts
    resolved = str(path.resolve())
    best = ("unknown", "/")
    best_len = -1
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        point = fields[1].replace("\\040", " ")
        inside = resolved == point or resolved.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= best_len:  # the last of equal mounts is the one in effect
            best, best_len = (fields[2], point), len(point)
    return best


def absolute_db_url(db_url: str) -> str:
    """A SQLite URL with an absolute path (a job starts in another folder); other URLs as given."""
    url = make_url(db_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return db_url
    return url.set(database=str(Path(url.database).resolve())).render_as_string(hide_password=False)
