# The graphsvc web app, served by `graphsvc serve` (gunicorn), as `make run` serves it. Neo4j runs in
# its own container (see docker-compose.yml); the app reaches it through NEO4J_URI and starts none.
# The walk-through is docs/docker.md; tests/test_docker.py runs this file's ENV and CMD.

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
# The backup service's loop (docker-compose.yml's `backup`).
COPY deploy/nightly-backup.sh /usr/local/bin/graphsvc-nightly-backup
# A regular (non-editable) install: the Cypher catalog travels inside the
# package as graphsvc/queries, and the vendor files as package data of
# graphsvc.web.static, as they do in any wheel.
# The user graphsvc has a fixed uid (10001), so that a host folder mounted for backups, or a
# secret's file, can be given to it (chown 10001). /data is the named volume graphsvc-data:
# Docker copies this folder's owner and mode into the empty volume on its first use.
RUN pip install --no-cache-dir . \
    && chmod 0755 /usr/local/bin/graphsvc-nightly-backup \
    && groupadd --gid 10001 graphsvc \
    && useradd --uid 10001 --gid 10001 --create-home graphsvc \
    && install -d -m 0700 -o graphsvc -g graphsvc /data /backups
# Every setting from the environment (no settings file is read), and everything the app keeps in
# /data: the accounts and audit database, the session key, the client-id key (all in data_dir),
# the analysis snapshots and the log.
ENV GRAPHSVC_CONFIG=/dev/null \
    GRAPHSVC_DATA_DIR=/data \
    GRAPHSVC_SNAPSHOT_DIR=/data/snapshots \
    GRAPHSVC_LOG_FILE=/data/log/graphsvc.log \
    PYTHONUNBUFFERED=1
USER graphsvc
EXPOSE 8000
# gunicorn, 2 workers of 4 threads ($GRAPHSVC_WEB_WORKERS, $GRAPHSVC_WEB_THREADS); each worker makes its
# own app and Neo4j driver after the fork. Before they start, serve makes the first manager that
# $GRAPHSVC_INITIAL_MANAGER names when there is no account.
CMD ["graphsvc", "serve", "--host", "0.0.0.0", "--port", "8000"]
