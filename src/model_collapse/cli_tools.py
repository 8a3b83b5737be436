"""The commands that work on data rather than runs: export, watermark detect (and, on the
same pattern, detect and audit). Registered on the main app by importing this module."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from model_collapse.cli import app, bad_input_exits_2, say
from model_collapse.errors import UserInputError

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
    from model_collapse.export import export

    with bad_input_exits_2():
        count = export(directory, generation, out)
    typer.echo(f"wrote {count} items of generation {generation} to {out}")


@watermark_app.command("detect")
def watermark_detect_command(
    files: Files,
    key: Annotated[int | None, typer.Option("--key", help="The key it was generated with.")] = None,
    gamma: Annotated[float, typer.Option("--gamma", help="The green share.")] = 0.25,
    tokenizer: TokenizerOption = "wikipedia",
    z_threshold: Annotated[float, typer.Option("--z", help="Flag texts with z above this.")] = 4.0,
    window: Annotated[
        int, typer.Option("--window", help="Score the best stretch of this many tokens (0: all).")
    ] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object a line.")] = False,
) -> None:
    """Per document: tokens scored, z, p-value, and whether it is flagged as watermarked."""
    from model_collapse import watermark
    from model_collapse.corpus import check_tokenizer, read_documents, tokenizer_from

    with bad_input_exits_2():
        if key is None:
            raise UserInputError("watermark detect needs --key: the key the text was made with")
        if not 0 < gamma < 1:
            raise UserInputError(f"--gamma must lie strictly between 0 and 1, got {gamma}")
        documents = read_documents(files)
        reader = tokenizer_from(tokenizer)
        check_tokenizer(documents, reader)
        ids = reader.encode([d.text for d in documents])
        if window:
            scores = [watermark.detect_windows(t, reader.size, gamma, window, key) for t in ids]
        else:
            scores = watermark.detect_many(ids, reader.size, gamma, key)
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


def show_table(rows: list[dict[str, object]], columns: list[str]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(*columns)
    for row in rows:
        cells = [row[c] for c in columns]
        table.add_row(*(f"{v:.3g}" if isinstance(v, float) else str(v) for v in cells))
    Console().print(table)
