"""The local Neo4j Community server graphsvc fetches, starts and stops."""

from .server import LocalServer, ServerStatus

__all__ = ["LocalServer", "ServerStatus"]
