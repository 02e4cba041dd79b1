"""The shipped example configs validate, and each experiment set really shares round 0."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.config import expand_file
from engine.phase_cache import round0_key
from engine.schedule import plan_phases

CONFIGS = Path(__file__).resolve().parents[2] / "examples" / "configs"
SETS = ("ml100k", "ml100k-every-item", "ml1m", "ml1m-cpu", "quickstart")


@pytest.mark.parametrize("path", sorted(CONFIGS.rglob("*.toml")), ids=lambda p: str(p.relative_to(CONFIGS)))
def test_example_config_validates(path: Path) -> None:
    assert expand_file(path)


#: Files that train their LLM differently on purpose (an epoch-matched baseline).
OWN_LLM_ROUND0 = {"e4srec_6epochs.toml", "e4srec_layout.toml", "e4srec_title_emb.toml"}
#: A second CRM baseline beside the set's SASRec: no LLM and a round 0 of its own.
SECOND_CRM = {"gru4rec.toml"}


@pytest.mark.parametrize("name", SETS)
def test_a_set_trains_round0_once_per_seed(name: str) -> None:
    """Within a set, runs with the same seed differ only in [distill] and labels, so every
    round-0 phase is trained once and reused (train.reuse_round0)."""
    paths = [path for path in sorted((CONFIGS / name).glob("*.toml")) if path.name not in SECOND_CRM]
    for model in ("crm", "llm"):
        keys_by_seed: dict[int, set[str]] = {}
        for path in paths:
            if model == "llm" and path.name in OWN_LLM_ROUND0:
                continue
            for config in expand_file(path):
                keys_by_seed.setdefault(config.run.seed, set()).add(round0_key(config, model, {}))
        assert keys_by_seed and all(len(keys) == 1 for keys in keys_by_seed.values()), (model, keys_by_seed)


#: Epoch caps the sets' best epochs stay far below (docs/results: CRM best epochs 13-34,
#: LLM best epochs 4-6), so early stopping on validation, not the cap, ends every phase.
CRM_EPOCH_CAP, LLM_EPOCH_CAP, PATIENCE = 200, 100, 10


@pytest.mark.parametrize("name", SETS)
def test_a_set_trains_round0_to_convergence(name: str) -> None:
    """Round 0 is each set's single-model baselines: patience >= 10 on validation and caps
    that do not bind, so no gain row measures an under-trained baseline."""
    for path in sorted((CONFIGS / name).glob("*.toml")):
        for config in expand_file(path):
            train = config.train
            assert train.patience >= PATIENCE, (path.name, train.patience)
            assert train.crm_epochs >= CRM_EPOCH_CAP, (path.name, train.crm_epochs)
            if any(phase.model == "llm" for phase in plan_phases(config)):
                assert train.llm_epochs >= LLM_EPOCH_CAP, (path.name, train.llm_epochs)
