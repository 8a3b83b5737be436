"""A small GPT in PyTorch (after nanoGPT): the network, its training loop, KV-cache sampling.

Imported only by the ``gpt`` family, so that nothing else pays for importing torch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812


@dataclass(frozen=True)
class GPTShape:
    vocab: int
    context: int
    n_layer: int
    n_head: int
    n_embd: int


class SelfAttention(nn.Module):
    def __init__(self, shape: GPTShape) -> None:
        super().__init__()
        self.n_head = shape.n_head
        self.c_attn = nn.Linear(shape.n_embd, 3 * shape.n_embd)
        self.c_proj = nn.Linear(shape.n_embd, shape.n_embd)

    def forward(self, x: torch.Tensor, cache: list[torch.Tensor] | None, pos: int) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        if cache is not None:  # (B, nh, context, hs) buffers: keys and values so far
            cache[0][:, :, pos : pos + T], cache[1][:, :, pos : pos + T] = k, v
            k, v = cache[0][:, :, : pos + T], cache[1][:, :, : pos + T]
        # a prompt (T > 1, from position 0) is causal; one new token sees everything before it
        y = F.scaled_dot_product_attention(q, k, v, is_causal=T > 1)  # (B, nh, T, hs)
        return self.c_proj(y.transpose(1, 2).reshape(B, T, C))


class Block(nn.Module):
    def __init__(self, shape: GPTShape) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(shape.n_embd)
        self.attn = SelfAttention(shape)
        self.ln_2 = nn.LayerNorm(shape.n_embd)
        self.mlp = nn.Sequential(
            nn.Linear(shape.n_embd, 4 * shape.n_embd),
            nn.GELU(),
            nn.Linear(4 * shape.n_embd, shape.n_embd),
        )

    def forward(self, x: torch.Tensor, cache: list[torch.Tensor] | None, pos: int) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x), cache, pos)
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, shape: GPTShape) -> None:
        super().__init__()
        self.shape = shape
        self.wte = nn.Embedding(shape.vocab, shape.n_embd)
        self.wpe = nn.Embedding(shape.context, shape.n_embd)
        self.blocks = nn.ModuleList(Block(shape) for _ in range(shape.n_layer))
        self.ln_f = nn.LayerNorm(shape.n_embd)
        self.lm_head = nn.Linear(shape.n_embd, shape.vocab, bias=False)
        self.lm_head.weight = self.wte.weight  # weight tying, as GPT-2

    def init_weights(self, generator: torch.Generator) -> GPT:
        """GPT-2's initialisation, from an explicit generator (no global seed)."""
        for name, p in self.named_parameters():
            if name.endswith("bias"):
                nn.init.zeros_(p)
            elif p.dim() == 1:  # layer norm gains
                nn.init.ones_(p)
            else:  # residual projections shrink with depth
                std = (
                    0.02 / math.sqrt(2 * self.shape.n_layer)
                    if "c_proj" in name or (name.endswith("mlp.2.weight"))
                    else 0.02
                )
                nn.init.normal_(p, 0.0, std, generator=generator)
        return self

    def forward(
        self, idx: torch.Tensor, caches: list[list[torch.Tensor]] | None = None, pos: int = 0
    ) -> torch.Tensor:
        """Logits (B, T, vocab) for token ids (B, T) starting at position ``pos``."""
        positions = torch.arange(pos, pos + idx.shape[1])
        x = self.wte(idx) + self.wpe(positions)  # (B, T, C)
        for i, block in enumerate(self.blocks):
            x = block(x, None if caches is None else caches[i], pos)
        return self.lm_head(self.ln_f(x))


@dataclass(frozen=True)
class TrainSettings:
    epochs: int
    batch_size: int
    learning_rate: float
    weight_decay: float


def with_bos(blocks: np.ndarray, bos: int) -> torch.Tensor:
    """(n, L) blocks as (n, L + 1) sequences starting with the begin token."""
    return torch.from_numpy(np.concatenate([np.full((len(blocks), 1), bos), blocks], axis=1))


def mean_loss(model: GPT, blocks: np.ndarray, bos: int, batch: int = 256) -> float:
    """Mean next-token cross-entropy over (n, L) blocks."""
    return float(-token_log_probs(model, blocks, bos, batch).mean())


@torch.no_grad()
def token_log_probs(model: GPT, blocks: np.ndarray, bos: int, batch: int = 256) -> np.ndarray:
    """log P(token | begin token and the block before it) for every token: (n, L)."""
    model.eval()
    seqs = with_bos(blocks, bos)
    out = []
    for start in range(0, len(seqs), batch):
        x = seqs[start : start + batch]
        logp = F.log_softmax(model(x[:, :-1]).float(), dim=-1)
        out.append(logp.gather(2, x[:, 1:, None])[..., 0].numpy())
    return np.concatenate(out).astype(np.float64)


def optimizer(model: GPT, settings: TrainSettings) -> torch.optim.AdamW:
    """AdamW with weight decay on matrices only (not biases, gains or position tables)."""
    decay = [p for n, p in model.named_parameters() if p.dim() == 2 and n != "wpe.weight"]
    rest = [p for n, p in model.named_parameters() if p.dim() < 2 or n == "wpe.weight"]
    groups = [
        {"params": decay, "weight_decay": settings.weight_decay},
        {"params": rest, "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=settings.learning_rate, betas=(0.9, 0.95))


def cosine_lr(step: int, steps: int, peak: float) -> float:
    """Linear warm-up over the first 5% of steps, then cosine decay to a tenth of the peak."""
    warm = max(1, steps // 20)
    if step < warm:
        return peak * (step + 1) / warm
    progress = (step - warm) / max(1, steps - warm)
    return peak * (0.1 + 0.45 * (1 + math.cos(math.pi * progress)))


def train(
    model: GPT,
    blocks: np.ndarray,
    validation: np.ndarray,
    bos: int,
    settings: TrainSettings,
    rng: np.random.Generator,
) -> GPT:
    """Train on (n, L) blocks; keep the weights with the best real validation loss."""
    data = with_bos(blocks, bos)
    opt = optimizer(model, settings)
    per_epoch = math.ceil(len(data) / settings.batch_size)
    steps, step = settings.epochs * per_epoch, 0
    best, best_state = math.inf, None
    for _ in range(settings.epochs):
        model.train()
        order = torch.from_numpy(rng.permutation(len(data)))
        for start in range(0, len(data), settings.batch_size):
            x = data[order[start : start + settings.batch_size]]
            logits = model(x[:, :-1])  # (B, L, vocab)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), x[:, 1:].reshape(-1))
            for group in opt.param_groups:
                group["lr"] = cosine_lr(step, steps, settings.learning_rate)
            opt.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            step += 1
        score = mean_loss(model, validation, bos)
        if score < best:
            best, best_state = score, {k: v.clone() for k, v in model.state_dict().items()}
    assert best_state is not None
    model.load_state_dict(best_state)
    return model


@dataclass(frozen=True)
class Decoding:
    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0
    repetition_penalty: float = 1.0


def next_token_probs(logits: torch.Tensor, seen: torch.Tensor, decoding: Decoding) -> torch.Tensor:
    """Probabilities (B, vocab) after repetition penalty, temperature, top-k and top-p."""
    if decoding.repetition_penalty != 1.0:  # CTRL's penalty on tokens already in the text
        penalised = torch.where(
            logits > 0, logits / decoding.repetition_penalty, logits * decoding.repetition_penalty
        )
        logits = torch.where(seen, penalised, logits)
    logits = logits / decoding.temperature
    if decoding.top_k:
        kth = torch.topk(logits, min(decoding.top_k, logits.shape[-1])).values[:, -1:]
        logits = logits.masked_fill(logits < kth, -math.inf)
    if decoding.top_p < 1.0:
        ordered, index = torch.sort(logits, descending=True)
        cumulative = torch.softmax(ordered, dim=-1).cumsum(dim=-1)
        drop = cumulative - torch.softmax(ordered, dim=-1) >= decoding.top_p  # keep the first
        logits = logits.scatter(1, index, ordered.masked_fill(drop, -math.inf))
    return torch.softmax(logits, dim=-1)


@torch.no_grad()
def generate(
    model: GPT,
    prompts: np.ndarray,
    length: int,
    bos: int,
    decoding: Decoding,
    generator: torch.Generator,
    batch: int = 512,
) -> np.ndarray:
    """Continue every (n, L) prompt with ``length`` tokens, with a KV cache: (n, length)."""
    model.eval()
    shape = model.shape
    out = []
    for start in range(0, len(prompts), batch):
        x = with_bos(prompts[start : start + batch], bos)  # (B, L + 1)
        B, hs = len(x), shape.n_embd // shape.n_head
        caches = [
            [torch.empty(B, shape.n_head, shape.context, hs) for _ in range(2)]
            for _ in range(shape.n_layer)
        ]
        seen = torch.zeros(B, shape.vocab, dtype=torch.bool).scatter_(1, x, True)
        logits, pos = model(x, caches, 0)[:, -1], x.shape[1]
        tokens = torch.empty(B, length, dtype=torch.long)
        for t in range(length):
            probs = next_token_probs(logits.float(), seen, decoding)
            tokens[:, t] = torch.multinomial(probs, 1, generator=generator)[:, 0]
            seen[torch.arange(B), tokens[:, t]] = True
            if t + 1 < length:
                logits, pos = model(tokens[:, t : t + 1], caches, pos)[:, -1], pos + 1
        out.append(tokens.numpy())
    return np.concatenate(out)
