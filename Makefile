# The two commands of the README. Each creates .venv and installs what it needs by itself.
#   make run   – start the local server on its embedded SQLite default
#   make test  – run the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

SUDO   := $(shell [ "$$(id -u)" = 0 ] || command -v sudo)

.PHONY: run test lint bench synth clean chromium fmt

# CDK, jsii and npm keep their state inside the project (ignored by git), never in $HOME.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_CLI_TELEMETRY := 1
export CDK_HOME := $(CURDIR)/.cache/cdk
export JSII_RUNTIME_PACKAGE_CACHE_ROOT := $(CURDIR)/.cache/jsii
export npm_config_cache := $(CURDIR)/.cache/npm

# `run` needs only the package; `test` adds the test and CDK toolchains. pip and setuptools talk a
# lot even with --quiet (an editable install always warns): their output goes to .venv/install.log,
# shown only when the install fails, so a first `make run` prints what matters.
INSTALL_LOG := $(VENV)/install.log
QUIETLY = >>$(INSTALL_LOG) 2>&1 || { cat $(INSTALL_LOG); echo "install failed: see $(INSTALL_LOG)"; exit 1; }

$(VENV)/.installed-run: pyproject.toml
	@echo "installing glyphmemory into $(VENV)/ (once; details in $(INSTALL_LOG))"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip $(QUIETLY)
	@$(BIN)/python -m pip install --quiet -e . $(QUIETLY)
	@touch $@

$(STAMP): pyproject.toml $(VENV)/.installed-run
	@echo "installing the test and CDK tools into $(VENV)/ (details in $(INSTALL_LOG))"
	@$(BIN)/python -m pip install --quiet -e '.[dev,infra]' $(QUIETLY)
	@touch $(STAMP)

# Node tools, pinned in package.json / package-lock.json: the CDK CLI (aws-cdk 3.x refuses our
# assemblies), the MCP reference memory server (bench/mcp_peer.py), axe-core (page checks), and the
# MCP conformance suite with the Node 22 it needs (tests/mcp/test_conformance.py).
NODE_STAMP := node_modules/.installed
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

run: $(VENV)/.installed-run
	$(BIN)/glyph serve

# The browser tests drive Debian's chromium; install it when it is missing.
chromium:
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium >/dev/null; }

# Style (ruff: lint and format) and types (mypy: both stores conform to the Store protocol,
# tests/typing/; about 2 s), checked before the suite.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# loadfile keeps each test file on one worker, so the CDK app is synthesized once per run.
test: lint chromium $(NODE_STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest -n 2 --dist loadfile -q

# Apply the formatter and the linter's safe fixes.
fmt: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Every benchmark, each beside its baseline, into bench/RESULTS.md (a few minutes).
bench: $(STAMP) $(NODE_STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python bench/run.py

synth: $(STAMP) $(NODE_STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" node_modules/.bin/cdk synth --no-notices -q

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache cdk.out node_modules .cache
