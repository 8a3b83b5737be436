"""Third-party plug-ins: the example in examples/plugins runs as a user would run it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from model_collapse.assemble.plugins import load_plugins
from model_collapse.cli import app
from model_collapse.core.errors import UserInputError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "plugins"


def cli(*args: str, path: Path | None = EXAMPLE) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if path is not None:
        env["PYTHONPATH"] = str(path)
    return subprocess.run(
        [sys.executable, "-m", "model_collapse", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )


def test_the_example_plugin_runs_and_follows_its_own_theory(tmp_path: Path):
    n, generations, seeds = 20, 6, 400
    out = tmp_path / "run"
    result = cli(
        "run",
        "examples/plugins/config.toml",
        "--set",
        f"experiment.generations={generations}",
        "--set",
        f"experiment.seeds={seeds}",
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    metrics = pd.read_csv(out / "metrics.csv")
    last = metrics[metrics["generation"] == generations - 1]["variance_ratio"]
    # E ratio = q^(g+1) for MLE uniform refits (see the module); 4 standard errors of the
    # mean of 400 seeds: a false alarm about once in 16,000 runs.
    q = n * (n - 1) / ((n + 1) * (n + 2))
    error = last.std() / np.sqrt(seeds)
    assert abs(last.mean() - q**generations) < 4 * error, (last.mean(), q**generations)
    assert (out / "figures/variance_ratio.png").exists()
    saved = (out / "config.toml").read_text()
    assert 'plugins = ["uniform_family"]' in saved and 'name = "uniform"' in saved


def test_the_example_plugin_owns_its_parameters(tmp_path: Path):
    args = ["run", "examples/plugins/config.toml", "--out", str(tmp_path / "r")]
    wrong = cli(*args, "--set", "family.estimator=median")
    assert wrong.returncode == 2
    assert wrong.stderr.strip() == (
        "error: family.estimator must be one of 'mle', 'unbiased', got 'median'"
    )
    misspelt = cli(*args, "--set", "source.widht=3")
    assert misspelt.returncode == 2 and "did you mean 'source.width'" in misspelt.stderr
    biased = cli(*args, "--set", "sampling.bias=0.5")
    assert biased.returncode == 2
    assert "sampling.bias belongs to gaussian and gmm, not to family 'uniform'" in biased.stderr
    assert not (tmp_path / "r").exists()


def test_a_plugin_python_cannot_import_is_one_line(tmp_path: Path):
    result = cli("run", "examples/plugins/config.toml", "--out", str(tmp_path / "r"), path=None)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "experiment.plugins names 'uniform_family'" in lines[0]
    assert "PYTHONPATH" in lines[0]


def test_a_plugin_that_fails_on_import_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "broken_plugin.py").write_text("raise RuntimeError('no licence key')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(UserInputError, match="'broken_plugin' failed: RuntimeError: no licence"):
        load_plugins(["broken_plugin"])


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (
            "import sys\nsys.exit(3)\n",
            "the plug-in {path} called sys.exit(3) while it was imported",
        ),
        ("raise KeyboardInterrupt\n", "importing the plug-in {path} was interrupted"),
    ],
)
def test_a_plugin_that_exits_or_interrupts_at_import_is_named_in_one_line(
    tmp_path: Path, body: str, says: str
):
    """Before: the command ended with nothing printed."""
    path = tmp_path / "quits.py"
    path.write_text(body)
    result = CliRunner().invoke(app, ["list", "--plugin", str(path)])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert says.format(path=path) in result.output, result.output


def test_list_shows_a_plugins_parts():
    listed = cli("list", "--plugin", "uniform_family")
    assert listed.returncode == 0
    assert any(line.split()[:2] == ["family", "uniform"] for line in listed.stdout.splitlines())
    missing = cli("list", "--plugin", "no_such_module")
    assert missing.returncode == 2
    assert missing.stderr.startswith("error: --plugin names 'no_such_module'")


def test_a_plugin_file_needs_no_python_path(tmp_path: Path):
    config = (EXAMPLE / "config.toml").read_text()
    plugin = EXAMPLE / "uniform_family.py"
    config = config.replace('plugins = ["uniform_family"]', f'plugins = ["{plugin}"]')
    (tmp_path / "c.toml").write_text(config)
    out = tmp_path / "run"
    result = cli(
        "run",
        str(tmp_path / "c.toml"),
        "--set",
        "experiment.generations=2",
        "--out",
        str(out),
        path=None,
    )
    assert result.returncode == 0, result.stderr
    assert f'plugins = ["{plugin}"]' in (out / "config.toml").read_text()
    (tmp_path / "gone.toml").write_text(config.replace(str(plugin), str(tmp_path / "gone.py")))
    missing = cli("run", str(tmp_path / "gone.toml"), "--out", str(tmp_path / "g"), path=None)
    assert missing.returncode == 2
    assert missing.stderr.strip().endswith(f"names {tmp_path / 'gone.py'}, which is not a file")
