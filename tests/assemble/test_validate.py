"""The sampling keys a family owns: declared by the family, written and read only for it."""

import pytest

from model_collapse.assemble.validate import commented_toml, config_from_dict
from model_collapse.config import config_to_toml, read_toml
from model_collapse.core.errors import UserInputError
from model_collapse.families.text_family import DECODING, WATERMARK

TEXT_KEYS = [*DECODING, *WATERMARK]


def _sampling_keys(text: str) -> list[str]:
    """The keys a TOML text writes (or comments out) in its [sampling] section."""
    section = text.split("[sampling]", 1)[1].split("\n\n", 1)[0]
    lines = [line.lstrip("# ").split(" ", 1)[0] for line in section.strip().splitlines()]
    return [key for key in lines if key]


def test_a_gaussian_config_writes_no_text_keys():
    written = commented_toml({"family": {"name": "gaussian"}}, "a Gaussian")
    assert _sampling_keys(written) == ["n", "bias"]
    saved = config_to_toml(config_from_dict({}))
    assert _sampling_keys(saved) == ["n", "bias"]


@pytest.mark.parametrize(("family", "keys"), [("gpt", TEXT_KEYS), ("ngram", [*WATERMARK])])
def test_a_text_family_writes_its_own_keys(family: str, keys: list[str]):
    raw = {"family": {"name": family}, "source": {"name": "wikipedia"}}
    assert _sampling_keys(commented_toml(raw, "text")) == ["n", *keys]


def test_a_family_reads_only_its_own_sampling_keys():
    config = config_from_dict({"family": {"name": "gpt"}, "sampling": {"temperature": 0.7}})
    assert config.sampling.temperature == 0.7 and config.sampling.beams == 1
    gaussian = config_from_dict({"sampling": {"bias": 0.5}})
    assert gaussian.sampling.bias == 0.5
    with pytest.raises(AttributeError, match="the run's family declares no parameter"):
        gaussian.sampling.temperature  # noqa: B018


def test_a_saved_config_with_every_old_key_at_its_default_still_loads(tmp_path):
    # config.toml of runs made when every family wrote every sampling key
    old = tmp_path / "config.toml"
    old.write_text(
        "[sampling]\nn = 50\nbias = 1.0\ntemperature = 1.0\ntop_k = 0\nbeams = 1\n"
        'watermark = "none"\nwatermark_gamma = 0.25\n'
    )
    config = config_from_dict(read_toml(old))
    assert config.sampling.n == 50 and "temperature" not in config.sampling.params


@pytest.mark.parametrize(
    ("sampling", "message"),
    [
        ({"temperature": 0.7}, "sampling.temperature is a key of gpt and hf, not of family"),
        ({"watermark": "kgw"}, "sampling.watermark is a key of gpt, hf and ngram, not of"),
        ({"tempreature": 0.7}, "unknown config key sampling.tempreature; valid keys: sampling.n$"),
    ],
)
def test_another_familys_sampling_key_set_in_a_file_is_refused(sampling, message):
    # a value the run would silently not honour; its default is left out quietly (above)
    with pytest.raises(UserInputError, match=message):
        config_from_dict({"family": {"name": "kde"}, "sampling": sampling})


def test_a_misspelt_key_is_matched_without_its_section():
    with pytest.raises(UserInputError, match=r"did you mean 'sampling\.temperature'"):
        config_from_dict({"family": {"name": "gpt"}, "sampling": {"tempreature": 0.7}})
