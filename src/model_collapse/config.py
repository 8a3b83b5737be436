"""One frozen, typed config, reached from TOML, ``--set`` overrides and Python dicts.

Every path goes through :func:`config_from_dict`, which refuses unknown keys, wrong
types and out-of-range values with one line that names the key.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model_collapse import defaults
from model_collapse.errors import UserInputError
from model_collapse.registry import did_you_mean


def _spec(
    default: Any,
    doc: str,
    low: float | None = None,
    high: float | None = None,
    choices: tuple[str, ...] = (),
    open_low: bool = False,
    open_high: bool = False,
) -> Any:
    """A dataclass field with what it means and its valid range (see :func:`_check_value`)."""
    meta = {
        "doc": doc,
        "low": low,
        "high": high,
        "choices": choices,
        "open_low": open_low,
        "open_high": open_high,
    }
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=meta)
    return field(default=default, metadata=meta)


BIG = 1e100  # magnitudes of data parameters: their squares and sums stay far from overflow
MANY = 1_000_000_000  # counts of rows, samples and blocks; memory is checked separately


@dataclass(frozen=True)
class ExperimentConfig:
    generations: int = _spec(10, "generations to run", low=1, high=10_000_000)
    seeds: int = _spec(10, "independent chains, run as one batched computation", 1, 1_000_000)
    seed: int = _spec(0, "the root seed of every random stream", low=0, high=2**63 - 1)
    keep_checkpoints: bool = _spec(
        False, "keep every generation's model, not only generation 0's and the latest"
    )
    device: str = _spec(
        "auto",
        "where torch families compute (auto: cuda, else mps, else cpu)",
        choices=("auto", "cpu", "cuda", "mps"),
    )


@dataclass(frozen=True)
class SourceConfig:
    name: str = _spec(defaults.SOURCE, "the real data (model-collapse list shows the sources)")
    path: str = _spec("", "your data file or folder (sources file, text, wikitext)")
    dim: int = _spec(1, "dimensions of a built-in distribution", low=1, high=10_000)
    mean: list[float] = _spec([], "its mean, one value per dimension (default 0)", -BIG, BIG)
    std: float = _spec(1.0, "its standard deviation", low=0.0, high=BIG, open_low=True)
    cov: list[list[float]] = _spec([], "its full covariance matrix (instead of std)", -BIG, BIG)
    correlation: float = _spec(0.0, "correlation between dimensions", low=-1.0, high=1.0)
    components: int = _spec(3, "blobs of the gmm source", low=1, high=1000)
    spread: float = _spec(4.0, "distance of the gmm blobs from the centre", low=0.0, high=BIG)
    df: float = _spec(3.0, "degrees of freedom of student_t", low=2.0, high=1e6, open_low=True)
    categories: int = _spec(100, "categories of zipf", low=2, high=10_000_000)
    exponent: float = _spec(1.1, "exponent of zipf", low=0.0, high=100.0)
    noise: float = _spec(0.1, "noise of moons and linear", low=0.0, high=BIG)
    n_train: int | None = _spec(
        None, "generation 0's real training rows per seed (default sampling.n; 0: all)", 0, MANY
    )
    n_test: int = _spec(10000, "held-out real rows of a built-in distribution", low=2, high=MANY)
    test_fraction: float = _spec(
        0.2, "share of a data set held out for testing", 0.0, 1.0, open_low=True, open_high=True
    )
    validation_fraction: float = _spec(
        0.1, "share of a text corpus held out for validation", 0.0, 1.0, open_high=True
    )
    vocab_size: int = _spec(4096, "tokens of the BPE trained on the corpus", 257, 1_000_000)
    block_size: int = _spec(64, "tokens per block of text", low=2, high=1_000_000)
    max_documents: int = _spec(0, "use only the first documents of a corpus (0: all)", 0, MANY)
    text_field: str = _spec("text", "the field or column that holds text (.jsonl, .parquet)")
    tokenizer: str = _spec(
        "", 'a Hugging Face model directory whose tokenizer to use ("": train a BPE)'
    )


@dataclass(frozen=True)
class FamilyConfig:
    name: str = _spec(defaults.FAMILY, "the model family (model-collapse list shows them)")
    estimator: str = _spec("mle", "covariance or noise estimator", choices=("mle", "unbiased"))
    exact: bool = _spec(
        False, "draw sufficient statistics instead of samples (gaussian, categorical)"
    )
    components: int = _spec(2, "mixture components (gmm)", low=1, high=1000)
    covariance: str = _spec("full", "component covariance (gmm)", choices=("full", "diag"))
    max_iter: int = _spec(100, "EM iterations at most (gmm)", low=1, high=100_000)
    tol: float = _spec(1e-3, "EM convergence tolerance (gmm)", 0.0, 1e6, open_low=True)
    reg_covar: float = _spec(
        1e-6, "added to every component's covariance (gmm)", 0.0, BIG, open_low=True
    )
    bandwidth: str | float = _spec(
        "scott",
        "kernel bandwidth rule, or a kernel standard deviation (kde)",
        low=0.0,
        high=BIG,
        open_low=True,
        choices=("scott", "silverman"),
    )
    order: int = _spec(3, "tokens per n-gram (ngram)", low=1, high=4)
    n_layer: int = _spec(2, "transformer layers (gpt)", low=1, high=256)
    n_head: int = _spec(4, "attention heads (gpt)", low=1, high=256)
    n_embd: int = _spec(128, "embedding width (gpt)", low=1, high=65536)
    context: int = _spec(160, "longest sequence in tokens (gpt)", low=2, high=1_000_000)
    epochs: int = _spec(1, "passes over the training set per generation", low=1, high=100_000)
    batch_size: int = _spec(32, "blocks per optimiser step", low=1, high=1_000_000)
    learning_rate: float = _spec(3e-3, "peak AdamW learning rate", 0.0, 10.0, open_low=True)
    weight_decay: float = _spec(0.1, "AdamW weight decay", low=0.0, high=100.0)
    init: str = _spec(
        "scratch",
        "later generations start from scratch, generation 0's or the previous weights",
        choices=("scratch", "gen0", "previous"),
    )
    model_path: str = _spec("", "a local Hugging Face model directory, GGUF file or package:NAME")


@dataclass(frozen=True)
class RegimeConfig:
    name: str = _spec(defaults.REGIME, "how each training set is built (model-collapse list)")
    real_fraction: float = _spec(0.1, "real share of each training set (mix, fresh)", 0.0, 1.0)
    size: int | None = _spec(
        None, "training set size of accumulate-subsample (default sampling.n)", 0, MANY
    )


@dataclass(frozen=True)
class SamplingConfig:
    n: int = _spec(
        1000, "samples each generation draws per seed (0: as many as real rows)", 0, MANY
    )
    bias: float = _spec(
        1.0, "sample with covariance x bias (gaussian, gmm)", 0.0, 10.0, open_low=True
    )
    temperature: float = _spec(1.0, "softmax temperature", 0.0, 100.0, open_low=True)
    top_k: int = _spec(0, "keep the k likeliest tokens (0: all)", low=0, high=10_000_000)
    top_p: float = _spec(1.0, "nucleus: keep this probability mass", 0.0, 1.0, open_low=True)
    repetition_penalty: float = _spec(
        1.0, "divide the logits of seen tokens (CTRL)", 0.0, 100.0, open_low=True
    )
    beams: int = _spec(1, "beam search with this many beams (1: sampling)", low=1, high=1000)


@dataclass(frozen=True)
class MetricsConfig:
    names: list[str] = _spec([], "metrics to compute (empty: every one that applies)")
    projections: int = _spec(50, "directions of the sliced Wasserstein distance", 1, 100_000)


@dataclass(frozen=True)
class Config:
    """The whole experiment: what :func:`model_collapse.run` and ``model-collapse run`` take."""

    experiment: ExperimentConfig = field(default_factory=ExperimentConfig)
    source: SourceConfig = field(default_factory=SourceConfig)
    family: FamilyConfig = field(default_factory=FamilyConfig)
    regime: RegimeConfig = field(default_factory=RegimeConfig)
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)


SECTIONS: dict[str, type] = {f.name: f.type for f in dataclasses.fields(Config)}  # type: ignore[misc]
SECTIONS = {name: typing.get_type_hints(Config)[name] for name in SECTIONS}


def _type_name(kind: Any) -> str:
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        return " or ".join(_type_name(k) for k in typing.get_args(kind) if k is not type(None))
    if typing.get_origin(kind) is list:
        inner = _type_name(typing.get_args(kind)[0]).split(" ", 1)[1]  # "a string" -> "string"
        return f"a list of {inner}s"
    return {int: "an int", float: "a number", str: "a string", bool: "a boolean"}[kind]


def _coerce(value: Any, kind: Any) -> Any:
    """Return ``value`` as ``kind`` or raise TypeError; ints are accepted as floats."""
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        for option in typing.get_args(kind):
            if option is type(None) and value is None:
                return None
            try:
                return _coerce(value, option)
            except TypeError:
                continue
        raise TypeError
    if origin is list:
        if not isinstance(value, list):
            raise TypeError
        return [_coerce(item, typing.get_args(kind)[0]) for item in value]
    if kind is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if (
        kind is type(None)
        or not isinstance(value, kind)
        or (kind is int and isinstance(value, bool))
    ):
        raise TypeError
    return value


def _flat(value: Any) -> list[Any]:
    if isinstance(value, list):
        return [item for part in value for item in _flat(part)]
    return [value]


def _check_value(key: str, value: Any, meta: dict[str, Any]) -> None:
    """Refuse a value outside its declared range or choices, naming the key."""
    if isinstance(value, str) and meta["choices"]:
        if value not in meta["choices"]:
            valid = ", ".join(repr(c) for c in meta["choices"])
            raise UserInputError(
                f"{key} must be one of {valid}, got {value!r};"
                f"{did_you_mean(value, list(meta['choices']))}".rstrip(";")
            )
        return
    for number in _flat(value):
        if not isinstance(number, int | float) or isinstance(number, bool):
            continue
        low, high = meta["low"], meta["high"]
        too_low = low is not None and (number <= low if meta["open_low"] else number < low)
        too_high = high is not None and (number >= high if meta["open_high"] else number > high)
        if not math.isfinite(number) or too_low or too_high:
            raise UserInputError(f"{key} must be in the range {valid_range(meta)}, got {number!r}")


def valid_range(meta: dict[str, Any]) -> str:
    """'[1, 10000]', '(0, 1)': a key's valid range as its check states it."""
    left = "(" if meta["open_low"] else "["
    right = ")" if meta.get("open_high") else "]"
    low = "-inf" if meta["low"] is None else _number(meta["low"])
    high = "inf" if meta["high"] is None else _number(meta["high"])
    return f"{left}{low}, {high}{right}"


def _number(value: float) -> str:
    """1000000 as it is, 1e+100 as that: bounds read the way one would type them."""
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else f"{value:g}"


def _build_section(section: str, raw: dict[str, Any]) -> Any:
    cls = SECTIONS[section]
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in fields:
            known = [f"{section}.{name}" for name in fields]
            hint = did_you_mean(f"{section}.{key}", known) or f" valid keys: {', '.join(known)}"
            raise UserInputError(f"unknown config key {section}.{key};{hint}")
        try:
            values[key] = _coerce(value, hints[key])
        except TypeError:
            example = ""
            if typing.get_origin(hints[key]) is list and isinstance(value, str):
                example = f' (in --set: {section}.{key}=["{value}"])'
            raise UserInputError(
                f"{section}.{key} must be {_type_name(hints[key])}{example}, got {value!r}"
            ) from None
        _check_value(f"{section}.{key}", values[key], dict(fields[key].metadata or _NO_META))
    return cls(**values)


_NO_META = {"low": None, "high": None, "choices": (), "open_low": False, "open_high": False}


def config_from_dict(raw: dict[str, Any]) -> Config:
    """Build a validated :class:`Config` from nested dicts ``{section: {key: value}}``."""
    sections: dict[str, Any] = {}
    for section, body in raw.items():
        if section not in SECTIONS:
            hint = did_you_mean(section, list(SECTIONS)) or f" sections: {', '.join(SECTIONS)}"
            raise UserInputError(f"unknown config section [{section}];{hint}")
        if not isinstance(body, dict):
            raise UserInputError(f"[{section}] must be a table of keys, got {body!r}")
        sections[section] = _build_section(section, body)
    return resolve(Config(**sections))


def resolve(config: Config) -> Config:
    """Fill the defaults that depend on other keys, so the saved config is explicit."""
    n = config.sampling.n
    source = config.source
    if source.n_train is None:
        source = dataclasses.replace(source, n_train=n)
    # Paths are kept absolute: the saved config.toml repeats the run from any folder.
    source = dataclasses.replace(
        source, path=_absolute(source.path), tokenizer=_absolute(source.tokenizer)
    )
    family = dataclasses.replace(config.family, model_path=_absolute(config.family.model_path))
    regime = config.regime
    if regime.size is None:
        regime = dataclasses.replace(regime, size=n)
    return dataclasses.replace(config, source=source, family=family, regime=regime)


def _absolute(path: str) -> str:
    """A path made absolute (``~`` expanded); "" and ``package:NAME`` stay as they are."""
    if not path or path.startswith("package:"):
        return path
    return str(Path(path).expanduser().absolute())


def config_to_dict(config: Config) -> dict[str, dict[str, Any]]:
    """The config as nested dicts, the inverse of :func:`config_from_dict`."""
    return {name: dataclasses.asdict(getattr(config, name)) for name in SECTIONS}


def parse_override(text: str) -> tuple[str, str, Any]:
    """Parse ``section.key=value``; the value is read as TOML, else as a bare string."""
    if "=" not in text or "." not in text.split("=", 1)[0]:
        raise UserInputError(f"--set takes section.key=value, got {text!r}")
    dotted, literal = text.split("=", 1)
    section, key = dotted.strip().split(".", 1)
    try:
        value = tomllib.loads(f"v = {literal.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = literal.strip()
    return section, key, value


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Return a copy of ``raw`` with each ``section.key=value`` override applied."""
    merged = {
        section: dict(body) if isinstance(body, dict) else body for section, body in raw.items()
    }
    for text in overrides:
        section, key, value = parse_override(text)
        merged.setdefault(section, {})
        if isinstance(merged[section], dict):
            merged[section][key] = value
    return merged


def read_toml(path: Path) -> dict[str, Any]:
    """Read a TOML file safely (``tomllib``), with one-line errors."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserInputError(f"config file not found: {path}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise UserInputError(f"{path} is not valid TOML: {err}") from None
    except OSError as err:
        raise UserInputError(f"cannot read config {path}: {err.strerror}") from None


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


def config_to_toml(config: Config) -> str:
    """The resolved config as TOML text; reading it back gives the same config."""
    lines: list[str] = []
    for section, body in config_to_dict(config).items():
        lines.append(f"[{section}]")
        lines += [f"{key} = {_toml_value(value)}" for key, value in body.items()]
        lines.append("")
    return "\n".join(lines)


def commented_toml(raw: dict[str, Any], title: str) -> str:
    """A config as TOML with every key, its meaning and valid range in a comment.

    Keys whose default depends on other keys (source.n_train, regime.size) are written
    commented out, with the value they take now: uncomment them to pin it.
    """
    resolved = config_to_dict(config_from_dict(raw))
    lines = [
        f"# {title}",
        "# Run it with: model-collapse run THIS_FILE [--set section.key=value ...]",
        "",
    ]
    for section, cls in SECTIONS.items():
        lines.append(f"[{section}]")
        given = raw.get(section, {})
        for f in dataclasses.fields(cls):
            meta = dict(f.metadata)
            derived = f.default is None and f.name not in given
            value = resolved[section][f.name]
            setting = f"{'# ' if derived else ''}{f.name} = {_toml_value(value)}"
            lines.append(f"{setting:<30} # {_describe(meta)}")
        lines.append("")
    return "\n".join(lines)


def _describe(meta: dict[str, Any]) -> str:
    text = str(meta["doc"])
    if meta["choices"]:
        text += f"; one of {', '.join(repr(c) for c in meta['choices'])}"
    if meta["low"] is not None or meta["high"] is not None:
        text += f"; {'or ' if meta['choices'] else ''}in {valid_range(meta)}"
    return text
