"""report.html in a real headless Chromium (Debian's chromium, driven by Playwright): no
console errors, every figure drawn, the group toggles and the hover work, and a script
hidden in generated text stays text."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from model_collapse.cli import app
from model_collapse.sweeps.sweep import read_sweep, run_sweep

CHROMIUM = "/usr/bin/chromium"
# Chromium as root on a closed network: without these it tries (and fails) to phone home
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
INJECTED = '<script>window.__injected=1</script><img src=x onerror="window.__injected=2">'


def chromium() -> str:
    """Debian's chromium, installed here when missing (the tests' set-up)."""
    install = ["apt-get", "install", "-y", "-q", "chromium"]
    for command in (install, ["apt-get", "update", "-q"], install):  # lists may be stale
        if Path(CHROMIUM).exists() or not shutil.which("apt-get"):
            break
        subprocess.run(command, capture_output=True, check=False)
    assert Path(CHROMIUM).exists(), "the report's browser test needs: apt-get install chromium"
    return CHROMIUM


@pytest.fixture(scope="module")
def browser() -> Any:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium(), args=FLAGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def sweep_report(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("browser")
    (folder / "sweep.toml").write_text(
        'base = "gaussian-1d"\n[set]\n"experiment.generations" = 8\n"experiment.seeds" = 6\n'
        '[grid]\n"regime.name" = ["replace", "mix", "accumulate"]\n'
    )
    run_sweep(read_sweep(folder / "sweep.toml"), folder / "out", tell=lambda line: None)
    assert CliRunner().invoke(app, ["report", str(folder / "out")]).exit_code == 0
    return folder / "out" / "report.html"


@pytest.fixture(scope="module")
def text_report(tmp_path_factory) -> Path:
    """A real n-gram run on a corpus whose text holds a script tag: its samples do too."""
    folder = tmp_path_factory.mktemp("injected")
    note = f"Here is a note: {INJECTED} and more text. "
    (folder / "corpus.txt").write_text("\n\n".join([note * 40] * 12))
    settings = {
        "source.name": "text",
        "source.path": str(folder / "corpus.txt"),
        "source.vocab_size": 300,
        "source.block_size": 32,
        "source.n_train": 200,
        "sampling.n": 200,
        "experiment.generations": 3,
        "experiment.seeds": 2,
    }
    args = [a for key, value in settings.items() for a in ("--set", f"{key}={value}")]
    result = CliRunner().invoke(app, ["run", "ngram-wikipedia", *args, "--out", str(folder / "r")])
    assert result.exit_code == 0, result.output
    samples = "".join(p.read_text() for p in (folder / "r/samples/text").glob("*.txt"))
    assert "<script>window.__injected=1</script>" in samples  # the run wrote it
    assert CliRunner().invoke(app, ["report", str(folder / "r")]).exit_code == 0
    return folder / "r" / "report.html"


def open_page(browser: Any, path: Path) -> tuple[Any, list[str]]:
    page = browser.new_page(viewport={"width": 1300, "height": 1000})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else 0)
    page.on("pageerror", lambda err: problems.append(str(err)))
    page.on(
        "request",
        lambda r: problems.append(r.url) if not r.url.startswith(("file:", "data:")) else 0,
    )
    page.goto(path.as_uri())
    page.wait_for_selector("body[data-ready=yes]", timeout=15000)
    return page, problems


def inked(png: bytes) -> float:
    """The share of a screenshot's pixels that are not the page's white."""
    from PIL import Image

    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=float)
    return float((pixels < 245).mean())


def test_the_page_loads_with_no_errors_and_every_figure_drawn(browser, sweep_report: Path):
    page, problems = open_page(browser, sweep_report)
    charts = page.locator("figure.chart svg")
    images = page.locator(".figures img")
    assert charts.count() == 6  # five metrics and the spread of seeds
    assert images.count() >= 15  # three runs' metric figures
    for i in range(charts.count()):
        assert inked(charts.nth(i).screenshot()) > 0.02, f"chart {i} is blank"
    page.locator("details").nth(1).evaluate("d => d.open = true")  # the other runs' figures
    page.locator("details").nth(2).evaluate("d => d.open = true")
    for i in range(images.count()):
        assert images.nth(i).evaluate("img => img.complete && img.naturalWidth > 0")
        assert inked(images.nth(i).screenshot()) > 0.02, f"image {i} is blank"
    assert problems == []
    page.close()


def test_a_group_toggle_hides_it_in_every_chart_and_hover_shows_values(browser, sweep_report):
    page, problems = open_page(browser, sweep_report)
    chart = page.locator("figure.chart svg").nth(1)
    before = chart.screenshot()
    page.locator('#groups input[data-group="0"]').uncheck()
    hidden = page.locator('g[data-group="0"]')
    assert hidden.count() == 6
    assert all(not hidden.nth(i).is_visible() for i in range(hidden.count()))
    assert page.locator('g[data-group="1"]').first.is_visible()
    assert chart.screenshot() != before
    page.locator('#groups input[data-group="0"]').check()
    assert chart.screenshot() == before
    box = chart.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] / 2)
    tip = page.locator("figure.chart .tip").nth(1)
    assert tip.is_visible()
    assert "generation" in tip.inner_text() and "replace:" in tip.inner_text()
    page.locator('#groups input[data-group="0"]').uncheck()
    page.locator("#log").check()  # redrawn on a log scale, the hidden group stays hidden
    chart = page.locator("figure.chart svg").nth(1)
    assert inked(chart.screenshot()) > 0.02 and chart.screenshot() != before
    assert not page.locator('g[data-group="0"]').first.is_visible()
    assert problems == []
    page.close()


def test_a_script_in_generated_text_stays_text(browser, text_report: Path):
    page, problems = open_page(browser, text_report)
    page.locator("details summary", has_text="text, generation").first.click()
    assert page.evaluate("typeof window.__injected") == "undefined"
    assert "<script>window.__injected=1</script>" in page.locator("pre").first.inner_text()
    assert problems == []
    page.close()


def _points(d: str) -> list[tuple[float, float]]:
    import re

    return [(float(x), float(y)) for x, y in re.findall(r"[ML](-?[\d.]+),(-?[\d.]+)", d)]


def test_theory_stays_inside_the_frame_in_the_legend_with_the_real_level(browser, sweep_report):
    """The closed form's lines stop where they leave the plotting area (they do not run
    along its edge), its band is cut at the edge, each is named in the chart's legend, and
    a dotted line marks the real level."""
    page, problems = open_page(browser, sweep_report)
    chart = page.locator("figure.chart").filter(has_text="variance_ratio").first
    area = chart.locator("rect.plot-area")
    left, top = float(area.get_attribute("x")), float(area.get_attribute("y"))
    right = left + float(area.get_attribute("width"))
    bottom = top + float(area.get_attribute("height"))
    lines = chart.locator("path.theory")
    assert lines.count() >= 3  # the mean, the typical seed and its band's two edges
    on_edge = 0
    for i in range(lines.count()):
        for x, y in _points(lines.nth(i).get_attribute("d")):
            assert left - 0.5 <= x <= right + 0.5 and top - 0.5 <= y <= bottom + 0.5, (x, y)
            on_edge += abs(y - top) < 0.5 or abs(y - bottom) < 0.5
    assert on_edge == 0  # no line drawn along the frame
    for x, y in _points(chart.locator("path.theory-band").first.get_attribute("d")):
        assert left - 0.5 <= x <= right + 0.5 and top - 0.5 <= y <= bottom + 0.5
    legend = chart.locator(".legend").inner_text()
    assert "theory: typical seed exp(E log)" in legend and "theory: mean" in legend
    assert "median over seeds" in legend and "real data's level, 1" in legend
    assert chart.locator("line.level").count() == 1
    assert problems == []
    page.close()


def test_hiding_a_group_fits_the_axes_to_the_others_and_ticks_read_as_numbers(
    browser, sweep_report
):
    page, problems = open_page(browser, sweep_report)
    labels = page.locator("figure.chart").filter(has_text="wasserstein").first.locator(".axes text")
    before = labels.evaluate_all("texts => texts.map((t) => t.textContent)")
    for text in before:  # 0.5, 400, 1: never 0.5000 or 400.0
        assert not (("." in text) and text.endswith("0")), before
    chart = page.locator("figure.chart").filter(has_text="wasserstein").first
    area = chart.locator("rect.plot-area")
    top, height = float(area.get_attribute("y")), float(area.get_attribute("height"))

    def band_top(group: int) -> float:
        d = chart.locator(f'g[data-group="{group}"] path.band').get_attribute("d")
        return min(y for _, y in _points(d))

    groups = page.locator("#groups input").count()
    lowest = max(range(groups), key=band_top)  # the group whose band stays lowest
    padded_top = top + height * 0.05 / 1.1  # the axis pads its range by 5% each side
    assert band_top(lowest) > padded_top + 5  # with every group shown, others reach higher
    for group in range(groups):
        if group != lowest:
            page.locator(f'#groups input[data-group="{group}"]').uncheck()
    chart = page.locator("figure.chart").filter(has_text="wasserstein").first
    assert abs(band_top(lowest) - padded_top) < 1.5  # alone, it fills the axis
    assert problems == []
    page.close()
