"""Reading a FHIR R4 export for ``graphsvc import PATH --format fhir``: a Bundle, or a folder of Bulk Data NDJSON.

``read_export(path, problems, client_key)`` gives a ``Resources``: the
resources graphsvc uses, each cut down at once to the few elements the import
reads (``_SLIM``), with where it came from (``Origin``: the file and line of
an NDJSON file, or ``entry N`` of a Bundle, and ``Type/id``).

- A folder holds ``<Type>.ndjson`` files (``Practitioner.ndjson``,
  ``PractitionerRole.ndjson``, ``Organization.ndjson``, ``Patient.ndjson``,
  ``ServiceRequest.ndjson``, ``Task.ndjson``, ``Condition.ndjson``; a Bulk
  export's numbered parts ``<Type>.2.ndjson`` too). Files of other types are
  ignored, their resources counted (``ignored``). Each file is read line by
  line, so memory follows the resources kept, never the JSON: a line that is
  not JSON, not an object, or of another type than its file is a problem at
  ``file:line``, and reading goes on.
- A Bundle is one JSON file whose ``resourceType`` is ``Bundle``; each
  ``entry[N].resource`` (N counted from 0, as FHIRPath does) is read as a
  line of a folder would be. The file is parsed entry by entry (``_Stream``),
  so a huge Bundle needs memory for one entry at a time, not the file; JSON
  that breaks off or goes wrong is an error naming the character.

**Patients**: nothing of a Patient is kept but its pseudonymous client id
(``graphsvc.fhir.pseudonym``), computed as the line is read: the JSON of a
Patient is dropped there and then, and no problem message ever quotes it
(only ``Patient/<id>``).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from ..checks import Problem
from ..errors import InvalidInput
from ..limits import shown
from .pseudonym import client_id_of

# The resource types the import reads; every other type is ignored (counted).
USED = ("Practitioner", "PractitionerRole", "Organization", "Patient", "ServiceRequest", "Task", "Condition")

# The elements kept of each type: everything else (a ServiceRequest's note, patientInstruction, text, a
# Practitioner's address and telecom, ...) is dropped as it is read.
_SLIM = {
    "Practitioner": ("id", "identifier", "name"),
    "PractitionerRole": ("id", "identifier", "practitioner", "organization", "code", "specialty", "period",
                         "extension"),
    "Organization": ("id", "identifier", "name", "type"),
    "ServiceRequest": ("id", "identifier", "status", "subject", "performer", "requester", "authoredOn",
                       "reasonCode", "reasonReference", "extension"),
    "Task": ("id", "status", "businessStatus", "focus", "owner", "statusReason", "lastModified", "authoredOn"),
    "Condition": ("id", "code"),
}
_FILE = re.compile(r"^([A-Z][A-Za-z]*)(?:[._-]\d+)?\.ndjson$")


@dataclass(frozen=True)
class Origin:
    """Where a resource came from: ``source`` (a file name, or ``bundle.json entry 4``), ``line`` (NDJSON
    only) and ``ref`` (``ServiceRequest/sr1``)."""

    source: str
    line: int | None
    ref: str

    def problem(self, message: str, **kw) -> Problem:
        return Problem(self.source, self.line, f"{self.ref}: {message}", **kw)


@dataclass
class Resources:
    """The resources read, by type: ``{id: (slim resource, origin)}``; Patients as ``patients`` (id ->
    client id) only."""

    by_type: dict[str, dict[str, tuple[dict, Origin]]] = field(default_factory=lambda: {t: {} for t in USED})
    patients: dict[str, str] = field(default_factory=dict)
    read: Counter = field(default_factory=Counter)      # resources read, by type (used types)
    ignored: Counter = field(default_factory=Counter)   # resources of types the import does not use
    bad: int = 0                                        # lines / entries that could not be read

    def of(self, kind: str) -> dict[str, tuple[dict, Origin]]:
        return self.by_type[kind]

    def get(self, ref: str | None) -> tuple[str, dict, Origin] | tuple[None, None, None]:
        """The resource a relative reference (``Type/id``, or a full URL ending so) names, if read."""
        if not ref:
            return None, None, None
        parts = ref.rstrip("/").split("/")
        if len(parts) < 2 or parts[-2] not in self.by_type:
            return None, None, None
        found = self.by_type[parts[-2]].get(parts[-1])
        return (parts[-2], *found) if found else (None, None, None)


def read_export(path: str | Path, problems: list[Problem], client_key: bytes) -> Resources:
    """Read a Bundle file or a folder of NDJSON files (see the module docstring)."""
    path = Path(path)
    out = Resources()
    if path.is_dir():
        _read_folder(path, out, problems, client_key)
    elif path.is_file():
        _read_bundle(path, out, problems, client_key)
    else:
        raise InvalidInput(f"{path}: no such file or folder")
    return out


def _read_folder(folder: Path, out: Resources, problems: list[Problem], client_key: bytes) -> None:
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.name.endswith(".ndjson"))
    if not files:
        raise InvalidInput(f"{folder}: no NDJSON files (expected some of "
                           + ", ".join(f"{t}.ndjson" for t in USED) + ")")
    for p in files:
        m = _FILE.match(p.name)
        kind = m.group(1) if m else None
        if kind not in USED:
            with open(p, "rb") as handle:
                out.ignored[kind or p.name] += sum(1 for raw in handle if raw.strip())
            continue
        with open(p, "rb") as handle:
            for number, raw in _lines(handle):
                if raw is None:
                    problems.append(Problem(p.name, number, f"a line of more than {LINE_MAX:,} bytes: not a "
                                                            "resource graphsvc reads (skipped unread)"))
                    out.bad += 1
                elif raw.strip():
                    _take(raw, p.name, number, kind, out, problems, client_key)


LINE_MAX = 64 << 20  # bytes of one NDJSON line at most: memory follows the resources, never a runaway line


def _lines(handle):
    """``(number, line)`` for each line of a binary file; ``(number, None)`` for a line longer than
    ``LINE_MAX``, which is read past in pieces, never held whole."""
    number = 0
    while True:
        raw = handle.readline(LINE_MAX + 1)
        if not raw:
            return
        number += 1
        if len(raw) > LINE_MAX and not raw.endswith(b"\n"):
            while True:
                rest = handle.readline(LINE_MAX)
                if not rest or rest.endswith(b"\n"):
                    break
            yield number, None
        else:
            yield number, raw


def _take(raw: bytes, name: str, number: int, kind: str, out: Resources, problems: list[Problem],
          client_key: bytes) -> None:
    """One line of an NDJSON file of ``kind``."""
    if number == 1 and raw.startswith(b"\xef\xbb\xbf"):  # a byte-order mark some editors write
        raw = raw[3:]
    try:
        resource = orjson.loads(raw)  # (about 1.6 times the standard library's speed on a Bulk export)
    except orjson.JSONDecodeError:
        resource = None
    if resource is None:  # not JSON to orjson: the standard library decides, and its message names the character
        try:
            resource = json.loads(raw)
        except UnicodeDecodeError:
            problems.append(Problem(name, number, "not UTF-8 (save the file as UTF-8)"))
            out.bad += 1
            return
        except (ValueError, RecursionError) as e:
            problems.append(Problem(name, number, f"not JSON: {_json_problem(e)}"))
            out.bad += 1
            return
    if not isinstance(resource, dict):
        problems.append(Problem(name, number, "not a FHIR resource (a JSON object)"))
        out.bad += 1
        return
    given = resource.get("resourceType")
    if given != kind:
        problems.append(Problem(name, number, f"a {shown(given)} resource in the file of {kind} resources"))
        out.bad += 1
        return
    _keep(resource, Origin(name, number, _ref(kind, resource)), out, problems, client_key)


def _json_problem(e: Exception) -> str:
    """What is wrong with a text that is not JSON, in words (the character, where the parser says)."""
    if isinstance(e, RecursionError):
        return "nested too deeply"
    if isinstance(e, json.JSONDecodeError):
        return f"{e.msg} (character {e.pos + 1})"
    return str(e).split(";")[0]  # e.g. an integer of more digits than Python converts


def _read_bundle(path: Path, out: Resources, problems: list[Problem], client_key: bytes) -> None:
    """A Bundle's entries, one at a time (``_Stream``): memory follows the largest entry, not the file."""
    try:
        with open(path, encoding="utf-8-sig") as handle:  # (a byte-order mark some editors write is skipped)
            stream = _Stream(handle)
            kind = None
            for key, n, value in stream.top_level():
                if key == "resourceType":
                    kind = value
                    if kind != "Bundle":
                        break
                elif key == "entry":
                    if n is None:
                        raise InvalidInput(f"{path}: field 'entry': a Bundle's entries are a list (a JSON array)")
                    _entry(f"{path.name} entry {n}", value, out, problems, client_key)
    except UnicodeDecodeError:
        raise InvalidInput(f"{path}: not UTF-8 (save the file as UTF-8)") from None
    except (ValueError, RecursionError) as e:
        raise InvalidInput(f"{path}: not JSON: {e if isinstance(e, ValueError) else _json_problem(e)}") from None
    except OSError as e:
        raise InvalidInput(f"{path}: cannot be read: {e.strerror}") from None
    if kind != "Bundle":
        raise InvalidInput(f"{path}: not a FHIR Bundle (resourceType is {shown(kind)}); give a Bundle's "
                           "JSON file or a folder of NDJSON files")


def _entry(where: str, entry, out: Resources, problems: list[Problem], client_key: bytes) -> None:
    resource = entry.get("resource") if isinstance(entry, dict) else None
    if not isinstance(resource, dict):
        problems.append(Problem(where, None, "has no resource"))
        out.bad += 1
        return
    kind = resource.get("resourceType")
    if kind not in USED:
        out.ignored[kind if isinstance(kind, str) else "(no resourceType)"] += 1
        return
    _keep(resource, Origin(where, None, _ref(kind, resource)), out, problems, client_key)


VALUE_MAX = 256 << 20  # characters of one Bundle entry (or other top-level value) at most


class _Stream:
    """A JSON object read from a text file piece by piece: ``top_level()`` gives ``(key, None, value)`` for
    each of its members, but ``(key, n, item)`` for each item of an array member named ``entry``, as each
    is parsed (a Bundle of a million entries never sits in memory whole). A ``ValueError`` says what is not
    JSON, at which character."""

    CHUNK = 1 << 20

    def __init__(self, handle):
        self.handle = handle
        self.buf = ""
        self.pos = 0
        self.base = 0  # characters before ``buf``
        self.eof = False
        self.decoder = json.JSONDecoder()

    def _more(self) -> bool:
        # A value not whole yet is parsed again from its start once more is read: reading as much again as is
        # held (at least CHUNK) keeps that linear in the value's size, not quadratic.
        held = len(self.buf) - self.pos
        if held > VALUE_MAX:
            raise ValueError(f"a value of more than {VALUE_MAX >> 20} MB at character {self.base + self.pos + 1} "
                             "(a Bundle entry that large is not a referral's; a Bulk Data folder reads any size "
                             "line by line)")
        chunk = "" if self.eof else self.handle.read(max(self.CHUNK, held))
        if not chunk:
            self.eof = True
            return False
        self.base += self.pos
        self.buf = self.buf[self.pos:] + chunk
        self.pos = 0
        return True

    def _peek(self) -> str:
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in " \t\n\r":
                self.pos += 1
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self._more():
                return ""

    def _take(self, expected: str) -> None:
        found = self._peek()
        if found != expected:
            raise ValueError(f"expected {expected!r} at character {self.base + self.pos + 1}"
                             + (f", found {found!r}" if found else ", found the end of the file"))
        self.pos += 1

    def _value(self):
        self._peek()
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as e:
                if self._more():
                    continue
                raise ValueError(f"{e.msg} (character {self.base + e.pos + 1})") from None
            if end == len(self.buf) and self._more():  # a number may go on in the next piece
                continue
            self.pos = end
            return value

    def top_level(self):
        self._take("{")
        while self._peek() != "}":
            key = self._value()
            if not isinstance(key, str):
                raise ValueError(f"expected a member's name at character {self.base + self.pos + 1}")
            self._take(":")
            if key == "entry" and self._peek() == "[":
                self._take("[")
                n = 0
                while self._peek() != "]":
                    yield key, n, self._value()
                    n += 1
                    if self._peek() != ",":
                        break
                    self._take(",")
                self._take("]")
            else:
                yield key, None, self._value()
            if self._peek() != ",":
                break
            self._take(",")
        self._take("}")


def _ref(kind: str, resource: dict) -> str:
    """How a problem names a resource: ``Type/id``; a Patient only as ``Patient`` (an EHR's Patient ids
    may be record numbers: never quoted, the file and line or entry say which one)."""
    if kind == "Patient":
        return "Patient"
    rid = resource.get("id")
    if not isinstance(rid, str) or not rid:
        return f"{kind}/(no id)"
    return f"{kind}/{shown(rid)[1:-1]}"  # (a 10,000-character id is cut)


def _keep(resource: dict, origin: Origin, out: Resources, problems: list[Problem], client_key: bytes) -> None:
    kind = resource["resourceType"]
    rid = resource.get("id")
    if not isinstance(rid, str) or not rid:
        problems.append(origin.problem("has no id"))
        out.bad += 1
        return
    out.read[kind] += 1
    seen = out.by_type[kind].get(rid)
    if seen is not None or (kind == "Patient" and rid in out.patients):
        first = seen[1] if seen else None
        where = f" (first at {first.source}{':' + str(first.line) if first.line else ''})" if first else ""
        problems.append(origin.problem(f"duplicate id{where}"))
        return
    if kind == "Patient":
        out.patients[rid] = client_id_of(resource, client_key)  # (elements of other types than FHIR's: ignored)
        return
    out.by_type[kind][rid] = ({k: resource[k] for k in _SLIM[kind] if k in resource}, origin)
