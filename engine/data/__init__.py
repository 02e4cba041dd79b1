"""Datasets: loading, preprocessing, leave-one-out splits and sample views."""

from engine.data.dataset import SequenceDataset
from engine.data.load import load_dataset

__all__ = ["SequenceDataset", "load_dataset"]
