# The README's commands: `make test` and `make app`.
# Each creates .venv from a Python >= 3.12 it finds (PATH, then pyenv) and installs the project.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test test-fast app bench clean

$(STAMP): pyproject.toml
	@PYTHON=$$(scripts/find-python.sh) || exit 1; \
	if [ ! -x $(PY) ] || ! $(PY) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then \
		rm -rf $(VENV); echo "creating $(VENV) with $$PYTHON"; $$PYTHON -m venv $(VENV) || exit 1; \
	fi
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

## make test: the whole suite, slow tests included (what CI runs); then no process of it may be left
test: $(STAMP)
	@marker=make-test-$$$$-$$(date +%s); \
	SIM_TEST_RUN=$$marker $(PY) -m pytest -q; status=$$?; \
	$(PY) scripts/leftovers.py $$marker || { echo "make test left processes running (above)"; exit 1; }; \
	exit $$status

## make test-fast: skip tests marked slow
test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow"

## make app: open the Streamlit app on http://localhost:8501
app: $(STAMP)
	$(PY) -m sim.ui.serve

bench: $(STAMP)
	$(PY) -m sim bench

clean:
	rm -rf $(VENV) .pytest_cache out
