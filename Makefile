# Two commands do all set-up on a fresh machine:
#   make run   - create .venv, install, ingest knowledge/, start the search
#   make test  - create .venv, install, run the test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test ingest eval bench clean

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# the CPU build of torch must come first: an unpinned torch pulls a multi-GB CUDA build
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -c requirements.lock -e ".[st,dev]"
	touch $(STAMP)

install: $(STAMP)

ingest: install
	$(BIN)/copilot ingest

run: ingest
	$(BIN)/copilot search --interactive

test: install
	$(BIN)/python -m pytest

eval: install
	$(BIN)/copilot eval retrieval

bench: install
	$(BIN)/python benchmarks/ingest_bench.py
	$(BIN)/python benchmarks/query_bench.py

clean:
	rm -rf .copilot
