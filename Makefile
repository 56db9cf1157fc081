# Kleroterion. Two commands do everything (see README):
#   make run    install what is needed and start the app on the demo assembly
#   make test   install what is needed and run the whole test suite (browser tests included)
#   make lint   ruff (lint, and the format of app.py, lib/ and pages/) and mypy on lib/ (settings: pyproject.toml)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint bench install browser demo-data clean messages

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

install: $(STAMP)

run: $(STAMP)
	$(BIN)/python -m streamlit run app.py

browser:
	@bash scripts/ensure-chromium.sh
	@bash scripts/ensure-axe.sh

test: $(STAMP) browser
	$(BIN)/python -m pytest -n 2 --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check app.py lib pages tests bench scripts data/demo
	$(BIN)/ruff format --check app.py lib pages
	$(BIN)/mypy --python-executable $(BIN)/python

bench: $(STAMP)
	$(BIN)/python -m bench

# The app's words in other languages (lib/i18n.py): find every _("..."), N_("...") and ngettext(...) in the code
# (babel.cfg), add the new ones to each lib/locale/<lang>/LC_MESSAGES/messages.po, then translate them there.
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg --no-default-keywords -k _ -k N_ -k ngettext:1,2 --no-location \
		--sort-output --project=Kleroterion -o lib/locale/messages.pot .
	$(BIN)/pybabel update -i lib/locale/messages.pot -d lib/locale -D messages --no-fuzzy-matching \
		--width 100 --ignore-obsolete
	@rm -f lib/locale/messages.pot

demo-data: $(STAMP)
	$(BIN)/python data/demo/generate_demo.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis data/*.duckdb data/*.duckdb.wal
