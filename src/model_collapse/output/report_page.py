"""The report's one HTML file: nothing it needs comes from a network.

The numbers travel as JSON in a non-executed script element (``<``, ``>`` and ``&``
written as unicode escapes, so no text can close it) and are drawn by the page's one
inline script; every text from a run (names, config, samples) is escaped here or set
through ``textContent`` there. A Content-Security-Policy lets the page run only its own
script and style (by hash) and show only embedded images: an injected tag would stay
inert even if escaping failed.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from model_collapse.core.errors import UserInputError, check_regular_file
from model_collapse.output.colours import colours
from model_collapse.output.reading import reading
from model_collapse.output.report import (
    MAX_RUNS_SHOWN,
    Gathered,
    RunPart,
    finite_list,
    gather,
    gatherable,
    text_samples,
)


def asset(name: str) -> str:
    return resources.files("model_collapse").joinpath(f"report_assets/{name}").read_text()


def csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def page(gathered: Gathered) -> str:
    script, style = asset("report.js"), asset("report.css")
    policy = (
        f"default-src 'none'; script-src {csp_hash(script)}; style-src {csp_hash(style)}; "
        "img-src data:"
    )
    title = f"model-collapse {gathered.kind}: {gathered.directory.name}"
    body = "\n".join(
        [
            f"<h1>{esc(title)}</h1>",
            f'<p class="sub">{esc(subtitle(gathered))}</p>',
            section("verdict", "Verdict", verdict_block(gathered)),
            section("reading", "What the numbers say", reading_list(gathered)),
            section("curves", "Metrics by generation", curves_block()),
            section("spread", "Spread over seeds at the last generation", spread_block(gathered)),
            section("runs", "Runs", runs_table(gathered)),
            section("figures", "Figures and samples of each run", runs_detail(gathered)),
            section("config", "Config", config_block(gathered)),
        ]
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<link rel="icon" href="data:,">\n<title>{esc(title)}</title>\n'
        f"<style>{style}</style>\n</head><body>\n{body}\n"
        f'<script type="application/json" id="report-data">{data_json(gathered)}</script>\n'
        f"<script>{script}</script>\n</body></html>\n"
    )


def esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def section(anchor: str, heading: str, inner: str) -> str:
    return f'<section id="{anchor}">\n<h2>{esc(heading)}</h2>\n{inner}\n</section>'


def subtitle(gathered: Gathered) -> str:
    seeds = spread_of([r.metrics["seed"].nunique() for r in gathered.runs])
    generations = spread_of([int(r.metrics["generation"].max()) + 1 for r in gathered.runs])
    runs = len(gathered.runs) + len(gathered.failed)
    varied = f", varying {', '.join(gathered.keys)}" if gathered.keys else ""
    where = f"Folder: {gathered.directory}"
    return f"{runs} run(s){varied}; {seeds} seeds, {generations} generations. {where}"


def spread_of(values: list[int]) -> str:
    """One number, or the range where the runs differ ("2-30")."""
    low, high = min(values), max(values)
    return str(low) if low == high else f"{low}-{high}"


def verdict_block(gathered: Gathered) -> str:
    from model_collapse.output.verdict import verdict

    lines = verdict(gathered) or ["No metric of these runs declares how it is read."]
    return f'<p class="verdict">{esc(" ".join(lines))}</p>'


def reading_list(gathered: Gathered) -> str:
    items = "".join(f"<li>{esc(line)}</li>" for line in reading(gathered))
    return f"<ul>{items}</ul>"


def curves_block() -> str:
    return (
        '<div id="controls"><div id="groups"></div>'
        '<label>line: <select id="band">'
        '<option value="stat">each metric\'s own statistic over seeds, 95% bootstrap '
        "interval</option>"
        '<option value="t">the mean over seeds, 95% t interval</option></select></label>'
        '<label><input type="checkbox" id="log"> log scale</label></div>'
        "<p>Each metric is drawn by the statistic that summarises it over seeds without being "
        "held up by a few (the median of a heavy-tailed ratio), with the mean dashed where "
        "it is another; the band is the statistic's 95% interval. Black: the closed form, "
        "where one holds; grey dots: the real data's level. Each chart's legend says which "
        "is which. Hover for values; the boxes show or hide a group, and the axes fit what "
        "is shown. On a log scale, values at or below zero are not drawn.</p>"
        '<div id="charts"></div>'
    )


def spread_block(gathered: Gathered) -> str:
    metric = gathered.intervals["metric"].iloc[0]
    return (
        f"<p>How the seeds' values of {esc(metric)} fall at the last generation: one "
        "histogram per group.</p>"
        '<figure class="chart" id="spread-chart"></figure>'
    )


def runs_table(gathered: Gathered) -> str:
    head = "".join(f"<th>{esc(c)}</th>" for c in ("run", "state", "error"))
    rows = [
        f"<tr><td>{esc(r.label or r.name)}</td><td>{esc(r.status)}</td><td>{esc(r.error)}</td></tr>"
        for r in gathered.runs
    ]
    rows += [
        f'<tr class="failed"><td>{esc(r.label)}</td><td>{esc(r.status)}</td>'
        f"<td>{esc(r.error)}</td></tr>"
        for r in gathered.failed
    ]
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


PNG = b"\x89PNG\r\n\x1a\n"


def image(path: Any) -> str:
    """A figure embedded whole; a FIFO or a file that is no PNG is refused in one line."""
    check_regular_file(path, "a figure")
    data = path.read_bytes()
    if not data.startswith(PNG):
        raise UserInputError(
            f"{path} is not a PNG image; draw the run's figures again: model-collapse plot "
            f"{path.parent.parent}"
        )
    payload = base64.b64encode(data).decode()
    return f'<img src="data:image/png;base64,{payload}" alt="{esc(path.stem)}">'


def runs_detail(gathered: Gathered) -> str:
    parts = []
    if gathered.kind == "suite":  # the suite's own figure: its runs side by side
        shared = sorted((gathered.directory / "figures").glob("*.png"))
        parts.append(
            f'<details open><summary>the suite</summary><div class="figures">'
            f"{''.join(image(p) for p in shared)}</div></details>"
        )
    for index, run in enumerate(gathered.runs[:MAX_RUNS_SHOWN]):
        figures = sorted((run.directory / "figures").glob("*.png"))
        samples = "".join(
            f"<details><summary>text, generation {g}</summary><pre>{esc(text)}</pre></details>"
            for g, text in text_samples(run).items()
        )
        opened = " open" if index == 0 and gathered.kind != "suite" else ""
        parts.append(
            f"<details{opened}><summary>{esc(run.label or run.name)}</summary>"
            f'<div class="figures">{"".join(image(p) for p in figures)}</div>{samples}</details>'
        )
    if len(gathered.runs) > MAX_RUNS_SHOWN:
        parts.append(
            f"<p>The figures of the other {len(gathered.runs) - MAX_RUNS_SHOWN} runs are in "
            "each run's figures/ folder.</p>"
        )
    return "\n".join(parts)


def config_block(gathered: Gathered) -> str:
    first = gathered.runs[0]
    what = "its first run's config" if len(gathered.runs) > 1 else "the run's config"
    return (
        f"<p>{esc(what)} ({esc(first.label or first.name)}):</p><pre>{esc(first.config_text)}</pre>"
    )


def curve(rows: Any) -> dict[str, Any]:
    """A group's curve: its declared statistic with that statistic's 95% bootstrap
    interval, and the mean with its t interval."""
    return {
        "x": [int(g) for g in rows["generation"]],
        "value": finite_list(rows["value"]),
        "stat": [finite_list(rows["low"]), finite_list(rows["high"])],
        "mean": finite_list(rows["mean"]),
        "t": [finite_list(rows["t_low"]), finite_list(rows["t_high"])],
    }


def how_read(metric: str, statistic: str) -> dict[str, Any]:
    """What a chart needs of a metric's declaration: its statistic, in words, the real
    level it draws a line at, and the note that explains a value that looks wrong."""
    from model_collapse.metrics import METRICS
    from model_collapse.sweeps.compare import STATISTIC_WORDS, reading_of

    read = reading_of(metric)
    declared = dict(METRICS.items()).get(metric)
    return {
        "statistic": STATISTIC_WORDS[statistic],
        "level": read.level,
        "better": read.better,
        "note": declared.note if declared is not None else "",
    }


def data_json(gathered: Gathered) -> str:
    intervals = gathered.intervals
    metrics = list(dict.fromkeys(intervals["metric"]))
    curves: dict[str, dict[str, Any]] = {m: {} for m in metrics}
    for (metric, run), rows in intervals.groupby(["metric", "run"], sort=False):
        if rows["mean"].notna().any():
            curves[metric][run] = curve(rows)
    statistics = intervals.drop_duplicates("metric").set_index("metric")["statistic"]
    palette = colours([r.label or r.name for r in gathered.runs])
    data = {
        "metrics": [m for m in metrics if curves[m]],
        "groups": [
            {"name": r.name, "label": r.label or r.name, "colour": palette[r.label or r.name]}
            for r in gathered.runs
        ],
        "readings": {m: how_read(m, str(statistics[m])) for m in metrics},
        "curves": curves,
        "theory": {
            m: {r.name: r.theory[m] for r in gathered.runs if m in r.theory} for m in metrics
        },
        "spread": spread(gathered.runs, metrics[0]),
    }
    text = json.dumps(data, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def spread(runs: list[RunPart], metric: str) -> dict[str, Any]:
    last = min(int(r.metrics["generation"].max()) for r in runs)
    values = {}
    for run in runs:
        at = run.metrics[run.metrics["generation"] == last]
        if metric in at:
            values[run.name] = finite_list(np.asarray(at[metric], dtype=float))
    return {"metric": metric, "generation": last, "values": values}


def write_report(directory: Path) -> Path:
    """Gather the directory and write DIR/report.html (replaced whole); its path. A folder
    of runs, suites or sweeps (the demo's) gets a report in each and an index page that
    links them, each with its reading."""
    if directory.is_dir() and not gatherable(directory):
        children = [p for p in sorted(directory.iterdir()) if p.is_dir() and gatherable(p)]
        if children:
            parts = [(child, gather(child)) for child in children]
            for child, gathered in parts:
                _write(child / "report.html", page(gathered))
            return _write(directory / "report.html", index_page(directory, parts))
    return _write(directory / "report.html", page(gather(directory)))


def _write(path: Path, text: str) -> Path:
    """Write a page whole, or refuse in one line."""
    from model_collapse.engine.store import atomic_write

    try:
        atomic_write(path, text.encode("utf-8"))
    except OSError as err:
        raise UserInputError(f"cannot write {path}: {err.strerror}") from None
    return path


def index_page(directory: Path, parts: list[tuple[Path, Gathered]]) -> str:
    """A folder of runs, suites or sweeps: each one's reading, and a link to its report."""
    style = asset("report.css")
    policy = f"default-src 'none'; style-src {csp_hash(style)}"
    title = f"model-collapse: {directory.name}"
    sections = [
        section(
            child.name,
            f"{child.name} ({gathered.kind})",
            f'<p class="sub">{esc(subtitle(gathered))}</p>{reading_list(gathered)}'
            f'<p><a href="{esc(child.name)}/report.html">the whole report</a></p>',
        )
        for child, gathered in parts
    ]
    body = "\n".join([f"<h1>{esc(title)}</h1>", *sections])
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">\n'
        f'<link rel="icon" href="data:,">\n<title>{esc(title)}</title>\n'
        f"<style>{style}</style>\n</head><body>\n{body}\n</body></html>\n"
    )
