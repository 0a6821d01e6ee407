"""Positions for the /network page, computed on the server so the browser only draws.

``network_layout`` places members (clinicians, staff) and referrers (and, if
asked, external providers) with a force-directed layout (Fruchterman and
Reingold): a referrer is pulled towards the members its clients went to or
it was introduced to, every pair of nodes pushes apart, and a weak pull
towards the middle keeps any small cluster apart from the rest in the
picture. Referrers with no link yet (no referral, no introduction) take no
part; they are put on a ring just outside. Given the ``previous`` positions
it moves only new and changed nodes, against the others held still: the
graph changes on every write, and a picture that jumped on each would be
useless (on the 1,000-referrer demo practice a full layout takes about
0.3 s, an update for a write under 0.1 s).

``network_elements`` is the JSON for ``/api/network``: nodes with the fields
the page filters on (kind, stage, referrer kind, point person, first and
last referral) and weighted edges carrying their first and last dates. Above
``max_nodes`` referrers it draws groups instead, one node per (referrer
kind, stage).

Written with NumPy rather than ``networkx.spring_layout``: NetworkX's dense
layout runs only below 500 nodes, and its larger ones took 4 to 5 seconds on
the demo practice; the loop below repels in whole arrays (float32, in
blocks), and an update computes forces for the moving nodes only
(O(moving x nodes) a step)."""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

from .referrals import current_point_person

MEMBER_KINDS = ("clinician", "staff")


def network_layout(G, *, seed: int = 42, previous: dict | None = None, changed=(), providers: bool = False,
                   iterations: int = 50, gravity: float = 0.5) -> dict:
    """Positions of members and referrers (and providers) for drawing, keyed by node.

    Parameters
    ----------
    G : networkx.MultiDiGraph
        A referral graph (``graphsvc.analysis.graph``).
    seed : int
        The random start. The same graph, seed and ``previous`` give the same
        positions whatever order the graph holds its nodes in.
    previous : dict, optional
        Positions from an earlier call (node -> (x, y)). Nodes found there
        keep them exactly, unless in ``changed``; the others (new nodes, and
        ``changed`` ones) start near the middle of their linked neighbours
        and move against the held ones. Nodes gone from ``G`` are dropped.
        Without it, every node is placed afresh and the whole picture
        scaled to fit ``[-1, 1]``.
    changed : iterable, optional
        Nodes to move again though in ``previous`` (e.g. the referrers a
        write touched), starting from where they were.
    providers : bool
        Place external providers too, linked by referrals out.
    iterations : int
        Force steps; the step size shrinks linearly to nothing over them.
    gravity : float
        Strength of the pull towards the middle.

    Returns
    -------
    dict
        ``{node: (x, y)}`` with float coordinates.

    Notes
    -----
    A link's pull grows with ``log(1 + weight)``, the weight being its
    referrals plus introductions (``network_elements``' ``weight``): with the
    raw count a clinician's most loyal referrers would sit on top of it.
    Nodes without any link are put on a ring just outside the others
    (evenly in id order when fresh, at a random angle when new in an
    update) and never moved by the forces.

    Examples
    --------
    >>> from datetime import date
    >>> from graphsvc.analysis import graph as p
    >>> G = p.new_graph()
    >>> p.add_member(G, "ana"); p.add_member(G, "ben")
    >>> p.add_referrer(G, "drx", point_person="ana", since=date(2024, 1, 1))
    >>> p.add_referral(G, "drx", "r1", date(2024, 2, 1), "ana")
    >>> pos = network_layout(G, seed=1)
    >>> sorted(pos), pos == network_layout(G, seed=1)
    (['ana', 'ben', 'drx'], True)
    >>> p.add_referrer(G, "dry", point_person="ben", since=date(2024, 3, 1))
    >>> after = network_layout(G, previous=pos)
    >>> all(after[n] == pos[n] for n in pos)   # only the new referrer was placed
    True
    """
    nodes = _layout_nodes(G, providers)
    links, _ = _links(G, providers=providers)
    weights = {pair: v[0] + v[1] for pair, v in links.items()}
    return _layout(nodes, weights, seed=seed, previous=previous, changed=changed, iterations=iterations,
                   gravity=gravity)


def network_elements(G, histories: dict, positions: dict | None = None, *, max_nodes: int = 3000,
                     seed: int = 42, providers: bool = False) -> dict:
    """Nodes and edges for the /network page, positioned; groups of referrers above ``max_nodes``.

    Parameters
    ----------
    G : networkx.MultiDiGraph
        A referral graph (``graphsvc.analysis.graph``).
    histories : dict
        ``stages.stage_histories``: the referrers drawn, and their stage.
    positions : dict, optional
        ``network_layout`` of ``G`` (with the same ``providers``). A node
        missing from it is placed against the others; without it the layout
        is computed here. Not used in aggregate mode.
    max_nodes : int
        Above this many referrers, draw the aggregate.
    seed : int
        For a layout computed here.
    providers : bool
        Draw external providers and the referrals out to them.

    Returns
    -------
    dict
        ``mode``: ``"full"`` or ``"aggregate"``; ``referrers``: how many
        referrers there are; ``nodes``; ``edges``.

        Each node: ``id``, ``label``, ``kind`` (``"clinician"``, ``"staff"``,
        ``"referrer"``, ``"provider"`` or ``"group"``), ``stage`` and
        ``referrer_kind`` (referrers and groups, else None),
        ``point_person`` (a referrer's current one, else None),
        ``first_referral`` and ``last_referral`` (dates of the node's
        first and last referral, sent, received or in the group; referrals
        out for a provider), ``referrals`` (that count), ``count`` (referrers
        in a group, 1 for any other node), ``x``, ``y``, and ``size``, from
        1 to 10 growing with the square root of ``referrals`` against the
        largest (of ``count`` against the largest group, for groups): draw
        it as a radius and the area follows the count.

        Each edge, from a referrer (or group) to a member (or provider):
        ``id`` (``"source->target"``), ``source``, ``target``,
        ``referrals`` (referrals assigned or addressed to the member, each
        once; referrals out for a provider), ``introductions`` (of the
        member to the referrer), ``weight`` (their sum), ``first`` and
        ``last`` (dates of the link's first and last event).

    Notes
    -----
    The page filters in the browser on these fields. Stage, kind, referrer
    kind and point person select nodes; a date range keeps the nodes whose
    ``[first_referral, last_referral]`` overlaps it and the edges whose
    ``[first, last]`` does (an edge's counts are over all time: the range
    says whether the link was active, not how much). Filters keep edges
    whose two ends are kept. In aggregate mode a group has no point person,
    so that filter applies to full mode only.

    Examples
    --------
    >>> from datetime import date
    >>> from graphsvc.analysis import graph as p
    >>> from graphsvc.analysis.stages import stage_histories
    >>> G = p.new_graph()
    >>> p.add_member(G, "ana")
    >>> p.add_referrer(G, "drx", point_person="ana", since=date(2024, 1, 1), referrer_kind="clergy")
    >>> p.add_referral(G, "drx", "r1", date(2024, 2, 1), "ana")
    >>> h = stage_histories(G, as_of=date(2024, 6, 1))
    >>> net = network_elements(G, h)
    >>> net["mode"], [(n["id"], n["stage"]) for n in net["nodes"]], net["edges"][0]["weight"]
    ('full', [('ana', None), ('drx', 1)], 1)
    >>> agg = network_elements(G, h, max_nodes=0)
    >>> agg["mode"], [(n["id"], n["count"]) for n in agg["nodes"]]
    ('aggregate', [('ana', 1), ('group:clergy:1', 1)])
    """
    referrers = [r for r in histories if r in G and G.nodes[r].get("kind") == "referrer"]
    members = sorted((n for n, k in G.nodes(data="kind") if k in MEMBER_KINDS), key=str)
    provider_ids = sorted((n for n, k in G.nodes(data="kind") if k == "provider"), key=str) if providers else []
    aggregate = len(referrers) > max_nodes
    # In aggregate mode the walk adds each referrer's events straight onto its group: half a
    # million referrer-member pairs at 100,000 referrers would cost more than the walk.
    group_of = ({r: f"group:{G.nodes[r].get('referrer_kind')}:{histories[r]['stage']}" for r in referrers}
                if aggregate else None)
    links, sent = _links(G, referrers, providers=providers, source=group_of)
    received = _received(links)
    nodes = [_other_node(G, m, received) for m in members]
    if aggregate:
        groups: dict[str, dict] = {}
        for r in referrers:
            g = group_of[r]
            entry = groups.get(g)
            if entry is None:
                kind, stage = G.nodes[r].get("referrer_kind"), histories[r]["stage"]
                n, first, last = sent.get(g, (0, None, None))
                entry = groups[g] = {"id": g, "label": f"{kind}, stage {stage}", "kind": "group", "stage": stage,
                                     "referrer_kind": kind, "point_person": None, "first_referral": first,
                                     "last_referral": last, "referrals": n, "count": 0}
            entry["count"] += 1
        nodes += [groups[g] for g in sorted(groups)]
    else:
        for r in sorted(referrers, key=str):
            node = G.nodes[r]
            n, first, last = sent.get(r, (0, None, None))
            nodes.append({"id": r, "label": node.get("name", r), "kind": "referrer",
                          "stage": histories[r]["stage"], "referrer_kind": node.get("referrer_kind"),
                          "point_person": current_point_person(G, r), "first_referral": first,
                          "last_referral": last, "referrals": n, "count": 1})
    nodes += [_other_node(G, p, received) for p in provider_ids]
    if aggregate:
        weights = {pair: v[0] + v[1] for pair, v in links.items()}
        positions = _layout([n["id"] for n in nodes], weights, seed=seed)
    elif positions is None or any(n["id"] not in positions for n in nodes):
        positions = network_layout(G, seed=seed, previous=positions, providers=providers)
    for node in nodes:
        x, y = positions[node["id"]]
        node["x"], node["y"] = float(x), float(y)
    _sizes(nodes)
    edges = [{"id": f"{source}->{target}", "source": source, "target": target, "referrals": v[0],
              "introductions": v[1], "weight": v[0] + v[1], "first": v[2], "last": v[3]}
             for (source, target), v in sorted(links.items(), key=lambda t: (str(t[0][0]), str(t[0][1])))]
    return {"mode": "aggregate" if aggregate else "full", "referrers": len(referrers), "nodes": nodes,
            "edges": edges}


def _layout_nodes(G, providers: bool) -> list:
    """Members, referrers (and providers), each sorted: the order the seed's draws go to."""
    kinds = MEMBER_KINDS + ("referrer",) + (("provider",) if providers else ())
    by_kind = defaultdict(list)
    for n, kind in G.nodes(data="kind"):
        if kind in kinds:
            by_kind[kind].append(n)
    return [n for kind in kinds for n in sorted(by_kind[kind], key=str)]


def _links(G, referrers=None, *, providers: bool = False, source: dict | None = None) -> tuple[dict, dict]:
    """One walk over the referrers' events: the links, and what each source sent.

    Returns ``links``, ``{(source, member or provider): [referrals,
    introductions, first, last, first referral, last referral]}``, and ``sent``, ``{source: (referrals,
    first, last)}`` over its referrals; the source is the referrer, or
    ``source[referrer]`` (its group) when given.

    A referral counts on the member it was assigned to, and on the one it
    was addressed to when that is another member (not the practice): both
    are links the referrer has. An introduction counts on the introduced
    member; a referral out (with ``providers``) on the provider.
    """
    if referrers is None:
        referrers = [n for n, kind in G.nodes(data="kind") if kind == "referrer"]
    is_member = {n: kind in MEMBER_KINDS for n, kind in G.nodes(data="kind")}
    links: dict[tuple, list] = {}
    sent: dict = {}
    for r in referrers:
        s = r if source is None else source[r]
        n, first, last = _link_referrer(G, r, s, links, is_member, providers)
        if n:
            was = sent.get(s)
            if was is not None:
                n, first, last = was[0] + n, min(was[1], first), max(was[2], last)
            sent[s] = (n, first, last)
    return links, sent


def _link_referrer(G, r, s, links: dict, is_member: dict, providers: bool) -> tuple[int, object, object]:
    """Add referrer ``r``'s events to ``links`` under source ``s``: its referrals' count, first and last day."""
    nodes = G.nodes
    n, first, last = 0, None, None
    for target, keyed in G._adj[r].items():
        for data in keyed.values():
            kind = data["type"]
            day = data["date"]
            if kind == "referral":
                _add_link(links, (s, target), day, 0)
                addressed = data["addressed_to"]
                if addressed != target and is_member.get(addressed, False):
                    _add_link(links, (s, addressed), day, 0)
                n += 1
                first = day if first is None or day < first else first
                last = day if last is None or day > last else last
            elif kind == "introduction":
                _add_link(links, (s, target), day, 1)
            elif kind == "referral_out" and providers and nodes[target].get("kind") == "provider":
                _add_link(links, (s, target), day, 0)
    return n, first, last


def _add_link(links: dict, key: tuple, day, field: int) -> None:
    """One event on a link: ``field`` 0 a referral, 1 an introduction; the link's days widened."""
    v = links.get(key)
    if v is None:
        v = links[key] = [0, 0, day, day, None, None]
    v[field] += 1
    if day < v[2]:
        v[2] = day
    elif day > v[3]:
        v[3] = day
    if field == 0:  # the link's own first and last referral, for the member's
        if v[4] is None or day < v[4]:
            v[4] = day
        if v[5] is None or day > v[5]:
            v[5] = day


def _received(links: dict) -> dict:
    """Per member or provider: (referrals, first, last) over the referrals of its links."""
    out: dict = {}
    for (_, other), (referrals, _, _, _, first, last) in links.items():
        if not referrals:
            continue
        a = out.get(other)
        out[other] = ((referrals, first, last) if a is None else
                      (a[0] + referrals, min(a[1], first), max(a[2], last)))
    return out


def _other_node(G, n, received) -> dict:
    """A member's or provider's node (without position and size)."""
    node = G.nodes[n]
    count, first, last = received.get(n, (0, None, None))
    return {"id": n, "label": node.get("name", n), "kind": node["kind"], "stage": None, "referrer_kind": None,
            "point_person": None, "first_referral": first, "last_referral": last, "referrals": count, "count": 1}


def _sizes(nodes: list[dict]) -> None:
    """``size`` from 1 to 10 by the square root of a magnitude against the largest of its scale.

    Groups are scaled by their ``count`` of referrers among groups; every
    other node by its ``referrals`` among the non-group nodes (so in full
    mode a busy clinician draws larger than any one referrer, as it should).
    """
    def magnitude(n):
        return n["count"] if n["kind"] == "group" else n["referrals"]
    top = defaultdict(int)
    for n in nodes:
        top[n["kind"] == "group"] = max(top[n["kind"] == "group"], magnitude(n))
    for n in nodes:
        most = top[n["kind"] == "group"]
        n["size"] = round(1 + 9 * math.sqrt(magnitude(n) / most), 2) if most else 1.0


def _layout(nodes: list, weights: dict, *, seed: int = 42, previous: dict | None = None, changed=(),
            iterations: int = 50, gravity: float = 0.5) -> dict:
    """Fruchterman-Reingold on ``nodes`` (in this order) with ``weights`` {(u, v): w}; see ``network_layout``.

    Units: a fresh layout runs in the unit square (ideal distance ``k`` =
    sqrt(1 / n)) and is then scaled to fit ``[-1, 1]``; an update runs in
    the units of the held positions, ``k`` scaled by their extent. Nodes
    without any link take no part: they are put on a ring around the
    picture (evenly, in node order, when fresh; at a random angle when new
    in an update), where the page shows them as not connected yet.
    """
    n = len(nodes)
    if n == 0:
        return {}
    index = {node: i for i, node in enumerate(nodes)}
    # Sorted: the forces are sums, and a sum's last bits depend on its order; the picture must
    # not depend on the order the graph happened to hold its edges in.
    pairs = sorted((index[u], index[v], w) for (u, v), w in weights.items() if u in index and v in index and w > 0)
    src = np.array([p[0] for p in pairs], dtype=np.intp)
    dst = np.array([p[1] for p in pairs], dtype=np.intp)
    pull = np.log1p(np.array([p[2] for p in pairs], dtype=float))
    linked = np.zeros(n, dtype=bool)
    linked[src] = linked[dst] = True
    rng = np.random.default_rng(seed)
    incremental = bool(previous) and any(node in previous for node in nodes)
    if incremental:
        changed = set(changed or ())
        known = np.array([node in previous for node in nodes])
        pos = np.zeros((n, 2))
        for i in np.flatnonzero(known):
            pos[i] = previous[nodes[i]]
        held = known & np.array([node not in changed for node in nodes])
        anchor = pos[held] if held.any() else pos[known]
        extent = float(np.ptp(anchor, axis=0).max()) or 1.0
        centre = anchor.mean(axis=0)
        k = math.sqrt(1.0 / max(int(linked.sum()), 1)) * extent
        _place_new(pos, known | ~linked, src, dst, pull, rng, k, centre, extent)
        lonely = ~known & ~linked
        if lonely.any():
            ring = float(np.sqrt(((anchor - centre) ** 2).sum(axis=1)).max()) or extent / 2
            angle = rng.random(int(lonely.sum())) * 2 * math.pi
            pos[lonely] = centre + ring * np.column_stack((np.cos(angle), np.sin(angle)))
        held |= ~linked  # a node without links stays where it is, or where it was just put
        moving = np.flatnonzero(~held)
        others = np.arange(n)
    else:
        pos = rng.random((n, 2))
        held = np.zeros(n, dtype=bool)
        moving = others = np.flatnonzero(linked)
        extent, centre = 1.0, np.full(2, 0.5)
        k = math.sqrt(1.0 / max(len(moving), 1))
    if len(moving):
        _forces(pos, moving, others, src, dst, pull, k, centre, extent, iterations, gravity)
    if not incremental:
        pos = _fit(pos, linked)
    return _as_dict(nodes, pos, previous or {}, held)


def _forces(pos, moving, others, src, dst, pull, k, centre, extent, iterations, gravity) -> None:
    """Move ``pos[moving]`` in place: repelled by ``others``, pulled along links and towards ``centre``."""
    n = len(pos)
    radius = extent / 2
    # Gravity g * m * k**2 * r / radius**2 against the crowd's push of about m * k**2 / r
    # (m nodes): a component apart from the rest settles about radius / sqrt(g) out.
    pull_in = gravity * len(others) * k * k / (radius * radius)
    temperature = 0.1 * extent
    cooling = temperature / (iterations + 1)
    # The repulsion, all pairs, in float32: four times faster than float64, and a picture
    # needs no more precision. Positions themselves stay float64.
    k2, floor = np.float32(k * k), np.float32(1e-6 * k * k)
    for _ in range(iterations):
        disp = np.zeros((len(moving), 2))
        x, y = pos[:, 0].astype(np.float32), pos[:, 1].astype(np.float32)
        xo, yo = x[others], y[others]
        # Every moving node against every other: k**2 / d along the unit vector,
        # in blocks of rows so a 3,000-node picture needs a few MB, not hundreds.
        for lo in range(0, len(moving), _BLOCK):
            rows = moving[lo:lo + _BLOCK]
            dx = x[rows, None] - xo[None, :]
            dy = y[rows, None] - yo[None, :]
            scale = k2 / np.maximum(dx * dx + dy * dy, floor)
            disp[lo:lo + _BLOCK, 0] = (dx * scale).sum(axis=1)
            disp[lo:lo + _BLOCK, 1] = (dy * scale).sum(axis=1)
        # Attraction along each link, w * d**2 / k, pulling both ends together.
        if len(src):
            d = pos[src] - pos[dst]
            force = d * (pull * np.sqrt((d * d).sum(axis=1)) / k)[:, None]
            total = np.empty((n, 2))
            for axis in (0, 1):
                total[:, axis] = (np.bincount(dst, weights=force[:, axis], minlength=n)
                                  - np.bincount(src, weights=force[:, axis], minlength=n))
            disp += total[moving]
        disp -= pull_in * (pos[moving] - centre)
        length = np.maximum(np.sqrt((disp * disp).sum(axis=1)), 1e-12)
        pos[moving] += disp * (np.minimum(length, temperature) / length)[:, None]
        temperature -= cooling


_BLOCK = 128


def _place_new(pos, known, src, dst, pull, rng, k, centre, extent) -> None:
    """Start each node not in ``previous`` at its placed neighbours' weighted middle, jittered.

    Two rounds, so a new referrer linked only to a new member follows it;
    a node with no placed neighbour starts at a random spot of the picture.
    """
    placed = known.copy()
    for _ in range(2):
        new = ~placed
        if not new.any():
            return
        total = np.zeros((len(pos), 2))
        weight = np.zeros(len(pos))
        for a, b in ((src, dst), (dst, src)):  # each end takes the other's position
            ok = placed[b] & new[a]
            np.add.at(total, a[ok], pos[b[ok]] * pull[ok][:, None])
            np.add.at(weight, a[ok], pull[ok])
        some = new & (weight > 0)
        pos[some] = total[some] / weight[some][:, None] + rng.normal(scale=k / 2, size=(int(some.sum()), 2))
        placed |= some
    rest = ~placed
    pos[rest] = centre + (rng.random((int(rest.sum()), 2)) - 0.5) * extent


def _fit(pos, linked):
    """Centre the linked nodes on 0, scale them to fit ``[-1, 1]``, ring the others just outside."""
    out = np.zeros_like(pos)
    if linked.any():
        core = pos[linked] - pos[linked].mean(axis=0)
        top = np.abs(core).max()
        out[linked] = core / top if top > 0 else core
    lonely = np.flatnonzero(~linked)
    if len(lonely):
        ring = 1.1 * float(np.sqrt((out[linked] ** 2).sum(axis=1)).max()) if linked.any() else 1.0
        angle = 2 * math.pi * np.arange(len(lonely)) / len(lonely)
        out[lonely] = ring * np.column_stack((np.cos(angle), np.sin(angle)))
    return out


def _as_dict(nodes, pos, previous, held) -> dict:
    """Held nodes keep their ``previous`` tuples exactly; the others get rounded floats."""
    out = {}
    for i, node in enumerate(nodes):
        if held[i] and node in previous:
            x, y = previous[node]
            out[node] = (x, y)
        else:
            out[node] = (round(float(pos[i, 0]), 5), round(float(pos[i, 1]), 5))
    return out
