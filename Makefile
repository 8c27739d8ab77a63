# The two commands of the README: `make lab` (set up and open JupyterLab) and `make test`
# (set up and run every test). Both start from nothing but python3 (>= 3.11) and make.
# PIP_ARGS: extra pip options for the install, e.g. PyTorch's CPU index (README).
# PYTHON: the interpreter the venv is made from. Unset, tools/pick_python.py (run by python3)
# picks python3, or another build of its version that is clearly faster, and says which and why.
PYTHON ?=
VENV   ?= .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
STAMP  := $(VENV)/.coderl-installed
NBVAL  := --nbval-current-env --nbval-sanitize-with tests/nbval-sanitize.cfg --nbval-cell-timeout 600
XDIST  := -n 2 --dist loadscope
PIP_ARGS ?=

.PHONY: setup lab test test-package test-notebooks test-exercises exercises benchmark clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt setup.py coderl_lessons/_forkserver.c
	test -x $(PY) || $(or $(PYTHON),"$$(python3 tools/pick_python.py || echo python3)") -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q $(PIP_ARGS) -c constraints.txt -e '.[dev]'
	$(PY) -m ipykernel install --sys-prefix --name coderl-lessons --display-name "Python (coderl-lessons)" >/dev/null
	touch $(STAMP)

# Jupyter refuses to start as root unless told; containers often run as root.
ROOT_ARGS := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root)
LAB_ARGS ?=

lab: setup
	$(BIN)/jupyter lab $(ROOT_ARGS) $(LAB_ARGS) notebooks/00_welcome.ipynb

test: setup test-package test-notebooks test-exercises

test-package: setup
	$(PY) -m pytest $(XDIST) tests

test-notebooks: setup
	$(PY) -m pytest $(XDIST) --nbval $(NBVAL) notebooks solutions

test-exercises: setup
	$(PY) -m pytest $(XDIST) --nbval-lax $(NBVAL) exercises

exercises: setup
	$(BIN)/coderl-lessons make-exercises

benchmark: setup
	$(PY) benchmarks/bench_execution.py

clean:
	rm -rf $(VENV)
