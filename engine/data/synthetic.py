"""A synthetic dataset with learnable sequential structure, generated from a seed.

Items form a hidden ring of "genres"; each user drifts around the ring, so the next item
is predictable from the last few (a model that learns beats popularity). Titles are
generated words so the LLM prompt modes have text to show.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np

from engine.data.dataset import SequenceDataset

_WORDS = [
    "red",
    "blue",
    "green",
    "quiet",
    "loud",
    "lost",
    "found",
    "night",
    "day",
    "river",
    "stone",
    "glass",
    "iron",
    "paper",
    "silver",
    "golden",
    "hidden",
    "broken",
    "last",
    "first",
    "little",
    "great",
    "wild",
    "calm",
    "dark",
    "bright",
]
_NOUNS = ["city", "garden", "road", "house", "storm", "dream", "song", "winter", "summer", "ship", "tower", "forest"]


def make_synthetic(users: int = 300, items: int = 120, length: int = 20, seed: int = 0) -> SequenceDataset:
    rng = np.random.default_rng(seed)
    sequences: list[np.ndarray] = []
    for _ in range(users):
        n = max(5, int(rng.poisson(length)))
        pos = int(rng.integers(items))
        step = int(rng.choice([1, 2, 3]))
        seq = []
        for _ in range(n):
            # Mostly a deterministic walk on the ring, sometimes a random jump.
            pos = int(rng.integers(items)) if rng.random() < 0.15 else (pos + step) % items
            seq.append(pos + 1)
        sequences.append(np.asarray(seq, dtype=np.int64))
    titles = [""] + [
        f"The {_WORDS[i % len(_WORDS)].title()} {_NOUNS[(i // len(_WORDS)) % len(_NOUNS)].title()} {i}"
        for i in range(items)
    ]
    spec = {"users": users, "items": items, "length": length, "seed": seed}
    fingerprint = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]
    return SequenceDataset(
        name="synthetic",
        num_items=items,
        sequences=sequences,
        item_text=titles,
        user_ids=[str(u) for u in range(users)],
        item_ids=[""] + [str(i) for i in range(1, items + 1)],
        fingerprint=fingerprint,
        preprocessing={"synthetic": spec},
    )
