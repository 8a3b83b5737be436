"""The small GPT: KV-cache decoding equals full recomputation, decoding filters, training."""

import itertools
import math

import numpy as np
import pytest
import torch

from model_collapse.families.gpt_torch import GPT, GPTShape
from model_collapse.families.lm_torch import (
    Decoding,
    TrainSettings,
    generate,
    mean_loss,
    next_token_probs,
    token_log_probs,
    train,
)

SHAPE = GPTShape(vocab=50, context=40, n_layer=2, n_head=2, n_embd=16)


def _net(seed: int = 0) -> GPT:
    return GPT(SHAPE).init_weights(torch.Generator().manual_seed(seed))


def test_kv_cache_logits_equal_full_recomputation():
    net = _net().eval()
    x = torch.randint(0, 50, (3, 20), generator=torch.Generator().manual_seed(1))
    full = net(x)
    caches = [[torch.empty(3, 2, 40, 8) for _ in range(2)] for _ in range(2)]
    step = [net(x[:, :12], caches, 0)]
    step += [net(x[:, t : t + 1], caches, t) for t in range(12, 20)]
    torch.testing.assert_close(torch.cat(step, dim=1), full, rtol=1e-5, atol=1e-5)


def test_generation_is_repeatable_and_continues_the_prompt():
    net, prompts = _net(), np.arange(30).reshape(3, 10) % 50
    first = generate(net, prompts, 8, 49, Decoding(), torch.Generator().manual_seed(2))
    again = generate(net, prompts, 8, 49, Decoding(), torch.Generator().manual_seed(2))
    assert first.shape == (3, 8) and np.array_equal(first, again)
    # with a tiny temperature, sampling is greedy decoding of the full-recomputation logits
    greedy = generate(
        net, prompts[:1], 5, 49, Decoding(temperature=1e-4), torch.Generator().manual_seed(3)
    )[0]
    seq = torch.tensor([[49, *prompts[0]]])
    for t in range(5):
        assert greedy[t] == int(net(seq)[0, -1].argmax())
        seq = torch.cat([seq, torch.tensor([[greedy[t]]])], dim=1)


def test_decoding_filters():
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]]))
    seen = torch.tensor([[False, True, False, False]])
    top_k = next_token_probs(logits, seen, Decoding(top_k=2))
    torch.testing.assert_close(top_k, torch.tensor([[0.625, 0.375, 0.0, 0.0]]))
    top_p = next_token_probs(logits, seen, Decoding(top_p=0.7))  # 0.5 + 0.3 reach 0.7
    torch.testing.assert_close(top_p, torch.tensor([[0.625, 0.375, 0.0, 0.0]]))
    cold = next_token_probs(logits, seen, Decoding(temperature=0.5))
    expected = torch.tensor([0.5, 0.3, 0.15, 0.05]) ** 2
    torch.testing.assert_close(cold[0], expected / expected.sum())
    penalised = next_token_probs(logits, seen, Decoding(repetition_penalty=2.0))
    # token 1's logit log(0.3) < 0 is multiplied by 2: its odds fall, the others' rise
    raw = torch.tensor([0.5, 0.3**2, 0.15, 0.05])
    torch.testing.assert_close(penalised[0], raw / raw.sum())


def test_log_probs_normalise_and_training_learns_a_pattern():
    rng = np.random.default_rng(0)
    blocks = np.tile(np.arange(8), (64, 2))  # (64, 16): a cycle a model can learn
    net = _net()
    log_p = token_log_probs(net, blocks[:4], 49)
    assert log_p.shape == (4, 16) and np.all(log_p < 0)
    before = mean_loss(net, blocks[:8], 49)
    assert abs(before - math.log(50)) < 1.0  # an untrained net is near uniform
    settings = TrainSettings(epochs=40, batch_size=16, learning_rate=1e-2, weight_decay=0.0)
    trained = train(net, blocks, blocks[:8], 49, settings, rng)
    assert mean_loss(trained, blocks[:8], 49) < 0.1 * before


@pytest.mark.parametrize("decoding", [Decoding(top_k=1), Decoding(top_p=1e-6)])
def test_top_one_is_greedy(decoding):
    net, prompts = _net(), np.arange(10)[None]
    a = generate(net, prompts, 6, 49, decoding, torch.Generator().manual_seed(0))
    b = generate(net, prompts, 6, 49, decoding, torch.Generator().manual_seed(99))
    assert np.array_equal(a, b)


def test_beam_search_with_enough_beams_is_exact_search():
    """With K >= V^(length-1) beams nothing is pruned: the best of all V^length endings."""
    import itertools

    shape = GPTShape(vocab=5, context=16, n_layer=1, n_head=1, n_embd=8)
    net = GPT(shape).init_weights(torch.Generator().manual_seed(4)).eval()
    prompt = np.array([[1, 3, 2]])
    found = generate(net, prompt, 3, 4, Decoding(beams=25), torch.Generator())[0]
    best, best_score = None, -math.inf
    for ending in itertools.product(range(5), repeat=3):
        seq = torch.tensor([[4, 1, 3, 2, *ending]])
        with torch.no_grad():
            logp = torch.log_softmax(net(seq[:, :-1]), dim=-1)
        score = float(sum(logp[0, 3 + t, ending[t]] for t in range(3)))
        if score > best_score:
            best, best_score = ending, score
    assert tuple(found) == best


def test_beam_search_is_deterministic_and_batched_like_one_by_one():
    net, prompts = _net(), np.arange(30).reshape(3, 10)
    together = generate(net, prompts, 6, 49, Decoding(beams=3), torch.Generator().manual_seed(0))
    apart = [
        generate(
            net, prompts[i : i + 1], 6, 49, Decoding(beams=3), torch.Generator().manual_seed(i + 7)
        )[0]
        for i in range(3)
    ]
    np.testing.assert_array_equal(together, np.stack(apart))


def test_inverse_cdf_draws_follow_the_probabilities():
    from model_collapse.families.lm_torch import draw

    probs = torch.tensor([[0.5, 0.0, 0.3, 0.2]]).repeat(100_000, 1)
    tokens = draw(probs, torch.Generator().manual_seed(0)).numpy()
    freq = np.bincount(tokens, minlength=4) / len(tokens)
    p = probs[0].numpy()
    assert freq[1] == 0 and np.all(np.abs(freq - p) <= 5 * np.sqrt(p * (1 - p) / len(tokens)))


@pytest.mark.slow  # torch training: make test-slow, for make test's 8 minutes
def test_device_cpu_and_auto_agree_and_a_missing_device_is_refused(tmp_path):
    import model_collapse
    from model_collapse.core.errors import UserInputError
    from tests.conftest import TEXT_SOURCE, TINY_GPT, make_config

    def run(device: str):
        config = make_config(
            family=TINY_GPT, source=TEXT_SOURCE, experiment={"generations": 2, "device": device}
        )
        return model_collapse.run(config).metrics

    assert run("cpu").equals(run("auto"))  # no GPU here: auto is the CPU, to the bit
    auto = make_config(family=TINY_GPT, source=TEXT_SOURCE, experiment={"device": "auto"})
    saved = model_collapse.run(auto, tmp_path / "auto").config  # where it ran, written down
    expected = "cuda" if torch.cuda.is_available() else saved.experiment.device
    assert saved.experiment.device == expected != "auto"
    assert f'device = "{expected}"' in (tmp_path / "auto/config.toml").read_text()
    missing = "cuda" if not torch.cuda.is_available() else "mps"
    with pytest.raises(UserInputError, match=f"experiment.device = '{missing}' but torch finds"):
        run(missing)
    numeric = make_config(experiment={"device": "cuda"})
    with pytest.raises(UserInputError, match="applies to the families that run on torch"):
        model_collapse.run(numeric)


def test_learning_rate_schedules():
    from model_collapse.families.lm_torch import learning_rate

    steps = 20
    linear = [learning_rate(s, steps, 1.0, "linear") for s in range(steps)]
    assert linear[0] == 1.0 and linear[-1] == pytest.approx(1 / steps)
    assert all(a > b for a, b in itertools.pairwise(linear))
    assert {learning_rate(s, steps, 0.5, "constant") for s in range(steps)} == {0.5}
    cosine = [learning_rate(s, 100, 1.0, "cosine") for s in range(100)]
    assert cosine[0] == 0.2 and cosine[4] == 1.0  # 5 warm-up steps, then down to 10%
    assert all(a >= b for a, b in itertools.pairwise(cosine[4:])) and cosine[-1] > 0.1


@pytest.mark.slow  # 10 s: make test-slow and CI run it (make test stays under 8 minutes)
def test_a_run_off_a_terminal_says_what_each_long_stage_does(tmp_path):
    import subprocess
    import sys

    args = [
        "ngram-wikipedia",
        *("--set", "family.name=gpt", "--set", "family.n_layer=1", "--set", "family.n_embd=16"),
        *("--set", "family.n_head=2", "--set", "source.max_documents=12"),
        *("--set", "source.vocab_size=512", "--set", "source.n_train=40"),
        *("--set", "sampling.n=40", "--set", "experiment.generations=2"),
        *("--set", "experiment.seeds=1", "--out", str(tmp_path / "r")),
    ]
    result = subprocess.run(
        [sys.executable, "-m", "model_collapse", "run", *args], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    for stage in ("training seed 0, epoch 1 of 1", "generating 40 blocks", "scoring"):
        for generation in (0, 1):
            said = [line for line in lines if f"generation {generation}: " in line]
            assert any(stage in line for line in said), stage


def test_stages_reach_observers_in_order():
    import model_collapse
    from model_collapse.engine.observers import Observer
    from tests.conftest import TEXT_SOURCE, TINY_GPT, make_config

    class Stages(Observer):
        def __init__(self) -> None:
            self.seen: list[tuple[str, int, int]] = []

        def stage(self, name: str, done: int, total: int) -> None:
            self.seen.append((name, done, total))

    stages = Stages()
    config = make_config(family=TINY_GPT, source=TEXT_SOURCE, experiment={"generations": 1})
    model_collapse.run(config, observers=[stages])
    training = [s for s in stages.seen if s[0].startswith("training seed 0")]
    assert training[0][1] == 0 and training[-1][1] == training[-1][2] >= 1
    done = [d for _, d, _ in training]
    assert done == sorted(done)  # steps only go forward
