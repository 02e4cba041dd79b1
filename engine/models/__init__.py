"""Recommender modules (no I/O, no training loops)."""
