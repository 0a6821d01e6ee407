"""Errors graphsvc reports to people rather than as tracebacks."""


class GraphsvcError(Exception):
    """An error with a message meant for the user; the CLI prints it and exits 1."""


class Neo4jUnavailable(GraphsvcError):
    """Neo4j could not be reached or refused our credentials."""


class InvalidInput(GraphsvcError):
    """Input that fails validation; nothing was written."""

    def __init__(self, problems):
        if isinstance(problems, str):
            problems = [problems]
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class NotFound(InvalidInput):
    """An id that names nothing in the graph."""


class Forbidden(GraphsvcError):
    """The signed-in user may not make this write (a clinician acting on a case or referrer that is not
    its own); nothing was written. The web answers 403 with the message."""


class QueryRefused(InvalidInput):
    """A query the read-only console will not run, or that Neo4j stopped (``graphsvc.store.readonly``).

    ``reason`` says why, for the audit log and for callers: ``not_text``, ``empty``, ``too_long``,
    ``load_csv``, ``writes``, ``schema``, ``admin``, ``procedure``, ``syntax``, ``invalid``,
    ``params``, ``timeout``, ``memory`` or ``failed``. Nothing was written.
    """

    def __init__(self, reason: str, message: str):
        self.reason = reason
        super().__init__(message)
