"""A metric's declaration of how it is read."""

import pytest

from model_collapse.metrics import METRICS
from model_collapse.metrics.base import Metric, always


def test_every_metric_says_how_it_is_read():
    """Direction, real level and statistic: compare, intervals and the reading use them.
    The perplexities of generated text under generation 0's model and the watermark's
    radioactivity have no direction of their own (see their registration)."""
    undeclared = {name for name, m in METRICS.items() if m.better == ""}
    assert undeclared == {
        "gen0_perplexity",
        "gen0_perplexity_p05",
        "gen0_perplexity_p50",
        "gen0_perplexity_p95",
        "radioactivity",
    }
    ratios = [n for n, m in METRICS.items() if n.endswith("_ratio") and n != "heterozygosity_ratio"]
    assert all(METRICS.get(n).level == 1.0 for n in ratios)
    assert METRICS.get("variance_ratio").statistic == "median"
    with pytest.raises(ValueError, match="needs the level"):
        Metric(("continuous",), lambda step: step, always, "x", better="closer")
    with pytest.raises(ValueError, match="better in"):
        Metric(("continuous",), lambda step: step, always, "x", better="smaller")
