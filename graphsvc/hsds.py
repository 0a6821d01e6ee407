"""The outside-provider directory as Open Referral HSDS 3.0 JSON (``graphsvc import/export --format hsds``).

HSDS 3 publishes JSON; its schemas (``schema/*.json``, one per table) and its
``compiled/tabular.json`` (an object holding one list per table) define the
*tabular* form, which is also what its CSV data packages hold. graphsvc writes
that form as one JSON file per table, each a list of rows named after the
table (``organization.json``, ``service.json``, ...): put together under their
names, the files make a ``tabular.json`` document. (The nested objects of
HSDS's API, ``compiled/organization.json`` with its services inside, repeat
each term in every service; a directory is easier to read, diff and load into
a database table by table.)

Export, per outside provider (``records.ExternalProvider``):

* ``organization``: its name; ``organization_identifier``: its graphsvc id
  (``identifier_type`` ``IDENTIFIER_TYPE``), so an import gives back the same id;
* ``service``: what the practice refers clients to it for (``status`` active);
* ``attribute``: one per niche, linking the service to the niche's
  ``taxonomy_term`` (``code`` the niche word) of the ``taxonomy`` ``TAXONOMY_NAME``
  (every word of the practice's niches vocabulary, used or not).

graphsvc keeps no address, phone or hours for a provider, so no ``location``
or ``service_at_location`` is written. Every HSDS id is a UUID 5 over
``NAMESPACE`` and the graphsvc key, rows come in key order, and JSON keys are
sorted: exporting the same graph twice gives byte-identical files.

Import reads such a folder, or one published by others (organizations,
services and their taxonomy terms): one outside provider per organization,
its id the graphsvc identifier if it has one, else the organization's id; its
niches the terms attached (through ``attribute``, or nested ``attributes``) to
the organization or its services. A term of graphsvc's niches taxonomy is a
niche word (and is added to the vocabulary, as ``vocabularies.csv`` does); a
term of another taxonomy becomes the niche its code or name spells, if the
practice knows that word (or ``add_values``), and is otherwise skipped and
listed. The records then go through ``Service.import_batches``, the one path
of every import: all checked first, nothing written if anything is refused,
idempotent upserts, audited.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path

from pydantic import ValidationError

from . import records
from .checks import Batch, Problem
from .csvio.exporter import FILE_MODE, FOLDER_MODE, _swap_in
from .csvio.importer import ImportRejected
from .errors import InvalidInput
from .limits import SLUG_RE, shown
from .store import exports
from .store.db import Graph
from .vocabularies import TITLES

# graphsvc's own namespace for the UUIDs it makes (never change it: ids would change with it).
NAMESPACE = uuid.UUID("f860cf54-63f5-420f-845d-bb0de388a381")
TAXONOMY_NAME = "graphsvc niches"
IDENTIFIER_TYPE = "graphsvc external provider id"
ORGANIZATION_DESCRIPTION = "An outside provider the practice refers clients to."
TERM_DESCRIPTION = "A niche of the practice: something outside providers are referred to for."
HSDS_VERSION = "3.0"

# The files an export writes, in this order; an import reads these and the ones in IGNORED.
TABLES = ("organization", "organization_identifier", "service", "attribute", "taxonomy", "taxonomy_term")
IGNORED = ("location", "service_at_location", "address", "phone", "contact", "schedule", "program",
           "funding", "service_area", "required_document", "language", "accessibility", "cost_option",
           "metadata", "meta_table_description")


def hsds_id(*key: str) -> str:
    """The UUID graphsvc gives an HSDS row: a UUID 5 over ``NAMESPACE`` and the row's graphsvc key."""
    return str(uuid.uuid5(NAMESPACE, "\x1f".join(key)))


TAXONOMY_ID = hsds_id("taxonomy", "niches")


def term_name(word: str) -> str:
    """A niche word as a name: ``forensic_evaluation`` -> ``Forensic evaluation``."""
    text = word.replace("_", " ")
    return text[:1].upper() + text[1:]


# -- export ----------------------------------------------------------------------------------------


@dataclass
class ExportReport:
    folder: str
    files: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {"folder": self.folder, "format": "hsds", "files": dict(self.files),
                "rows": sum(self.files.values()), "seconds": round(self.seconds, 3)}


def directory(providers: list[tuple[str, str, list[str]]], niches: list[str]) -> dict[str, list[dict]]:
    """The HSDS tables (name -> rows) for ``providers`` (``(id, name, niches)``, in key order) and the
    practice's niche words."""
    words = sorted(set(niches).union(*(set(n) for _, _, n in providers)))
    out: dict[str, list[dict]] = {t: [] for t in TABLES}
    out["taxonomy"].append({"id": TAXONOMY_ID, "name": TAXONOMY_NAME, "description": TITLES["niches"][1]})
    for word in words:
        out["taxonomy_term"].append({
            "id": hsds_id("niche", word), "code": word, "name": term_name(word), "description": TERM_DESCRIPTION,
            "taxonomy": TAXONOMY_NAME, "taxonomy_id": TAXONOMY_ID})
    for provider_id, name, provider_niches in providers:
        org, service = hsds_id("organization", provider_id), hsds_id("service", provider_id)
        out["organization"].append({"id": org, "name": name, "description": ORGANIZATION_DESCRIPTION})
        out["organization_identifier"].append({
            "id": hsds_id("organization_identifier", provider_id), "organization_id": org,
            "identifier_type": IDENTIFIER_TYPE, "identifier": provider_id})
        offered = ", ".join(term_name(w).lower() for w in provider_niches)
        out["service"].append({
            "id": service, "organization_id": org, "name": name, "status": "active",
            "description": f"Takes referrals for: {offered}." if offered else "Takes referrals."})
        for word in provider_niches:
            out["attribute"].append({
                "id": hsds_id("attribute", provider_id, word), "link_id": service, "link_entity": "service",
                "link_type": "service_type", "taxonomy_term_id": hsds_id("niche", word)})
    return out


def export_directory(graph: Graph, folder: str | Path) -> ExportReport:
    """Write the outside providers into ``folder`` as HSDS JSON, replacing the folder as a whole (as
    ``graphsvc export`` does its CSV files: read in one transaction, written beside, swapped in)."""
    started = time.perf_counter()
    report = ExportReport(folder=str(folder))
    folder = Path(folder).resolve()
    _check_target(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    columns = {"term": records.KIND["term"].fields, "external_provider": records.KIND["external_provider"].fields}
    read: dict[str, list[list]] = {}

    def take(kind, rows) -> int:
        read[kind] = list(rows)  # a retried transaction reads again from the start
        return len(read[kind])

    exports.read_all(graph, ["term", "external_provider"], take, columns.__getitem__)
    term_rows = [dict(zip(columns["term"], r, strict=True)) for r in read["term"]]
    provider_rows = [dict(zip(columns["external_provider"], r, strict=True)) for r in read["external_provider"]]
    tables = directory([(p["id"], p["name"], list(p["niches"] or [])) for p in provider_rows],
                       [t["value"] for t in term_rows if t["vocabulary"] == "niches"])
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.export-", dir=folder.parent))
    try:
        os.chmod(tmp, FOLDER_MODE)
        for table, rows in tables.items():
            _write_json(tmp / f"{table}.json", rows)
            report.files[f"{table}.json"] = len(rows)
        _swap_in(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report.seconds = time.perf_counter() - started
    return report


def _write_json(path: Path, rows: list[dict]) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    with open(fd, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(json.dumps(rows, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def _check_target(folder: Path) -> None:
    if not folder.exists():
        return
    if not folder.is_dir():
        raise InvalidInput(f"{folder}: exists and is not a folder")
    ours = {f"{t}.json" for t in TABLES}
    strays = sorted(p.name for p in folder.iterdir() if p.name not in ours)
    if strays:
        raise InvalidInput(f"{folder}: holds files that are not part of an HSDS export ({', '.join(strays[:5])}"
                           f"{', ...' if len(strays) > 5 else ''}); an export replaces the whole folder, "
                           "so choose a new or empty folder, or one written by graphsvc export --format hsds")


# -- import ----------------------------------------------------------------------------------------


@dataclass
class Reading:
    """What ``read_directory`` made of a folder: the batches for ``Service.import_batches``, what became what
    and what was left out (and why)."""

    parsed: dict[str, Batch]
    problems: list[Problem]
    entries: dict[str, int] = field(default_factory=dict)  # file -> entries read
    became: dict[str, int] = field(default_factory=dict)  # "external_providers", "niche_words", "niches"
    skipped: list[str] = field(default_factory=list)
    labels: dict[tuple[str, int], str] = field(default_factory=dict)  # (file, entry) -> "entry N (id ...)"

    def explain(self, problems: list[Problem]) -> list[Problem]:
        """The checks' problems at (file, entry) named as ``file entry N (id ...)``."""
        out = []
        for p in problems:
            label = self.labels.get((p.source, p.line)) if p.line is not None else None
            out.append(replace(p, line=None, message=f"{label}: {p.message}") if label else p)
        return out


def _slug(text: str) -> str | None:
    """``text`` as a niche word, if it spells one: ``Eating Disorders`` -> ``eating_disorders``."""
    word = re.sub(r"[^a-z0-9]+", "_", text.strip().lower()).strip("_")
    return word if word and SLUG_RE.fullmatch(word) else None


def _entry(index: int, row) -> str:
    rid = row.get("id") if isinstance(row, dict) else None
    return f"entry {index}" + (f" (id {shown(rid)})" if isinstance(rid, str) and rid else "")


def _read_table(folder: Path, table: str, problems: list[Problem], entries: dict) -> list[tuple[int, dict]]:
    """The entries of ``table``.json (numbered from 1), each an object with an ``id``; the others are
    problems."""
    name = f"{table}.json"
    path = folder / name
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except RecursionError:
        problems.append(Problem(name, None, "is not readable JSON: nested too deeply"))
        return []
    except (OSError, ValueError) as e:  # (UnicodeDecodeError, JSONDecodeError, an integer of too many digits)
        problems.append(Problem(name, None, f"is not readable JSON: {shown(str(e))[1:-1]}"))
        return []
    if not isinstance(data, list):
        problems.append(Problem(name, None, f"must be a JSON list of {table} entries"))
        return []
    entries[name] = len(data)
    out, seen = [], {}
    for index, row in enumerate(data, 1):
        where = _entry(index, row)
        if not isinstance(row, dict):
            problems.append(Problem(name, None, f"{where}: must be a JSON object"))
            continue
        rid = row.get("id")
        if rid in (None, ""):
            problems.append(Problem(name, None, f"{where}: field 'id': is required"))
            continue
        if not isinstance(rid, str):
            problems.append(Problem(name, None, f"{where}: field 'id': must be text (got {shown(rid)})"))
            continue
        if rid in seen:
            problems.append(Problem(name, None, f"{where}: duplicate id (first at entry {seen[rid]})"))
            continue
        seen[rid] = index
        out.append((index, row))
    return out


def read_directory(folder: str | Path, words, *, add_values: bool = False) -> Reading:
    """Read an HSDS folder into external providers (and graphsvc's niche words); ``words`` is the practice's
    ``Vocabularies``."""
    return _Reader(Path(folder), words, add_values).read()


class _Reader:
    def __init__(self, folder: Path, words, add_values: bool):
        self.folder, self.words, self.add_values = folder, words, add_values
        self.problems: list[Problem] = []
        self.reading = Reading({}, self.problems)
        self.niche_of: dict[str, str | None] = {}  # term id -> niche word, or None (skipped)

    def read(self) -> Reading:
        folder, reading = self.folder, self.reading
        if not folder.is_dir():
            raise InvalidInput(f"{folder}: no such folder")
        known = {f"{t}.json" for t in (*TABLES, *IGNORED)}
        for stray in sorted(p.name for p in folder.iterdir() if p.name not in known and p.name[:1] != "."):
            reading.skipped.append(f"{stray}: not an HSDS table graphsvc reads")
        if not (folder / "organization.json").exists():
            raise InvalidInput(f"{folder}: no HSDS organization.json (an HSDS folder holds some of "
                               + ", ".join(f"{t}.json" for t in TABLES) + ")")
        self.tables = {t: _read_table(folder, t, self.problems, reading.entries) for t in TABLES}
        for table in IGNORED:
            if (folder / f"{table}.json").exists():
                reading.skipped.append(f"{table}.json: not read (graphsvc keeps no {table.replace('_', ' ')} "
                                       "for an outside provider)")
        self.organizations = {org["id"]: org for _, org in self.tables["organization"]}
        ours = {t["id"] for _, t in self.tables["taxonomy"] if t.get("name") == TAXONOMY_NAME}
        self.ours = ours | {TAXONOMY_ID}
        self.taxonomy_names = {t["id"]: t.get("name") for _, t in self.tables["taxonomy"]}
        self.terms = {term["id"]: term for _, term in self.tables["taxonomy_term"]}
        try:
            term_batch = self._own_terms()
            batch = self._providers(self._attached(self._services()), self._graphsvc_ids())
        except (TypeError, AttributeError, KeyError) as e:
            # An id, link or list of another JSON type than HSDS gives it: the directory is refused, named,
            # rather than a traceback.
            raise InvalidInput(f"{folder}: an element is not of the type HSDS gives it ({type(e).__name__}: "
                               f"{shown(str(e))[1:-1]}); nothing was written") from None
        if term_batch.rows or term_batch.unreadable:
            reading.parsed["taxonomy_term.json"] = term_batch
        reading.parsed["organization.json"] = batch
        reading.became = {"external_providers": len(batch.rows), "niche_words": len(term_batch.rows),
                          "niches": sum(len(r.niches) for _, r in batch.rows)}
        return reading

    def _is_ours(self, term: dict) -> bool:
        return term.get("taxonomy_id") in self.ours or term.get("taxonomy") == TAXONOMY_NAME

    def _own_terms(self) -> Batch:
        """graphsvc's own terms: the practice's niche words, as ``vocabularies.csv`` rows."""
        batch = Batch(records.KIND["term"], source="taxonomy_term.json")
        for index, term in self.tables["taxonomy_term"]:
            if not self._is_ours(term):
                continue
            code = term.get("code")
            label = _entry(index, term)
            if not isinstance(code, str) or not SLUG_RE.fullmatch(code):
                self.problems.append(Problem("taxonomy_term.json", None, f"{label}: field 'code': a term of "
                                             f"{TAXONOMY_NAME} must be a niche word, a lowercase slug of letters, "
                                             f"digits and _ (got {shown(code)})"))
                batch.unreadable += 1
                self.niche_of[term["id"]] = None
                continue
            self.niche_of[term["id"]] = code
            self.reading.labels[("taxonomy_term.json", index)] = label
            row = records.Term(vocabulary="niches", value=code)
            batch.rows.append((index, records.KIND["term"].row_type._make(row.__dict__.values())))
        return batch

    def _niche(self, term_id: str, term: dict, source: str) -> str | None:
        """The niche word a term stands for, or None (a problem or a skip noted)."""
        if term_id in self.niche_of:
            return self.niche_of[term_id]
        word = None
        if self._is_ours(term):  # nested in an attribute, not listed in taxonomy_term.json
            code = term.get("code")
            word = code if isinstance(code, str) and SLUG_RE.fullmatch(code) else None
            if word is None:
                self.problems.append(Problem(source, None, f"taxonomy term {shown(term_id)}: field 'code': a "
                                             f"term of {TAXONOMY_NAME} must be a niche word (got {shown(code)})"))
        else:
            taxonomy = (term.get("taxonomy") or self.taxonomy_names.get(term.get("taxonomy_id"))
                        or "another taxonomy")
            spelled = [w for w in (_slug(str(term.get("code") or "")), _slug(str(term.get("name") or ""))) if w]
            word = next((w for w in spelled if self.words.known("niches", w)), None)
            if word is None and self.add_values and spelled:
                word = spelled[0]
            if word is None:
                what = (f"code {shown(term.get('code'))}" if term.get("code")
                        else f"name {shown(term.get('name'))}")
                why = (f"{' or '.join(spelled)}: no niche of the practice (--add-values adds it)" if spelled
                       else "spells no niche word")
                self.reading.skipped.append(f"taxonomy term {shown(term_id)} ({taxonomy}, {what}): {why}")
        self.niche_of[term_id] = word
        return word

    def _graphsvc_ids(self) -> dict[str, str]:
        """Organization id -> the graphsvc id its identifiers give it."""
        identifiers = [row for _, row in self.tables["organization_identifier"]]
        identifiers += [{**ident, "organization_id": ident.get("organization_id", org["id"])}
                        for org in self.organizations.values()
                        for ident in org.get("organization_identifiers") or [] if isinstance(ident, dict)]
        return {ident.get("organization_id"): ident["identifier"] for ident in identifiers
                if ident.get("identifier_type") == IDENTIFIER_TYPE and isinstance(ident.get("identifier"), str)}

    def _services(self) -> dict[str, str]:
        """Service id -> the id of its organization."""
        service_org = {}
        for index, service in self.tables["service"]:
            nested = service.get("organization")
            org = service.get("organization_id") or (nested.get("id") if isinstance(nested, dict) else None)
            if org not in self.organizations:
                self.reading.skipped.append(f"service.json {_entry(index, service)}: its organization "
                                            f"{shown(org) if org else '(none)'} is not in organization.json")
                continue
            service_org[service["id"]] = org
        return service_org

    def _attached(self, service_org: dict[str, str]) -> dict[str, list[str]]:
        """Organization id -> the niche words attached to it or its services."""
        attached: dict[str, list[str]] = {org: [] for org in self.organizations}
        tables = self.tables
        links = [("attribute.json", i, a) for i, a in tables["attribute"]]
        links += [("service.json", i, {**a, "link_id": s["id"]}) for i, s in tables["service"]
                  for a in s.get("attributes") or [] if isinstance(a, dict)]
        links += [("organization.json", i, {**a, "link_id": o["id"]}) for i, o in tables["organization"]
                  for a in o.get("attributes") or [] if isinstance(a, dict)]
        for source, index, attribute in links:
            link = attribute.get("link_id")
            org = service_org.get(link) or (link if link in self.organizations else None)
            if org is None:
                self.reading.skipped.append(f"{source} {_entry(index, attribute)}: links {shown(link)}, "
                                            "no organization or service of the folder")
                continue
            term_id, nested = attribute.get("taxonomy_term_id"), attribute.get("taxonomy_term")
            if isinstance(nested, dict) and nested.get("id"):
                term_id = term_id or nested["id"]
                term = self.terms.get(term_id, nested)
            elif term_id in self.terms:
                term = self.terms[term_id]
            else:
                self.problems.append(Problem(source, None, f"{_entry(index, attribute)}: field 'taxonomy_term_id'"
                                             f": names no term of taxonomy_term.json (got {shown(term_id)})"))
                continue
            word = self._niche(term_id, term, source)
            if word and word not in attached[org]:
                attached[org].append(word)
        return attached

    def _providers(self, attached: dict[str, list[str]], graphsvc_id: dict[str, str]) -> Batch:
        """One outside provider per organization."""
        batch = Batch(records.KIND["external_provider"], source="organization.json")
        seen: dict[str, int] = {}
        for index, org in self.tables["organization"]:
            label = _entry(index, org)
            pid = graphsvc_id.get(org["id"], org["id"])
            if pid in seen:
                self.problems.append(Problem("organization.json", None,
                                             f"{label}: provider id {shown(pid)} is entry {seen[pid]}'s too"))
                batch.unreadable += 1
                continue
            given = {k: org[k] for k in ("name",) if org.get(k) is not None}
            try:
                rec = records.ExternalProvider(id=pid, niches=sorted(attached[org["id"]]), **given)
            except ValidationError as e:
                self.problems.extend(Problem("organization.json", None, f"{label}: {msg}")
                                     for msg in records.explain(e))
                batch.unreadable += 1
                continue
            seen[pid] = index
            self.reading.labels[("organization.json", index)] = label
            batch.rows.append((index, records.KIND["external_provider"].row_type._make(rec.__dict__.values())))
        return batch


def import_directory(service, folder: str | Path, *, by, skip_bad: bool = False, add_values: bool = False,
                     batch_size: int | None = None, workers: int | None = None):
    """Read ``folder`` (``read_directory``) and import it through ``Service.import_batches``: ``(report,
    reading)``. Raises ``ImportRejected`` (nothing written) if anything is refused and not ``skip_bad``."""
    started = time.perf_counter()
    reading = read_directory(folder, service.words(), add_values=add_values)
    try:
        report = service.import_batches(reading.parsed, reading.problems, source=folder, by=by,
                                        skip_bad=skip_bad, add_values=add_values, batch_size=batch_size,
                                        workers=workers, started=started, explain=reading.explain,
                                        audit_detail={"format": "hsds", "skipped": len(reading.skipped)})
    except ImportRejected as e:
        e.detail = reading  # what was read, for the summary of a refused import
        raise
    return report, reading
