import re
from pathlib import Path

import pytest

from model_collapse.api import load_config
from model_collapse.assemble.validate import config_from_dict
from model_collapse.config import Config, config_to_dict, config_to_toml, parse_override, read_toml
from model_collapse.core.errors import UserInputError


def test_defaults_hold_the_design_keys():
    config = config_from_dict({})
    assert config.experiment.generations >= 1 and config.experiment.seeds >= 1
    assert config.source.name == "gaussian" and config.family.name == "gaussian"
    assert config.regime.name == "replace" and config.regime.params == {}
    assert config.sampling.n == 1000 and config.family.estimator == "mle"
    # derived defaults are made explicit so the saved config repeats the run
    assert config.source.n_train == 1000
    subsample = config_from_dict({"regime": {"name": "accumulate-subsample"}})
    assert subsample.regime.size == 1000
    assert config_from_dict({"regime": {"name": "mix"}}).regime.real_fraction == 0.1


def test_toml_round_trip_gives_the_same_config(tmp_path: Path):
    config = load_config(
        {
            "source": {"cov": [[1.0, 0.5], [0.5, 2.0]], "dim": 2},
            "family": {"name": "kde", "bandwidth": 0.3},
            "metrics": {"names": ["mean_error"]},
        }
    )
    path = tmp_path / "c.toml"
    path.write_text(config_to_toml(config))
    assert config_from_dict(read_toml(path)) == config


def test_overrides_are_typed_and_bare_strings_allowed():
    config = load_config(
        {},
        [
            "family.name=gmm",
            "sampling.n=30",
            "regime.name=mix",
            "regime.real_fraction=0.5",
            "family.exact=true",
            'source.name="zipf"',
        ],
    )
    assert config.family.name == "gmm" and config.sampling.n == 30
    assert config.regime.real_fraction == 0.5 and config.family.exact is True
    assert config.source.name == "zipf"
    assert parse_override("a.b = [1, 2]") == ("a", "b", [1, 2])


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {"family": {"estimater": "mle"}},
            "unknown config key family.estimater; did you mean 'family.estimator'?",
        ),
        ({"famly": {}}, "unknown config section [famly]; did you mean 'family'?"),
        (
            {"experiment": {"generations": 0}},
            "experiment.generations must be in the range [1, 10000000], got 0",
        ),
        (
            {"regime": {"name": "mix", "real_fraction": 1.5}},
            "regime.real_fraction must be in the range [0, 1], got 1.5",
        ),
        (
            {"regime": {"name": "fresh", "real_fraction": -0.1}},
            "regime.real_fraction must be in the range [0, 1], got -0.1",
        ),
        (
            {"family": {"name": "gmm", "components": 0}},
            "family.components must be in the range [1, 1000], got 0",
        ),
        (
            {"family": {"name": "gmm", "componets": 3}},
            "unknown config key family.componets; did you mean 'family.components'?",
        ),
        ({"family": {"name": "gmmm"}}, "unknown family 'gmmm'; did you mean 'gmm'?"),
        ({"sampling": {"n": "many"}}, "sampling.n must be an int, got 'many'"),
        ({"sampling": {"n": 2.5}}, "sampling.n must be an int, got 2.5"),
        ({"family": {"exact": 1}}, "family.exact must be a boolean, got 1"),
        (
            {"family": {"estimator": "mlee"}},
            "family.estimator must be one of 'mle', 'unbiased', got 'mlee'; did you mean 'mle'?",
        ),
        ({"sampling": {"bias": 0}}, "sampling.bias must be in the range (0, 10], got 0.0"),
    ],
)
def test_bad_values_name_the_key(raw, message):
    with pytest.raises(UserInputError, match=re.escape(message)):
        config_from_dict(raw)


def test_config_is_frozen():
    config = Config()
    with pytest.raises(AttributeError):
        config.sampling.n = 3  # type: ignore[misc]


def test_presets_load_and_unknown_preset_suggests():
    assert load_config("gaussian-1d").sampling.n == 100
    with pytest.raises(UserInputError, match="did you mean 'gaussian-1d'"):
        load_config("gaussian-1")


def test_config_to_dict_inverts_config_from_dict():
    config = load_config("gmm-2d")
    assert config_from_dict(config_to_dict(config)) == config


def test_each_plug_in_owns_its_keys():
    gmm = config_from_dict({"family": {"name": "gmm", "components": 3, "order": 4}})
    assert gmm.family.params == {
        "components": 3,
        "covariance": "full",
        "max_iter": 100,
        "tol": 1e-3,
        "reg_covar": 1e-6,
        "init_params": "random_from_data",
    }  # ngram's order is left out: it is not gmm's
    assert "order" not in config_to_toml(gmm)
    with pytest.raises(AttributeError, match="the gmm plug-in declares no parameter 'order'"):
        _ = gmm.family.order
    ngram = config_from_dict({"family": {"name": "ngram", "components": 3}})
    assert ngram.family.params == {"order": 3, "smoothing": "kneser-ney"}
    text = config_from_dict({"source": {"name": "wikipedia"}})
    assert text.source.block_size == 64 and "dim" not in text.source.params


def test_a_key_of_another_plugin_names_the_default_plugin_when_none_is_given():
    from model_collapse.assemble.validate import config_from_dict

    with pytest.raises(UserInputError, match=r"not to family 'gaussian'; set family\.name too"):
        config_from_dict({"family": {"order": 3}}, explicit=["family.order"])


def test_a_parameter_without_a_type_is_refused_when_declared():
    from model_collapse.config.params import param

    with pytest.raises(TypeError, match="needs kind="):
        param(None, "a size")
    assert param(None, "a size", kind=int | None).default is None
