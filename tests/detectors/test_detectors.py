"""Detectors: their statistics against the formulas, calibration, AUROC, and the
classifier two-sample test's error rates."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from model_collapse.core.errors import UserInputError
from model_collapse.detectors.base import auroc, fewest_for, threshold_at
from model_collapse.detectors.classifier import two_sample_test
from model_collapse.detectors.text import TextDetector, calibrated, token_sums

VOCAB = 30


def fixed_model(seed: int):
    """A model whose next-token distribution depends on the previous token only."""
    table = torch.log_softmax(
        torch.randn(VOCAB + 1, VOCAB, generator=torch.Generator().manual_seed(seed)) * 2, -1
    )

    def scorer(ids: np.ndarray) -> torch.Tensor:
        previous = np.concatenate([np.full((len(ids), 1), VOCAB), ids[:, :-1]], axis=1)
        return table[torch.from_numpy(previous)]

    def sample(n: int, length: int, rng: np.random.Generator) -> np.ndarray:
        out = np.zeros((n, length), dtype=np.int64)
        previous = np.full(n, VOCAB)
        probs = table.exp().numpy().astype(float)
        for t in range(length):
            p = probs[previous]
            out[:, t] = [rng.choice(VOCAB, p=row / row.sum()) for row in p]
            previous = out[:, t]
        return out

    return scorer, sample


def test_token_sums_follow_the_formulas():
    scorer, sample = fixed_model(0)
    other, _ = fixed_model(1)
    ids = sample(5, 12, np.random.default_rng(0))
    mask = np.ones(ids.shape, dtype=bool)
    mask[:, :3] = False  # a prompt: read, not scored
    sums = token_sums(scorer, ids, mask, VOCAB, other)
    logp, q = scorer(ids).double().numpy(), other(ids).double().numpy()
    ll = np.take_along_axis(logp, ids[..., None], -1)[..., 0]
    p = np.exp(logp)
    mu = (p * logp).sum(-1)
    var = (p * logp**2).sum(-1) - mu**2
    rank = (logp > ll[..., None]).sum(-1) + 1
    for got, want in [
        (sums.tokens, mask.sum(1)),
        (sums.loglik, (ll * mask).sum(1)),
        (sums.logrank, (np.log(rank) * mask).sum(1)),
        (sums.entropy, (-mu * mask).sum(1)),
        (sums.variance, (var * mask).sum(1)),
        (sums.performer_loglik, (np.take_along_axis(q, ids[..., None], -1)[..., 0] * mask).sum(1)),
        (sums.cross, (-(p * q).sum(-1) * mask).sum(1)),
    ]:
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_fast_detectgpt_is_standard_normal_on_the_scoring_models_own_text():
    scorer, sample = fixed_model(2)
    texts = sample(300, 40, np.random.default_rng(3))
    z = TextDetector("fast_detectgpt", scorer, VOCAB).score_blocks(texts).score
    # 300 draws: the mean's standard error is 1/sqrt(300); 4 of them fail 1 in 16,000
    assert abs(z.mean()) < 4 / np.sqrt(300) and 0.85 < z.std() < 1.15


def test_prompts_are_context_and_short_texts_are_unscored():
    scorer, sample = fixed_model(4)
    texts = sample(3, 20, np.random.default_rng(5))
    detector = TextDetector("loglik", scorer, VOCAB, min_tokens=10)
    plain = detector.score_ids([t[:20] for t in texts])
    prompted = detector.score_ids([t[10:] for t in texts], prompts=[t[:10] for t in texts])
    assert plain.tokens.tolist() == [20] * 3 and prompted.tokens.tolist() == [10] * 3
    short = detector.score_ids([texts[0][:5].tolist()])
    assert np.isnan(short.score[0]) and short.tokens[0] == 5
    with pytest.raises(UserInputError, match="second model"):
        TextDetector("binoculars", scorer, VOCAB)


def test_calibration_flags_at_most_the_asked_share_and_refuses_too_few():
    rng = np.random.default_rng(6)
    human = rng.normal(size=1000)
    threshold = threshold_at(human, 0.05)
    assert (human > threshold).mean() <= 0.05 and (human >= threshold).mean() > 0.05
    assert fewest_for(0.01) == 100
    with pytest.raises(UserInputError, match="at least 100 scored human texts, got 99"):
        threshold_at(human[:99], 0.01)
    sign, _ = calibrated(human, 0.05, machine=human - 3)  # machine text lower: learnt
    assert sign == -1.0


def test_auroc_is_the_mann_whitney_share():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(7)
    human, machine = rng.normal(size=200), rng.normal(0.7, size=150).round(1)
    labels = np.r_[np.zeros(200), np.ones(150)]
    assert auroc(human, machine) == pytest.approx(roc_auc_score(labels, np.r_[human, machine]))


def test_the_two_sample_test_holds_its_size_and_finds_a_shift():
    # same distribution: p < 0.05 in at most 5 of 40 tests (binomial(40, 0.05) exceeds 5
    # with chance 0.05); a 0.5 sd shift at n = 400 each is found with p < 1e-3
    rng = np.random.default_rng(8)
    same = [
        two_sample_test(rng.normal(size=(100, 2)), rng.normal(size=(100, 2)), rng).p_value
        for _ in range(40)
    ]
    assert sum(p < 0.05 for p in same) <= 5
    shifted = two_sample_test(rng.normal(size=(400, 2)), rng.normal(0.5, size=(400, 2)), rng)
    assert shifted.p_value < 1e-3 and shifted.accuracy > 0.55
    assert shifted.p_generated.mean() > shifted.p_real.mean()


def test_the_ngram_statistics_equal_those_of_its_dense_distribution():
    from model_collapse.api import load_config
    from model_collapse.assemble.plan import plan_run
    from model_collapse.detectors.text import ModelScorer

    sets = ["experiment.seeds=1", "source.max_documents=30", "source.vocab_size=512"]
    plan = plan_run(load_config("ngram-wikipedia", [*sets, "source.n_train=100", "sampling.n=100"]))
    model = plan.new_model().fit(plan.real.train, np.random.default_rng(0))
    blocks = plan.real.test[:40]
    mask = np.ones(blocks.shape, dtype=bool)
    mask[:, :4] = False
    sparse = token_sums(ModelScorer(model, 0), blocks, mask, 512)
    windows = model._windows(blocks)
    p = model.tables_[0].distribution(windows[:, :-1])  # float64, every token written out
    log_p = np.log(p)
    own = log_p[np.arange(len(p)), windows[:, -1]]
    mu = (p * log_p).sum(1)
    keep = mask.ravel()

    def per_text(values: np.ndarray) -> np.ndarray:
        return (values * keep).reshape(blocks.shape).sum(1)

    rank = (log_p > own[:, None]).sum(1) + 1
    np.testing.assert_allclose(sparse.loglik, per_text(own), rtol=1e-9)
    np.testing.assert_allclose(sparse.mean, per_text(mu), rtol=1e-9)
    np.testing.assert_allclose(sparse.variance, per_text((p * log_p**2).sum(1) - mu**2), rtol=1e-7)
    np.testing.assert_allclose(sparse.logrank, per_text(np.log(rank)), rtol=1e-9)


def test_the_two_sample_metric_is_opt_in_and_tells_a_narrowed_generator():
    import model_collapse
    from tests.conftest import make_config

    sections = dict(
        experiment={"generations": 2, "seeds": 3},
        source={"name": "gaussian", "dim": 2, "n_test": 600},
        sampling={"n": 300, "bias": 0.3},
    )
    plain = model_collapse.run(make_config(**sections)).metrics
    assert "c2st_p" not in plain.columns  # existing runs keep their columns
    frame = model_collapse.run(make_config(**sections, metrics={"two_sample": True})).metrics
    later = frame[frame.generation == 1]
    # a generator with 0.3 x the covariance: told apart at n = 300 with p far below 1e-3
    assert (later.c2st_p < 1e-3).all() and (later.c2st_accuracy > 0.6).all()


def test_auto_picks_the_detector_marked_auto_for_the_datas_kind():
    from model_collapse.detectors.base import auto_detector

    assert auto_detector("text") == "fast_detectgpt"
    assert auto_detector("continuous") == auto_detector("image") == "classifier"


def test_a_small_table_fits_on_one_thread_to_the_very_trees_of_all_threads():
    """The classifier fits small tables on one thread (faster); the thread count changes
    none of its probabilities, so no result depends on the machine's cores."""
    from threadpoolctl import threadpool_limits

    from model_collapse.detectors.classifier import SMALL_TABLE, ClassifierDetector

    rng = np.random.default_rng(4)
    human, machine = rng.normal(size=(300, 2)), rng.normal(0.3, 0.8, size=(300, 2))
    assert human.size * 2 < SMALL_TABLE  # this table is fitted on one thread
    one = ClassifierDetector().fit(human, machine, 7).score(human)
    with threadpool_limits(limits=2, user_api="openmp"):
        from sklearn.ensemble import HistGradientBoostingClassifier

        x, y = np.concatenate([human, machine]), np.repeat([0.0, 1.0], 300)
        free = HistGradientBoostingClassifier(
            max_iter=100, learning_rate=0.1, early_stopping=False, random_state=7
        ).fit(x, y)
    assert np.array_equal(one, free.predict_proba(human)[:, 1])
