"""Placing ordinary workers on a cluster (Slurm, Ray); the SQL queue stays the source of truth."""
