"""Config loading, validation messages, sweeps and the stable hash."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.config import Config, ConfigError, config_from_dict, config_to_toml, expand_file, load_config, read_toml


def write(tmp_path: Path, text: str, name: str = "c.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_defaults_fill_a_minimal_file(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, '[run]\nname = "x"\n[crm]\nhidden_size = 32\n'))
    assert config.run.name == "x" and config.crm.hidden_size == 32
    assert config.crm.model == "sasrec" and config.eval.ks == [5, 10, 20]


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "nope.toml")
    assert "nope.toml" in str(err.value) and "existing config file" in str(err.value)


def test_syntax_error_gives_line_and_column(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, "[crm]\nhidden_size = = 3\n"))
    message = str(err.value)
    assert "c.toml" in message and "line 2" in message and "column" in message


def test_unknown_key_suggests_the_closest(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, "[crm]\nhiden_size = 3\n"))
    assert "crm.hiden_size" in str(err.value) and "did you mean 'hidden_size'" in str(err.value)


def test_unknown_section_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, "[crmm]\nx = 1\n"))
    assert "did you mean 'crm'" in str(err.value)


@pytest.mark.parametrize(
    ("text", "key", "expected"),
    [
        ('[crm]\nhidden_size = "big"\n', "crm.hidden_size", "an integer"),
        ("[crm]\nhidden_size = 1.5\n", "crm.hidden_size", "an integer"),
        ("[train]\nllm_lr = true\n", "train.llm_lr", "a number"),
        ('[crm]\nmodel = "sasrek"\n', "crm.model", "did you mean 'sasrec'"),
        ("[run]\ntags = [1]\n", "run.tags[0]", "a string"),
        ("[distill]\nteacher_samples_per_user = -1\n", "distill.teacher_samples_per_user", "an integer >= 0, or none"),
        ('[distill]\nteacher_samples_per_user = "all"\n', "distill.teacher_samples_per_user", "an integer or none"),
        ('[data]\nmin_rating = "high"\n', "data.min_rating", "a number or none"),
    ],
)
def test_wrong_type_names_key_value_and_expectation(tmp_path: Path, text: str, key: str, expected: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text))
    assert err.value.key == key
    assert expected in str(err.value)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[crm]\nhidden_size = 0\n", "crm.hidden_size"),
        ("[crm]\ndropout = 1.5\n", "crm.dropout"),
        ("[distill]\nt1 = 0\n", "distill.t1"),
        ("[crm]\nhidden_size = 30\nnum_heads = 4\n", "crm.num_heads"),
        ("[eval]\nks = [5, 20]\n", "eval.ks"),
    ],
)
def test_out_of_range_values_are_rejected(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text))
    assert err.value.key == key
    assert "expected" in str(err.value)


def test_hash_is_stable_and_ignores_labels() -> None:
    a = config_from_dict({"run": {"name": "a", "tags": ["x"]}, "crm": {"hidden_size": 32}})
    b = config_from_dict({"crm": {"hidden_size": 32}, "run": {"name": "b"}})
    c = config_from_dict({"crm": {"hidden_size": 64}})
    assert a.hash() == b.hash() != c.hash()
    assert a.hash() == config_from_dict(a.to_dict()).hash()


def test_resolved_config_round_trips_through_json_and_toml(tmp_path: Path) -> None:
    config = config_from_dict({"run": {"seed": 7}, "data": {"min_rating": 4.0}})
    assert config_from_dict(__import__("json").loads(config.to_json())) == config
    again = config_from_dict(read_toml(write(tmp_path, config_to_toml(config))))
    assert again == config


def test_sweep_expands_grid_and_seeds(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[run]\nname = "s"\n[sweep]\n"distill.gamma" = [0.5, 1.0]\nseeds = [1, 2, 3]\n',
    )
    configs = expand_file(path)
    assert len(configs) == 6
    assert {(c.distill.gamma, c.run.seed) for c in configs} == {(g, s) for g in (0.5, 1.0) for s in (1, 2, 3)}
    assert configs[0].run.name == "s gamma=0.5"
    assert len({c.hash() for c in configs}) == 6


def test_sweep_with_a_bad_value_names_the_combination(tmp_path: Path) -> None:
    path = write(tmp_path, '[sweep]\n"crm.hidden_size" = [32, -1]\n')
    with pytest.raises(ConfigError) as err:
        expand_file(path)
    assert "crm.hidden_size" in str(err.value) and "-1" in str(err.value)


def test_sweep_needs_lists(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        expand_file(write(tmp_path, '[sweep]\n"crm.hidden_size" = 32\n'))
    assert "non-empty list" in str(err.value)


def test_model_selection_properties() -> None:
    assert Config().trains_crm and not Config().trains_llm
    mutual = config_from_dict({"distill": {"mode": "mutual"}})
    assert mutual.trains_crm and mutual.trains_llm
