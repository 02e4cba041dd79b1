"""engine/catalog.py names what the config accepts and what the loaders provide."""

from __future__ import annotations

import pytest

from engine import catalog
from engine.backbone_catalog import PACKAGED
from engine.config import ConfigError, config_from_dict
from engine.data.builtin import BUILTINS


def test_the_loaders_provide_exactly_the_fetched_names() -> None:
    assert tuple(BUILTINS) == catalog.FETCHED_DATASETS
    assert tuple(PACKAGED) == catalog.FETCHED_BACKBONES
    assert set(catalog.FETCHED_DATASETS) < set(catalog.DATASETS)
    assert set(catalog.FETCHED_BACKBONES) < set(catalog.BACKBONES)


@pytest.mark.parametrize("name", [n for n in catalog.DATASETS if n != catalog.PATH])
def test_every_named_dataset_is_a_valid_config(name: str) -> None:
    assert config_from_dict({"data": {"dataset": name}}, "t").data.dataset == name


def test_an_unnamed_dataset_is_refused_with_the_catalog_as_choices() -> None:
    with pytest.raises(ConfigError) as caught:
        config_from_dict({"data": {"dataset": "ml-10m"}}, "t")
    assert all(repr(name) in str(caught.value) for name in catalog.DATASETS)


def test_names_lists_like_prose() -> None:
    assert catalog.names(("a",)) == "a"
    assert catalog.names({"a": "", "b": "", "c": ""}) == "a, b or c"
