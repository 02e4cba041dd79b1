"""The processed-dataset cache: one uncompressed .npz per (input files, preprocessing) key.

The key hashes the content of every input file and the preprocessing record, so changing
either gives a new entry and an old entry is never served for new settings. Entries are
written to a temporary file and renamed into place, so a failure never leaves a partial
entry; an unreadable entry is treated as missing and rebuilt. No pickle: strings are stored
as NumPy unicode arrays and the metadata as one JSON string.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from engine.data.dataset import SequenceDataset
from engine.data.preprocess import Processed

#: Bump when the stored layout or the preprocessing rules change.
CACHE_VERSION = 2


def cache_key(name: str, input_hashes: dict[str, str], preprocessing: dict[str, Any]) -> str:
    """16 hex digits identifying the processed result; also the dataset fingerprint."""
    spec = {"version": CACHE_VERSION, "name": name, "inputs": input_hashes, "preprocessing": preprocessing}
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


def entry_path(folder: Path, name: str, key: str) -> Path:
    return folder / f"{name}-{key}.npz"


def save_processed(path: Path, processed: Processed, dataset: SequenceDataset) -> None:
    """Write atomically: a temporary file in the same folder, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    meta: dict[str, Any] = {
        "name": dataset.name,
        "fingerprint": dataset.fingerprint,
        "preprocessing": dataset.preprocessing,
        "time_range": list(processed.time_range) if processed.time_range is not None else None,
    }
    handle, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            np.savez(
                out,
                items=processed.items.astype(np.int32),
                offsets=processed.offsets,
                user_ids=np.asarray(processed.user_ids, dtype=str),
                item_ids=np.asarray(processed.item_ids, dtype=str),
                item_text=np.asarray(dataset.item_text, dtype=str),
                item_genres=np.asarray(dataset.item_genres, dtype=str),
                meta=np.asarray(json.dumps(meta)),
            )
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def load_processed(path: Path) -> SequenceDataset | None:
    """The cached dataset, or None when the entry is missing or unreadable."""
    try:
        with np.load(path, allow_pickle=False) as stored:
            meta = json.loads(str(stored["meta"]))
            items = stored["items"].astype(np.int64)
            offsets = stored["offsets"]
            user_ids = stored["user_ids"].tolist()
            item_ids = stored["item_ids"].tolist()
            item_text = stored["item_text"].tolist()
            item_genres = stored["item_genres"].tolist()
    except (FileNotFoundError, OSError, ValueError, KeyError, zipfile.BadZipFile, json.JSONDecodeError):
        return None
    sequences = np.split(items, offsets[1:-1]) if len(offsets) > 1 else []
    span = meta["time_range"]
    return SequenceDataset(
        name=meta["name"],
        num_items=len(item_ids) - 1,
        sequences=sequences,
        item_text=item_text,
        user_ids=user_ids,
        item_ids=item_ids,
        fingerprint=meta["fingerprint"],
        preprocessing=meta["preprocessing"],
        item_genres=item_genres,
        time_range=(float(span[0]), float(span[1])) if span is not None else None,
    )
