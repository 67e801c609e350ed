# convnet-course: two commands to start (make lab, make test); the rest is for instructors and maintainers.
# Everything bootstraps from nothing: the first target that needs it creates .venv and installs course_lib.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# nbgrader runs tools (alembic, jupyter) by name: the venv must come first on PATH.
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: lab test test-fast test-solutions lint release grade bench train clean help

help:
	@echo "make lab      create .venv (first time) and open JupyterLab on lectures/"
	@echo "make test     create .venv (first time), then ruff + the whole test suite (fast profile)"
	@echo "make test-fast  ruff + the unit tests only (no notebooks, grading or checkpoints): the inner loop"
	@echo "make test-solutions  every cell of every solutions/ notebook (make test runs their graded cells)"
	@echo "make release  regenerate lectures/ from solutions/ with nbgrader (instructors)"
	@echo "make grade    autograde submitted/<student>/<lecture>/ sandboxed, JOBS=N at a time -> feedback/, grades.csv"
	@echo "              (on Dask: CLUSTER=local:N or SCHEDULER=tcp://HOST:8786; gradebook: DB=postgresql://...)"
	@echo "make bench    run every benchmark in bench/, results in bench/results/"
	@echo "make clean    remove the virtual environment, caches and grading outputs"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@# jsonschema imports rfc3987-syntax (its optional "iri" format check, pulled in by jupyter-events) at import,
	@# which compiles a grammar: 1.1 s of CPU in every process that imports nbformat (each nbgrader run, nbval
	@# worker, Jupyter server), for a format nothing here validates. Without it jsonschema skips that one check.
	@# Upstream: python-jsonschema/jsonschema#1428. Measured in bench/results/test_durations (issue 21).
	$(BIN)/python -m pip uninstall --quiet --yes rfc3987-syntax
	@touch $(STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab lectures/

lint: $(STAMP)
	$(BIN)/ruff check .

# Tests run on TEST_JOBS workers (pytest-xdist; default one per core), whole files per worker so that a module's
# fixtures (one graded class, one rendered dataset) are built once, longest files first (conftest.py).
TEST_JOBS ?= $(shell nproc 2>/dev/null || sysctl -n hw.ncpu 2>/dev/null || echo 1)
PYTEST = COURSE_PROFILE=fast MPLBACKEND=Agg PYTHONHASHSEED=0 $(BIN)/pytest -p no:cacheprovider --doctest-modules \
	-n $(TEST_JOBS) --dist loadfile --no-loadscope-reorder

test: $(STAMP) lint
	$(PYTEST) --nbval-lax tests course_lib solutions lectures

# Every cell of solutions/ (make test runs lectures/ whole but, of solutions/, the graded cells and the cells they
# need: tests/notebook_slice.py). For instructors before a release, and for a change to a lecture's narrative code.
test-solutions: $(STAMP)
	COURSE_TEST_SOLUTIONS=whole $(PYTEST) --nbval-lax solutions

# The inner loop: unit and doctests only (no notebooks, no grading, no checkpoint re-evaluation; see conftest.py).
test-fast: $(STAMP) lint
	$(PYTEST) -m "not slow" tests course_lib

# One nbgrader run for every folder of solutions/ (the assignment id is a glob): 7 s instead of 5-7 s per lecture.
release: $(STAMP)
	$(BIN)/nbgrader generate_assignment '*' --force --log-level=WARN

# Each submission runs in a sandbox with limits (course_lib/grading/sandbox.py), JOBS submissions at a time
# (default: one per core); see README, "Grading a class safely". On Dask: CLUSTER=local:N (workers here) or
# SCHEDULER=tcp://HOST:8786 (an existing cluster); DB=postgresql://USER:PASSWORD@HOST/DB for the gradebook, which
# reaches the driver through the environment (exported below), never on a command line that `ps` shows.
JOBS ?= $(shell nproc 2>/dev/null || sysctl -n hw.ncpu 2>/dev/null || echo 1)
GRADE_ON = $(if $(CLUSTER),--cluster $(CLUSTER),$(if $(SCHEDULER),--scheduler $(SCHEDULER),--jobs $(JOBS)))
grade: export CONVNET_GRADEBOOK_URL = $(DB)
grade: $(STAMP)
	@test -d submitted || { echo "nothing to grade: put notebooks in submitted/<student>/<lecture>/<lecture>.ipynb"; exit 1; }
	COURSE_PROFILE=fast $(BIN)/python -m course_lib.grading $(GRADE_ON)
	@echo "grades: grades.csv   feedback: feedback/"

bench: $(STAMP)
	@for script in bench/[a-z]*.py; do \
		echo "== $$script"; MPLBACKEND=Agg $(BIN)/python $$script || exit 1; \
	done
	$(BIN)/python bench/summary.py

train: $(STAMP)
	@test -n "$(TASK)" || { echo "usage: make train TASK=pose|localization|fcn|depth|restoration|colorization"; exit 1; }
	$(BIN)/python -m course_lib.train $(TASK)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis autograded feedback grades.csv gradebook.db .grading
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
