# graphsvc: the two commands are `make run` and `make test`.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
DEMO   ?= .demo
SEED   ?= 42
HOST   ?= 127.0.0.1
PORT   ?= 5000

# The web view's browser libraries: npm installs package-lock.json's versions into
# node_modules/, and their browser builds are copied here (gitignored, carried by
# the wheel as package data; the Dockerfile copies the same two files). The pages
# load them from /static/vendor/ (never a CDN).
VENDOR := graphsvc/web/static/vendor
VENDOR_FILES := $(VENDOR)/chart.umd.js $(VENDOR)/cytoscape.min.js

.PHONY: install vendor compose-tool caddy-tool run demo serve test lint docs bench stop status clean

# Virtual environment, Python dependencies, the browser libraries, Neo4j
# Community from Maven Central, and the tool that checks docker-compose.yml.
install: $(VENV)/.installed vendor compose-tool caddy-tool
	@$(BIN)/graphsvc db install

# tests/test_docker.py checks docker-compose.yml with `docker-compose config`, which needs no Docker
# engine: Debian's docker-compose package (1.29) is installed when there is no docker-compose, with
# apt-get as root or with sudo that asks no password. Where neither can run, say so: the test then
# fails and says why (it skips, saying so, only where there is no apt-get and it is not CI).
# Caddy, for the test that puts deploy/Caddyfile in front of the app (tests/test_docker.py): Debian's
# package unpacked into .tools/caddy (never installed: no service is started, nothing outside the checkout
# changes). Without apt-get, or offline, the test says it did not run.
CADDY := .tools/caddy/usr/bin/caddy
caddy-tool: $(CADDY)

$(CADDY):
	@if command -v caddy >/dev/null; then mkdir -p $(dir $@) && ln -sf "$$(command -v caddy)" $@; \
	elif command -v apt-get >/dev/null && command -v dpkg >/dev/null; then \
	  mkdir -p .tools/caddy && cd .tools && rm -f caddy_*.deb && \
	  { apt-get download -q caddy >/dev/null 2>&1 && dpkg -x caddy_*.deb caddy && rm -f caddy_*.deb; } \
	  || echo "could not fetch Debian's caddy: tests/test_docker.py will not check deploy/Caddyfile"; \
	else echo "no apt-get: tests/test_docker.py will not check deploy/Caddyfile (install caddy to check it)"; fi

compose-tool:
	@command -v docker-compose >/dev/null || { \
	  if ! command -v apt-get >/dev/null; then \
	    echo "docker-compose not found, and no apt-get to install it: tests/test_docker.py cannot check docker-compose.yml"; \
	  elif [ "$$(id -u)" != 0 ] && ! sudo -n true 2>/dev/null; then \
	    echo "docker-compose not found: run 'sudo apt-get install docker-compose' (tests/test_docker.py checks docker-compose.yml with it)"; \
	  else \
	    as=$$([ "$$(id -u)" = 0 ] || echo "sudo -n"); \
	    echo "docker-compose not found: installing Debian's docker-compose (tests/test_docker.py checks docker-compose.yml with it)"; \
	    $$as env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends docker-compose >/dev/null \
	      || { $$as apt-get update -q >/dev/null && \
	           $$as env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends docker-compose >/dev/null; } \
	      || { echo "apt-get could not install docker-compose"; exit 1; }; \
	  fi; }

vendor: $(VENDOR_FILES)

# `npm ci` again only when package.json or package-lock.json changed (it empties node_modules first).
node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm not found: the web view's browser libraries need Node.js 20 and npm (apt-get install nodejs npm, or https://nodejs.org)"; exit 1; }
	npm ci --no-audit --no-fund
	@touch $@

$(VENDOR)/chart.umd.js: node_modules/.installed
	@mkdir -p $(VENDOR)
	cp node_modules/chart.js/dist/chart.umd.js $@

$(VENDOR)/cytoscape.min.js: node_modules/.installed
	@mkdir -p $(VENDOR)
	cp node_modules/cytoscape/dist/cytoscape.min.js $@

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
	@# --new: the demo belongs to this checkout even when another graphsvc Neo4j runs elsewhere
	@# (without it, db start refuses to create a database while another one runs).
	$(BIN)/graphsvc db start --new
	$(MAKE) --no-print-directory demo
	$(BIN)/graphsvc serve --host $(HOST) --port $(PORT)

# The demo practice: generated from the seed, then imported (idempotent), and
# its two accounts (manager, clinician), whose passwords are printed once.
# Into a database without referrers it is generated ending yesterday (--end
# yesterday: the fixed practice of `python -m seed`, every date moved by the
# same whole number of days), so nothing in it is in the future. A database
# that holds it already gets the same files again, a no-op: moved dates cannot
# be imported over the old ones (a referrer's handoffs would clash). Its seed is
# kept in $(DEMO)/.seed (none: generated before there was one, with this SEED).
demo: $(VENV)/.installed
	@held=$$($(BIN)/graphsvc query --cypher "MATCH (r:Referrer) RETURN count(r) AS n" --format csv | tail -n 1); \
	if [ "$$held" != 0 ] && [ -f $(DEMO)/referrals.csv ] && [ "$$(cat $(DEMO)/.seed 2>/dev/null || echo $(SEED))" = "$(SEED)" ]; then \
	  echo "$(DEMO): the database holds this demo already; its dates stay as they were generated" \
	       "(for a demo ending yesterday, start from an empty database: docs/getting-started.md)"; \
	else \
	  echo "$(BIN)/python -m seed --out $(DEMO) --seed $(SEED) --end yesterday --quiet"; \
	  $(BIN)/python -m seed --out $(DEMO) --seed $(SEED) --end yesterday --quiet && echo "$(SEED)" > $(DEMO)/.seed; \
	fi
	@$(BIN)/graphsvc import $(DEMO) || { echo "The database holds other data than this demo: start from an empty one" \
	  "(docs/getting-started.md, 'The demo's dates')."; exit 1; }
	$(BIN)/graphsvc user demo
	$(BIN)/graphsvc analyze

serve: $(VENV)/.installed
	$(BIN)/graphsvc serve --host $(HOST) --port $(PORT)

# Install, lint, build the docs (a broken link fails), then run the tests against a Neo4j the tests
# start on a free port (never reading the graphsvc.toml `make run` writes here).
test: install
	$(BIN)/ruff check graphsvc tests seed docs
	$(BIN)/mkdocs build --strict --quiet
	GRAPHSVC_CONFIG=/dev/null $(BIN)/pytest -q

lint: $(VENV)/.installed
	$(BIN)/ruff check graphsvc tests seed docs

docs: $(VENV)/.installed
	$(BIN)/mkdocs build --strict

bench: install
	$(BIN)/python -m tests.benchmarks.bench_import
	$(BIN)/python -m tests.benchmarks.bench_analysis
	$(BIN)/python -m tests.benchmarks.bench_cache
	$(BIN)/python -m tests.benchmarks.bench_live
	$(BIN)/python -m tests.benchmarks.bench_pages
	$(BIN)/python -m tests.benchmarks.bench_today
	$(BIN)/python -m tests.benchmarks.bench_tuning
	$(BIN)/python -m tests.benchmarks.bench_duplicates
	$(BIN)/python -m tests.benchmarks.bench_restart
	$(BIN)/python -m tests.benchmarks.bench_errors
	$(BIN)/python -m tests.benchmarks.bench_fhir

stop:
	-$(BIN)/graphsvc db stop

status:
	$(BIN)/graphsvc db status

clean: stop
	rm -rf $(VENV) $(DEMO) .bench .pytest_cache node_modules $(VENDOR) test-results site
