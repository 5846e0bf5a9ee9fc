# SAMIA-TAROT backend: one entry point for development, tests and CI (`make help`).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.requirements-installed
# Honcho runs Procfile lines through a shell: the venv's gunicorn and celery must come first on PATH.
HONCHO := PATH="$(abspath $(VENV))/bin:$$PATH" $(VENV)/bin/honcho
PYTEST_ARGS ?=
# pytest-xdist processes for `make test` (each its own test database and Redis key space); 0 runs in this one.
PYTEST_WORKERS ?= 2
SCALE ?= 1
BENCH_ARGS ?=
SERVICE_TIMEOUT ?= 30
FUZZ_EXAMPLES ?= 25

# Where PostgreSQL and Redis are, read like samia/settings/ does: environment, then .env, then its defaults.
setting = $(strip $(or $($(1)),$(shell sed -n 's/^[[:space:]]*\(export[[:space:]]\{1,\}\)\{0,1\}$(1)[[:space:]]*=[[:space:]]*//p' .env 2>/dev/null | tail -n 1 | tr -d "\"'"),$(2)))
db_url := $(call setting,DATABASE_URL,postgres://root@127.0.0.1:5432/samia)
redis_url := $(call setting,REDIS_URL,redis://127.0.0.1:6379/0)
db_conninfo := $(firstword $(subst ?, ,$(db_url)))
db_name := $(notdir $(db_conninfo))
db_server := $(patsubst %/$(db_name),%/postgres,$(db_conninfo))
# Where `make run` serves (honcho hands it to the Procfile's web process as $PORT).
port := $(call setting,PORT,8000)
url := http://127.0.0.1:$(port)
READY_TIMEOUT ?= 120

# The checks of `make test` run with the test settings, which bring a test-only SECRET_KEY.
MANAGE_TEST := DJANGO_SETTINGS_MODULE=tests.settings $(PY) manage.py

# $(call ensure,name,probe,program,start command): probe; if down, start it (when installed) and wait.
ensure = if $(2); then echo "$(1) is up"; else \
	command -v $(3) >/dev/null 2>&1 || { echo "$(1) is not reachable and $(3) is not installed: start $(1) yourself" >&2; exit 1; }; \
	echo "$(1) is not reachable: starting it"; $(4) || echo "$(1): the start command failed; waiting anyway"; \
	for _ in $$(seq $(SERVICE_TIMEOUT)); do if $(2); then break; fi; sleep 1; done; \
	if $(2); then echo "$(1) is up"; else echo "$(1) did not answer within $(SERVICE_TIMEOUT)s" >&2; exit 1; fi; fi

.PHONY: help install services db binding-key migrate static seed run web worker beat test fuzz lint fmt bench clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z.-]+:.*## / {printf "  make %-9s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

install: $(INSTALLED) ## Create the virtualenv and install requirements.txt (again only when it changes)

$(PY):
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): requirements.txt | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

# A local .env so the app starts without configuration: fresh random keys, DEBUG off, and cookies
# without the Secure flag because the local demo serves plain HTTP on 127.0.0.1.
# Staff sign in without a second factor in the demo (STAFF_2FA_REQUIRED=0).
random_key = $$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))')
.env:
	@echo "creating .env with random keys (see .env.example for every setting)"
	@umask 077 && printf 'SECRET_KEY=%s\nJWT_SIGNING_KEY=%s\nNOTIFICATIONS_LINK_KEYS=k0=%s\nRLS_BINDING_KEY=%s\nDEBUG=0\nSECURE_COOKIES=0\nSTAFF_2FA_REQUIRED=0\n' \
		"$(random_key)" "$(random_key)" "$(random_key)" "$(random_key)" > $@
	@# Every other key production requires (ops_config_check), and the keyring's master key.
	@umask 077 && printf 'COMMUNITY_HANDLE_KEY=%s\nEVENTS_HASH_KEY=%s\nNOTIFICATIONS_ADDRESS_KEY=%s\nSTORAGE_URL_KEYS=k0=%s\nSECRETS_MASTER_KEYS=%s\n' \
		"$(random_key)" "$(random_key)" "$(random_key)" "$(random_key)" \
		"$$($(PYTHON) -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())')" >> $@

services: ## Make sure PostgreSQL and Redis answer; start the local ones when they do not
	@$(call ensure,PostgreSQL,pg_isready -q -d "$(db_server)",pg_ctlcluster,pg_ctlcluster --skip-systemctl-redirect "$$(ls /etc/postgresql | head -n 1)" main start)
	@$(call ensure,Redis,redis-cli -u "$(redis_url)" ping >/dev/null 2>&1,redis-server,redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no)

db: services ## Create the database named in DATABASE_URL when it is missing
	@if [ "$$(psql "$(db_server)" -tAc "SELECT 1 FROM pg_database WHERE datname = '$(db_name)'")" = 1 ]; then \
		echo "database $(db_name) exists"; \
	else \
		echo "creating database $(db_name)"; \
		createdb --maintenance-db="$(db_server)" "$(db_name)" || { \
			echo "could not create $(db_name); as a PostgreSQL superuser run: createdb -O <DATABASE_URL user> $(db_name)" >&2; exit 1; }; \
	fi

# The key that makes a request's user id count in Postgres; .env files older than it get a random one.
binding-key: install .env
	@grep -q '^RLS_BINDING_KEY=' .env || { echo "adding a random RLS_BINDING_KEY to .env"; \
		umask 077 && printf 'RLS_BINDING_KEY=%s\n' "$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))')" >> .env; }
	@grep -q '^COMMUNITY_HANDLE_KEY=' .env || { echo "adding a random COMMUNITY_HANDLE_KEY to .env"; \
		umask 077 && printf 'COMMUNITY_HANDLE_KEY=%s\n' "$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))')" >> .env; }
	@# Keys that used to default to values derived from SECRET_KEY: written with those values (stable pseudonyms).
	@secret="$$(sed -n 's/^SECRET_KEY=//p' .env | tail -n 1)"; umask 077; \
		grep -q '^EVENTS_HASH_KEY=' .env || printf 'EVENTS_HASH_KEY=%s\n' "$$secret" >> .env; \
		grep -q '^NOTIFICATIONS_ADDRESS_KEY=' .env || printf 'NOTIFICATIONS_ADDRESS_KEY=address:%s\n' "$$secret" >> .env; \
		grep -q '^STORAGE_URL_KEYS=' .env || printf 'STORAGE_URL_KEYS=k0=storage-urls:%s\n' "$$secret" >> .env; \
		grep -q '^SECRETS_MASTER_KEYS=' .env || printf 'SECRETS_MASTER_KEYS=%s\n' "$$($(PYTHON) -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())')" >> .env

	@# The audit trail's signing key: without one the checkpoint job can only fail every few minutes.
	@grep -q '^AUDIT_SIGNING_KEY=' .env || { echo "adding a new audit signing key to .env (manage.py audit_keygen)"; \
		umask 077 && { $(PY) manage.py audit_keygen 2>/dev/null && echo; } >> .env; }

migrate: install db binding-key ## Apply the migrations (tables, RLS policies, periodic tasks); store the binding key
	$(PY) manage.py migrate --noinput

static: install binding-key
	$(PY) manage.py collectstatic --noinput --verbosity 0

seed: migrate ## Load the demo world when it is absent (about 500 orders per SCALE, default 1; RESET=1 rebuilds it), roll up its analytics, train the rankers once
	$(PY) manage.py seed_demo --scale $(SCALE)$(if $(RESET), --reset)
	$(PY) manage.py seed_moderation
	$(PY) manage.py seed_notifications
	$(PY) manage.py seed_i18n
	$(PY) manage.py analytics_backfill --from "$$(date -u -d '-400 days' +%F)" --to "$$(date -u +%F)" --chunk-days 31
	$(PY) manage.py personalization_train --if-untrained

# Where to log in: printed before the processes start and again once /readyz answers, because
# honcho's start-up output scrolls the first one away.
banner = echo; echo "SAMIA-TAROT $(1) on $(url) (Ctrl-C stops web, worker and beat)"; \
	echo "  back office  $(url)/backoffice/"; echo "  API docs     $(url)/api/docs/"; \
	echo "  demo accounts, password demo-password-2026:"; \
	echo "    superadmin@demo.samia.test  admin@demo.samia.test  monitor@demo.samia.test"; \
	echo "    reader1@demo.samia.test  client1@demo.samia.test"; echo
ready = $(PY) -c "import urllib.request; urllib.request.urlopen('$(url)/readyz', timeout=2)" 2>/dev/null
# SO_REUSEADDR as gunicorn sets it: a port left in TIME_WAIT by the last run is free, a listening one is not.
port_free = $(PY) -c "import socket as s; k = s.socket(); k.setsockopt(s.SOL_SOCKET, s.SO_REUSEADDR, 1); k.bind(('127.0.0.1', $(port)))" 2>/dev/null

# The web server logs in as samia_web (samia/wsgi.py), worker and beat as the owner in DATABASE_URL.
# The waiter in the background gives up when the shell that runs honcho is gone.
run: migrate static seed ## Migrate, seed the demo when it is absent, then run web + worker + beat on http://127.0.0.1:8000 (or PORT)
	@$(port_free) || { echo "port $(port) is in use: stop what listens there or run with PORT=<another port>" >&2; exit 1; }
	@$(call banner,is starting)
	@recipe=$$$$; ( for _ in $$(seq $(READY_TIMEOUT)); do kill -0 $$recipe 2>/dev/null || exit 0; \
		if $(ready); then $(call banner,is up); exit 0; fi; sleep 1; done; \
		echo "$(url)/readyz did not answer within $(READY_TIMEOUT)s: see web.1 above" >&2 ) & \
	$(HONCHO) start --port $(port)

web: migrate static ## Run only the web server (gunicorn) in the foreground
	$(HONCHO) start --port $(port) web

worker: migrate ## Run only the Celery worker in the foreground
	$(HONCHO) start worker

beat: migrate ## Run only Celery beat (DatabaseScheduler) in the foreground
	$(HONCHO) start beat

test: install db ## Lint, migration and RLS checks, then the whole pytest suite
	@command -v minisign >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y minisign \
		|| { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y minisign; }
	@# GNU gettext: tests/test_translations.py extracts the marked strings to check locale/ar is current.
	@command -v xgettext >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y gettext \
		|| { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y gettext; }
	@# Headless Chromium and its driver for tests/browser (skipped, saying so, where they cannot be installed).
	@{ command -v chromium && command -v chromedriver; } >/dev/null 2>&1 \
		|| DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver \
		|| { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver; } \
		|| echo "chromium could not be installed: the browser tests will be skipped" >&2
	$(MANAGE_TEST) migrate --noinput
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(MANAGE_TEST) makemigrations --check --dry-run
	$(MANAGE_TEST) rls_check
	@# Configuration hygiene with an example production environment (ops/config_check.py).
	$(MANAGE_TEST) ops_config_check
	$(PY) -m pytest --create-db --numprocesses $(PYTEST_WORKERS) $(PYTEST_ARGS)

# Backups (sre): pg_dump refuses or writes unreadable dumps across major versions; CI checks before the suite.
pg-dump-check: services ## Fail when pg_dump's major version is not the PostgreSQL server's
	@server=$$(psql "$(db_server)" -tAc "SHOW server_version_num"); tool=$$(pg_dump --version | awk '{print $$3}'); \
	if [ "$${tool%%.*}" != "$$(( server / 10000 ))" ]; then \
		echo "pg_dump $$tool is not the server's major version ($$server): install its client" >&2; exit 1; fi; \
	echo "pg_dump $$tool matches the server ($$server)"

# `make test` runs the same schemathesis test, bounded (examples and fuzzing phases, 10 examples per operation).
fuzz: install db ## Schemathesis over every API operation as admin and client, coverage phase included (minutes)
	FUZZ_PHASES=examples,coverage,fuzzing FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) FUZZ_TIMEOUT=1200 \
		$(PY) -m pytest --create-db tests/security/test_schema_fuzz.py -k schemathesis $(PYTEST_ARGS)

lint: install ## ruff check + ruff format --check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: install ## ruff format + ruff check --fix
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: install services ## Measure the RLS overhead in its own database (installs wrk when missing)
	@command -v wrk >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y wrk \
		|| { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y wrk; }
	$(PY) bench/rls_overhead.py $(BENCH_ARGS)

clean: ## Remove the virtualenv, collected static files and caches
	rm -rf $(VENV) staticfiles .ruff_cache .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
