"""The tags that tie runs to a study, and the rule that keeps trials out of results tables.

A trial run carries its base config's tags too (so `runs ls --tag SET` finds it), but its
test metrics are not a result: a table chosen by the set's tag that showed every trial
would invite picking the best one on test. Results tables, figures and `search final`
therefore leave trials out unless they are chosen by id or by a tag of the study itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

STUDY_PREFIX = "study:"
_TRIAL_TAG = re.compile(r"study:.+:trial:\d+")


def study_tag(name: str) -> str:
    return f"{STUDY_PREFIX}{name}"


def best_tag(name: str) -> str:
    return f"{STUDY_PREFIX}{name}:best"


def trial_tag(name: str, number: int) -> str:
    return f"{STUDY_PREFIX}{name}:trial:{number}"


def is_trial_run(tags: Iterable[str]) -> bool:
    return any(_TRIAL_TAG.fullmatch(tag) for tag in tags)


def in_tag_selection(run_tags: Iterable[str], tag: str | None) -> bool:
    """Whether a run chosen by a filter on this tag (none: no tag) belongs in a results
    table: every run but a study's trials, which only the study's own tags select."""
    return (tag is not None and tag.startswith(STUDY_PREFIX)) or not is_trial_run(run_tags)
