"""FHIR R4 in and out: ``graphsvc import PATH --format fhir`` and ``graphsvc export DIR --format fhir``.

``mapping`` holds the systems, codes and tables both directions share;
``pseudonym`` the keyed hash that turns a patient into a client id;
``reading`` and ``importer`` the way in, ``resources`` and ``exporter`` the
way out. The command line is ``graphsvc.cli.data``'s, as for every format.
"""

