"""A small GPT in PyTorch, after nanoGPT, with a preallocated KV cache.

Imported only by the ``gpt`` family, so that nothing else pays for importing torch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

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
        positions = torch.arange(pos, pos + idx.shape[1], device=idx.device)
        x = self.wte(idx) + self.wpe(positions)  # (B, T, C)
        for i, block in enumerate(self.blocks):
            x = block(x, None if caches is None else caches[i], pos)
        return self.lm_head(self.ln_f(x))

    @property
    def vocab(self) -> int:
        return self.shape.vocab

    def new_cache(self, batch: int) -> list[list[torch.Tensor]]:
        """Key and value buffers per layer: (B, nh, context, hs) each."""
        s, device = self.shape, self.wte.weight.device
        shape = (batch, s.n_head, s.context, s.n_embd // s.n_head)
        return [[torch.empty(shape, device=device) for _ in range(2)] for _ in range(s.n_layer)]

    def decode(self, idx: torch.Tensor, cache: list[list[torch.Tensor]], pos: int) -> torch.Tensor:
        return self(idx, cache, pos)

    def reorder(self, cache: list[list[torch.Tensor]], index: torch.Tensor) -> None:
        """Keep the cache rows of the beams that survive (beam search)."""
        for layer in cache:
            for buffer in layer:
                buffer.copy_(buffer[index])
