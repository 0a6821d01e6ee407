"""Likely duplicate referrers: two records of one person, typed twice ("Dr. Ann Lee, MD" and "Ann Lee").

Names are compared without titles, degrees and punctuation, word order
ignored (RapidFuzz's ``token_sort_ratio``, 0-100); organizations with
``token_set_ratio`` (one written in full, the other short, still agree).
A pair is likely when the names agree at least ``min_name`` and the
organizations at least ``min_organization`` (or one of the two has none).

Only pairs that share a block are compared, so the work grows with the
practice, not with its square: a block is the surname (the last word of the
bare name), or the first word with the organization's first three letters
(a surname typed wrong still meets its twin at the same organization).
"""

from __future__ import annotations

import re
from collections import defaultdict
from itertools import combinations

import networkx as nx
import numpy as np
from rapidfuzz import fuzz, process

__all__ = ["bare_name", "likely_duplicate_referrers"]

# Titles before a name and degrees or credentials after it: not part of who the person is.
TITLES = frozenset({"dr", "doctor", "mr", "mrs", "ms", "miss", "mx", "rev", "reverend", "fr", "father", "pastor",
                    "rabbi", "imam", "sr", "sister", "prof", "professor", "hon", "judge", "atty"})
DEGREES = frozenset({"md", "do", "phd", "psyd", "edd", "np", "fnp", "pnp", "aprn", "pa", "pac", "rn", "lcsw",
                     "lpc", "lmft", "lmhc", "msw", "ma", "ms", "med", "mdiv", "jd", "esq", "dds", "dmd", "jr", "sr",
                     "ii", "iii", "facp", "faap", "cpnp", "ncsp", "lsw"})
_WORD = re.compile(r"[^\W_]+")


def bare_name(name: str) -> str:
    """A name without titles, degrees, punctuation or case: what two records of one person share.

    >>> bare_name("Dr. Ann Lee, MD"), bare_name("ann  LEE"), bare_name("Rev. J. Stone Jr.")
    ('ann lee', 'ann lee', 'j stone')
    """
    words = [w for w in _WORD.findall(name.casefold().replace("-", ""))]
    while words and words[0] in TITLES:
        words.pop(0)
    while len(words) > 1 and words[-1] in DEGREES:
        words.pop()
    return " ".join(words)


def _bare_organization(organization: str) -> str:
    return " ".join(_WORD.findall((organization or "").casefold()))


# A block at most this big is compared pair by pair in Python; a bigger one (a common surname in a large
# practice) in one RapidFuzz matrix, in C++.
SMALL_BLOCK = 12


def _alike_names(members: list[str], people: dict, min_name: float):
    """``(a, b, score)`` for the pairs of ``members`` (sorted) whose bare names agree at least ``min_name``."""
    if len(members) <= SMALL_BLOCK:
        for a, b in combinations(members, 2):
            score = round(fuzz.token_sort_ratio(people[a][0], people[b][0]), 1)
            if score >= min_name:
                yield a, b, score
        return
    names = [people[m][0] for m in members]
    scores = process.cdist(names, names, scorer=fuzz.token_sort_ratio, score_cutoff=min_name, dtype=np.float32)
    for i, j in zip(*np.nonzero(np.triu(scores, k=1)), strict=True):
        yield members[i], members[j], round(float(scores[i, j]), 1)


def likely_duplicate_referrers(G: nx.Graph, *, min_name: float = 88.0, min_organization: float = 80.0) -> list[dict]:
    """Pairs of referrers in ``G`` that are likely one person recorded twice, most alike first.

    Parameters
    ----------
    G : networkx.Graph
        A practice graph (``graphsvc.analysis.graph``); its ``"referrer"``
        nodes' ``name`` and ``organization`` are compared.
    min_name : float, default 88
        How alike the bare names must be (0-100, ``token_sort_ratio``).
    min_organization : float, default 80
        How alike the organizations must be when both have one (0-100,
        ``token_set_ratio``).

    Returns
    -------
    list of dict
        ``{"ids": (a, b), "name": score, "organization": score or None,
        "reasons": [sentence, ...]}``, ``a < b``; by name score (then
        organization score) falling, then ids.

    Examples
    --------
    >>> G = nx.Graph()
    >>> G.add_node("rf1", kind="referrer", name="Dr. Ann Lee, MD", organization="Lee Family Clinic")
    >>> G.add_node("rf2", kind="referrer", name="Ann Lee", organization="Lee Family Clinic")
    >>> G.add_node("rf3", kind="referrer", name="Ann Leigh", organization="Harbor School")
    >>> [(p["ids"], p["name"], p["organization"]) for p in likely_duplicate_referrers(G)]
    [(('rf1', 'rf2'), 100.0, 100.0)]
    """
    people = {}
    for node, data in G.nodes(data=True):
        if data.get("kind") == "referrer":
            people[node] = (bare_name(data.get("name") or ""), _bare_organization(data.get("organization") or ""))
    blocks: dict[tuple, list[str]] = defaultdict(list)
    for node, (name, organization) in people.items():
        words = name.split()
        if not words:
            continue
        blocks["surname", words[-1]].append(node)
        if organization:
            blocks["first", words[0], organization[:3]].append(node)
    seen: set[tuple[str, str]] = set()
    pairs = []
    for members in blocks.values():
        for a, b, name_score in _alike_names(sorted(members), people, min_name):
            if (a, b) in seen:
                continue
            seen.add((a, b))
            (_, org_a), (_, org_b) = people[a], people[b]
            org_score = round(fuzz.token_set_ratio(org_a, org_b), 1) if org_a and org_b else None
            if org_score is not None and org_score < min_organization:
                continue
            reasons = ["the same name" if name_score == 100 else f"names alike ({name_score:g} of 100)"]
            if org_score is None:
                reasons.append("one has no organization")
            else:
                reasons.append("the same organization" if org_score == 100
                               else f"organizations alike ({org_score:g} of 100)")
            pairs.append({"ids": (a, b), "name": name_score, "organization": org_score, "reasons": reasons})
    pairs.sort(key=lambda p: (-p["name"], -(p["organization"] or 0), p["ids"]))
    return pairs
