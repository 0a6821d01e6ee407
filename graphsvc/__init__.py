"""graphsvc: the referral-relationship graph of a mental-health group practice.

Data flows Neo4j (``db``, ``queries/``) -> projection -> NetworkX analysis ->
web, API and CLI. Writes go through ``writes`` (one record at a time) or
``importer`` (a folder of CSV files).
"""

__version__ = "0.1.0"
