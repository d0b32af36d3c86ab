# The two commands: `make run` starts the app, `make test` runs every check headless.
# Both first run scripts/setup.sh, which installs whatever is missing and is quick otherwise.
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup run test lint typecheck pytest bench screenshots bundle translations clean

setup:
	@scripts/setup.sh

run: setup
	$(BIN)/assistant $(ARGS)

test: setup lint typecheck pytest

lint:
	$(BIN)/ruff check --no-cache assistant tests benchmarks packaging
	$(BIN)/ruff format --no-cache --check assistant tests benchmarks packaging

typecheck:
	$(BIN)/mypy

pytest:
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: setup
	$(BIN)/python -m benchmarks $(ARGS)

# The Linux .deb and tarball in dist/, from a clean build environment (see packaging/README.md).
bundle: setup
	packaging/build.sh

# The window's translations: collect the tr() strings of assistant/ui into the .ts files (new ones
# come in untranslated, to be translated in the .ts), then compile them to the .qm files that ship.
TRANSLATIONS := resources/translations/assistant_zh_CN.ts
translations:
	$(BIN)/pyside6-lupdate -no-obsolete -locations none assistant/ui/*.py -ts $(TRANSLATIONS)
	for ts in $(TRANSLATIONS); do $(BIN)/pyside6-lrelease $$ts -qm $${ts%.ts}.qm; done

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
