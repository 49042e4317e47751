# Two commands do all the set-up on a fresh machine (see README.md):
#   make lab    create the environment if needed, then open the course in JupyterLab
#   make test   create the environments if needed, then run the whole test suite:
#               the course's own stack (.venv), then Colab's versions (.venv-colab)
# Maintainers: make student-notebooks (after editing source/), make release-check.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(abspath $(VENV)/bin)
COLAB_VENV ?= .venv-colab
COLAB_BIN  := $(abspath $(COLAB_VENV)/bin)
# Jupyter refuses to run as root unless told; containers and CI machines often are root.
AS_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)
export PATH := $(BIN):$(PATH)

.PHONY: lab test test-main test-colab env colab-env student-notebooks release-check clean-env

lab: $(VENV)/.installed exchange
	$(BIN)/jupyter lab $(AS_ROOT) --ServerApp.root_dir=. --LabApp.default_url=/lab/tree/notebooks/01_tensors/01_tensors.ipynb

test: test-main test-colab

test-main: $(VENV)/.installed
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Every notebook (student and source), the widget and quiz tests and the static views, on
# Colab's versions (no browser there: the main run drives Chromium).
test-colab: $(COLAB_VENV)/.installed
	COURSE_REQUIRE_COLAB=1 $(COLAB_BIN)/python -m pytest -p no:cacheprovider -m "not browser" \
		tests/test_colab_stack.py tests/test_widgets.py tests/test_course_helpers.py tests/test_static_views.py \
		$(PYTEST_ARGS)

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

# torch goes first and pinned: a range would let pip pull a CUDA build of several GB.
$(VENV)/.installed: pyproject.toml requirements.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -c constraints.txt -r requirements.txt -e ".[cluster]"
	touch $@

# Colab's versions (requirements-colab.txt), torch first as above. The course package is
# not installed: the notebooks' set-up cell finds the checkout, as on a course machine.
$(COLAB_VENV)/.installed: requirements-colab.txt constraints-colab.txt
	$(PYTHON) -m venv $(COLAB_VENV)
	$(COLAB_BIN)/python -m pip install --quiet --upgrade pip
	$(COLAB_BIN)/python -m pip install --quiet torch==2.13.0
	$(COLAB_BIN)/python -m pip install --quiet -c constraints-colab.txt -r requirements-colab.txt
	touch $@

clean-env:
	rm -rf $(VENV) $(COLAB_VENV)

# nbgrader's own autograde tests (shipped in its wheel), with `python -m autograder grade` in
# `nbgrader autograde`'s place (tests/nbgrader_suite.py): a stage of its own, its minutes printed apart.
.PHONY: test-nbgrader
test-nbgrader: $(VENV)/.installed
	@started=$$(date +%s); status=0; \
	$(BIN)/python -m pytest -p nbgrader_suite --pyargs nbgrader.tests.apps.test_nbgrader_autograde $(PYTEST_ARGS) \
		|| status=$$?; \
	echo "test-nbgrader: nbgrader's autograde suite took $$(( ($$(date +%s) - started + 30) / 60 )) min"; \
	exit $$status
