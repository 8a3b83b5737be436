"""Training, scoring and decoding shared by every PyTorch language model family.

A model here is an ``nn.Module`` whose forward maps token ids (B, T) to logits
(B, T, vocab) and which offers a KV cache: ``new_cache(batch)``, ``decode(ids, cache,
pos)`` and ``reorder(cache, index)``. The small GPT and Hugging Face models both do, so
both train with the same loop and decode with the same sampler and beam search.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812

from model_collapse.core import progress
from model_collapse.core.watermark import Watermark


class CausalLM(Protocol):
    vocab: int

    def __call__(self, idx: torch.Tensor) -> torch.Tensor: ...

    def new_cache(self, batch: int) -> Any: ...

    def decode(self, idx: torch.Tensor, cache: Any, pos: int) -> torch.Tensor: ...

    def reorder(self, cache: Any, index: torch.Tensor) -> None: ...


@dataclass(frozen=True)
class TrainSettings:
    epochs: int
    batch_size: int
    learning_rate: float
    weight_decay: float
    schedule: str = "cosine"
    fused: bool = False  # torch's fused AdamW: one kernel for every parameter


def torch_device(name: str) -> torch.device:
    """experiment.device as torch sees it: ``auto`` is cuda, else mps, else the CPU."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        return torch.device("mps" if mps is not None and mps.is_available() else "cpu")
    return torch.device(name)


def device_of(model: Any) -> torch.device:
    return next(model.parameters()).device  # type: ignore[no-any-return]


def with_bos(blocks: np.ndarray, bos: int) -> torch.Tensor:
    """(n, L) blocks as (n, L + 1) sequences starting with the begin token (on the CPU)."""
    return torch.from_numpy(np.concatenate([np.full((len(blocks), 1), bos), blocks], axis=1))


def mean_loss(model: Any, blocks: np.ndarray, bos: int, label: str = "") -> float:
    """Mean next-token cross-entropy over (n, L) blocks."""
    return float(-token_log_probs(model, blocks, bos, label=label).mean())


LOGIT_BUDGET = 2**26  # floats of logits per scoring batch (256 MiB): big vocabularies batch less


@torch.inference_mode()
def token_log_probs(
    model: Any, blocks: np.ndarray, bos: int, batch: int = 256, label: str = ""
) -> np.ndarray:
    """log P(token | begin token and the block before it) for every token: (n, L).

    ``label`` names the work in the run's progress ("scoring 256 test blocks")."""
    model.eval()
    batch = max(1, min(batch, LOGIT_BUDGET // max(1, blocks.shape[1] * model.vocab)))
    seqs = with_bos(blocks, bos).to(device_of(model))
    out = []
    with progress.stage(label or f"scoring {len(blocks)} blocks", -(-len(seqs) // batch)) as tick:
        for start in range(0, len(seqs), batch):
            x = seqs[start : start + batch]
            logp = F.log_softmax(model(x[:, :-1]).float(), dim=-1)
            out.append(logp.gather(2, x[:, 1:, None])[..., 0].cpu().numpy())
            tick.advance()
    return np.concatenate(out).astype(np.float64)


@torch.inference_mode()
def next_log_probs(model: Any, blocks: np.ndarray, bos: int) -> torch.Tensor:
    """Next-token log-probabilities (b, T, vocab) for (b, T) blocks after the begin token."""
    model.eval()
    x = with_bos(blocks, bos).to(device_of(model))
    return F.log_softmax(model(x[:, :-1]).float(), dim=-1)


def optimizer(model: nn.Module, settings: TrainSettings) -> torch.optim.AdamW:
    """AdamW with weight decay on matrices only (not biases, gains or position tables)."""
    named = list(model.named_parameters())
    decay = [
        p
        for n, p in named
        if p.dim() == 2 and not n.endswith(("wpe.weight", "embed_positions.weight"))
    ]
    decay_ids = {id(p) for p in decay}
    rest = [p for _, p in named if id(p) not in decay_ids]
    groups = [
        {"params": decay, "weight_decay": settings.weight_decay},
        {"params": rest, "weight_decay": 0.0},
    ]
    fused = {"fused": True} if settings.fused else {}
    return torch.optim.AdamW(groups, lr=settings.learning_rate, betas=(0.9, 0.95), **fused)


def learning_rate(step: int, steps: int, peak: float, schedule: str) -> float:
    """The learning rate of optimiser step ``step`` of ``steps`` under ``schedule``."""
    if schedule == "linear":  # Hugging Face Trainer's default: no warm-up, down to 0
        return peak * (1 - step / steps)
    if schedule == "constant":
        return peak
    return cosine_lr(step, steps, peak)


def cosine_lr(step: int, steps: int, peak: float) -> float:
    """Linear warm-up over the first 5% of steps, then cosine decay to a tenth of the peak."""
    warm = max(1, steps // 20)
    if step < warm:
        return peak * (step + 1) / warm
    progress = (step - warm) / max(1, steps - warm)
    return peak * (0.1 + 0.45 * (1 + math.cos(math.pi * progress)))


def train(
    model: Any,
    blocks: np.ndarray,
    validation: np.ndarray,
    bos: int,
    settings: TrainSettings,
    rng: np.random.Generator,
    label: str = "training",
) -> Any:
    """Train on (n, L) blocks; keep the weights with the best real validation loss (after
    several epochs: one epoch has one candidate)."""
    data = with_bos(blocks, bos).to(device_of(model))
    opt = optimizer(model, settings)
    per_epoch = math.ceil(len(data) / settings.batch_size)
    steps, step = settings.epochs * per_epoch, 0
    best, best_state = math.inf, None
    for epoch in range(settings.epochs):
        name = f"{label}, epoch {epoch + 1} of {settings.epochs} ({len(data)} blocks)"
        with progress.stage(name, per_epoch) as tick:
            step = train_epoch(model, data, opt, settings, rng, (step, steps), tick)
        if settings.epochs == 1:  # the only candidate: no validation, no copy of the weights
            return model
        score = mean_loss(model, validation, bos, f"{label}: {len(validation)} validation blocks")
        if score < best:
            best, best_state = score, {k: v.clone() for k, v in model.state_dict().items()}
    assert best_state is not None
    model.load_state_dict(best_state)
    return model


def train_epoch(
    model: Any,
    data: torch.Tensor,
    opt: torch.optim.AdamW,
    settings: TrainSettings,
    rng: np.random.Generator,
    schedule: tuple[int, int],
    tick: progress.Stage,
) -> int:
    """One pass over ``data`` in a random order; returns the optimiser steps taken so far
    (``schedule`` is (steps taken before, steps in all))."""
    model.train()
    step, steps = schedule
    order = torch.from_numpy(rng.permutation(len(data)))
    for start in range(0, len(data), settings.batch_size):
        x = data[order[start : start + settings.batch_size]]
        logits = model(x[:, :-1])  # (B, L, vocab)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), x[:, 1:].reshape(-1))
        for group in opt.param_groups:
            group["lr"] = learning_rate(step, steps, settings.learning_rate, settings.schedule)
        opt.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        tick.advance()
    return step


@dataclass(frozen=True)
class Decoding:
    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0
    repetition_penalty: float = 1.0
    beams: int = 1
    watermark: Watermark | None = None
    vocab: int = 0  # the tokenizer's size: the vocabulary the watermark splits


def watermarked(
    logits: torch.Tensor, previous: torch.Tensor | None, decoding: Decoding
) -> torch.Tensor:
    """Logits with the watermark's delta on the green tokens after each row's previous
    token (unchanged without a watermark). Ids beyond the tokenizer's are never green."""
    mark = decoding.watermark
    if mark is None:
        return logits
    assert previous is not None, "a watermark needs each row's previous token"
    masks = torch.from_numpy(mark.masks(previous.cpu().numpy(), decoding.vocab))
    green = torch.zeros(logits.shape, dtype=logits.dtype)
    green[:, : masks.shape[1]] = masks.to(logits.dtype)
    return logits + mark.delta * green.to(logits.device)


def penalise(logits: torch.Tensor, seen: torch.Tensor, penalty: float) -> torch.Tensor:
    """CTRL's repetition penalty on the tokens already in each text."""
    if penalty == 1.0:
        return logits
    penalised = torch.where(logits > 0, logits / penalty, logits * penalty)
    return torch.where(seen, penalised, logits)


def next_token_probs(
    logits: torch.Tensor,
    seen: torch.Tensor,
    decoding: Decoding,
    previous: torch.Tensor | None = None,
) -> torch.Tensor:
    """Probabilities (B, vocab) after repetition penalty, temperature, the watermark's bias
    (after the temperature: delta then means the same at every temperature), top-k, top-p."""
    logits = penalise(logits, seen, decoding.repetition_penalty) / decoding.temperature
    logits = watermarked(logits, previous, decoding)
    if decoding.top_k:
        kth = torch.topk(logits, min(decoding.top_k, logits.shape[-1])).values[:, -1:]
        logits = logits.masked_fill(logits < kth, -math.inf)
    if decoding.top_p < 1.0:
        ordered, index = torch.sort(logits, descending=True)
        probs = torch.softmax(ordered, dim=-1)
        drop = probs.cumsum(dim=-1) - probs >= decoding.top_p  # the top token always stays
        logits = logits.scatter(1, index, ordered.masked_fill(drop, -math.inf))
    return torch.softmax(logits, dim=-1)


def draw(probs: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """One token per row of probs (B, vocab) by inverse CDF (far faster than multinomial)."""
    cdf = probs.cumsum(dim=-1)
    # drawn on the CPU generator whatever the device: the same stream everywhere
    u = torch.rand((len(probs), 1), generator=generator, dtype=cdf.dtype).to(cdf.device)
    u = u * cdf[:, -1:]
    return torch.searchsorted(cdf, u, right=True)[:, 0].clamp_max(probs.shape[-1] - 1)


@torch.no_grad()
def generate(
    model: Any,
    prompts: np.ndarray,
    length: int,
    bos: int,
    decoding: Decoding,
    generator: torch.Generator,
    batch: int = 512,
    label: str = "",
) -> np.ndarray:
    """Continue every (n, L) prompt with ``length`` tokens: (n, length).

    Sampling with a KV cache, or beam search when ``decoding.beams > 1``.
    """
    model.eval()
    search = beam_search if decoding.beams > 1 else sample_tokens
    step, device = max(1, batch // decoding.beams), device_of(model)
    name = label or f"generating {len(prompts)} blocks"
    out = []
    with progress.stage(f"{name} of {length} tokens", -(-len(prompts) // step) * length) as tick:
        for start in range(0, len(prompts), step):
            x = with_bos(prompts[start : start + step], bos).to(device)
            out.append(search(model, x, length, decoding, generator, tick))
    return np.concatenate(out)


def sample_tokens(
    model: Any,
    x: torch.Tensor,
    length: int,
    decoding: Decoding,
    generator: torch.Generator,
    tick: progress.Stage | None = None,
) -> np.ndarray:
    B, device = len(x), x.device
    cache = model.new_cache(B)
    seen = torch.zeros(B, model.vocab, dtype=torch.bool, device=device).scatter_(1, x, True)
    logits, pos = model.decode(x, cache, 0)[:, -1], x.shape[1]
    tokens = torch.empty(B, length, dtype=torch.long, device=device)
    rows = torch.arange(B, device=device)
    for t in range(length):
        previous = tokens[:, t - 1] if t else x[:, -1]
        probs = next_token_probs(logits.float(), seen, decoding, previous)
        tokens[:, t] = draw(probs, generator)
        seen[rows, tokens[:, t]] = True
        if t + 1 < length:
            logits, pos = model.decode(tokens[:, t : t + 1], cache, pos)[:, -1], pos + 1
        if tick is not None:
            tick.advance()
    return tokens.cpu().numpy()


def beam_search(
    model: Any,
    x: torch.Tensor,
    length: int,
    decoding: Decoding,
    generator: torch.Generator,
    tick: progress.Stage | None = None,
) -> np.ndarray:
    """The ``length`` tokens of highest total log-probability (K beams), per prompt.

    Every beam has the same length, so no length penalty is needed.
    """
    B, K, V, device = len(x), decoding.beams, model.vocab, x.device
    x = x.repeat_interleave(K, dim=0)  # (B*K, L + 1)
    cache = model.new_cache(B * K)
    seen = torch.zeros(B * K, V, dtype=torch.bool, device=device).scatter_(1, x, True)
    logits, pos = model.decode(x, cache, 0)[:, -1], x.shape[1]
    scores = torch.full((B, K), -math.inf, device=device)
    scores[:, 0] = 0.0  # all beams start equal: expand the first one only
    tokens = torch.empty(B * K, length, dtype=torch.long, device=device)
    prompts, beams = torch.arange(B, device=device), torch.arange(B * K, device=device)
    for t in range(length):
        previous = tokens[:, t - 1] if t else x[:, -1]
        logits = penalise(logits.float(), seen, decoding.repetition_penalty)
        logp = F.log_softmax(watermarked(logits, previous, decoding), dim=-1)
        candidates = (scores.reshape(-1, 1) + logp).reshape(B, K * V)
        scores, flat = candidates.topk(K, dim=1)  # (B, K)
        origin = (prompts[:, None] * K + flat // V).reshape(-1)
        tokens, seen = tokens[origin], seen[origin]
        tokens[:, t] = (flat % V).reshape(-1)
        seen[beams, tokens[:, t]] = True
        if t + 1 < length:
            model.reorder(cache, origin)
            logits, pos = model.decode(tokens[:, t : t + 1], cache, pos)[:, -1], pos + 1
        if tick is not None:
            tick.advance()
    best = scores.argmax(dim=1)
    return tokens.reshape(B, K, length)[prompts, best].cpu().numpy()
