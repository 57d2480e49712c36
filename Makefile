# h200cast: `make report` builds the default report, `make test` runs every check.
# Each target sets up its own environment on first use (a venv from uv.lock, made with
# uv, which is itself bootstrapped with the machine's python3) and is fast afterwards.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
LAB_VENV := .venv-lab
LAB_DIR := work
LAB_ARGS ?=
EXPLORE_PORT ?= 8866
EXPLORE_ARGS ?=
MUTANT_CHILDREN ?= 2
# Voila's lab template without its two stylesheet links to a CDN (Font Awesome, which the
# widgets bundle already): made from the installed Voila, so that the two stay in step
EXPLORE_TEMPLATE := .jupyter/data/voila/templates/h200cast
STAMP := $(VENV)/.synced
LAB_STAMP := $(LAB_VENV)/.synced
BIN := $(VENV)/bin

export UV_PYTHON_DOWNLOADS := never
export UV_LINK_MODE := copy
export UV_NO_PROGRESS := 1
# Compile the environment's bytecode once, at setup (about 9 s). uv does not by default,
# and where PYTHONDONTWRITEBYTECODE is set (as on our CI machines) Python then compiles
# pandas, altair and the rest from source in every process: 1.5-2 s per notebook kernel.
export UV_COMPILE_BYTECODE := 1
# keep Jupyter's and IPython's state inside the checkout
export JUPYTER_CONFIG_DIR := $(CURDIR)/.jupyter/config
export JUPYTER_DATA_DIR := $(CURDIR)/.jupyter/data
export JUPYTER_RUNTIME_DIR := $(CURDIR)/.jupyter/runtime
export IPYTHONDIR := $(CURDIR)/.ipython

.PHONY: report test lint lab lab-copies explore bench schema notebooks mutants env clean

report: $(STAMP)  ## the offline HTML report for every stance and path: reports/latest/index.html
	$(BIN)/h200cast report

test: $(STAMP)  ## lint, schema drift, evidence, the test suite and nbval on every notebook
	$(MAKE) --no-print-directory lint
	$(BIN)/h200cast params schema --check
	$(BIN)/h200cast evidence check
	$(BIN)/h200cast check
	$(BIN)/python -m pytest tests notebooks --nbval-lax --nbval-current-env \
		--nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider

notebooks: $(STAMP)  ## re-execute every notebook in place at its defaults (refreshes what nbval checks)
	$(BIN)/h200cast notebooks --refresh

lint: $(STAMP)  ## ruff (code and notebooks), the import contract (layers, no cycles) and mypy over src/
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy

bench: $(STAMP)  ## time the engine, the CLI, the explorer, the notebooks and the report (figures go in the README)
	$(BIN)/python benchmarks/bench_model.py
	$(BIN)/python benchmarks/bench_explorer.py
	$(BIN)/python benchmarks/bench_notebooks.py
	$(BIN)/python benchmarks/bench_report.py

# Mutation testing: mutmut ([tool.mutmut] in pyproject.toml) mutates a copy of the engine
# and the distributions in mutants/ and runs the unit tests that cover each mutant; the
# score counts the equivalent mutants listed in tests/mutants_equivalent.txt out.
mutants: $(STAMP)  ## mutation testing of the engine, metrics, sampling, switching and distributions (README: Mutation testing)
	rm -rf mutants
	$(BIN)/mutmut run --max-children $(MUTANT_CHILDREN)
	$(BIN)/python scripts/mutation_score.py

schema: $(STAMP)  ## regenerate params/schema.json from the pydantic models
	$(BIN)/h200cast params schema --write

# JupyterLab opens working copies of the notebooks in $(LAB_DIR)/, which git ignores and the
# tests never read: notebooks/ keeps the committed runs that nbval and the tests check.
lab: $(LAB_STAMP) lab-copies  ## JupyterLab on working copies of the notebooks (work/), in .venv-lab
	H200CAST_STATIC_CHARTS=0 $(LAB_VENV)/bin/jupyter lab $(LAB_DIR)/ $(LAB_ARGS) $$([ "$$(id -u)" = 0 ] && echo --allow-root)

# The explorer as an app: Voila runs notebooks/00_explorer.ipynb in a kernel per visitor and
# shows its outputs and widgets, not its code; it never writes the notebook.
explore: $(LAB_STAMP)  ## the live explorer as an app in the browser (Voila, offline), in .venv-lab
	@mkdir -p $(EXPLORE_TEMPLATE)
	@echo '{"base_template": "lab"}' > $(EXPLORE_TEMPLATE)/conf.json
	@sed -E '/<link[^>]*href="https?:/d' $(LAB_VENV)/share/jupyter/voila/templates/lab/index.html.j2 \
		> $(EXPLORE_TEMPLATE)/index.html.j2
	@! grep -En '(href|src)="https?:' $(EXPLORE_TEMPLATE)/index.html.j2
	H200CAST_STATIC_CHARTS=0 $(LAB_VENV)/bin/voila notebooks/00_explorer.ipynb --template=h200cast \
		--Voila.ip=127.0.0.1 --port=$(EXPLORE_PORT) $(EXPLORE_ARGS)

# A copy is made only where there is none: a user's edited copy is never overwritten.
lab-copies:  ## copy each notebook into work/ unless a copy is already there
	@mkdir -p $(LAB_DIR)
	@for nb in notebooks/*.ipynb; do \
		copy=$(LAB_DIR)/$${nb#notebooks/}; \
		if [ ! -e "$$copy" ]; then cp -p "$$nb" "$$copy"; echo "copied $$nb to $$copy"; \
		elif [ "$$nb" -nt "$$copy" ]; then \
			echo "kept your $$copy; $$nb is newer (delete the copy to start again from it)"; \
		fi; \
	done

env: $(STAMP)

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(STAMP): pyproject.toml uv.lock Makefile | $(UV)
	$(UV) sync --locked --python $(PYTHON) --quiet
	touch $@

$(LAB_STAMP): pyproject.toml uv.lock Makefile | $(UV)
	UV_PROJECT_ENVIRONMENT=$(LAB_VENV) $(UV) sync --locked --extra lab --python $(PYTHON) --quiet
	touch $@

clean:
	rm -rf $(VENV) $(LAB_VENV) $(TOOLS) .pytest_cache .ruff_cache .hypothesis mutants
