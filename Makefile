# Set-up and everyday commands. `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run demo test lint format bench-import clean

run: $(STAMP)  ## install, set up the embedded SQLite database with demo data, start the web app
	$(BIN)/kinlink demo --serve

demo: $(STAMP)  ## the demo data only, no server
	$(BIN)/kinlink demo

test: $(STAMP) /usr/bin/chromium  ## the architecture's contracts, then the whole suite on SQLite and PostgreSQL
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/lint-imports --no-cache
	$(BIN)/pytest -n 2 --dist loadfile -q

lint: $(STAMP)
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/lint-imports --no-cache
	$(BIN)/ruff format --check src tests bench scripts

format: $(STAMP)
	$(BIN)/ruff format src tests bench scripts
	$(BIN)/ruff check --fix src tests bench scripts

bench-import: $(STAMP)
	$(BIN)/python -m bench.registry.run

# The browser tests drive Debian's Chromium through Playwright (never `playwright install`: no downloads).
/usr/bin/chromium:
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) kinlink.db kinlink.db-wal kinlink.db-shm
