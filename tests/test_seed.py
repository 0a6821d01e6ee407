"""The seed generator: determinism, file format, importer invariants and realism."""

import csv
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from graphsvc.rules import status_problem
from graphsvc.vocabulary import (
    CONSENT,
    CONTACT_KINDS,
    PASS_REASONS,
    POPULATIONS,
    PRACTICE,
    REFERRER_KINDS,
    SCHEDULE_SLOTS,
    STAFF_ROLES,
)
from seed.__main__ import main
from seed.generate import HEADERS, generate

REPO = Path(__file__).resolve().parents[1]
SMALL = {"clinicians": 8, "referrers": 60, "referrals": 900}
END = date(2026, 10, 31)
START = date(2021, 11, 1)  # first day of the 5 years ending at END
ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
SLUG = re.compile(r"^[a-z0-9_]+$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    out = tmp_path_factory.mktemp("seed")
    counts = generate(out, seed=42, **SMALL)
    return out, counts


def read(out, name):
    with open(out / name, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def split(value):
    return value.split(";") if value else []


def load(out):
    return {name.removesuffix(".csv"): read(out, name) for name in HEADERS}


def check_ids_and_dates(d, start, end):
    """Ids unique, sorted and well formed in each file; every date well formed and in the span."""
    for name, rows in d.items():
        if name not in ("handoffs", "referral_statuses"):
            ids = [row["id"] for row in rows]
            assert len(ids) == len(set(ids)), f"duplicate ids in {name}"
            assert ids == sorted(ids), f"{name} not sorted by id"
            assert all(ID.match(i) for i in ids), f"bad id in {name}"
        for row in rows:
            for field in ("date", "since"):
                if field in row:
                    assert ISO_DATE.match(row[field]), (name, row)
                    assert start <= date.fromisoformat(row[field]) <= end, (name, row)


def check_members(clinicians, staff):
    """Clinicians' attributes from the vocabularies; one intake coordinator and one office manager."""
    assert not clinicians.keys() & staff.keys()
    for c in clinicians.values():
        specs = split(c["specialties"])
        assert specs and all(SLUG.match(s) for s in specs)
        assert split(c["populations"]) and set(split(c["populations"])) <= set(POPULATIONS)
        assert split(c["insurances"]) and all(SLUG.match(i) for i in split(c["insurances"]))
        assert split(c["schedule"]) and set(split(c["schedule"])) <= set(SCHEDULE_SLOTS)
        assert c["accepting_new"] in ("true", "false")
    roles = Counter(s["role"] for s in staff.values())
    assert set(roles) <= set(STAFF_ROLES)
    assert roles["intake_coordinator"] == 1 and roles["office_manager"] == 1 and roles["billing"] <= 1


def check_no_event_twice(d):
    """No introduction or contact twice (graphsvc refuses the second as a duplicate)."""
    for name, key in (("introductions", ("referrer_id", "introduced_id", "by_id", "date")),
                      ("contacts", ("referrer_id", "member_id", "kind", "date"))):
        seen = Counter(tuple(row[k] for k in key) for row in d[name])
        assert [k for k, n in seen.items() if n > 1] == [], name


def check_invariants(out, start=START, end=END):
    """Assert everything the importer enforces; return the loaded tables."""
    d = load(out)
    check_ids_and_dates(d, start, end)
    clinicians = {row["id"]: row for row in d["clinicians"]}
    staff = {row["id"]: row for row in d["staff"]}
    members = clinicians.keys() | staff.keys()
    check_members(clinicians, staff)

    referrers = {row["id"]: row for row in d["referrers"]}
    for r in referrers.values():
        assert r["kind"] in REFERRER_KINDS
        assert r["point_person_id"] in clinicians
        assert r["name"] and r["organization"]

    clients = {row["id"]: row for row in d["clients"]}
    for c in clients.values():
        assert 1 <= len(split(c["needs"])) <= 3 and all(SLUG.match(n) for n in split(c["needs"]))
        assert c["population"] in POPULATIONS
        assert SLUG.match(c["insurance"])
        assert c["schedule"] == "" or c["schedule"] in SCHEDULE_SLOTS

    def suits(clinician, client):
        return (set(split(client["needs"])) <= set(split(clinician["specialties"]))
                and client["insurance"] in split(clinician["insurances"])
                and (not client["schedule"] or client["schedule"] in split(clinician["schedule"]))
                and client["population"] in split(clinician["populations"]))

    lacks = {
        "scheduling": lambda c, cl: cl["schedule"] and cl["schedule"] not in split(c["schedule"]),
        "insurance": lambda c, cl: cl["insurance"] not in split(c["insurances"]),
        "specialty": lambda c, cl: not set(split(cl["needs"])) <= set(split(c["specialties"])),
        "other": lambda c, cl: True,
    }
    client_uses = Counter()
    for ref in d["referrals"]:
        assert ref["referrer_id"] in referrers and ref["client_id"] in clients
        assert ref["assigned_to"] in clinicians
        addressed = ref["addressed_to"]
        assert addressed == PRACTICE or addressed in members
        reason = ref["pass_reason"]
        assert reason == "" or reason in PASS_REASONS
        if addressed in clinicians and ref["assigned_to"] != addressed:
            assert reason, ref
        if reason:
            assert addressed in clinicians and addressed != ref["assigned_to"], ref
            # Passed to a colleague who suits the client, for a reason the addressee lacks.
            client = clients[ref["client_id"]]
            assert suits(clinicians[ref["assigned_to"]], client), ref
            assert lacks[reason](clinicians[addressed], client), ref
        client_uses[ref["client_id"]] += 1

    providers = {row["id"]: row for row in d["external_providers"]}
    covered = {s for c in clinicians.values() for s in split(c["specialties"])}
    for p in providers.values():
        niches = split(p["niches"])
        assert niches and all(SLUG.match(n) for n in niches) and not set(niches) & covered
    for row in d["referrals_out"]:
        assert row["referrer_id"] in referrers and row["client_id"] in clients
        assert row["provider_id"] in providers
        assert row["niche"] in split(providers[row["provider_id"]]["niches"])
        assert row["niche"] in split(clients[row["client_id"]]["needs"])
        client_uses[row["client_id"]] += 1
    assert all(n == 1 for n in client_uses.values()), "a client is shared"
    assert client_uses.keys() == clients.keys(), "a client belongs to no referral"

    for row in d["introductions"]:
        assert row["referrer_id"] in referrers
        assert row["introduced_id"] in members and row["by_id"] in members
        assert row["introduced_id"] != row["by_id"]
    for row in d["contacts"]:
        assert row["referrer_id"] in referrers and row["member_id"] in members
        assert row["kind"] in CONTACT_KINDS and row["kind"] != "update_sent" and row["covers"] == ""

    # Each referral's way from received, as the service would let it be recorded, and its client's consent.
    referrals = {row["id"]: row for row in d["referrals"]}
    assert all(row["consent_to_update"] in CONSENT for row in referrals.values())
    reached: dict[str, dict] = {}
    for row in d["referral_statuses"]:
        referral = referrals[row["referral_id"]]
        so_far = reached.setdefault(row["referral_id"], {})
        day = date.fromisoformat(row["date"])
        assert status_problem(date.fromisoformat(referral["date"]), so_far, row["status"], day) is None, row
        assert row["date"] <= end.isoformat()
        so_far[row["status"]] = day

    keys = [(row["referrer_id"], row["date"]) for row in d["handoffs"]]
    assert keys == sorted(keys), "handoffs not sorted by referrer then date"
    holders = {rid: (r["since"], r["point_person_id"]) for rid, r in referrers.items()}
    for row in d["handoffs"]:
        assert row["referrer_id"] in referrers and row["point_person_id"] in clinicians
        last_date, holder = holders[row["referrer_id"]]
        assert row["date"] > last_date and row["point_person_id"] != holder, row
        holders[row["referrer_id"]] = (row["date"], row["point_person_id"])

    check_no_event_twice(d)

    # Nothing happens with a referrer before the relationship began.
    for name in ("referrals", "referrals_out", "introductions", "contacts"):
        for row in d[name]:
            assert row["date"] >= referrers[row["referrer_id"]]["since"], (name, row)
    return d


def test_same_seed_gives_identical_bytes(small, tmp_path):
    out, _ = small
    generate(tmp_path, seed=42, **SMALL)
    for name in HEADERS:
        assert (tmp_path / name).read_bytes() == (out / name).read_bytes(), name


def test_output_does_not_depend_on_hash_seed(tmp_path):
    # String hashing changes between processes; set iteration must not leak into the files.
    args = ["--clinicians", "6", "--referrers", "50", "--referrals", "500", "--quiet"]
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run([sys.executable, "-m", "seed", "--out", str(tmp_path / hash_seed), *args],
                       cwd=REPO, env=env, check=True)
    for name in HEADERS:
        assert (tmp_path / "1" / name).read_bytes() == (tmp_path / "2" / name).read_bytes(), name


def test_different_seed_gives_different_files(small, tmp_path):
    out, _ = small
    generate(tmp_path, seed=7, **SMALL)
    assert (tmp_path / "referrals.csv").read_bytes() != (out / "referrals.csv").read_bytes()
    assert (tmp_path / "clinicians.csv").read_bytes() != (out / "clinicians.csv").read_bytes()


def test_headers_are_exact(small):
    out, _ = small
    expected = {
        "clinicians.csv": "id,name,specialties,populations,insurances,schedule,accepting_new",
        "staff.csv": "id,name,role",
        "referrers.csv": "id,name,kind,organization,point_person_id,since",
        "clients.csv": "id,needs,population,insurance,schedule",
        "referrals.csv": "id,date,referrer_id,client_id,addressed_to,assigned_to,pass_reason,consent_to_update",
        "introductions.csv": "id,date,referrer_id,introduced_id,by_id",
        "contacts.csv": "id,date,referrer_id,member_id,kind,covers",
        "handoffs.csv": "date,referrer_id,point_person_id",
        "external_providers.csv": "id,name,niches",
        "referrals_out.csv": "id,date,referrer_id,client_id,provider_id,niche",
        "referral_statuses.csv": "referral_id,status,date",
    }
    assert sorted(p.name for p in out.iterdir()) == sorted(expected)
    for name, header in expected.items():
        assert (out / name).read_text(encoding="utf-8").splitlines()[0] == header, name


def test_invariants_hold(small):
    out, counts = small
    d = check_invariants(out)
    assert counts == {name: len(d[name.removesuffix(".csv")]) for name in HEADERS}
    assert counts["clinicians.csv"] == SMALL["clinicians"] and counts["referrers.csv"] == SMALL["referrers"]


def test_invariants_hold_for_other_seeds_and_periods(tmp_path):
    periods = ((1, 5, END, START), (3, 2, date(2024, 2, 29), date(2022, 3, 1)),
               (5, 1, date(2025, 1, 1), date(2024, 1, 2)))
    for seed, years, end, start in periods:
        out = tmp_path / str(seed)
        generate(out, seed=seed, clinicians=5, referrers=40, referrals=400, years=years, end=end)
        check_invariants(out, start=start, end=end)


def test_referral_count_lands_near_target(small, tmp_path):
    _, counts = small
    assert abs(counts["referrals.csv"] - SMALL["referrals"]) <= 0.02 * SMALL["referrals"]
    other = generate(tmp_path, seed=9, clinicians=6, referrers=300, referrals=2345)
    assert abs(other["referrals.csv"] - 2345) <= 0.02 * 2345


def test_every_persona_shows_up(small):
    out, _ = small
    d = load(out)
    referrers = {row["id"]: row for row in d["referrers"]}
    staff = {row["id"] for row in d["staff"]}
    handed_off = {row["referrer_id"] for row in d["handoffs"]}
    sent = defaultdict(list)  # already in date order
    for ref in d["referrals"]:
        sent[ref["referrer_id"]].append(ref["addressed_to"])
    point = {rid: r["point_person_id"] for rid, r in referrers.items()}

    def to_practice(addressed):
        return addressed == PRACTICE or addressed in staff

    stalled = [rid for rid, to in sent.items()
               if len(to) >= 3 and rid not in handed_off and all(a == point[rid] for a in to)]
    tried = [rid for rid, to in sent.items()
             if rid not in handed_off and any(a != point[rid] and not to_practice(a) for a in to)]
    matured = [rid for rid, to in sent.items()
               if len(to) >= 4 and to[0] == point[rid] and to_practice(to[-1]) and to_practice(to[-2])]
    jumped = [rid for rid, to in sent.items() if to_practice(to[0])]
    silent = [rid for rid in referrers if rid not in sent]
    assert stalled and tried and matured and jumped and silent


def test_realistic_rates(tmp_path):
    counts = generate(tmp_path, seed=11, clinicians=20, referrers=200, referrals=4000)
    d = load(tmp_path)
    clinicians = {row["id"] for row in d["clinicians"]}
    to_clinician = [r for r in d["referrals"] if r["addressed_to"] in clinicians]
    passed = sum(1 for r in to_clinician if r["pass_reason"])
    assert 0.04 <= passed / len(to_clinician) <= 0.11
    referred_out = counts["referrals_out.csv"] / counts["clients.csv"]
    assert 0.005 <= referred_out <= 0.025
    # Volume is skewed: the busiest tenth of referrers sends far more than a tenth.
    volumes = sorted(Counter(r["referrer_id"] for r in d["referrals"]).values(), reverse=True)
    assert sum(volumes[: len(volumes) // 10]) > 0.25 * sum(volumes)
    accepting = sum(row["accepting_new"] == "true" for row in d["clinicians"]) / len(d["clinicians"])
    assert 0.6 <= accepting <= 1
    assert {row["kind"] for row in d["contacts"]} >= {"lunch", "school_consult", "follow_up"}


def test_cli_writes_files_and_summary(tmp_path):
    out = tmp_path / "new" / "dir"
    result = CliRunner().invoke(main, ["--out", str(out), "--clinicians", "4", "--referrers", "20",
                                       "--referrals", "100", "--seed", "3"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "referrals=100" in lines[0] and "clinicians=4" in lines[0]
    assert sorted(p.name for p in out.iterdir()) == sorted(HEADERS)
    quiet = CliRunner().invoke(main, ["--out", str(out), "--clinicians", "4", "--referrers", "20",
                                      "--referrals", "100", "--seed", "3", "--quiet"])
    assert quiet.exit_code == 0 and quiet.output == ""


def test_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError):
        generate(tmp_path, scale="huge")
    with pytest.raises(ValueError):
        generate(tmp_path, clinicians=1, referrers=5, referrals=5)


def shifted(text: str, days: int) -> str:
    """Every YYYY-MM-DD in ``text`` moved by ``days``."""
    from datetime import timedelta

    return re.sub(r"\d{4}-\d{2}-\d{2}", lambda m: (date.fromisoformat(m.group(0)) + timedelta(days=days)).isoformat(),
                  text)


def test_another_end_is_the_same_practice_moved_by_whole_days(small, tmp_path):
    out, _ = small
    # 37 days later (2026-10-31 -> 2026-12-07), every date, the period starting 37 days later too.
    moved = tmp_path / "moved"
    generate(moved, seed=42, end=date(2026, 12, 7), **SMALL)
    for name in HEADERS:
        assert (moved / name).read_text() == shifted((out / name).read_text(), 37), name
    earlier = tmp_path / "earlier"  # and back, over 2024-02-29
    generate(earlier, seed=42, end=date(2024, 3, 15), **SMALL)
    days = (date(2024, 3, 15) - END).days
    assert (earlier / "referrals.csv").read_text() == shifted((out / "referrals.csv").read_text(), days)


def test_end_yesterday_is_the_day_before_today(tmp_path, monkeypatch):
    import seed.__main__ as command

    monkeypatch.setattr(command, "today", lambda: date(2026, 12, 7))
    args = ["--clinicians", "4", "--referrers", "20", "--referrals", "100", "--seed", "3", "--quiet"]
    assert CliRunner().invoke(main, ["--out", str(tmp_path / "y"), "--end", "yesterday", *args]).exit_code == 0
    assert CliRunner().invoke(main, ["--out", str(tmp_path / "d"), "--end", "2026-12-06", *args]).exit_code == 0
    for name in HEADERS:
        assert (tmp_path / "y" / name).read_bytes() == (tmp_path / "d" / name).read_bytes(), name
    last = max(row["date"] for row in read(tmp_path / "y", "referrals.csv"))
    assert last <= "2026-12-06"
    bad = CliRunner().invoke(main, ["--out", str(tmp_path / "b"), "--end", "tomorrow", *args])
    assert bad.exit_code == 2 and "'tomorrow' is neither a day as YYYY-MM-DD nor 'yesterday'" in bad.output
