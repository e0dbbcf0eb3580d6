# restsync — every target installs what it needs into .venv first.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-dev

.PHONY: install demo test test-long lint typecheck bench bench-quick clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,sandbox]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/restsync demo

test: $(STAMP)
	bash scripts/ensure-postgres
	$(PY) -m pytest -n 2 -q

test-long: $(STAMP)
	bash scripts/ensure-postgres
	RESTSYNC_LONG=1 $(PY) -m pytest -n 2 -q

lint: $(STAMP)
	$(VENV)/bin/ruff format --check src tests
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

typecheck: $(STAMP)
	$(VENV)/bin/mypy

# bench: its own venv (.venv-bench, with dlt from the bench extra), never the test venv.
BENCH_STAMP := .venv-bench/.installed-bench
$(BENCH_STAMP): pyproject.toml
	$(PYTHON) -m venv .venv-bench
	.venv-bench/bin/python -m pip install -q --upgrade pip
	.venv-bench/bin/python -m pip install -q -e '.[bench,sandbox]'
	touch $(BENCH_STAMP)

# N = 1M without dlt's default loader: it used 7-12 GB per 100,000 records here (bench-quick
# measures it), so a 1M run of it does not fit this machine's 24 GB.
bench: $(BENCH_STAMP)
	.venv-bench/bin/python bench/run.py --records 1000000 --label "make bench" \
	  --contenders "download-only,download-only x4,floor script,restsync,restsync postgres,dlt parquet"

# BASELINE=<other checkout>/src adds "restsync (baseline)" rows: before and after in one run.
bench-quick: $(BENCH_STAMP)
	.venv-bench/bin/python bench/run.py --records 100000 \
	  --label "make bench-quick$(if $(BASELINE), BASELINE=$(BASELINE))" \
	  $(if $(BASELINE),--baseline $(BASELINE))

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.duckdb .restsync/pipelines
