# convnet-course: two commands to start (make lab, make test); the rest is for instructors and maintainers.
# Everything bootstraps from nothing: the first target that needs it creates .venv and installs course_lib.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# nbgrader runs tools (alembic, jupyter) by name: the venv must come first on PATH.
export PATH := $(abspath $(BIN)):$(PATH)
LECTURES := $(notdir $(wildcard solutions/[0-9][0-9]_*))

.PHONY: lab test lint release grade bench train clean help

help:
	@echo "make lab      create .venv (first time) and open JupyterLab on lectures/"
	@echo "make test     create .venv (first time), then ruff + the whole test suite (fast profile)"
	@echo "make release  regenerate lectures/ from solutions/ with nbgrader (instructors)"
	@echo "make grade    autograde submitted/<student>/<lecture>/, write feedback/ and grades.csv"
	@echo "make bench    run every benchmark in bench/, results in bench/results/"
	@echo "make clean    remove the virtual environment, caches and grading outputs"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab lectures/

lint: $(STAMP)
	$(BIN)/ruff check .

test: $(STAMP) lint
	COURSE_PROFILE=fast MPLBACKEND=Agg PYTHONHASHSEED=0 $(BIN)/pytest tests course_lib solutions lectures --doctest-modules --nbval-lax \
		-p no:cacheprovider

release: $(STAMP)
	@for lec in $(LECTURES); do \
		$(BIN)/nbgrader generate_assignment $$lec --force --log-level=WARN || exit 1; \
	done

# generate_assignment first: it registers the lecture and its graded cells in gradebook.db (lectures/ is
# rewritten identically).
grade: $(STAMP)
	@test -d submitted || { echo "nothing to grade: put notebooks in submitted/<student>/<lecture>/<lecture>.ipynb"; exit 1; }
	@for lec in $$(ls submitted/*/ | grep -E '^[0-9]{2}_' | sort -u); do \
		$(BIN)/nbgrader generate_assignment $$lec --force --log-level=WARN || exit 1; \
		COURSE_PROFILE=fast $(BIN)/nbgrader autograde $$lec --force --log-level=WARN || exit 1; \
		$(BIN)/nbgrader generate_feedback $$lec --force --log-level=WARN || exit 1; \
	done
	$(BIN)/nbgrader export --to grades.csv --log-level=WARN
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
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis autograded feedback grades.csv gradebook.db
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
