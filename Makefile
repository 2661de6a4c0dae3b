# Two commands do all set-up on a fresh machine: `make up` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
GENERATED := gen/.stamp
PROTOS := $(shell find proto -name '*.proto')
# Benchmarks run small in `make test` / CI to stay alive, at full scale with `make bench`.
BENCH_SCALE ?= 0.01
PYTEST_ARGS ?=
# pytest-xdist workers for `make test`: the suite waits on servers and sockets as much as it computes,
# so two workers per core keep both cores busy. `make bench` runs alone (benchmarks measure).
PYTEST_WORKERS ?= 4

OIDC_TEST_ISSUER := tests/support/oidc/node_modules/.package-lock.json
# The web console's browser libraries (Apache ECharts), served by the gateway from node_modules.
CONSOLE_VENDOR := gateway/console/node_modules/.package-lock.json
# Debian's chromium for the browser tests (tests/browser, Playwright with executable_path).
CHROMIUM := /usr/bin/chromium
# A CJK font, so the console's zh-CN screenshots show characters rather than boxes.
CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc
# checkov scans the rendered chart; it pins packages the platform's venv needs newer, so it
# gets a venv of its own.
CHECKOV := .venv-checkov/bin/checkov

.PHONY: setup up test bench lint gen openapi clean

setup: $(INSTALLED) $(CONSOLE_VENDOR)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Code generation needs grpcio-tools before the project itself can be installed.
$(GENERATED): $(PROTOS) infra/proto/generate.py | $(BIN)/python
	$(BIN)/pip install -q 'grpcio-tools>=1.66'
	$(BIN)/python infra/proto/generate.py

$(INSTALLED): pyproject.toml $(GENERATED)
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

gen: $(GENERATED)

$(CHECKOV):
	$(PYTHON) -m venv .venv-checkov
	.venv-checkov/bin/pip install -q 'checkov==3.3.30'

# A real external OIDC provider (npm oidc-provider) that the token tests run against.
$(OIDC_TEST_ISSUER): tests/support/oidc/package.json tests/support/oidc/package-lock.json
	npm ci --prefix tests/support/oidc --no-audit --no-fund --loglevel=error

$(CONSOLE_VENDOR): gateway/console/package.json gateway/console/package-lock.json
	npm ci --prefix gateway/console --no-audit --no-fund --loglevel=error

$(CHROMIUM) $(CJK_FONT):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-zenhei

up: setup
	$(BIN)/prevention up

test: setup $(OIDC_TEST_ISSUER) $(CHECKOV) $(CHROMIUM) $(CJK_FONT)
	BENCH_SCALE=$(BENCH_SCALE) $(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

bench: setup
	BENCH_SCALE=1 $(BIN)/python -m pytest tests/bench -m bench -s $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/buf lint
	$(BIN)/buf breaking --against ".git#ref=$$(cat proto/BREAKING_BASELINE)"

openapi: setup
	$(BIN)/prevention openapi --write

clean:
	rm -rf $(VENV) .venv-checkov gen var tests/support/oidc/node_modules gateway/console/node_modules
