# Developer tooling for the expo delegation records site.
#
#   make install     virtualenv + dependencies (from pyproject.toml) + .env
#   make run         development server on http://127.0.0.1:8000 with demo data
#   make test        lint, Django checks, security scan and dependency audit, pytest on
#                    SQLite, then on a throwaway PostgreSQL (both runs include the browser
#                    tests, in the system's Chromium)
#
# pyproject.toml is the single source of the pinned versions.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
MAKEFLAGS += --no-builtin-rules

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
# Re-run pip only when pyproject.toml is newer than this stamp.
STAMP := $(VENV)/.installed-from-pyproject
MANAGE := $(PY) manage.py
RUFF := $(BIN)/ruff
PYTEST := $(PY) -m pytest
BANDIT := $(BIN)/bandit
# Extra arguments for pytest, e.g. make test PYTEST_ARGS='-k foo -x'
PYTEST_ARGS ?=
# Where `make run` serves.
RUN_ADDR ?= 127.0.0.1:8000
# The SQLite runs and Django's checks use an in-memory database, whatever .env says.
SQLITE_ENV := DATABASE_URL='sqlite://:memory:'

# After a failed pytest: name exit status 5 (no tests collected), which fails too.
PYTEST_FAILED = { status=$$?; \
	if [ "$$status" -eq 5 ]; then echo "pytest collected no tests (exit 5): that is a failure" >&2; fi; \
	exit "$$status"; }

.PHONY: help install run test lint format security audit test-sqlite test-postgres \
	test-browser clean

help: ## List the targets
	@echo "Usage: make TARGET [PYTEST_ARGS='...'] [REQUIRE_POSTGRES=1] [REQUIRE_BROWSER=1]"
	@echo
	@awk 'BEGIN { FS = ":[^#]*## " } /^[a-zA-Z_-]+:[^#]*## / { printf "  %-14s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)
	@echo
	@echo "Variables: PYTEST_ARGS (extra pytest arguments), RUN_ADDR (default $(RUN_ADDR)),"
	@echo "  PYTHON (interpreter for the virtualenv, default python3.11),"
	@echo "  REQUIRE_POSTGRES=1 (fail instead of skip when no PostgreSQL server binaries),"
	@echo "  REQUIRE_BROWSER=1 (fail instead of skip when no chromium for the browser tests),"
	@echo "  REQUIRE_AUDIT=1 (fail instead of pass when the vulnerability service is unreachable),"
	@echo "  BROWSER_SCREENSHOTS=DIR (save a PNG of every page the browser tests visit)."

install: $(STAMP) .env ## Create .venv, install dependencies, create .env, compile messages
	@if [ -d locale ]; then \
		if command -v msgfmt >/dev/null 2>&1; then \
			$(MANAGE) compilemessages --ignore=$(VENV); \
		else \
			echo "msgfmt not found (Debian package gettext): skipping compilemessages"; \
		fi; \
	fi

$(PY):
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found on PATH" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -e '.[dev]'
	@touch $@

# A missing .env is made from .env.example with a fresh random SECRET_KEY; an existing
# one is never touched.
define MAKE_DOTENV
import pathlib, re, secrets
text = pathlib.Path(".env.example").read_text(encoding="utf-8")
line = "SECRET_KEY=" + secrets.token_urlsafe(50)
text, found = re.subn(r"(?m)^SECRET_KEY=.*$$", lambda _: line, text, count=1)
if not found:
    text = text.rstrip("\n") + "\n" + line + "\n"
tmp = pathlib.Path(".env.tmp")
tmp.write_text(text, encoding="utf-8")
tmp.chmod(0o600)
tmp.replace(".env")
print("Created .env from .env.example with a new SECRET_KEY")
endef
export MAKE_DOTENV

.env: | .env.example $(PY)
	@$(PY) -c "$$MAKE_DOTENV"

run: export DEBUG := 1
run: install ## Migrate, load the seeds, print a demo staff login, serve on RUN_ADDR
	$(MANAGE) migrate
	$(MANAGE) load_seeds
	$(MANAGE) ensure_demo_login
	$(MANAGE) runserver $(RUN_ADDR)

test: install ## Lint, Django checks, bandit, pip-audit, pytest on SQLite and on PostgreSQL
	$(RUFF) check .
	$(RUFF) format --check .
	$(SQLITE_ENV) $(MANAGE) check
	$(SQLITE_ENV) $(MANAGE) makemigrations --check --dry-run
	@echo "== bandit (static security scan)"
	$(BANDIT) -c pyproject.toml -r . -q
	@echo "== pip-audit (known vulnerabilities of the installed dependencies)"
	$(PY) .ci/audit-dependencies
	@echo "== pytest on SQLite"
	$(SQLITE_ENV) $(PYTEST) $(PYTEST_ARGS) || $(PYTEST_FAILED)
	@echo "== pytest on PostgreSQL"
	bash .ci/pg-test $(PYTEST) $(PYTEST_ARGS) || $(PYTEST_FAILED)

lint: install ## ruff check and ruff format --check
	$(RUFF) check .
	$(RUFF) format --check .

security: install ## bandit's static security scan of our code (configured in pyproject.toml)
	$(BANDIT) -c pyproject.toml -r . -q

audit: install ## pip-audit: known vulnerabilities of the installed (pinned) dependencies
	$(PY) .ci/audit-dependencies

format: install ## Format with ruff, then apply ruff's automatic fixes
	$(RUFF) format .
	$(RUFF) check --fix .

test-sqlite: install ## pytest on SQLite only
	$(SQLITE_ENV) $(PYTEST) $(PYTEST_ARGS) || $(PYTEST_FAILED)

test-postgres: install ## pytest on a throwaway PostgreSQL server only (.ci/pg-test)
	bash .ci/pg-test $(PYTEST) $(PYTEST_ARGS) || $(PYTEST_FAILED)

test-browser: install ## The browser tests only (headless Chromium), on SQLite
	$(SQLITE_ENV) $(PYTEST) -m browser $(PYTEST_ARGS) || $(PYTEST_FAILED)

clean: ## Remove .venv, the SQLite database and caches (keeps .env)
	rm -rf $(VENV) db.sqlite3 db.sqlite3-journal db.sqlite3-wal db.sqlite3-shm \
		.pytest_cache .ruff_cache .pgtest *.egg-info
	find . -path ./.git -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +
