# Two commands on a fresh Debian 12 machine: `make up` (serve the demo city) and `make test`.
# Both install what is missing and reuse what is there.
SHELL := /bin/bash
.DEFAULT_GOAL := help

STATE       ?= $(CURDIR)/.local
VENV        ?= $(CURDIR)/.venv
PY          := $(VENV)/bin/python
HOST        ?= 127.0.0.1
PORT        ?= 8000
LOCAL_PG_PORT    ?= 54329
LOCAL_REDIS_PORT ?= 63799
DEMO_SCALE  ?= demo

# A server given from outside wins; otherwise the project-local ones started by scripts/services.sh.
export DATABASE_URL      ?= postgres://postgres@127.0.0.1:$(LOCAL_PG_PORT)/gridcity
export CELERY_BROKER_URL ?= redis://127.0.0.1:$(LOCAL_REDIS_PORT)/0
export REDIS_URL         ?= $(CELERY_BROKER_URL)
export GRIDCITY_STATE    := $(STATE)
# make up serves the demo city for development; a production deployment sets GRIDCITY_ENV=production
# and DJANGO_SECRET_KEY itself (and then refuses the demo passwords).
export GRIDCITY_ENV      ?= development
export LOCAL_PG_PORT LOCAL_REDIS_PORT
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help up test lint soak down deps venv services migrate demo accounts clean-state bench bench-deps

help:
	@echo "make up    - install what is missing, load the demo city, serve http://$(HOST):$(PORT)/"
	@echo "make test  - install what is missing and run the whole test suite"
	@echo "make soak  - the long fault and load tests (SOAK_SECONDS=600 of 20 clients; README: Reliability)"
	@echo "make down  - stop what make up started"

deps:
	@scripts/install-deps.sh

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	@touch $@

# Browser libraries (OpenLayers for the admin map, MapLibre GL JS for the viewer) from npm, pinned by
# package-lock.json and copied to static by scripts/vendor-static.js; never a CDN.
node_modules/.installed: package.json package-lock.json scripts/vendor-static.js
	npm ci --no-audit --no-fund
	@touch $@

venv: deps $(VENV)/.installed node_modules/.installed

services: deps
	@scripts/services.sh start

migrate: venv services
	$(PY) manage.py migrate --noinput -v 0
	$(PY) manage.py seed_classes
	$(PY) manage.py load_holidays

demo: migrate
	$(PY) manage.py load_demo_city --scale $(DEMO_SCALE) --if-empty
	$(PY) manage.py load_demo_incidents --scale $(DEMO_SCALE) --if-empty
	$(PY) manage.py load_demo_patrols --if-empty
	$(PY) manage.py load_demo_cameras --if-empty
	$(PY) manage.py refresh_safety_index

accounts: migrate
	$(PY) manage.py create_demo_accounts

up: demo accounts
	$(PY) manage.py collectstatic --noinput -v 0
	@scripts/services.sh worker-start
	@echo "Serving the demo city at http://$(HOST):$(PORT)/  (accounts: see README.md; stop with make down)"
	$(VENV)/bin/gunicorn gis_core.wsgi:application \
	  --bind $(HOST):$(PORT) --workers 3 --timeout 60 --pid $(STATE)/gunicorn.pid --access-logfile -

# The tests' own Redis database on the same server (a running make up keeps db 0); settings.py adds
# their own Celery queue and cache prefix, so a development worker never takes a test's task.
TEST_REDIS_DB ?= 15
redis_db_url = $(shell python3 -c 'import sys, urllib.parse as u; print(u.urlparse(sys.argv[1])._replace(path="/" + sys.argv[2]).geturl())' '$(1)' '$(TEST_REDIS_DB)')

# Lint and format first (ruff, configured in pyproject.toml): a minute of tests is not spent on a tree that fails them.
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: venv lint services
	GRIDCITY_ENV=test CELERY_BROKER_URL='$(call redis_db_url,$(CELERY_BROKER_URL))' \
	  REDIS_URL='$(call redis_db_url,$(REDIS_URL))' $(PY) -m pytest $(PYTEST_ARGS)

# The fault tests at full length (1,000 grid write races, 50 worker kills; make test runs 50 and 5),
# then bench/soak.py: SOAK_SECONDS of mixed reads and writes from 20 clients against a gunicorn of its own.
SOAK_SECONDS ?= 600
soak: venv services
	GRIDCITY_ENV=test GRIDCITY_SOAK=1 CELERY_BROKER_URL='$(call redis_db_url,$(CELERY_BROKER_URL))' \
	  REDIS_URL='$(call redis_db_url,$(REDIS_URL))' $(PY) -m pytest tests/reliability $(PYTEST_ARGS)
	SOAK_SECONDS=$(SOAK_SECONDS) $(PY) -m bench.soak

# The benchmarks' own comparison servers and load tool (nginx, wrk, MapServer, tipg): only for make bench.
$(VENV)/.bench-installed: pyproject.toml
	$(PY) -m pip install -q -e '.[test,bench]'
	@touch $@

bench-deps: venv $(VENV)/.bench-installed
	@scripts/install-bench-deps.sh

bench: venv services bench-deps
	$(PY) -m bench $(BENCH_ARGS)

down:
	@scripts/services.sh stop
