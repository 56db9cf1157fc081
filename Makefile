# Kleroterion. Two commands do everything (see README):
#   make run    install what is needed and start the app on the demo assembly
#   make test   install what is needed and run the whole test suite (browser tests included)
#   make lint   ruff (lint; format check of the files in FORMATTED) and mypy on lib/ (settings: pyproject.toml)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint bench install browser demo-data clean messages

# Files kept in ruff's format. The rest of the tree is not reformatted in one sweep (it would collide
# with every open branch): add a file here when you next rework it, after `ruff format <file>`.
FORMATTED := lib/__init__.py lib/store/__init__.py lib/store/demo_marker.py lib/access/__init__.py \
	lib/recruitment/__init__.py lib/recruitment/signups/__init__.py lib/sortition/__init__.py \
	lib/sortition/audit/__init__.py lib/sortition/audit/formats.py lib/draws/__init__.py lib/assembly/__init__.py \
	lib/evaluation/__init__.py lib/reporting/__init__.py lib/demo/__init__.py \
	tests/test_architecture.py tests/test_docs.py tests/sortition/test_panel_rule.py \
	lib/reporting/transparency.py \
	pages/evaluation_admin.py pages/sections/evaluation_cards.py \
	lib/backup.py \
	lib/sortition/audit/verify.py lib/sortition/audit/public_verify.py lib/sortition/audit/public.py lib/sortition/audit/record.py lib/sortition/audit/ceremony.py lib/sortition/audit/model.py lib/sortition/feasibility.py lib/sortition/legacy.py \
	lib/sortition/worker.py lib/sortition/rounding.py lib/sortition/goldilocks.py lib/sortition/prepare.py \
	lib/sortition/leximin.py lib/sortition/typespace.py lib/sortition/sampling.py \
	lib/cli.py \
	lib/demo/story.py \
	lib/recruitment/signups/grid.py lib/recruitment/signups/workbooks.py lib/recruitment/signups/sheets.py \
	lib/recruitment/assembly_setup.py lib/recruitment/targets.py \
	lib/recruitment/categories.py \
	lib/recruitment/signups/encoding.py lib/recruitment/signups/published_csv.py lib/recruitment/signups/slot.py lib/recruitment/signups/live.py lib/recruitment/signups/sync.py lib/recruitment/quota_board.py \
	lib/draws/records.py lib/draws/feasibility.py lib/draws/compute.py lib/draws/publish.py lib/draws/replacements.py \
	lib/draws/jobs.py lib/draws/chances.py lib/draws/printable.py lib/draws/panel_tables.py lib/draws/sheet_export.py \
	lib/access/accounts.py lib/demo/load.py lib/reporting/charts.py lib/reporting/representativeness.py lib/evaluation/report.py \
	lib/assembly/members.py lib/assembly/funnel.py lib/assembly/sessions.py lib/assembly/attendance.py lib/assembly/first_names.py \
	lib/assembly/support.py lib/assembly/calls.py lib/assembly/stipends.py lib/assembly/withdrawals.py \
	lib/evaluation/vocabulary.py lib/evaluation/access_codes.py lib/evaluation/answers.py lib/evaluation/settings.py \
	lib/evaluation/event_log.py lib/evaluation/questions.py lib/evaluation/endorsements.py lib/evaluation/surveys.py \
	lib/evaluation/paper.py lib/evaluation/results.py lib/evaluation/languages.py

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
	$(BIN)/ruff format --check $(FORMATTED)
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
