"""The diffusion family on scikit-learn's digits: it learns the digits' pixels, samples
deterministically from given noise, saves and restores itself exactly, resumes
byte-identically, and runs on the device asked for."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import model_collapse
from model_collapse.assemble.validate import config_from_dict
from model_collapse.core.errors import UserInputError
from model_collapse.families.ddpm_torch import schedule
from tests.conftest import run_interrupted


def _config(epochs: int = 2, **experiment):
    return config_from_dict(
        {
            "experiment": {"generations": 2, "seeds": 2, "seed": 4, **experiment},
            "source": {"name": "digits", "n_train": 400},
            "family": {"name": "ddpm", "epochs": epochs, "hidden": 64, "sampling_steps": 10},
            "regime": {"name": "replace"},
            "sampling": {"n": 400},
        }
    )


def test_the_schedule_noises_images_to_almost_pure_noise_at_any_length():
    kept = schedule(1000)
    assert kept[0] == 1 - 1e-4 and np.all(np.diff(kept) < 0) and kept[-1] < 1e-4
    for timesteps in (2, 10, 100):  # where DDIM starts, the image is (almost) gone
        assert schedule(timesteps)[-1] < 1e-3


def test_one_ddim_step_denoises_from_the_noisiest_step():
    """One step goes from pure noise straight to an image: the network's estimate, not
    the starting noise clipped (which a path starting at step 0 would return)."""
    from model_collapse.families.ddpm_torch import Denoiser, ddim

    torch.manual_seed(0)
    net = Denoiser(4, 8)
    noise = np.random.default_rng(0).standard_normal((3, 4)) * 5
    with torch.no_grad():
        t = torch.full((3,), 9)
        x = torch.tensor(noise, dtype=torch.float32)
        kept = float(schedule(10)[9])
        v = net(x, t)
        expected = (kept**0.5 * x - (1 - kept) ** 0.5 * v).clamp(-1, 1).double().numpy()
    assert np.allclose(ddim(net, noise, 10, 1), (expected + 1) / 2, atol=1e-6)


@pytest.mark.slow  # make test's 8 minutes: make test-slow runs it
def test_a_diffusion_model_samples_images_deterministically_and_restores_exactly():
    from model_collapse.assemble.plan import plan_run

    plan = plan_run(_config())
    model = plan.new_model().fit(plan.real.train, np.random.default_rng(0))
    noise = np.random.default_rng(1).standard_normal((30, 64))
    images = model.decode_codes(noise)
    assert images.shape == (2, 30, 64) and images.min() >= 0.0 and images.max() <= 1.0
    assert np.array_equal(model.decode_codes(noise), images)  # DDIM with eta = 0
    again = plan.new_model().set_state(model.get_state())
    assert np.array_equal(again.decode_codes(noise), images)


@pytest.mark.slow  # torch training: make test-slow, for make test's 8 minutes
def test_training_brings_the_samples_to_the_digits_pixels():
    """Untrained, the denoiser's samples are noise clipped to [0, 1], about 0.5 per pixel;
    trained 150 epochs on 400 digits, their mean image nears the real one (measured: mean
    absolute pixel error 0.27 untrained, 0.055 trained; the real digits average 0.30)."""
    from model_collapse.assemble.plan import plan_run

    plan = plan_run(_config())
    real_mean = plan.real.test.mean(axis=0)
    errors = []
    for epochs in (1, 150):
        plan = plan_run(_config(epochs=epochs))
        model = plan.new_model().fit(plan.real.train[:1], np.random.default_rng(0))
        samples = model.sample(400, np.random.default_rng(1))[0]
        errors.append(np.abs(samples.mean(axis=0) - real_mean).mean())
    assert errors[1] < 0.1 < errors[0]


@pytest.mark.slow  # make test's 8 minutes: make test-slow runs it
def test_a_diffusion_run_resumes_byte_identically(tmp_path: Path):
    config = _config()
    model_collapse.run(config, tmp_path / "whole")
    run_interrupted(config, tmp_path / "cut", generation=0)
    model_collapse.run(config, tmp_path / "cut")
    for name in ("metrics.csv", "samples/strip/generation-00001.npy"):
        whole, cut = ((tmp_path / d / name).read_bytes() for d in ("whole", "cut"))
        assert whole == cut
    assert (tmp_path / "whole/figures/strip.png").stat().st_size > 10_000


@pytest.mark.slow  # make test's 8 minutes: make test-slow runs it
def test_cpu_and_auto_agree_and_a_missing_device_is_refused():
    cpu = model_collapse.run(_config(generations=1, device="cpu")).metrics
    assert torch.cuda.is_available() or cpu.equals(
        model_collapse.run(_config(generations=1, device="auto")).metrics
    )
    missing = "cuda" if not torch.cuda.is_available() else "mps"
    with pytest.raises(UserInputError, match=f"experiment.device = '{missing}' but torch finds"):
        model_collapse.run(_config(device=missing))
