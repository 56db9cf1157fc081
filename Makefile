# Kleroterion. Two commands do everything (see README):
#   make run    install what is needed and start the app on the demo assembly
#   make test   install what is needed and run the whole test suite (browser tests included)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test bench install browser demo-data clean

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

bench: $(STAMP)
	$(BIN)/python -m bench

demo-data: $(STAMP)
	$(BIN)/python data/demo/generate_demo.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis data/*.duckdb data/*.duckdb.wal
