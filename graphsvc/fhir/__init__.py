"""FHIR R4 in and out: ``graphsvc import PATH --format fhir`` and ``graphsvc export DIR --format fhir``.

``mapping`` holds the systems, codes and tables both directions share;
``pseudonym`` the keyed hash that turns a patient into a client id.
"""


def cli_import(graph, path, **options):
    """``graphsvc import PATH --format fhir`` (``graphsvc.fhir.importer``)."""
    from .importer import cli_import as run

    return run(graph, path, **options)


def cli_export(graph, folder, **options):
    """``graphsvc export DIR --format fhir`` (``graphsvc.fhir.exporter``)."""
    from .exporter import cli_export as run

    return run(graph, folder, **options)
