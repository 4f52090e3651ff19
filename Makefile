# One task runner: every target sets up what it needs on a fresh machine (python3 + pip).
PYTHON  ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
LOCK    := requirements.lock
# The installer that reads and writes the lock; its version is the one the lock pins.
UV      := $(BIN)/uv
UV_PIN   = $(shell grep -m1 '^uv==' $(LOCK))
# Test workers: 4 measured fastest on 2 cores (many tests wait on processes and sockets).
WORKERS ?= 4
LOWEST  := .venv-lowest

.PHONY: install lock run test test-serial test-lowest lint fmt bench clean

install: $(STAMP)

$(UV):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q '$(UV_PIN)'

# Exactly the lock's versions, then the project itself without resolving anything again.
$(STAMP): pyproject.toml $(LOCK) | $(UV)
	$(UV) pip install -q --python $(BIN)/python -r $(LOCK)
	$(UV) pip install -q --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

# Re-resolve after editing dependencies (pins already in the lock are kept);
# `make lock UPGRADE=1` moves every pin to the newest allowed version.
lock: | $(UV)
	$(UV) pip compile -q pyproject.toml --extra dev --universal --python-version 3.11 \
		$(if $(UPGRADE),--upgrade) -o $(LOCK)

run: $(STAMP)
	$(BIN)/groupcast shell

test: $(STAMP)
	$(BIN)/python -m pytest -q -n $(WORKERS)

test-serial: $(STAMP)
	$(BIN)/python -m pytest -q -p no:xdist

# The floors in pyproject.toml hold: the lowest versions they allow of every direct
# dependency pass lint and the suite less its slow fault and deployment scenarios
# (those run on the lock's versions in make test; `make test-lowest SLOW=1` runs them too).
test-lowest: | $(UV)
	rm -rf $(LOWEST)
	$(UV) venv -q --python $(PYTHON) $(LOWEST)
	$(UV) pip install -q --python $(LOWEST)/bin/python --resolution lowest-direct -e '.[dev]'
	$(LOWEST)/bin/ruff check .
	$(LOWEST)/bin/ruff format --check .
	MYPY_CACHE_DIR=$(LOWEST)/.mypy_cache $(LOWEST)/bin/mypy core bots
	$(LOWEST)/bin/lint-imports --no-cache
	$(LOWEST)/bin/python -m pytest -q -n $(WORKERS) $(if $(SLOW),,-m 'not slow') -p no:cacheprovider

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy core bots
	$(BIN)/lint-imports

fmt: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) $(LOWEST) .pytest_cache .mypy_cache .ruff_cache
