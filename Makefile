# Two commands do all the set-up on a fresh machine (see README.md):
#   make lab    create the environment if needed, then open the course in JupyterLab
#   make test   create the environments if needed, then run the whole test suite:
#               the course's own stack (.venv), then Colab's versions (.venv-colab)
#   make test-fast   a developer's quick check (under 2 minutes): what it leaves out, it says
# Maintainers: make student-notebooks (after editing source/), make release-check.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(abspath $(VENV)/bin)
COLAB_VENV ?= .venv-colab
COLAB_BIN  := $(abspath $(COLAB_VENV)/bin)
# Jupyter refuses to run as root unless told; containers and CI machines often are root.
AS_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)
export PATH := $(BIN):$(PATH)
# Python keeps each module it compiles (__pycache__) and reads that the next time, unless
# PYTHONDONTWRITEBYTECODE is set, as some containers and CI images set it: then every process
# compiles torch, nbgrader and Jupyter from source again (2-3 s of CPU each; 40 % of the
# suite's CPU, CONTRIBUTING.md). What make runs writes its bytecode, once.
unexport PYTHONDONTWRITEBYTECODE

# The suite runs on every core (pytest-xdist): tests that share a module's fixture or the
# bug zoo's Reports keep to one worker (tests/conftest.py). JOBS=0 runs it in one process.
JOBS   ?= auto
PYTEST  = -m pytest -n $(JOBS) --dist loadgroup --durations=15
# Each stage prints its seconds when it ends ("[stage] test-main 301.2 s"): CONTRIBUTING.md
# has the table, benchmarks/ci_time.py measures a clean clone. A new stage: one more
# command wrapped in $(STAGE); `$(STAGE) --apart` for one outside the check's time budget.
STAGE  := $(PYTHON) $(abspath scripts/stage.py)

.PHONY: lab test test-main test-colab test-fast env colab-env student-notebooks release-check clean-env

lab: $(VENV)/.installed exchange
	$(BIN)/jupyter lab $(AS_ROOT) --ServerApp.root_dir=. --LabApp.default_url=/lab/tree/notebooks/01_tensors/01_tensors.ipynb

test: test-main test-colab

test-main: $(VENV)/.installed
	@$(STAGE) test-main $(BIN)/python $(PYTEST) $(PYTEST_ARGS)

# Every notebook (student and source), the widget and quiz tests and the static views, on
# Colab's versions (no browser there: the main run drives Chromium).
test-colab: $(COLAB_VENV)/.installed
	@$(STAGE) test-colab env COURSE_REQUIRE_COLAB=1 $(COLAB_BIN)/python $(PYTEST) -p no:cacheprovider -m "not browser" \
		tests/test_colab_stack.py tests/test_widgets.py tests/test_course_helpers.py tests/test_static_views.py \
		$(PYTEST_ARGS)

# The inner loop: everything but the tests marked slow (whole notebooks, nbgrader commands,
# grading a class, servers) and the browser test, on this stack only. It says what it left out.
FAST_LEFT_OUT = slow or browser
test-fast: $(VENV)/.installed
	@$(STAGE) test-fast $(BIN)/python $(PYTEST) -m "not ($(FAST_LEFT_OUT))" $(PYTEST_ARGS)
	@echo "make test-fast left out the tests marked $(FAST_LEFT_OUT) and the Colab stack: make test runs them all."

env: $(VENV)/.installed

colab-env: $(COLAB_VENV)/.installed

# nbgrader's exchange for a course on one machine (nbgrader_config.py points at it).
exchange:
	mkdir -p $@ && chmod 777 $@

# Student notebooks are generated from the sources, never edited by hand.
student-notebooks: $(VENV)/.installed
	$(BIN)/python scripts/sync_first_cell.py
	$(BIN)/python scripts/make_student_notebooks.py

# What a release uploads, built and checked as a release would (README.md, "Releasing").
release-check: $(VENV)/.installed
	rm -rf dist
	$(BIN)/python -m build --outdir dist .
	$(BIN)/twine check --strict dist/*

# torch goes first and pinned, with pip: a range would pull a CUDA build of several GB, and
# only pip finds the CPU wheel course machines keep on disk. It goes in alone (its own
# dependencies are pinned with the rest) and uncompiled (Python compiles what is imported).
# Then the pins, with uv (pinned in the constraints; several times faster than pip), which
# finds torch already satisfied; where uv cannot be installed or fails, pip installs them.
#   $(call install_pins,BIN,CONSTRAINTS,ARGUMENTS)
install_pins = if $(1)/python -m pip install --quiet -c $(2) uv && \
	$(1)/uv pip install --quiet --python $(1)/python -c $(2) $(3); then :; \
	else $(1)/python -m pip install --quiet --upgrade pip && $(1)/python -m pip install --quiet -c $(2) $(3); fi

$(VENV)/.installed: pyproject.toml requirements.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet torch==2.13.0 --no-deps --no-compile
	$(call install_pins,$(BIN),constraints.txt,-r requirements.txt -e ".[cluster]")
	touch $@

# Colab's versions (requirements-colab.txt), torch first as above. The course package is
# not installed: the notebooks' set-up cell finds the checkout, as on a course machine.
$(COLAB_VENV)/.installed: requirements-colab.txt constraints-colab.txt
	$(PYTHON) -m venv $(COLAB_VENV)
	$(COLAB_BIN)/python -m pip install --quiet torch==2.13.0 --no-deps --no-compile
	$(call install_pins,$(COLAB_BIN),constraints-colab.txt,-r requirements-colab.txt)
	touch $@

clean-env:
	rm -rf $(VENV) $(COLAB_VENV)

# nbgrader's own autograde tests (shipped in its wheel), with `python -m autograder grade` in
# `nbgrader autograde`'s place (tests/nbgrader_suite.py): a stage of its own, its minutes
# printed apart (not in the check's budget), on every core (each test has its own course).
.PHONY: test-nbgrader
test-nbgrader: $(VENV)/.installed
	@$(STAGE) --apart test-nbgrader $(BIN)/python -m pytest -n $(JOBS) --durations=5 -p nbgrader_suite \
		--pyargs nbgrader.tests.apps.test_nbgrader_autograde $(PYTEST_ARGS)
