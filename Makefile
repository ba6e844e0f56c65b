# The README's two commands: `make demo` and `make test`. Both work on a fresh machine with
# only Python 3.11 and Java 17: uv is installed if missing, then the locked environment.

PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
PYTEST_ARGS ?=

.PHONY: demo test setup lint bench-search fuzz

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

# schemathesis against a real server on a seeded demo home, bounded (FUZZ_MAX_EXAMPLES per
# operation, FUZZ_MAX_SECONDS in all); fails on any 5xx. Not part of `make test`.
fuzz: setup
	$(UV) run --frozen python -m bench.fuzz
