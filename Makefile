# Two commands do all set-up on a fresh machine: `make train` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.rlrun-installed

.PHONY: install train test test-fast bench lint format clean

# torch is pinned and installed first: 2.13.0's CPU wheel is what this machine has locally;
# letting pip pick a torch for us pulls gigabytes of CUDA packages.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

train: install
	$(BIN)/rlrun train algo=ppo env=CartPole-v1

test: install
	$(BIN)/ruff check .
	$(BIN)/pytest -q -m "not long"

# The fast suite: deselects the learning tests (slow) and the tests that start Ray (ray).
test-fast: install
	$(BIN)/pytest -q -m "not slow and not ray"

# The baseline (Stable-Baselines3) is installed on first use; pip keeps the pinned torch.
bench: install
	$(BIN)/python -c "import stable_baselines3" 2>/dev/null || $(BIN)/pip install -q -e '.[dev,bench]'
	$(BIN)/python benchmarks/run_all.py

lint: install
	$(BIN)/ruff check .

format: install
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
