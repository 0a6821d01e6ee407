# The graphsvc web app, served by gunicorn. Neo4j runs in its own container
# (see docker-compose.yml); the app reaches it through NEO4J_URI.

# The web view's browser libraries, at package-lock.json's versions (as `make install` does).
FROM node:20-slim AS assets
WORKDIR /assets
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY graphsvc ./graphsvc
COPY queries ./queries
COPY seed ./seed
# The same two files the Makefile's `vendor` target copies; served from /static/vendor/.
COPY --from=assets /assets/node_modules/chart.js/dist/chart.umd.js \
                   /assets/node_modules/cytoscape/dist/cytoscape.min.js \
                   ./graphsvc/web/static/vendor/
# A regular (non-editable) install: the Cypher catalog travels inside the
# package as graphsvc/queries, and the vendor files as package data of
# graphsvc.web.static, as they do in any wheel.
RUN pip install --no-cache-dir . && useradd --create-home graphsvc
USER graphsvc
EXPOSE 8000
# One driver per worker: gunicorn forks first, then each worker calls create_app().
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "2", "graphsvc.web.wsgi:app"]
