# graphsvc: the two commands are `make run` and `make test`.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
DEMO   ?= .demo
SEED   ?= 42
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: install run demo serve test bench stop status clean

# Virtual environment, Python dependencies, and Neo4j Community from Maven Central.
install: $(VENV)/.installed
	@$(BIN)/graphsvc db install

$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: graphsvc needs Python 3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	@# setuptools warns "Editable installation: please be careful with folders ..."
	@# on every editable build (a UserWarning from the build backend); it is about
	@# setuptools, not graphsvc, so it is silenced here. Errors still show.
	PYTHONWARNINGS=ignore::UserWarning $(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

# Install, start Neo4j, load the demo practice, serve the web view.
# `config init` writes ./graphsvc.toml (data_dir, bolt_port; never the password)
# so that graphsvc commands typed in another terminal here reach the same Neo4j.
run: install
	$(BIN)/graphsvc config init
	$(BIN)/graphsvc db start
	$(MAKE) --no-print-directory demo
	$(BIN)/graphsvc serve --host $(HOST) --port $(PORT)

# The demo practice: generated from the seed, then imported (idempotent), and
# its two accounts (manager, clinician), whose passwords are printed once.
demo: $(VENV)/.installed
	$(BIN)/python -m seed --out $(DEMO) --seed $(SEED) --quiet
	$(BIN)/graphsvc import $(DEMO)
	$(BIN)/graphsvc user demo
	$(BIN)/graphsvc analyze

serve: $(VENV)/.installed
	$(BIN)/graphsvc serve --host $(HOST) --port $(PORT)

# Install, then run the tests against a Neo4j the tests start on a free port
# (never reading the graphsvc.toml `make run` writes here).
test: install
	GRAPHSVC_CONFIG=/dev/null $(BIN)/pytest -q

bench: install
	$(BIN)/python -m tests.benchmarks.bench_import
	$(BIN)/python -m tests.benchmarks.bench_analysis
	$(BIN)/python -m tests.benchmarks.bench_cache
	$(BIN)/python -m tests.benchmarks.bench_live

stop:
	-$(BIN)/graphsvc db stop

status:
	$(BIN)/graphsvc db status

clean: stop
	rm -rf $(VENV) $(DEMO) .bench .pytest_cache
