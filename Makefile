# gb: `make run` and `make test` are the two commands (README.md). Each target installs
# what it needs into .venv first, so a fresh clone needs nothing else.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.gb-installed

ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
# make run and make serve share one embedded database: the data/ folder of the project.
run serve: export GB_DATA_DIR ?= $(CURDIR)/data
run serve: export GB_BOTS_DIR ?= $(CURDIR)/bots

.PHONY: install run test serve bench lint clean browser mailserver loadgen vendor node

# The install builds the JupyterLab extension (labextension/, with npm) into the package, so it
# is reinstalled when the extension's sources change.
$(STAMP): pyproject.toml labextension/package.json labextension/package-lock.json $(wildcard labextension/src/*) \
		$(wildcard labextension/style/*) gb_kernel/vocabulary.py | node
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@# the build hook rebuilds when a file of labextension/src is newer than the build; a change of
	@# labextension/style alone makes the build stale too, by removing it
	@if [ -d labextension/dist ] && [ -n "$$(find labextension/style -newer labextension/dist/jupyterlab-gb/package.json)" ]; \
		then rm -rf labextension/dist; fi
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	$(BIN)/gb kernel install --sys-prefix >/dev/null
	@touch $(STAMP)

install: $(STAMP) vendor

# The web chat's browser libraries (DOMPurify, marked; and axe-core for its tests) from npm, as
# web/package-lock.json pins them, copied into gb_server/static/vendor/ (git-ignored; the page
# imports them from there).
VENDOR := gb_server/static/vendor
$(VENDOR)/.npm-ci: web/package-lock.json | node
	cd web && npm ci --no-audit --no-fund --loglevel=error
	@mkdir -p $(VENDOR)
	cp web/node_modules/dompurify/dist/purify.es.mjs web/node_modules/marked/lib/marked.esm.js $(VENDOR)/
	cp web/node_modules/dompurify/LICENSE $(VENDOR)/purify.LICENSE
	cp web/node_modules/marked/LICENSE $(VENDOR)/marked.LICENSE
	@touch $@

vendor: $(VENDOR)/.npm-ci

run: install
	@echo "gb is installed in $(VENV) (command: $(BIN)/gb, kernel 'gb BASIC')."
	@echo "Starting the bot server on http://127.0.0.1:8080 (web chat: /, /support, /sales)"
	@echo "and JupyterLab on http://127.0.0.1:8888 with notebooks/ (open the URL with the token below)."
	@echo "Both use $(GB_DATA_DIR)/gb.db (embedded SQLite, no cache): %session attach ID in a notebook"
	@echo "takes over a session started in the browser. Ctrl-C stops both."
	@$(BIN)/gb serve --port 8080 & server=$$!; trap 'kill $$server 2>/dev/null' EXIT INT TERM; \
		$(BIN)/jupyter lab --no-browser --ip=127.0.0.1 --port=8888 --ServerApp.root_dir=$(CURDIR)/notebooks $(ROOT_FLAG)

# The suite runs on TEST_PROCESSES processes (pytest-xdist; most tests wait on servers, browsers and
# subprocesses more than they compute), each with its own PostgreSQL and Valkey databases; then the
# tests that stop PostgreSQL or Valkey (marked outage) run alone.
TEST_PROCESSES ?= 3
test: install browser mailserver lint
	$(BIN)/python -m pytest -q -n $(TEST_PROCESSES) --dist worksteal -m "not outage" --durations=25
	$(BIN)/python -m pytest -q -m outage

# The browser tests use Debian's chromium (never a browser download); install it when missing.
browser:
	@command -v chromium >/dev/null 2>&1 || { echo "installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; }

# Node and npm build the JupyterLab extension and fetch the web chat's libraries (and bench/'s
# WebSocket load generator); Debian's nodejs and npm are installed when missing.
node:
	@command -v npm >/dev/null 2>&1 || { echo "installing Debian's nodejs and npm"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; }

# The email channel's tests run Debian's Dovecot (IMAP) on a throwaway mailbox; install it when missing.
mailserver:
	@test -x /usr/sbin/dovecot || { echo "installing Debian's dovecot-imapd for the email tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd >/dev/null; }

lint: install
	$(BIN)/ruff check gb_basic gb_sessions gb_runtime gb_kernel gb_server tests bench
	$(BIN)/mypy

serve: install
	$(BIN)/gb serve --host $${GB_HOST:-0.0.0.0} --port $${GB_PORT:-8080} --workers $${GB_WORKERS:-1}

# bench/server.py's and bench/channels.py's load generators: Debian's wrk (HTTP) and node with the ws package (WebSocket,
# bench/package-lock.json); installed when missing.
loadgen: node
	@command -v wrk >/dev/null 2>&1 || { echo "installing Debian's wrk for bench/server.py"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
	@test -d bench/node_modules/ws || (cd bench && npm ci --no-audit --no-fund --loglevel=error)

# Every benchmark in bench/ (PostgreSQL on 127.0.0.1:5432 and Redis/Valkey on :6379 must be up).
bench: install loadgen
	$(BIN)/python bench/language.py
	$(BIN)/python bench/store.py
	$(BIN)/python bench/kernel.py
	$(BIN)/python bench/server.py
	$(BIN)/python bench/channels.py
	$(BIN)/python bench/hostile.py --postgres
	$(BIN)/python bench/kb.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .hypothesis web/node_modules $(VENDOR) \
		labextension/node_modules labextension/lib labextension/dist labextension/tsconfig.tsbuildinfo
