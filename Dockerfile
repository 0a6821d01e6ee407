# The graphsvc web app, served by gunicorn. Neo4j runs in its own container
# (see docker-compose.yml); the app reaches it through NEO4J_URI.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY graphsvc ./graphsvc
COPY queries ./queries
COPY seed ./seed
# A regular (non-editable) install: the Cypher catalog travels inside the
# package as graphsvc/queries, as it does in any wheel.
RUN pip install --no-cache-dir . && useradd --create-home graphsvc
USER graphsvc
EXPOSE 8000
# One driver per worker: gunicorn forks first, then each worker calls create_app().
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "2", "graphsvc.web.wsgi:app"]
