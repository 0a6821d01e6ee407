"""Errors graphsvc reports to people rather than as tracebacks."""


class GraphsvcError(Exception):
    """An error with a message meant for the user; the CLI prints it and exits 1."""


class Neo4jUnavailable(GraphsvcError):
    """Neo4j could not be reached or refused our credentials."""


class InvalidInput(GraphsvcError):
    """Input that fails validation; nothing was written.

    ``words``: the problems that are a word no vocabulary holds, each ``{"field", "value", "vocabulary",
    "did_you_mean"}`` (``graphsvc.vocabularies``), so that a form or the API can offer the close ones.
    """

    def __init__(self, problems, *, words: list[dict] | None = None):
        if isinstance(problems, str):
            problems = [problems]
        self.problems = list(problems)
        self.words = list(words or ())
        super().__init__("\n".join(self.problems))


class NotFound(InvalidInput):
    """An id that names nothing in the graph."""


class IdTaken(GraphsvcError):
    """A new node's id is taken (a uniqueness constraint of ``label`` refused ``record_id``); the write
    that tried it was rolled back. ``graphsvc.service`` says so for the field, or tries a new id."""

    def __init__(self, label: str | None, record_id: str | None, message: str):
        self.label, self.record_id = label, record_id
        super().__init__(message)


class NpiTaken(IdTaken):
    """A party's NPI is another party's (the ``party_npi`` constraint refused it: a race the checks could
    not see, such as an import writing meanwhile); ``record_id`` is the NPI. The write was rolled back."""

    field = "npi"


class Forbidden(GraphsvcError):
    """The signed-in user may not make this write (a clinician acting on a case or referrer that is not
    its own); nothing was written. The web answers 403 with the message."""


class QueryRefused(InvalidInput):
    """A query the read-only console will not run, or that Neo4j stopped (``graphsvc.store.readonly``).

    ``reason`` says why, for the audit log and for callers: ``not_text``, ``empty``, ``too_long``,
    ``load_csv``, ``writes``, ``schema``, ``admin``, ``procedure``, ``syntax``, ``invalid``,
    ``params``, ``timeout`` (stopped), ``memory``, ``busy`` (stopped queries still finishing on the
    server) or ``failed``. Nothing was written.
    """

    def __init__(self, reason: str, message: str):
        self.reason = reason
        super().__init__(message)
