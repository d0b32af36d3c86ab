# The two commands: `make run` starts the app, `make test` runs every check headless.
# Both first run scripts/setup.sh, which installs whatever is missing and is quick otherwise.
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup run test lint typecheck pytest bench screenshots bundle clean

setup:
	@scripts/setup.sh

run: setup
	$(BIN)/assistant $(ARGS)

test: setup lint typecheck pytest

lint:
	$(BIN)/ruff check assistant tests benchmarks
	$(BIN)/ruff format --check assistant tests benchmarks

typecheck:
	$(BIN)/mypy

pytest:
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: setup
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
