# Set-up and everyday commands. `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# The font of the capture cards and certificates (Cyrillic, Romanian diacritics): Debian's DejaVu.
FONT := /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf

.PHONY: run demo test lint format bench-import clean java

run: $(STAMP) $(FONT)  ## install, set up the embedded SQLite database with demo data, start the web app
	$(BIN)/kinlink demo --serve

demo: $(STAMP)  ## the demo data only, no server
	$(BIN)/kinlink demo

test: $(STAMP) /usr/bin/chromium $(FONT) tests/bot/node_modules java  ## the architecture's contracts, then the whole suite on SQLite and PostgreSQL
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

# The Spark engine (`kinlink match --engine spark`, tests marked spark) runs PySpark in local mode on Debian's
# Java 17; installed only where no `java` is found.
java:
	@command -v java >/dev/null || (apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless)

# Nothing is downloaded at run time: the PDFs use this font file (or KINLINK_FONT_DIR). Elsewhere than on
# Debian the install may fail: kinlink still runs, and says what is missing when a card is asked for.
$(FONT):
	(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-dejavu-core) \
	  || echo "fonts-dejavu-core not installed: cards and certificates need DejaVuSans.ttf (KINLINK_FONT_DIR)"

# The Telegram Bot API emulator of the bot's tests (npm's telegram-test-api, pinned by package-lock.json),
# with Node from Debian when it is missing.
tests/bot/node_modules: tests/bot/package.json tests/bot/package-lock.json
	command -v node >/dev/null && command -v npm >/dev/null \
	  || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm)
	cd tests/bot && npm ci --no-audit --no-fund --loglevel=error
	touch tests/bot/node_modules

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) kinlink.db kinlink.db-wal kinlink.db-shm
