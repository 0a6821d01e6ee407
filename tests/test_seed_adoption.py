"""The seed generator's adoption modes (``--adoption kind|fit|peers|mixed``).

Pure: the generator writes CSV files and these tests read them back; no
Neo4j. The default (``kind``) must stay byte for byte what the generator wrote
before the modes existed: the hashes below were taken from that code (commit
2b32601) at seed 42, before any change.
"""

import csv
import hashlib
import importlib
import os
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from click.testing import CliRunner

from graphsvc.analysis.fit import fit_score, profile
from seed.__main__ import main
from seed.generate import ADOPTIONS, LOOP_COLUMNS, generate
from tests.test_seed import check_invariants

REPO = Path(__file__).resolve().parents[1]
SMALL = {"clinicians": 8, "referrers": 60, "referrals": 900}   # tests/test_seed.py's small practice
# Big enough for the signatures to stand well clear of chance, small enough to generate in ~0.3 s.
WORLD = {"clinicians": 20, "referrers": 300, "referrals": 5000}

# sha256 of every file of the generator's output before the adoption modes, seed 42.
SMALL_HASHES = {
    "clients.csv": "75256c105c4515cca9b3170fb4e1473a359f17245654890caad67bef0e4b9ad2",
    "clinicians.csv": "7e7bd8db82b0857b50b4eb59dd0b0b2d9d3ac80676baf6dd31d59bba8d15c73a",
    "contacts.csv": "d873c28fb116da24e17116a1111a4daaee617b6da7fb7a6542354c529d677c08",
    "external_providers.csv": "ff61e18aa587bbe017e501bf1eab3725f631cf783a717f143603443681ef3d26",
    "handoffs.csv": "fafd0059da74148f462e9081fd97d80630def6a86faf420730fb1dec6c3eb2b8",
    "introductions.csv": "92001a8fdeec416d85a3403b239eb67067bb804dab86788e1313118da6b8ced6",
    "referrals.csv": "a9c9dc52f4d1fb8e002a1db38fef84063a7769847852d62e0610905a3ab81fe9",
    "referrals_out.csv": "c2a7e42c71a95a1f01035dd415ede5c0b8cbefab4f83b062a3bf5afcaf2a7b12",
    "referrers.csv": "653fb40dbcad5620ea3650a89821a884e1e9e6383dc5d7db4259d30a17c40e28",
    "staff.csv": "cf842b890433421ae230dfc70865d2d5734ead01e28ce23f2977e8902ab4720a",
}
DEMO_HASHES = {  # `python -m seed --out DIR` with every default (demo scale, seed 42): ~1 s
    "clients.csv": "f8459354319a902d73bc4cbc88826cb969538f7e28f234043b8116be6cc9a27e",
    "clinicians.csv": "b9305e34aab5f28710f94bae4f09f62428d42baa2c0ab357d4f8811cef408fd6",
    # Since the contacts drawn twice (same referrer, member, kind and day) are written once: 14 fewer rows.
    "contacts.csv": "ddb8f40d288e1c62e95511d7220af27a92f9aaaefab08158dde631f655b488ef",
    "external_providers.csv": "7d7a5f7a7bb5a105db670a427b8a9de916c0914c3837cac10e0d7c24687b721f",
    "handoffs.csv": "8d2aec54d03ced778a46526e14e4f6bdda3bbff5f06a72e1c6805d01f33cca2f",
    "introductions.csv": "7a956a1540d72ae6b11967556d00302ed9aa8dc61729ec8dfb14b6168bf43bef",
    "referrals.csv": "6de316cdc4c150ebe3267131892a5f335a5296132a190c4ec491edad0bf2fec6",
    "referrals_out.csv": "226f05bc9794093cd1eda9992433249d815556c2288cf599cd51c7b45a39aec4",
    "referrers.csv": "386eb317205f806efcd81a11eb5ecc5a549d6059a6c95c79b299a442f8e97395",
    "staff.csv": "755df0730672e29e8e395aca32ebba1a2411e699775e039e002d42576974b755",
}


def hashes(folder):
    """Each file's SHA-256 as the practice's own stream wrote it: without the closing-the-loop columns, so
    that the hashes pinned before that step still hold (and prove nothing else moved)."""
    out = {}
    for name in SMALL_HASHES:
        data = (Path(folder) / name).read_bytes()
        if name in LOOP_COLUMNS:
            lines = data.decode("utf-8").splitlines(keepends=True)
            assert lines[0].rstrip("\n").endswith("," + LOOP_COLUMNS[name])
            data = "".join(line[:line.rindex(",")] + "\n" for line in lines).encode("utf-8")
        out[name] = hashlib.sha256(data).hexdigest()
    return out


def loop_hashes(folder):
    return {name: hashlib.sha256((Path(folder) / name).read_bytes()).hexdigest()
            for name in (*LOOP_COLUMNS, "referral_statuses.csv")}


def read(folder, name):
    with open(Path(folder) / name, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def split(value):
    return value.split(";") if value else []


@pytest.fixture(scope="module")
def worlds(tmp_path_factory):
    """Each mode's practice at WORLD size, seed 42, with its adopted introductions."""
    out = {}
    for mode in ADOPTIONS:
        folder = tmp_path_factory.mktemp(mode)
        generate(folder, seed=42, adoption=mode, **WORLD)
        out[mode] = World(folder)
    return out


class World:
    """A generated practice read back, with what the signatures need."""

    def __init__(self, folder):
        self.folder = folder
        self.clinicians = {c["id"]: {"specialties": frozenset(split(c["specialties"])),
                                     "populations": frozenset(split(c["populations"])),
                                     "insurances": frozenset(split(c["insurances"])),
                                     "schedule": frozenset(split(c["schedule"]))}
                           for c in read(folder, "clinicians.csv")}
        self.referrers = {r["id"]: r for r in read(folder, "referrers.csv")}
        self.holders = defaultdict(set)  # every point person a referrer had
        for r in self.referrers.values():
            self.holders[r["id"]].add(r["point_person_id"])
        for h in read(folder, "handoffs.csv"):
            self.holders[h["referrer_id"]].add(h["point_person_id"])
        clients = {c["id"]: c for c in read(folder, "clients.csv")}
        self.history = defaultdict(list)  # referrer -> [(date, client dict, addressed_to)], date order
        for ref in read(folder, "referrals.csv"):
            c = clients[ref["client_id"]]
            client = {"needs": split(c["needs"]), "population": c["population"], "insurance": c["insurance"],
                      "schedule": c["schedule"] or None}
            self.history[ref["referrer_id"]].append((ref["date"], client, ref["addressed_to"]))
        self.introductions = [(i["date"], i["referrer_id"], i["introduced_id"])
                              for i in read(folder, "introductions.csv") if i["introduced_id"] in self.clinicians]
        # Adopted: the referrer addressed a referral to the colleague on or after the introduction.
        self.adopted = []       # (date introduced, referrer, colleague, date adopted)
        for day, r, c in self.introductions:
            later = [d for d, _, to in self.history[r] if to == c and d >= day]
            if later:
                self.adopted.append((day, r, c, later[0]))

    def eligible(self, referrer, day):
        """Clinicians the point person could have introduced on `day`."""
        before = {c for d, r, c in self.introductions if r == referrer and d < day}
        return sorted(set(self.clinicians) - self.holders[referrer] - before)

    def fit_lift(self, day, referrer, colleague):
        """(fit lift, in the top 3 by fit, chance of a top 3) for an introduction, or None without clients.

        Fit is to the referrer's last 8 clients before the day (newest weighing most, as suggestions do);
        the lift is the colleague's fit minus the mean fit of the eligible colleagues.
        """
        earlier = [client for d, client, _ in self.history[referrer] if d < day][-8:]
        if not earlier:
            return None
        wanted = profile([(0.85 ** age, client) for age, client in enumerate(reversed(earlier))])
        eligible = self.eligible(referrer, day)
        fits = {m: fit_score(self.clinicians[m], wanted) for m in eligible}
        top3 = sorted(eligible, key=lambda m: (-fits[m], m))[:3]
        return fits[colleague] - sum(fits.values()) / len(fits), colleague in top3, len(top3) / len(eligible)

    def peer_top3(self, day, referrer, colleague):
        """(among the 3 most adopted by same-kind referrers before the day, chance) or None if none adopted."""
        kind = self.referrers[referrer]["kind"]
        counts = Counter(c for _, r, c, adopted_on in self.adopted
                         if adopted_on < day and r != referrer and self.referrers[r]["kind"] == kind)
        if not counts:
            return None
        eligible = self.eligible(referrer, day)
        top3 = sorted(eligible, key=lambda m: (-counts[m], m))[:3]
        return colleague in top3, len(top3) / len(eligible)

    def stats(self):
        """The signatures of the adopted introductions (means over the cases each can be computed for)."""
        fit = [f for f in (self.fit_lift(d, r, c) for d, r, c, _ in self.adopted) if f]
        peers = [p for p in (self.peer_top3(d, r, c) for d, r, c, _ in self.adopted) if p]
        both = [(f[1], p[0]) for f, p in ((self.fit_lift(d, r, c), self.peer_top3(d, r, c))
                                          for d, r, c, _ in self.adopted) if f and p]
        young = {"child", "adolescent"}
        for_young = [c for _, r, c in self.introductions
                     if self.referrers[r]["kind"] in ("pediatrician", "school_counselor")]
        return {
            "fit_lift": mean(f[0] for f in fit),
            "fit_top3": mean(f[1] for f in fit),
            "fit_chance": mean(f[2] for f in fit),
            "peers_top3": mean(p[0] for p in peers),
            "peers_chance": mean(p[1] for p in peers),
            "only_fit": mean(f and not p for f, p in both),      # cases only the fit ranker's top 3 holds
            "only_peers": mean(p and not f for f, p in both),
            "young_share": mean(bool(self.clinicians[c]["populations"] & young) for c in for_young),
            "young_base": mean(bool(a["populations"] & young) for a in self.clinicians.values()),
            "adopted": len(self.adopted) / len(self.introductions),
            "cases": len(self.adopted),
        }


def mean(values):
    values = list(values)
    return sum(values) / len(values)


@pytest.fixture(scope="module")
def stats(worlds):
    return {mode: w.stats() for mode, w in worlds.items()}


# --------------------------------------------------------------------------- the default is unchanged


def test_default_is_byte_identical_to_before_small(tmp_path):
    generate(tmp_path / "default", seed=42, **SMALL)
    generate(tmp_path / "kind", seed=42, adoption="kind", **SMALL)
    assert hashes(tmp_path / "default") == SMALL_HASHES
    assert hashes(tmp_path / "kind") == SMALL_HASHES


def test_default_demo_is_byte_identical_to_before(tmp_path):
    result = CliRunner().invoke(main, ["--out", str(tmp_path), "--quiet"])  # every default: the demo, seed 42
    assert result.exit_code == 0, result.output
    assert hashes(tmp_path) == DEMO_HASHES


# --------------------------------------------------------------------------- determinism


@pytest.mark.parametrize("mode", ["fit", "peers", "mixed"])
def test_same_seed_same_bytes(mode, tmp_path):
    generate(tmp_path / "a", seed=5, adoption=mode, **SMALL)
    generate(tmp_path / "b", seed=5, adoption=mode, **SMALL)
    assert hashes(tmp_path / "a") == hashes(tmp_path / "b")
    generate(tmp_path / "c", seed=6, adoption=mode, **SMALL)
    assert hashes(tmp_path / "c")["introductions.csv"] != hashes(tmp_path / "a")["introductions.csv"]


def test_modes_differ_in_introductions(worlds):
    intros = {mode: (Path(w.folder) / "introductions.csv").read_bytes() for mode, w in worlds.items()}
    assert len(set(intros.values())) == len(ADOPTIONS)
    # The modes change who is introduced and adopted, not the practice or the referrers.
    for name in ("clinicians.csv", "staff.csv", "referrers.csv"):
        assert len({(Path(w.folder) / name).read_bytes() for w in worlds.values()}) == 1, name


def test_mode_output_does_not_depend_on_hash_seed(tmp_path):
    args = ["--clinicians", "6", "--referrers", "50", "--referrals", "500", "--adoption", "mixed", "--quiet"]
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run([sys.executable, "-m", "seed", "--out", str(tmp_path / hash_seed), *args],
                       cwd=REPO, env=env, check=True)
    assert hashes(tmp_path / "1") == hashes(tmp_path / "2")


# --------------------------------------------------------------------------- valid data in every mode


@pytest.mark.parametrize("mode", ["fit", "peers", "mixed"])
def test_invariants_hold_in_every_mode(mode, tmp_path):
    for seed, sizes in ((42, SMALL), (3, {"clinicians": 5, "referrers": 40, "referrals": 400})):
        counts = generate(tmp_path / str(seed), seed=seed, adoption=mode, **sizes)
        d = check_invariants(tmp_path / str(seed))
        assert counts["referrals.csv"] == sizes["referrals"] and d["introductions"]


def test_every_mode_keeps_realistic_rates(worlds):
    for mode, w in worlds.items():
        to_clinician = [r for r in read(w.folder, "referrals.csv") if r["addressed_to"] in w.clinicians]
        passed = sum(1 for r in to_clinician if r["pass_reason"]) / len(to_clinician)
        assert 0.03 <= passed <= 0.11, (mode, passed)


def test_unknown_mode_is_refused(tmp_path):
    with pytest.raises(ValueError, match="adoption"):
        generate(tmp_path, adoption="random", **SMALL)
    result = CliRunner().invoke(main, ["--out", str(tmp_path), "--adoption", "random"])
    assert result.exit_code != 0


def test_help_documents_the_modes():
    text = CliRunner().invoke(main, ["--help"]).output
    for mode in ADOPTIONS:
        assert mode in text
    doc = importlib.import_module("seed.generate").__doc__  # `seed.generate` is also the function
    for mode in ADOPTIONS:
        assert f"``{mode}``" in doc


# --------------------------------------------------------------------------- each mode's signature


# Measured at WORLD size, seed 42 (cases = adopted introductions; chance = 3 / eligible colleagues,
# about 0.16 with 20 clinicians):
#
#                       kind    fit  peers  mixed
#   fit_lift           0.030  0.290  0.009  0.130   adopted colleague's fit minus the eligible mean
#   fit_top3           0.156  0.942  0.198  0.496   adopted colleague in the top 3 by fit
#   peers_top3         0.375  0.431  0.878  0.367   adopted colleague in the top 3 most adopted by same kind
#   only_fit           0.105  0.532  0.037  0.377   share of cases only the fit top 3 holds
#   only_peers         0.322  0.024  0.700  0.246   share of cases only the peers top 3 holds
#   young_share        0.788  0.485  0.758  0.576   pediatric/school introductions to child/teen clinicians
#                                                    (0.35 of the clinicians see them)
#
# The thresholds leave wide margins around these numbers: they pin what each mode is, not its decimals.


def test_kind_mode_introduces_by_referrer_kind(stats):
    kind = stats["kind"]
    assert kind["young_share"] >= 0.7 and kind["young_share"] >= 2 * kind["young_base"]
    assert kind["young_share"] > stats["fit"]["young_share"] + 0.15
    assert kind["fit_top3"] <= kind["fit_chance"] + 0.1  # fit to the clients so far plays no part


def test_fit_mode_adopts_colleagues_who_fit_the_clients_so_far(stats):
    fit = stats["fit"]
    assert fit["fit_lift"] >= 0.2
    assert stats["kind"]["fit_lift"] <= 0.1 and stats["peers"]["fit_lift"] <= 0.1
    assert fit["fit_top3"] >= 0.8 and fit["fit_top3"] >= 4 * fit["fit_chance"]
    assert fit["only_peers"] <= 0.1  # what peers do adds next to nothing


def test_peers_mode_adopts_what_same_kind_referrers_adopted(stats):
    peers = stats["peers"]
    assert peers["peers_top3"] >= 0.7 and peers["peers_top3"] >= 4 * peers["peers_chance"]
    assert peers["peers_top3"] >= max(stats[m]["peers_top3"] for m in ("kind", "fit", "mixed")) + 0.3
    assert peers["fit_top3"] <= peers["fit_chance"] + 0.1
    assert peers["only_fit"] <= 0.1


def test_mixed_mode_has_no_single_winner(stats):
    mixed = stats["mixed"]
    # Fit shows, but much weaker than in the fit world and clearly above the kind world.
    assert stats["kind"]["fit_lift"] + 0.05 <= mixed["fit_lift"] <= stats["fit"]["fit_lift"] - 0.08
    assert mixed["fit_top3"] <= 0.7 and mixed["peers_top3"] <= 0.7
    # Each ranker's top 3 holds a good share of cases the other's misses.
    assert mixed["only_fit"] >= 0.2 and mixed["only_peers"] >= 0.15
    # And the kind lean is there, between the fit world's and the kind world's.
    assert stats["fit"]["young_share"] < mixed["young_share"] < stats["kind"]["young_share"]


def test_adoption_is_visible_as_referrals_to_the_introduced(worlds, stats):
    for mode, w in worlds.items():
        assert stats[mode]["cases"] >= 90, mode  # enough adopted introductions for the signatures above
        for day, r, c, adopted_on in w.adopted:
            assert adopted_on >= day and c not in w.holders[r]
    # Outside kind, a referrer turns down colleagues it does not take to: fewer introductions adopted.
    assert stats["peers"]["adopted"] < stats["kind"]["adopted"] - 0.1
    assert stats["fit"]["adopted"] < stats["kind"]["adopted"]
