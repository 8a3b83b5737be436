"""The VAE family on scikit-learn's digits: it fits, samples images, collapses under
replace, saves and restores itself exactly, resumes byte-identically, and runs on the
device asked for (or refuses one this machine lacks)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import model_collapse
from model_collapse.assemble.validate import config_from_dict
from model_collapse.core.errors import UserInputError
from tests.conftest import run_interrupted

SMALL = {"name": "vae", "epochs": 30, "batch_size": 32, "hidden": 128, "latent": 8}


def _config(epochs: int = 2, **experiment):
    """Two epochs where only the mechanics are tested; 30 where the fit must be good."""
    return config_from_dict(
        {
            "experiment": {"generations": 3, "seeds": 2, "seed": 5, **experiment},
            "source": {"name": "digits", "n_train": 400},
            "family": {**SMALL, "epochs": epochs},
            "regime": {"name": "replace"},
            "sampling": {"n": 400},
        }
    )


def test_a_vae_fits_samples_images_and_restores_itself_exactly():
    from model_collapse.assemble.plan import plan_run

    plan = plan_run(_config())
    model = plan.new_model().fit(plan.real.train, np.random.default_rng(0))
    images = model.sample(50, np.random.default_rng(1))
    assert images.shape == (2, 50, 64) and images.min() >= 0.0 and images.max() <= 1.0
    assert not np.allclose(images[0], images[0].mean(axis=0))  # not one image repeated
    again = plan.new_model().set_state(model.get_state())
    assert np.array_equal(again.sample(50, np.random.default_rng(1)), images)


@pytest.mark.slow  # torch training: make test-slow, for make test's 8 minutes
def test_replace_shrinks_the_pixel_variance():
    frame = model_collapse.run(_config(epochs=30)).metrics
    ratio = frame.pivot(index="generation", columns="seed", values="pixel_variance_ratio")
    # measured, mean of 2 seeds: 0.19 at generation 0, then 0.012 and 0.004; the decoder
    # means of a VAE trained on decoder means lose most of their variety at once
    assert (ratio.loc[1] < 0.5 * ratio.loc[0]).all() and (ratio.loc[2] < 0.5 * ratio.loc[0]).all()


@pytest.mark.slow  # torch training: make test-slow, for make test's 8 minutes
def test_a_vae_run_resumes_byte_identically(tmp_path: Path):
    config = _config(generations=2)
    model_collapse.run(config, tmp_path / "whole")
    run_interrupted(config, tmp_path / "cut", generation=1)
    model_collapse.run(config, tmp_path / "cut")
    whole, cut = ((tmp_path / d / "metrics.csv").read_bytes() for d in ("whole", "cut"))
    assert whole == cut
    for name in ("images/generation-00001.npy", "strip/generation-00001.npy"):
        pictures = [(tmp_path / d / "samples" / name).read_bytes() for d in ("whole", "cut")]
        assert pictures[0] == pictures[1]


def test_a_run_shows_its_images_and_the_same_codes_through_the_generations(tmp_path: Path):
    model_collapse.run(_config(generations=2), tmp_path / "r")
    strip = [np.load(tmp_path / f"r/samples/strip/generation-0000{g}.npy") for g in (0, 1)]
    shown = np.load(tmp_path / "r/samples/images/generation-00001.npy")
    assert strip[0].shape == strip[1].shape == (2, 10, 8, 8) and shown.shape == (2, 16, 8, 8)
    assert not np.array_equal(strip[0], strip[1])  # one set of codes, two decoders
    for figure in ("samples.png", "strip.png"):
        assert (tmp_path / "r/figures" / figure).stat().st_size > 10_000


@pytest.mark.slow  # torch training: make test-slow, for make test's 8 minutes
def test_cpu_and_auto_agree_and_a_missing_device_is_refused():
    """auto picks the CPU where torch finds no GPU, and then gives the CPU's bytes (where
    it finds one, auto runs there, and a GPU's last bits may differ from the CPU's)."""
    cpu = model_collapse.run(_config(generations=1, device="cpu")).metrics
    assert torch.cuda.is_available() or cpu.equals(
        model_collapse.run(_config(generations=1, device="auto")).metrics
    )
    missing = "cuda" if not torch.cuda.is_available() else "mps"
    with pytest.raises(UserInputError, match=f"experiment.device = '{missing}' but torch finds"):
        model_collapse.run(_config(device=missing))


@pytest.mark.slow  # 8 s: make test-slow and CI run it (make test stays under 8 minutes)
def test_the_vae_mnist_preset_runs_end_to_end_at_tiny_size(tmp_path: Path):
    """The paper's settings, shrunk only in size: 2 generations, 1 seed, 300 images, 1
    epoch. Every image metric is computed and every figure drawn."""
    from typer.testing import CliRunner

    from model_collapse.cli import app

    tiny = ["experiment.generations=2", "experiment.seeds=1", "source.n_train=300"]
    tiny += ["sampling.n=300", "family.epochs=1"]
    result = CliRunner().invoke(
        app,
        ["run", "vae-mnist", *(a for s in tiny for a in ("--set", s)), "--out", str(tmp_path)],
    )
    assert result.exit_code == 0, result.output
    metrics = (tmp_path / "metrics.csv").read_text().splitlines()
    for name in ("class_coverage", "class_entropy", "fid", "precision", "recall"):
        assert name in metrics[0]
    assert len(metrics) == 3 and "nan" not in metrics[1] + metrics[2]
    assert np.load(tmp_path / "samples/images/generation-00001.npy").shape == (1, 16, 28, 28)
    assert (tmp_path / "figures/strip.png").is_file()


def test_the_regimes_suite_compares_the_vae_digits_preset_itself():
    """vae-digits-regimes repeats vae-digits' settings (a suite names no base preset):
    they must not drift apart."""
    from model_collapse.api import load_config, read_raw

    raw = read_raw("vae-digits-regimes")
    base = config_from_dict({k: v for k, v in raw.items() if k != "suite"})
    assert base == load_config("vae-digits")


@pytest.mark.slow  # torch training: make test-slow, for make test's 8 minutes
def test_the_convolutional_vae_learns_the_digits_and_restores_itself_exactly():
    """Measured (400 digits, Bernoulli, 2 seeds): after 1 epoch the mean image is 0.17
    from the real one per pixel and the samples hold 0.016 of the real pixel variance;
    after 30, 0.021 and 0.17/0.08 (the MLP: 0.018 and 0.20/0.18)."""
    from model_collapse.assemble.plan import plan_run

    raw = model_collapse.config.config_to_dict(_config(epochs=30))
    raw["family"]["architecture"] = "conv"
    plan = plan_run(config_from_dict(raw))
    model = plan.new_model().fit(plan.real.train, np.random.default_rng(0))
    images = model.sample(200, np.random.default_rng(1))
    assert images.shape == (2, 200, 64) and images.min() >= 0.0 and images.max() <= 1.0
    ratio = images.var(axis=1).sum(axis=1) / plan.real.test.var(axis=0).sum()
    error = np.abs(images.mean(axis=(0, 1)) - plan.real.test.mean(axis=0)).mean()
    assert (ratio > 0.05).all() and error < 0.05, (ratio, error)
    again = plan.new_model().set_state(model.get_state())
    assert np.array_equal(again.sample(200, np.random.default_rng(1)), images)


def test_the_convolutional_vae_keeps_odd_sizes_and_colour_channels_in_place():
    """5x7 RGB images: the decoder's output is cropped to the image, and the flat pixel
    order (height, width, channels) is the one the encoder reads."""
    from model_collapse.families.vae_torch import ConvVAENet

    net = ConvVAENet((5, 7, 3), 16, 4)
    x = torch.rand(6, 5 * 7 * 3)
    mean, _ = net.encode(x)
    assert mean.shape == (6, 4) and net.decode(mean).shape == (6, 105)
    # the same pixel moved to channel-first and back is where it was
    layout = net.decoder[1]
    channels_first = x.view(6, 5, 7, 3).permute(0, 3, 1, 2).reshape(6, -1)
    assert torch.equal(layout(channels_first), x)
