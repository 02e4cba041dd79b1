"""Turn the [data] section of a config into a SequenceDataset."""

from __future__ import annotations

from engine.config import DataSection
from engine.data.dataset import SequenceDataset
from engine.data.synthetic import make_synthetic


def load_dataset(section: DataSection) -> SequenceDataset:
    if section.dataset == "synthetic":
        return make_synthetic(
            users=section.synthetic_users,
            items=section.synthetic_items,
            length=section.synthetic_length,
            seed=section.synthetic_seed,
        )
    raise NotImplementedError(f"dataset {section.dataset!r} is not available yet")
