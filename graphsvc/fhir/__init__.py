"""FHIR R4 in and out: ``graphsvc import PATH --format fhir`` and ``graphsvc export DIR --format fhir``.

``mapping`` holds the systems, codes and tables both directions share;
``pseudonym`` the keyed hash that turns a patient into a client id.
"""
