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
