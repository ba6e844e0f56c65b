# The README's two commands: `make demo` and `make test`. Both work on a fresh machine with
# only Python 3.11 and Java 17: uv is installed if missing, then the locked environment.

PYTHON ?= python3
# uv on PATH, else where `pip install --user` put it (also found from an activated .venv,
# whose python has no pip and no uv), else as a module of $(PYTHON).
UV := $(shell command -v uv 2>/dev/null || { test -x "$(HOME)/.local/bin/uv" && echo "$(HOME)/.local/bin/uv"; } || echo "$(PYTHON) -m uv")
PYTEST_ARGS ?=
# Extra arguments for `uv sync` (tests/test_readme_first_steps.py: --no-compile-bytecode).
UV_SYNC_ARGS ?=

.PHONY: demo test check setup lint bench-search soak fuzz lake-maintain

setup:
	@$(UV) --version >/dev/null 2>&1 || \
		$(PYTHON) -m pip install --user --quiet uv || \
		$(PYTHON) -m pip install --user --quiet --break-system-packages uv
	$(UV) sync --frozen $(UV_SYNC_ARGS)
	@# The project's own modules too (site-packages: compile-bytecode in pyproject.toml).
	$(UV) run --frozen --no-sync python -m compileall -q -x '/(\.venv|\.git|\.govshare)/' .

demo: setup
	$(UV) run --frozen govshare demo

# The whole suite on TEST_WORKERS processes (pytest-xdist; one per core here, 0 = one process).
# Every test takes its own folder, PostgreSQL database and free port, so none shares state.
# worksteal: an idle worker takes queued tests from the busy one (tests/conftest.py puts the
# heavy tests at the start of each worker's half, so the queues end in short tests).
TEST_WORKERS ?= 2
test: setup
	$(UV) run --frozen pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

# The fast lane: everything that needs neither Spark, Airflow nor PostgreSQL (markers are set
# from the fixtures a test uses; see tests/conftest.py). `make test` stays the whole suite.
# Two workers (pytest-xdist): one per core here; CHECK_WORKERS=0 runs it in one process. With
# worksteal and the order of tests/conftest.py, the browser tests start both workers' halves.
CHECK_WORKERS ?= 2
check: setup
	$(UV) run --frozen pytest -p no:cacheprovider -q -n $(CHECK_WORKERS) --dist worksteal -m "not spark and not airflow and not postgres and not slow"

# ruff, the one-way layers ([tool.importlinter] in pyproject.toml) and mypy.
lint: setup
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen lint-imports
	$(UV) run --frozen mypy

bench-search: setup
	$(UV) run --frozen python -m bench.catalog_search

# The concurrency and fault tests (two writers on one table, killed releases, parallel API
# clients, budget and demand-code races) on a PostgreSQL catalogue, SOAK_ROUNDS times over.
SOAK_ROUNDS ?= 3
soak: setup
	@for round in $$(seq 1 $(SOAK_ROUNDS)); do \
		echo "soak round $$round/$(SOAK_ROUNDS)"; \
		GOVSHARE_TEST_CATALOG=postgresql $(UV) run --frozen pytest -p no:cacheprovider \
			-m concurrency -k "not sqlite" -q --load-seconds 60 || exit 1; \
	done

# schemathesis against a real server on a seeded demo home, bounded (FUZZ_MAX_EXAMPLES per
# operation, FUZZ_MAX_SECONDS in all); fails on any 5xx. Not part of `make test`.
fuzz: setup
	$(UV) run --frozen python -m bench.fuzz

# Compaction, checkpoints and vacuum of every lake table, keeping the time-travel window
# (GOVSHARE_LAKE_TIME_TRAVEL_HOURS); the govshare_maintenance DAG does the same daily.
lake-maintain: setup
	$(UV) run --frozen govshare lake maintain
