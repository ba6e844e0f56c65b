# The README's two commands: `make demo` and `make test`. Both work on a fresh machine with
# only Python 3.11 and Java 17: uv is installed if missing, then the locked environment.

PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
PYTEST_ARGS ?=

.PHONY: demo test setup lint bench-search lake-maintain

setup:
	@command -v uv >/dev/null 2>&1 || $(PYTHON) -m uv --version >/dev/null 2>&1 || \
		$(PYTHON) -m pip install --user --quiet uv || \
		$(PYTHON) -m pip install --user --quiet --break-system-packages uv
	$(UV) sync --frozen

demo: setup
	$(UV) run --frozen govshare demo

test: setup
	$(UV) run --frozen pytest $(PYTEST_ARGS)

lint: setup
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .

bench-search: setup
	$(UV) run --frozen python -m bench.catalog_search

# Compaction, checkpoints and vacuum of every lake table, keeping the time-travel window
# (GOVSHARE_LAKE_TIME_TRAVEL_HOURS); the govshare_maintenance DAG does the same daily.
lake-maintain: setup
	$(UV) run --frozen govshare lake maintain
