# Civic: `make run` serves the demo, `make test` runs every check. `make help` lists the rest.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export FLASK_APP := wsgi

.DEFAULT_GOAL := help
.PHONY: help install run test lint format db-check db-upgrade seed cov bench faults cluster restore-check pitr-drill clean

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP) ## Create the virtual environment and install pinned dependencies

run: $(STAMP) ## Migrate, load the demo if the database is empty, serve on http://127.0.0.1:5000
	CIVIC_ENV=development $(BIN)/flask db upgrade
	CIVIC_ENV=development $(BIN)/flask seed demo --if-empty
	@CIVIC_ENV=development $(BIN)/flask seed sign-ins
	@echo "\nServing on http://127.0.0.1:5000 (Ctrl+C to stop)\n"
	CIVIC_ENV=development $(BIN)/flask run --host 127.0.0.1 --port 5000

lint: $(STAMP) ## ruff: lint and formatting check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP) ## ruff: fix what can be fixed and format
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

db-check: $(STAMP) ## Fail if the models and the migrations differ (fresh SQLite database)
	@tmp=$$(mktemp -d) && \
	CIVIC_ENV=development DATABASE_URL=sqlite:///$$tmp/check.db CIVIC_INSTANCE_PATH=$$tmp $(BIN)/flask db upgrade >/dev/null && \
	CIVIC_ENV=development DATABASE_URL=sqlite:///$$tmp/check.db CIVIC_INSTANCE_PATH=$$tmp $(BIN)/flask db check; \
	status=$$?; rm -rf $$tmp; exit $$status

test: $(STAMP) lint db-check ## Lint, migration check, and every test with coverage (`make faults` runs the server ones)
	$(BIN)/python -m pytest -m "not serving" --cov --cov-report=term $(PYTEST_ARGS)

faults: $(STAMP) ## Every fault test, including real servers: gunicorn, a private PostgreSQL and Redis, killed and restarted
	$(BIN)/python -m pytest -m "faults or serving" -v $(PYTEST_ARGS)

TIER ?= district
bench: $(STAMP) ## Benchmark under gunicorn against ceilings measured in the same run (TIER=district|metro)
	$(BIN)/python -m bench.run --tier $(TIER) $(BENCH_ARGS)

cluster: $(STAMP) ## Two app servers sharing PostgreSQL and Redis (needs DATABASE_URL=postgresql+psycopg://…)
	$(BIN)/python -m ops.cluster

restore-check: $(STAMP) ## Back up DATABASE_URL with pg_dump, restore it into a new database, verify the audit chain and row counts
	$(BIN)/python -m ops.restore_check

pitr-drill: $(STAMP) ## Rehearse point-in-time recovery (pg_basebackup + archived WAL) on a private PostgreSQL
	$(BIN)/python -m ops.pitr_drill

db-upgrade: $(STAMP) ## Apply migrations to the configured database
	$(BIN)/flask db upgrade

seed: $(STAMP) ## Load the demo data (development only)
	CIVIC_ENV=development $(BIN)/flask seed demo

clean: ## Remove the virtual environment and caches (keeps instance/)
	rm -rf $(VENV) .pytest_cache .ruff_cache .coverage htmlcov
