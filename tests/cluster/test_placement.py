"""Checks before submitting: SQLite needs --same-node, run directories need a shared file system."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmd4rec_tui.cluster.placement import PlacementError, WorkerSpec, absolute_db_url, check_spec, file_system_of

MOUNTS = """\
overlay / overlay rw,relatime 0 0
proc /proc proc rw 0 0
nas:/export/home /home nfs4 rw,vers=4.2 0 0
/dev/sda1 /home/local ext4 rw 0 0
lustre@o2ib:/scratch /scratch lustre rw 0 0
"""


def test_the_file_system_is_the_deepest_mount_holding_the_path() -> None:
    assert file_system_of(Path("/home/ana/runs"), MOUNTS) == ("nfs4", "/home")
    assert file_system_of(Path("/home/local/runs"), MOUNTS) == ("ext4", "/home/local")
    assert file_system_of(Path("/homework"), MOUNTS) == ("overlay", "/")
    assert file_system_of(Path("/scratch"), MOUNTS) == ("lustre", "/scratch")


def test_sqlite_needs_same_node(tmp_path: Path) -> None:
    spec = WorkerSpec(db_url=f"sqlite:///{tmp_path / 'runs.db'}", runs_dir=tmp_path / "runs")
    with pytest.raises(PlacementError, match=r"is a SQLite file: .*Pass --same-node"):
        check_spec(spec)
    check_spec(WorkerSpec(db_url=spec.db_url, runs_dir=spec.runs_dir, same_node=True))
    assert (tmp_path / "runs").is_dir()


def test_a_local_runs_dir_is_refused_unless_same_node(tmp_path: Path) -> None:
    spec = WorkerSpec(db_url="postgresql+psycopg://me@db/queue", runs_dir=tmp_path / "runs")
    mounts = f"/dev/sda1 / ext4 rw 0 0\nnas:/x {tmp_path / 'shared'} nfs rw 0 0\n"
    with pytest.raises(PlacementError, match=r"is on a local file system \(ext4 at /\).*or --same-node"):
        check_spec(spec, mounts)
    check_spec(WorkerSpec(db_url=spec.db_url, runs_dir=tmp_path / "shared" / "runs"), mounts)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"workers": 0}, "--workers 0: expected at least 1"),
        ({"time": "90"}, "--time '90': expected HH:MM:SS"),
        ({"mem": "lots"}, "--mem 'lots': expected a size"),
        ({"cpus": 0}, "--cpus-per-worker 0"),
        ({"runs_dir": Path("runs")}, "expected an absolute path"),
    ],
)
def test_bad_values_name_the_option(values: dict[str, object], message: str) -> None:
    base: dict[str, object] = {"db_url": "postgresql+psycopg://me@db/q", "runs_dir": Path("/tmp"), "same_node": True}
    with pytest.raises(PlacementError, match=message.replace("(", r"\(")):
        check_spec(WorkerSpec(**{**base, **values}))  # type: ignore[arg-type]


def test_a_relative_sqlite_url_becomes_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert absolute_db_url("sqlite:///runs.db") == f"sqlite:///{tmp_path / 'runs.db'}"
    assert absolute_db_url("postgresql+psycopg://me:pw@db/q") == "postgresql+psycopg://me:pw@db/q"
