# The portal's commands. `make help` lists them.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt pyproject.toml | cksum | cut -d' ' -f1)
ADDR   ?= 127.0.0.1:8000
export DJANGO_SETTINGS_MODULE ?= portal.settings.dev

.DEFAULT_GOAL := help
.PHONY: help venv setup demo serve worker test test-fast lint bench reliability requirements clean

help: ## List the targets
	@awk 'BEGIN{FS=":.*## "} /^[a-z-]+:.*## /{printf "  make %-13s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (found %s)" % sys.version.split()[0])'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip uv
	$(VENV)/bin/uv pip install --quiet --python $(PY) -r requirements.txt
	@rm -f $(VENV)/.installed-*; touch $@

venv: $(STAMP) ## Create the virtualenv and install the pinned dependencies

setup: venv ## Install, migrate the database and create the cache table
	$(PY) manage.py migrate --noinput
	$(PY) manage.py createcachetable
	$(PY) manage.py setup_schedules

demo: setup ## Set everything up, load demo data, serve on 127.0.0.1:8000 with the worker
	$(PY) manage.py seed_demo
	$(PY) manage.py serve_with_worker $(ADDR)

serve: setup ## Serve without demo data, with the worker
	$(PY) manage.py serve_with_worker $(ADDR)

worker: venv ## Run only the django-q2 worker (qcluster)
	$(PY) manage.py qcluster

test: venv ## Run the test suite (SQLite, or DATABASE_URL when set)
	DJANGO_SETTINGS_MODULE=portal.settings.test $(PY) -m pytest $(PYTEST_ARGS)

lint: venv ## ruff over the whole tree
	$(VENV)/bin/ruff check .

bench: venv ## Run the benchmarks in bench/ (JSON lines with ratios to a same-run baseline)
	DJANGO_SETTINGS_MODULE=portal.settings.test $(PY) bench/run.py $(BENCH_ARGS)

reliability: venv ## The reliability suite on PostgreSQL and Redis (gunicorn, qcluster, faults)
	DJANGO_SETTINGS_MODULE=portal.settings.test $(PY) -m pytest reliability -p no:cacheprovider -s -q $(PYTEST_ARGS)

requirements: ## Re-pin requirements.txt from pyproject.toml
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev -o requirements.txt --python-version 3.11 -q

clean: ## Remove the virtualenv and local data (var/)
	rm -rf $(VENV) var
