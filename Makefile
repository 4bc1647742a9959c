# Two commands: `make run` (fresh machine, no servers needed) and `make test`.
SHELL := /bin/bash
PY := .venv/bin/python
UV := .tools/bin/uv
UV_VERSION := 0.13.9
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := .venv

.PHONY: install run serve test test-clock lint format bench clean

install: .venv/.installed node_modules/.installed

.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

# Packages' bytecode compiled once here: with PYTHONDONTWRITEBYTECODE set (as on these machines and in
# the image) every process would otherwise compile what it imports, at start and on first use.
.venv/.installed: pyproject.toml uv.lock .tools/bin/uv
	$(UV) sync --frozen --python python3.11 --compile-bytecode
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The port of the web server: `PORT=8100 make run`. Links and webhook URLs the app prints follow it
# (PUBLIC_BASE_URL, unless set).
PORT ?= 8000
# Where `make run` keeps its runtime files (the filesystem broker's folders, beat's schedule), whatever the
# broker; config/settings.py reads the same variable.
export RUN_DIR ?= $(CURDIR)/.run

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@$(MAKE) --no-print-directory serve

# What `make run` starts once the database is ready: web, Celery worker and beat (Procfile.dev; honcho
# gives the first process, web, the port -p says).
serve:
	@mkdir -p "$(RUN_DIR)"
	@echo ""
	@echo "  Open http://127.0.0.1:$(PORT) and log in as any demo user, password demo-pass-2026:"
	@echo "    owner, office, dispatcher, tech1 ... tech8 (technicians, on a phone: /my-day/)"
	@echo "  Web, Celery worker and beat run below; Ctrl-C stops all three."
	@echo ""
	@# Ctrl-C (or a SIGTERM) is how this stops: honcho then exits 130 (143), which is a clean stop, not an
	@# error for make to report.
	@DJANGO_DEBUG=1 PUBLIC_BASE_URL=$${PUBLIC_BASE_URL:-http://127.0.0.1:$(PORT)} \
		.venv/bin/honcho start -f Procfile.dev -p $(PORT); code=$$?; \
		if [ $$code = 130 ] || [ $$code = 143 ]; then echo "  Stopped."; exit 0; fi; exit $$code

lint: install
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/lint-imports --no-cache

format: install
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

# REQUIRE_SERVICES=1 (set by .ci/run) turns every "service missing" skip into a failure.
test: lint
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest $(if $(REQUIRE_SERVICES),--require-services) $(PYTEST_ARGS)

# The suite under another wall clock, for the test process, its live server, the real worker and Chromium
# alike (.ci/on-clock, libfaketime): AT is read in the business's zone (America/Chicago), e.g.
#   make test-clock AT="next sunday 03:00"     make test-clock AT="2027-03-14 10:00"
# AT=opposite (the default) picks the side of the business day it is not now; .ci/run runs that one.
test-clock: install
	.ci/on-clock "$(or $(AT),opposite)" $(PY) -m pytest $(if $(REQUIRE_SERVICES),--require-services) $(PYTEST_ARGS)

bench: install
	$(PY) bench/customers_search.py

clean:
	rm -rf "$(RUN_DIR)" .run db.sqlite3* staticfiles test-artifacts
