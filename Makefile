# First use creates .venv with the pinned dependencies of requirements.txt.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv demo test test-slow lint bench reference clean

venv: $(STAMP)

$(STAMP): requirements.txt requirements-nodeps.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# torch first: the CPU build on this disk, before anything could pull a CUDA build
	$(BIN)/pip install --quiet --disable-pip-version-check $$(grep '^torch==' requirements.txt) \
		>$(VENV)/pip.log 2>&1 || { cat $(VENV)/pip.log; exit 1; }
	# --no-compile: the compileall below writes the bytecode once, on every core
	$(BIN)/pip install --quiet --disable-pip-version-check --no-compile -r requirements.txt \
		>$(VENV)/pip.log 2>&1 \
		|| { cat $(VENV)/pip.log; exit 1; }
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -r requirements-nodeps.txt \
		>$(VENV)/pip.log 2>&1 || { cat $(VENV)/pip.log; exit 1; }
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	# bytecode for every package, once (20 s on 2 cores): where PYTHONDONTWRITEBYTECODE is
	# set (CI, shared machines) nothing else writes it, and every command would compile its
	# ~1,000 modules again: 1.9 s of the 3 s a finished run took to say "nothing to run"
	$(BIN)/python -m compileall -q -j 0 $(VENV)/lib >/dev/null 2>&1 || true
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/model-collapse demo

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples scripts
	$(BIN)/ruff format --check src tests benchmarks examples scripts
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -m "not slow"

# the few tests over 15 s (SmolLM2's runs, the demo); CI runs them after `make test`
test-slow: $(STAMP)
	$(BIN)/pytest -m slow

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run --write

# the small reference runs: each metrics.csv's SHA-256, which a refactor must not change
reference: $(STAMP)
	$(BIN)/python scripts/reference_runs.py runs/reference

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
