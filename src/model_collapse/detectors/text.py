"""Zero-shot text detectors over any model that gives next-token distributions.

One pass of the scoring model (the observer) over each text gives, per scored token, its
log-probability, its rank, the distribution's entropy, and the mean and variance of the
log-probability of a token drawn from the model; the detectors read those sums:

- ``loglik``: mean log-probability (machine text is likelier under a model);
- ``logrank``: minus the mean log-rank (Mitchell et al. 2023's baseline);
- ``entropy``: minus the mean predictive entropy;
- ``fast_detectgpt``: the analytic sampling discrepancy of Bao et al. 2024,
  (sum log p(x_t) - sum mu_t) / sqrt(sum var_t), the scoring model its own sampler;
- ``binoculars``: Hans et al. 2024, log-perplexity under the performer over the
  cross-perplexity (the observer's distribution scored by the performer's log-probs), as
  the reference computes it; low means machine, so the score is its negative.

Only the tokens of the text are scored: a prompt, when given, is read as context.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from model_collapse.core.errors import UserInputError
from model_collapse.detectors.base import DETECTORS, Detector, flagged, threshold_at

# (b, T) token ids (padding allowed where the mask is False) -> (b, T, V) log-probabilities
# of the token at each position given the begin token and everything before it.
Scorer = Callable[[np.ndarray], Any]
LOGIT_BUDGET = 2**26  # floats of distributions per batch (256 MiB)
SLICE_FLOATS = 2**22  # floats of one slice of positions (16 MiB: near the caches)


@dataclass(frozen=True)
class TokenSums:
    """Per text, sums over its scored tokens."""

    tokens: np.ndarray  # scored tokens
    loglik: np.ndarray
    logrank: np.ndarray
    entropy: np.ndarray
    mean: np.ndarray  # of mu_t = E_p[log p]
    variance: np.ndarray  # of var_t = Var_p[log p]
    performer_loglik: np.ndarray  # under the performer (Binoculars)
    cross: np.ndarray  # - sum_v p_observer(v) log p_performer(v) (Binoculars)


class ModelScorer:
    """A fitted model's seed as a scorer: its next-token log-probabilities, and where the
    model offers them, the per-token statistics read without the dense distribution."""

    def __init__(self, model: Any, seed: int) -> None:
        self.model, self.seed = model, seed

    def __call__(self, ids: np.ndarray) -> Any:
        return self.model.next_log_probs(self.seed, ids)

    def stats(self, ids: np.ndarray, needs: frozenset[str]) -> dict[str, np.ndarray] | None:
        """The per-token statistics, where the model gives them directly; else None."""
        from model_collapse.engine.capabilities import ScoresPositions, can

        if not can(self.model, ScoresPositions):
            return None
        if not needs:  # log p of each token only: the model's own scoring pass
            loglik = self.model.seed_log_prob(self.seed, ids)
            zero = np.zeros_like(loglik)
            return {"loglik": loglik, "logrank": zero, "mean": zero, "variance": zero}
        return cast(ScoresPositions, self.model).position_stats(self.seed, ids)


EVERY = frozenset({"rank", "mean", "variance", "cross"})


def token_sums(
    observer: Scorer,
    ids: np.ndarray,
    mask: np.ndarray,
    vocab: int,
    performer: Scorer | None = None,
    needs: frozenset[str] = EVERY,
) -> TokenSums:
    """One pass over (n, T) ids; ``mask`` marks the tokens to score. Of the sums over the
    vocabulary, only those in ``needs`` are computed (the others are 0): each is a pass
    over a (batch, T, V) tensor."""
    # a model's own scorer may answer without the dense distribution
    sparse = isinstance(observer, ModelScorer) and performer is None
    found = cast(ModelScorer, observer).stats(ids, needs) if sparse else None
    if found is not None:
        keep = mask.astype(float)
        ll, logrank, mu, var = (
            (found[k] * keep).sum(1) for k in ("loglik", "logrank", "mean", "variance")
        )
        return TokenSums(keep.sum(1), ll, logrank, -mu, mu, var, ll, -mu)
    import torch

    batch = max(1, LOGIT_BUDGET // max(1, ids.shape[1] * vocab))
    parts: list[list[np.ndarray]] = []
    with torch.inference_mode():
        for start in range(0, len(ids), batch):
            chunk, keep = ids[start : start + batch], mask[start : start + batch]
            parts.append(_chunk_sums(observer, performer, chunk, keep, needs))
    columns = [np.concatenate(c) for c in zip(*parts, strict=True)]
    return TokenSums(*columns)


def _chunk_sums(
    observer: Scorer,
    performer: Scorer | None,
    ids: np.ndarray,
    mask: np.ndarray,
    needs: frozenset[str],
) -> list[np.ndarray]:
    import torch

    logp = observer(ids).float()
    q = performer(ids).float() if performer is not None else None
    target = torch.from_numpy(ids).to(logp.device).reshape(-1, 1)
    vocab = logp.shape[-1]
    flat, flat_q = logp.reshape(-1, vocab), None if q is None else q.reshape(-1, vocab)
    # the passes over the vocabulary go a cache-sized slice of positions at a time: each
    # slice is read from memory once, not once a pass
    rows = max(1, SLICE_FLOATS // vocab)
    parts = [
        _position_stats(
            flat[start : start + rows],
            None if flat_q is None else flat_q[start : start + rows],
            target[start : start + rows],
            needs,
        )
        for start in range(0, len(flat), rows)
    ]
    stats = [torch.cat(column).reshape(ids.shape) for column in zip(*parts, strict=True)]
    keep = torch.from_numpy(mask).to(logp.device).float()
    out = [keep.sum(-1)] + [(v * keep).sum(-1) for v in stats]
    return [v.double().cpu().numpy() for v in out]


def _position_stats(
    logp: Any, q: Any | None, target: Any, needs: frozenset[str]
) -> tuple[Any, ...]:
    """Per position of (rows, V) log-probabilities: log p of the token, its log-rank, the
    entropy, mu = E_p[log p], Var_p[log p], and the performer's log p and cross-entropy."""
    import torch

    ll = logp.gather(-1, target)[..., 0]
    zero = torch.zeros_like(ll)
    rank = (logp > ll[..., None]).sum(-1).float() + 1 if "rank" in needs else zero + 1
    # log-probabilities are finite (a softmax's): p log p needs no guard against 0 x -inf
    p = logp.exp() if needs & {"mean", "variance", "cross"} else None
    mu = torch.einsum("rv,rv->r", p, logp) if p is not None else zero
    var = zero
    if "variance" in needs and p is not None:
        var = torch.einsum("rv,rv->r", p * logp, logp) - mu * mu
    if q is not None and p is not None:
        perf_ll = q.gather(-1, target)[..., 0]
        cross = -torch.einsum("rv,rv->r", p, q)
    else:
        perf_ll, cross = ll, -mu
    return ll, rank.log(), -mu, mu, var.clamp_min(0), perf_ll, cross


def position_entropies(scorer: Scorer, ids: np.ndarray, vocab: int) -> np.ndarray:
    """The entropy (nats) of the model's next-token distribution at every position of
    (n, T) ids: how much room the watermark had there (its entropy-aware test)."""
    import torch

    batch = max(1, LOGIT_BUDGET // max(1, ids.shape[1] * vocab))
    out = []
    with torch.inference_mode():
        for start in range(0, len(ids), batch):
            logp = scorer(ids[start : start + batch]).float()
            p = logp.exp()
            plogp = torch.where(p > 0, p * logp, torch.zeros_like(p))
            out.append((-plogp.sum(-1)).double().cpu().numpy())
    return np.concatenate(out)


def _mean(total: np.ndarray, sums: TokenSums) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(sums.tokens > 0, total / sums.tokens, np.nan)


def _fast_detectgpt(s: TokenSums) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(s.variance > 0, (s.loglik - s.mean) / np.sqrt(s.variance), np.nan)


def _binoculars(s: TokenSums) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(s.cross > 0, s.performer_loglik / s.cross, np.nan)  # -(ppl / x-ppl)


TEXT = "text"
for _name, _score, _description, _needs in (
    (
        "loglik",
        lambda s: _mean(s.loglik, s),
        "mean log-probability under the scoring model",
        frozenset(),
    ),
    (
        "logrank",
        lambda s: -_mean(s.logrank, s),
        "minus the mean log-rank of each token",
        frozenset({"rank"}),
    ),
    (
        "entropy",
        lambda s: -_mean(s.entropy, s),
        "minus the mean predictive entropy",
        frozenset({"mean"}),
    ),
    (
        "fast_detectgpt",
        _fast_detectgpt,
        "analytic sampling discrepancy (Bao et al. 2024), scoring model as its own sampler",
        frozenset({"mean", "variance"}),
    ),
):
    # fast_detectgpt, the strongest that needs one model, is what "auto" picks for text
    _auto = _name == "fast_detectgpt"
    DETECTORS.register(_name)(Detector(TEXT, _description, _score, needs=_needs, auto=_auto))
DETECTORS.register("binoculars")(
    Detector(
        TEXT,
        "perplexity over cross-perplexity of two models sharing a tokenizer (Hans et al. 2024)",
        _binoculars,
        performer=True,
        needs=frozenset({"cross"}),
    )
)


@dataclass
class Scores:
    """One score per text (NaN: unscored) and how many of its tokens were scored."""

    score: np.ndarray
    tokens: np.ndarray


class TextDetector:
    """A text detector with its scoring model(s): ``score``, ``calibrate``, ``detect``.

    Parameters
    ----------
    name : a registered text detector.
    observer : the scoring model; ``performer`` the second model (binoculars only).
    vocab : the models' vocabulary size; ``encode`` turns texts into ids.
    min_tokens : texts with fewer scored tokens are reported unscored.
    max_tokens : longer texts are scored on their first ``max_tokens`` tokens.
    """

    def __init__(
        self,
        name: str,
        observer: Scorer,
        vocab: int,
        encode: Callable[[list[str]], list[list[int]]] | None = None,
        performer: Scorer | None = None,
        min_tokens: int = 16,
        max_tokens: int = 256,
        pad: int = 0,
    ) -> None:
        self.name = name
        self.observer = observer
        self.vocab = vocab
        self.encode = encode
        self.performer = performer
        self.min_tokens = min_tokens
        self.max_tokens = max_tokens
        self.pad = pad
        detector = DETECTORS.get(name)
        if detector.kind != TEXT:
            raise UserInputError(f"detector '{name}' scores {detector.kind} items, not text")
        if detector.performer and performer is None:
            raise UserInputError(f"detector '{name}' needs a second model (the performer)")

    def score_ids(
        self, texts: Sequence[Sequence[int]], prompts: Sequence[Sequence[int]] | None = None
    ) -> Scores:
        """Scores of token sequences; a prompt is read as context but not scored."""
        bodies = [list(t)[: self.max_tokens] for t in texts]
        room = [self.max_tokens - len(b) for b in bodies]  # the prompt fits the rest
        heads = (
            [list(p)[max(0, len(p) - r) :] if r else [] for p, r in zip(prompts, room, strict=True)]
            if prompts
            else [[]] * len(texts)
        )
        width = max([len(h) + len(b) for h, b in zip(heads, bodies, strict=True)] + [1])
        ids = np.full((len(bodies), width), self.pad, dtype=np.int64)
        mask = np.zeros(ids.shape, dtype=bool)
        for row, (head, body) in enumerate(zip(heads, bodies, strict=True)):
            ids[row, : len(head) + len(body)] = head + body
            mask[row, len(head) : len(head) + len(body)] = True
        return self.score_blocks(ids, mask)

    def score_blocks(self, ids: np.ndarray, mask: np.ndarray | None = None) -> Scores:
        """Scores of (n, T) blocks; ``mask`` marks the tokens to score (default: all)."""
        mask = np.ones(ids.shape, dtype=bool) if mask is None else mask
        needs = DETECTORS.get(self.name).needs
        sums = token_sums(self.observer, ids, mask, self.vocab, self.performer, needs)
        score = DETECTORS.get(self.name).score(sums)  # type: ignore[misc]
        score = np.where(sums.tokens >= self.min_tokens, score, np.nan)
        return Scores(score, sums.tokens.astype(np.int64))

    def score(self, texts: list[str], prompts: list[str] | None = None) -> Scores:
        if self.encode is None:
            raise UserInputError("this detector has no tokenizer: score token ids instead")
        if any(not t.strip() for t in texts):
            raise UserInputError("an empty text cannot be scored; remove it")
        return self.score_ids(self.encode(texts), self.encode(prompts) if prompts else None)

    def calibrate(
        self, human_texts: list[str], fpr: float, machine_texts: list[str] | None = None
    ) -> float:
        """The threshold that flags at most ``fpr`` of these human texts (kept as
        ``threshold_``). With known machine texts the direction is learned too: small
        models sampled at temperature 1 write text *less* likely than human text, the
        opposite of what zero-shot detectors assume of large ones (``sign_`` = -1 then)."""
        human = self.score(human_texts).score
        machine = None if machine_texts is None else self.score(machine_texts).score
        self.sign_, self.threshold_ = calibrated(human, fpr, machine)
        return self.threshold_

    def detect(self, texts: list[str]) -> np.ndarray:
        """Whether each text is flagged as machine-generated (unscored texts are not)."""
        return flagged(self.sign_ * self.score(texts).score, self.threshold_)


def calibrated(
    human: np.ndarray, fpr: float, machine: np.ndarray | None = None
) -> tuple[float, float]:
    """(direction, threshold): the direction in which machine scores lie (+1 unless known
    machine scores lie lower on average) and the threshold at ``fpr`` of the human ones."""
    sign = 1.0
    if machine is not None and np.nanmean(machine) < np.nanmean(human):
        sign = -1.0
    return sign, threshold_at(sign * human, fpr)
