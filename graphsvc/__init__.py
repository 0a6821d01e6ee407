"""graphsvc: the referral-relationship graph of a mental-health group practice.

Data flows Neo4j (``store``, ``queries/``) -> projection -> NetworkX analysis
(``analysis``, ``insights``, ``live``) -> web, API and CLI. Every write, one
record or a folder of CSV files, goes through ``service.Service``.
"""

__version__ = "0.1.0"
