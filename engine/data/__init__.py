"""Datasets: loading, preprocessing, leave-one-out splits and sample views."""

from engine.data.dataset import SequenceDataset
from engine.data.errors import DataError
from engine.data.load import load_dataset

__all__ = ["DataError", "SequenceDataset", "load_dataset"]
