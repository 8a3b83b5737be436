"""What the text families share: their kind, their smallest training set (one block), and
the sampling keys they own: a language model's decoding settings and the watermark of
Kirchenbauer et al. that any family sampling tokens can apply. One helper builds such a
family, as ``image_family`` does for images; gpt, hf and ngram call it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from model_collapse.config import Config
from model_collapse.config.params import param
from model_collapse.core.watermark import KEY
from model_collapse.families.base import Family
from model_collapse.sources.base import RealData

# sampling.* keys of the language models that decode from logits (gpt, hf)
DECODING = {
    "temperature": param(
        1.0, "softmax temperature", low=0.0, high=100.0, open_low=True, schedulable=True
    ),
    "top_k": param(0, "keep the k likeliest tokens (0: all)", low=0, high=10_000_000),
    "top_p": param(1.0, "nucleus: keep this probability mass", low=0.0, high=1.0, open_low=True),
    "repetition_penalty": param(
        1.0, "divide the logits of seen tokens (CTRL)", low=0.0, high=100.0, open_low=True
    ),
    "beams": param(1, "beam search with this many beams (1: sampling)", low=1, high=1000),
}

# sampling.* keys of every family that samples tokens (gpt, hf, ngram)
WATERMARK = {
    "watermark": param(
        "none",
        "kgw: the green-list watermark of Kirchenbauer et al. on every generated token",
        choices=("none", "kgw"),
    ),
    "watermark_key": param(KEY, "the watermark's secret key", low=0, high=2**63 - 1),
    "watermark_gamma": param(
        0.25,
        "the watermark's green share of the vocabulary",
        low=0.0,
        high=1.0,
        open_low=True,
        open_high=True,
    ),
    "watermark_delta": param(
        2.0, "the bias added to green tokens' logits", low=0.0, high=100.0, open_low=True
    ),
}


def text_family(
    make: Callable[[Config, RealData], Any],
    description: str,
    params: dict[str, Any],
    *,
    decodes: bool = True,
    check: Callable[[Config, RealData], None] | None = None,
    resolve: Callable[[Config], Config] | None = None,
    inputs: Callable[[Config], list[Path]] | None = None,
) -> Family:
    """A family of token blocks that samples with the watermark keys, and with the
    decoding keys when it ``decodes`` from logits (a neural language model)."""
    return Family(
        kind="text",
        make=make,
        min_samples=lambda config, dim: 1,
        description=description,
        check=check,
        resolve=resolve,
        inputs=inputs,
        params=params,
        sampling={**(DECODING if decodes else {}), **WATERMARK},
    )
