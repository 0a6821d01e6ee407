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
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

# Install, start Neo4j, load the demo practice, serve the web view.
run: install
	$(BIN)/graphsvc db start
	$(MAKE) --no-print-directory demo
	$(BIN)/graphsvc serve --host $(HOST) --port $(PORT)

# The demo practice: generated from the seed, then imported (idempotent).
demo: $(VENV)/.installed
	$(BIN)/python -m seed --out $(DEMO) --seed $(SEED) --quiet
	$(BIN)/graphsvc import $(DEMO)
	$(BIN)/graphsvc analyze

serve: $(VENV)/.installed
	$(BIN)/graphsvc serve --host $(HOST) --port $(PORT)

# Install, then run the tests against a Neo4j the tests start on a free port.
test: install
	$(BIN)/pytest -q

bench: install
	$(BIN)/python -m tests.benchmarks.bench_import
	$(BIN)/python -m tests.benchmarks.bench_analysis

stop:
	-$(BIN)/graphsvc db stop

status:
	$(BIN)/graphsvc db status

clean: stop
	rm -rf $(VENV) $(DEMO) .bench .pytest_cache
