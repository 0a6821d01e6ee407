"""The local Neo4j Community server graphsvc fetches, starts and stops."""

from .server import LocalServer, ServerStatus, free_port

__all__ = ["LocalServer", "ServerStatus", "free_port"]
