"""Hyper-parameter search over queued runs: an Optuna study in the runs' own database.

A study file names a base config, a search space and a validation objective. Each trial
is one ordinary run per seed, tagged with the study and the trial number, that any worker
claims; a coordinator (`llmd4rec search run`) reports each run's per-round validation
metric to its trial, prunes, tells finished trials back and asks for new ones, keeping at
most `parallelism` trials in the queue. All of its state is in the database, so a killed
coordinator is simply started again.
"""
