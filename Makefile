# BirthdayBuddy: `make run` starts the service on its embedded default, `make test` runs the tests.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do command -v $$p >/dev/null && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && echo $$p && break; done)
PROD_CHECK_ENV := PRODUCTION=1 DEBUG=0 SECRET_KEY=check-deploy-$(shell printf '%064d' 0 | tr 0 x) ALLOWED_HOSTS=birthdaybuddy.example.com
# docker-compose.yml's defaults (behind one TLS proxy); the secret is whatever .env would give.
COMPOSE_CHECK_ENV := $(PROD_CHECK_ENV) NUM_PROXIES=1 SECURE_SSL_REDIRECT=1 SESSION_COOKIE_SECURE=1 CSRF_COOKIE_SECURE=1

# The apps whose data paths differ between PostgreSQL and SQLite (bulk SQL, JSON lookups).
EMBEDDED_TESTS := tests/scheduling tests/reminders tests/notifications tests/events tests/workspaces tests/test_audit.py

# Time zones come from the pinned tzdata package, not the host's zone files (birthdaybuddy/tzdb.py).
export PYTHONTZPATH :=

.PHONY: install install-dev run test lint typecheck imports bench clean

# requirements.txt: what the service runs on (make run). requirements-dev.txt adds the tests,
# lint, type and import checks and the benchmark (make test, make lint, make bench).
$(VENV)/.installed: requirements.txt
	@test -n "$(PYTHON)" || { echo "Python 3.11 or newer is required."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

run: install
	$(PY) manage.py runstack $(RUN_ARGS)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# mypy (django-stubs, djangorestframework-stubs): the errors in mypy-baseline.txt are known, any
# other fails, and so does a fixed one left in the file (`mypy | mypy-baseline sync` shrinks it).
typecheck: install-dev
	set -o pipefail; { BB_TESTING=1 $(VENV)/bin/mypy || [ $$? -eq 1 ]; } \
		| $(VENV)/bin/mypy-baseline filter --baseline-path mypy-baseline.txt --sort-baseline --no-colors --hide-stats

# The dependency direction of docs/architecture.md (import-linter contracts in pyproject.toml).
imports: install-dev
	$(VENV)/bin/lint-imports --no-logo --no-cache

test: install-dev
	$(PY) scripts/check_services.py
	$(VENV)/bin/ruff check .
	$(MAKE) --no-print-directory -o $(VENV)/.installed -o $(VENV)/.installed-dev imports typecheck
	BB_TESTING=1 $(PY) manage.py check --fail-level WARNING
	BB_TESTING=1 $(PY) manage.py makemigrations --check --dry-run
	$(PROD_CHECK_ENV) $(PY) manage.py check --deploy --fail-level WARNING
	$(COMPOSE_CHECK_ENV) $(PY) manage.py check --deploy --fail-level WARNING
	$(PY) scripts/audit_requirements.py requirements.txt
	$(PY) scripts/audit_requirements.py requirements-dev.txt
	$(PY) -m pytest --create-db $(PYTEST_ARGS)
	@echo "Again on the embedded default (SQLite, file cache), where make run's data paths differ:"
	BB_TEST_EMBEDDED=1 $(PY) -m pytest -q -m "not slow" $(EMBEDDED_TESTS)

bench: install-dev
	$(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf var
