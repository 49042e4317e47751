# Two commands do all the set-up on a fresh machine (see README.md):
#   make lab    create the environment if needed, then open the course in JupyterLab
#   make test   create the environment if needed, then run the whole test suite

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(abspath $(VENV)/bin)
# Jupyter refuses to run as root unless told; containers and CI machines often are root.
AS_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)
export PATH := $(BIN):$(PATH)

.PHONY: lab test env clean-env

lab: $(VENV)/.installed
	$(BIN)/jupyter lab $(AS_ROOT) --ServerApp.root_dir=. --LabApp.default_url=/lab/tree/notebooks/01_tensors/01_tensors.ipynb

test: $(VENV)/.installed
	$(BIN)/python -m pytest $(PYTEST_ARGS)

env: $(VENV)/.installed

# torch goes first and pinned: a range would let pip pull a CUDA build of several GB.
$(VENV)/.installed: pyproject.toml requirements.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -c constraints.txt -r requirements.txt -e ".[cluster]"
	touch $@

clean-env:
	rm -rf $(VENV)
