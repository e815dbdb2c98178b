# gb: `make run` and `make test` are the two commands (README.md). Each target installs
# what it needs into .venv first, so a fresh clone needs nothing else.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.gb-installed

.PHONY: install run test serve bench lint clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	$(BIN)/gb kernel install --sys-prefix >/dev/null
	@touch $(STAMP)

install: $(STAMP)

run: install
	@echo "gb is installed in $(VENV) (command: $(BIN)/gb)."
	@echo "Started: the example dialog bots/default.gbai in this terminal (gb run)."
	@echo "Not yet: the JupyterLab kernel (:8888) and the bot server (:8080) arrive with their issues."
	$(BIN)/gb run bots/default.gbai/default.gbdialog/start.bas

test: install lint
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check gb_basic gb_sessions gb_runtime gb_kernel tests bench
	$(BIN)/mypy

serve: install
	@echo "The bot server (gb_server) is not built yet; see the open issues." >&2
	@exit 2

bench: install
	$(BIN)/python bench/language.py
	$(BIN)/python bench/store.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .hypothesis
