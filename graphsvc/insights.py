"""Every analysis result for one projection of the graph, asked for through query methods.

Neo4j -> ``store.projection`` -> ``analysis`` functions -> here -> web, API
and CLI. ``Insights`` holds one analysed graph and computes each result
once, when first asked. Pages and commands ask it (``referrer``,
``suggestions``, ``members``, ``timeline``, ``worklists``, ...), never its graph.
No database I/O happens here: ``graphsvc.live`` builds an ``Insights`` from
the store and keeps it current change by change (``live.apply_change``);
``stored_analysis`` and ``stored_rows`` give what a write or
``graphsvc analyze`` stores on Referrer nodes.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from datetime import UTC, date, datetime
from functools import cached_property

from .analysis import activity, monthly_stage_counts, referrer_metrics, stage_histories
from .analysis.backtest import evaluate
from .analysis.conversion import conversion, referral_outcomes
from .analysis.duplicates import likely_duplicate_referrers
from .analysis.graph import add_referrer, new_graph
from .analysis.graph import as_of as graph_as_of
from .analysis.index import Index
from .analysis.layout import network_elements, network_layout
from .analysis.matching import match_client
from .analysis.members import member_activity as activity_of_members
from .analysis.practice import bridge_members, clinician_sharing, key_person_risk, practice_summary
from .analysis.referrals import current_point_person
from .analysis.suggestions import suggest_introductions
from .analysis.tuning import in_force, tune, weights_reason
from .analysis.worklists import (
    WORKLISTS,
    follow_up_counts,
    ranking,
    replace_rows,
    rerank,
    sum_follow_ups,
    todays_work,
)
from .analysis.worklists import worklists as build_worklists
from .config import AnalysisOptions
from .errors import NotFound
from .inputs import MatchRequest
from .presentation import listing
from .rules import current_status, in_update
from .vocabulary import PRACTICE


class Insights:
    """Every analysis result for one projection of the graph.

    With ``options.as_of`` set, ``G`` is first cut to the practice as it
    stood at the end of that day (``analysis.graph.as_of``: later events,
    later handoffs and referrers not started yet left out), so every result
    here (stages, metrics, monthly counts, suggestions, matches) is judged
    on that day. Without it (today) the graph is used as given, no copy.
    """

    def __init__(self, G, options: AnalysisOptions, version: int | None = None):
        if options.as_of is not None:
            G = graph_as_of(G, options.as_of)
        self.G = G
        self.options = options
        self.version = version
        # The day everything here is judged on (today's analysis is stale the next day: ``graphsvc.live``).
        self.judged_on = options.day()
        self.built_at = datetime.now(UTC)
        # When it was last known to match the database (``graphsvc.live`` moves it on).
        self.data_as_of = self.built_at
        self.instance: str | None = None  # the database's Practice.instance, when built by graphsvc.live
        # The /network picture's last positions and the referrers written since: after a write only
        # those move (``layout``), so the picture neither jumps nor is laid out from scratch.
        self._layout_before: dict | None = None
        self._layout_changed: set = set()
        # introduction_for's answers: (list, referrer) -> (when, answer); kept across changes but a
        # changed referrer's (``refresh``).
        self._introductions: dict = {}

    @cached_property
    def histories(self) -> dict:
        o = self.options
        return stage_histories(self.G, window=o.window, stall_days=o.stall_days,
                               lapse_days=o.lapse_days, as_of=o.day())

    @cached_property
    def metrics(self) -> dict:
        return referrer_metrics(self.G, window=self.options.window, as_of=self.options.day())

    @cached_property
    def sharing(self) -> dict:
        return clinician_sharing(self.G)

    @cached_property
    def bridges(self) -> dict:
        """Per member: ``first_colleague_for``."""
        return bridge_members(self.G)

    @cached_property
    def key_person_risk(self) -> dict:
        """Per clinician: the referrers that depend on it alone, and their last 12 months' referrals."""
        return key_person_risk(self.G, self.histories, as_of=self.options.day())

    def clinicians(self) -> dict:
        """Per member (by id): sharing, first colleague tried for and key-person risk, in one shape.

        The per-clinician table of ``/practice``, ``/api/practice/summary`` and
        ``graphsvc analyze --json``.
        """
        no_risk = {"count": 0, "referrers": [], "referrals_last_12_months": 0}  # staff
        out = {}
        for m, s in sorted(self.sharing.items()):
            node = self.G.nodes[m]
            risk = self.key_person_risk.get(m, no_risk)
            out[m] = {
                "name": node["name"], "kind": node["kind"],
                "point_person_for": s["point_person_for"], "passes_made": s["passes_made"],
                "passes_received": s["passes_received"], "introductions_made": s["introductions_made"],
                "introductions_led": s["introductions_led"], "introduced": s["introduced"],
                "referrals_via_introductions": s["referrals_via_introductions"],
                "first_colleague_for": self.bridges[m]["first_colleague_for"],
                "key_person_risk": {"count": risk["count"], "referrers": list(risk["referrers"]),
                                    "referrals_last_12_months": risk["referrals_last_12_months"]},
            }
        return out

    @cached_property
    def worklists(self) -> dict:
        """The managers' worklists (``analysis.worklists``), judged on the analysis day, every row with
        the work done on it (``worklists.with_tasks``): open, snoozed and done rows alike (``worklist``
        gives one kind)."""
        o = self.options
        return build_worklists(self.G, self.histories, self.metrics, as_of=o.day(),
                               key_person_risk=self.key_person_risk, window=o.window,
                               follow_up_days=o.follow_up_days, unseen_days=o.unseen_days,
                               index=self.__dict__.get("index"))  # only if already built

    def worklist(self, name: str, show: str = "open") -> list[dict]:
        """One worklist's rows whose work is ``show`` (``open``: the work now; ``snoozed``; ``done``;
        ``all``), in the list's order. ``NotFound`` for a list that is not one."""
        if name not in WORKLISTS:
            raise NotFound(f"unknown worklist {name!r}; the worklists are {', '.join(WORKLISTS)}")
        rows = self.worklists[name]
        return rows if show == "all" else [row for row in rows if row["task_status"] == show]

    def worklist_row(self, name: str, row_id: str) -> dict:
        """The row ``row_id`` of worklist ``name`` (open, snoozed or done); ``NotFound`` if there is none
        (never was, or its reason disappeared)."""
        for row in self.worklist(name, "all"):
            if row["id"] == row_id:
                return row
        raise NotFound(f"no row {row_id!r} on the {name} worklist (its reason may have disappeared)")

    @cached_property
    def outcomes(self) -> dict:
        """Per referrer, what became of its recent referrals (``conversion.referral_outcomes``)."""
        o = self.options
        return referral_outcomes(self.G, self.histories, as_of=o.day(), wait_days=o.unseen_days)

    @cached_property
    def conversion(self) -> dict:
        """The share of referrals reaching a first visit and the median days to it (``analysis.conversion``):
        ``{"practice": {...}, "by_kind": {kind: {...}}}``."""
        kinds: dict[str, list] = {}
        for r in self.outcomes:
            kinds.setdefault(self.G.nodes[r]["referrer_kind"], []).append(r)
        return {"practice": conversion(self.outcomes),
                "by_kind": {kind: conversion(self.outcomes, rs) for kind, rs in sorted(kinds.items())}}

    def conversion_of(self, referrer_id: str) -> dict:
        """One referrer's conversion (from ``outcomes`` once computed, else for it alone)."""
        o = self.options
        outcomes = self.__dict__.get("outcomes") or referral_outcomes(self.G, [referrer_id], as_of=o.day(),
                                                                      wait_days=o.unseen_days)
        return conversion(outcomes, [referrer_id])

    def today(self, member: str | None = None, limit: int = 15) -> list[dict]:
        """The few things most worth doing now: one item per referrer, the most at stake first
        (``worklists.todays_work``); ``member``'s own (its referrers' rows and those assigned to it), or
        the practice's.

        Each item is its row with ``worklist``, ``also`` (the referrer's other lists), ``call`` (whom
        to call: the referrer, with its organization), ``introduce`` (on stalled, key-person-risk and
        ready rows: ``{"id", "name", "by", "reasons"}``, the colleague the suggestions rank first or
        the coordinator to introduce, and the member who introduces them; None when there is nobody
        to suggest) and a ``next_step`` naming both.
        """
        items = todays_work(self.ranking, limit=limit, member=member)
        for item in items:
            item["call"] = item["name"] + (f" ({item['organization']})" if item["organization"] else "")
            item["introduce"] = self.introduction_for(item["worklist"], item)
            item["next_step"] = _today_step(item)
        return items

    @cached_property
    def ranking(self):
        """Every open worklist row, the most at stake first (``worklists.ranking``): what ``today`` reads
        from the top."""
        return ranking(self.worklists)

    @cached_property
    def _rows_of_referrer(self) -> dict:
        """Every worklist row by referrer and list: which rows a change of a referrer replaces (``refresh``)."""
        out: dict[str, dict] = {}
        for name, rows in self.worklists.items():
            for row in rows:
                out.setdefault(row["referrer"], {}).setdefault(name, []).append(row)
        return out

    # How long a remembered introduction stands (``introduction_for``), in seconds.
    INTRODUCTION_SECONDS = 300

    def introduction_for(self, worklist: str, item: dict) -> dict | None:
        """The introduction a row of ``worklist`` calls for: on ``ready``, its coordinator; on ``stalled``
        and ``key-person-risk``, the colleague the suggestions rank first among those who take new clients
        (not the point person); ``{"id", "name", "by" (the point person), "reasons"}``, or None.

        Remembered per referrer (a suggestion scores the whole practice: 10 to 15 ms at 100,000
        referrers, and a list page names 50 colleagues) until the referrer changes (``refresh`` forgets
        it) or for ``INTRODUCTION_SECONDS``: another referrer's write can move a suggestion a little
        (its trust by similar referrers), and the name on a row may be that much behind; the referrer's
        own page and the suggestions API compute afresh.
        """
        key = (worklist, item["referrer"])
        now = time.monotonic()
        found = self._introductions.get(key)
        if found is None or now - found[0] > self.INTRODUCTION_SECONDS:
            found = self._introductions[key] = (now, self._introduction(worklist, item))
        return found[1]

    def _introduction(self, worklist: str, item: dict) -> dict | None:
        pp = item["point_person"]
        if worklist == "ready":
            return {"id": item["coordinator"], "name": item["coordinator_name"], "by": pp,
                    "reasons": [f"the {item['coordinator_role'].replace('_', ' ')}, who takes referrals for the "
                                "whole practice"]}
        if worklist not in ("stalled", "key-person-risk"):
            return None
        # Someone who can take the referrer's next client: a colleague not accepting new clients would
        # be an introduction that leads nowhere.
        best = [s for s in self.suggestions(item["referrer"], limit=3, accepting=True) if s["member"] != pp]
        if not best:
            return None
        return {"id": best[0]["member"], "name": best[0]["name"], "by": pp, "reasons": best[0]["reasons"][:2]}

    def gone_tasks(self) -> list[str]:
        """The open tasks whose rows are on no list any more (their reasons went), by id: what
        ``Service.close_gone_tasks`` closes."""
        listed = {row["id"] for rows in self.worklists.values() for row in rows}
        return sorted(t["id"] for r in self.histories for t in self.G.nodes[r].get("tasks", {}).values()
                      if t["status"] == "open" and t["id"] not in listed)

    def open_counts(self) -> dict[str, int]:
        """How many open rows (the work now) each worklist has."""
        return {name: sum(row["task_status"] == "open" for row in rows) for name, rows in self.worklists.items()}

    @cached_property
    def referrer_rows(self) -> list[dict]:
        """One row per referrer for the referrer list (``/referrers``), by id: its current point
        person, stage, flags and counts, so the list is filtered, sorted and paged in memory."""
        G, histories, metrics = self.G, self.histories, self.metrics
        names = {m: a["name"] for m, a in self.index.members.items()}
        rows = []
        for r in sorted(histories):
            node, h, m = G.nodes[r], histories[r], metrics[r]
            pp = m["point_person"]
            rows.append({"id": r, "name": node["name"], "kind": node["referrer_kind"],
                         "organization": node.get("organization") or "", "since": node.get("since"),
                         "point_person_id": pp, "point_person": names.get(pp) if pp else None,
                         "referrals": h["referrals"], "last_referral": h["last_referral"],
                         "introductions": m["introductions"], "contacts": m["contacts"],
                         "stage": h["stage"], "stalled": h["stalled"], "lapsed": h["lapsed"],
                         "trend": m["trend"]["change"]})
        return rows

    @cached_property
    def totals(self) -> dict:
        """The practice's headline counts: referrers, referrals, those addressed to the practice as a
        whole, clinicians, staff and referrals out."""
        referrals = to_practice = out = 0
        for _, _, data in self.G.edges(data=True):
            kind = data["type"]
            if kind == "referral":
                referrals += 1
                to_practice += data["addressed_to"] == PRACTICE
            elif kind == "referral_out":
                out += 1
        kinds = [a["kind"] for a in self.index.members.values()]
        return {"referrers": len(self.histories), "referrals": referrals, "to_practice": to_practice,
                "clinicians": kinds.count("clinician"), "staff": kinds.count("staff"), "referrals_out": out}

    @cached_property
    def clinician_table(self) -> list[tuple[str, dict]]:
        """``/practice``'s per-member rows, the members who open doors most first: ``clinicians()``'s,
        plus ``at_risk`` (the key-person risk's referrers as ``{"id", "name"}``, by name) and
        ``at_risk_filter``: the referrer list's filter giving exactly them (``{"point_person": m}``,
        that with ``"stage": 1``), or None."""
        G, histories = self.G, self.histories
        pointed: dict[str, set] = {}  # clinician -> referrers whose current point person it is
        for r, m in self.metrics.items():
            pointed.setdefault(m["point_person"], set()).add(r)
        rows = []
        for m, c in self.clinicians().items():
            risky = set(c["key_person_risk"]["referrers"])
            mine = pointed.get(m, set())
            wanted = None
            if risky and risky == mine:
                wanted = {"point_person": m}
            elif risky and risky == {r for r in mine if histories[r]["stage"] == 1}:
                wanted = {"point_person": m, "stage": 1}
            named = sorted(({"id": r, "name": G.nodes[r]["name"]} for r in risky), key=lambda x: (x["name"], x["id"]))
            rows.append((m, {**c, "at_risk": named, "at_risk_filter": wanted}))
        return sorted(rows, key=lambda mc: (-mc[1]["introductions_made"], -mc[1]["passes_made"], mc[0]))

    @cached_property
    def headline(self) -> dict:
        """``summary``'s headline numbers (``practice_summary``), computed once per analysis."""
        return practice_summary(self.G, self.histories, self.metrics)

    @cached_property
    def monthly_stages(self) -> list:
        """Referrers in each stage at each month's end (``monthly_stage_counts``): a pass over every referral."""
        return monthly_stage_counts(self.G, self.histories, as_of=self.options.day())

    @cached_property
    def worklist_entries(self) -> dict:
        """Per referrer on any worklist (an open row): ``[(worklist name, next step), ...]`` in the lists' order."""
        out: dict[str, list] = {}
        for name, rows in self.worklists.items():
            for row in rows:
                if row["task_status"] != "open":
                    continue
                entries = out.setdefault(row["referrer"], [])
                if not entries or entries[-1][0] != name:  # follow-up has a row per referral
                    entries.append((name, row["next_step"]))
        return out

    @cached_property
    def monthly_activity(self) -> list:
        """Month by month: referrals, the share addressed to the practice, median effective breadth."""
        return activity.monthly_activity(self.G, self.histories, self.metrics, as_of=self.options.day())

    @cached_property
    def outreach(self) -> dict:
        """Contacts by kind, member and month, and the stage rises that followed them (``analysis.activity``)."""
        return activity.outreach(self.G, self.histories, as_of=self.options.day())

    @cached_property
    def coverage(self) -> dict:
        """Referrals out by niche and provider over time (``analysis.activity``)."""
        return activity.coverage(self.G, as_of=self.options.day())

    # Above this many referrers /network draws groups (kind x stage) instead of every referrer: a full
    # layout grows with the square of the nodes (0.3 s for the demo's 1,048; 3-4 s at 3,000).
    NETWORK_MAX_NODES = 2000

    @cached_property
    def layout(self) -> dict | None:
        """Positions of members and referrers for ``/network`` (None above ``NETWORK_MAX_NODES``)."""
        if len(self.histories) > self.NETWORK_MAX_NODES:
            return None  # the aggregate lays its groups out itself
        previous, changed = getattr(self, "_layout_before", None), getattr(self, "_layout_changed", set())
        self._layout_before, self._layout_changed = None, set()
        return network_layout(self.G, previous=previous, changed=changed)

    @cached_property
    def network(self) -> dict:
        """``/api/network``'s nodes (with ``x``, ``y``) and edges, or the aggregate (``analysis.layout``)."""
        return network_elements(self.G, self.histories, self.layout, max_nodes=self.NETWORK_MAX_NODES)

    @cached_property
    def member_activity(self) -> dict:
        """Per member: its referrers, passes, introductions and contacts (``analysis.members``)."""
        return activity_of_members(self.G)

    @cached_property
    def index(self) -> Index:
        """Neighbourhoods for suggestions, built once per graph version."""
        return Index(self.G)

    # Results over the whole practice: dropped by ``apply`` and computed again
    # when next asked. Per-referrer results (histories, metrics, index) are
    # updated in place for the referrers a change touches.
    AGGREGATES = ("referrer_rows", "referrer_row", "follow_up_figures", "follow_up_by_referrer", "totals",
                  "clinician_table", "headline", "monthly_stages", "sharing", "bridges", "key_person_risk",
                  "worklists", "worklist_entries", "outcomes", "conversion", "member_activity", "monthly_activity",
                  "outreach", "coverage", "network", "ranking", "_rows_of_referrer", "searchable",
                  "duplicate_referrers")

    @property
    def weights(self) -> dict:
        """The suggestion weights in force: ``{"weights": (fit, trust, track), "decay", "source"}``
        (tuned on this practice by ``graphsvc evaluate --tune``, or the defaults)."""
        return in_force(self.G.graph.get("stored_weights"))

    def weights_note(self) -> dict:
        """The weights in force for people: ``fit``, ``trust``, ``track``, ``decay``, ``source`` and
        ``weighs_most`` (a sentence: which parts weigh most in this practice)."""
        w = self.weights
        fit, trust, track = w["weights"]
        most = weights_reason(w["weights"])
        if not w.get("tuned"):  # the defaults say nothing about this practice
            most = "with these weights, " + most.removeprefix("in this practice, ")
        return {"fit": fit, "trust": trust, "track": track, "decay": w["decay"], "source": w["source"],
                "tuned": bool(w.get("tuned")), "weighs_most": most}

    def suggestions(self, referrer_id: str, limit: int = 5, accepting: bool | None = None) -> list[dict]:
        self._referrer_node(referrer_id)  # NotFound, saying so when it had not started by as_of
        w = self.weights
        return suggest_introductions(self.G, referrer_id, limit=limit, window=self.options.window,
                                     index=self.index, accepting=accepting, weights=tuple(w["weights"]),
                                     decay=w["decay"])

    def match(self, request: MatchRequest) -> dict:
        return match_client(self.G, needs=request.needs, population=request.population,
                            insurance=request.insurance, schedule=request.schedule,
                            addressed_to=request.addressed_to, limit=request.limit, index=self.index)

    def summary(self, *, monthly: bool = True, clinicians: bool | None = None) -> dict:
        """Headline numbers; ``monthly`` stage counts; per-member ``clinicians`` (default: as ``monthly``).

        ``monthly=False`` alone gives the headline numbers only (the text
        output of ``graphsvc analyze``), sparing a pass over every referral.
        """
        out = dict(self.headline)
        out["as_of"] = self.options.day()
        out["not_started"] = len(self.G.graph.get("not_started", ()))  # referrers left out: later than as_of
        out["options"] = asdict(self.options)
        if monthly:
            out["monthly"] = self.monthly_stages
        if clinicians is None:
            clinicians = monthly
        if clinicians:
            out["clinicians"] = self.clinicians()
        if monthly:
            out["conversion"] = self.conversion
        return out

    def referrer(self, referrer_id: str) -> dict:
        """Stage, history and metrics of one referrer; ``NotFound`` if unknown."""
        node = self._referrer_node(referrer_id)
        return {
            "id": referrer_id,
            "name": node["name"],
            "kind": node["referrer_kind"],
            "organization": node["organization"],
            "npi": node.get("npi"),
            "since": node["since"],
            "point_person_history": [{"clinician": c, "since": s, "until": u} for s, u, c in node["tenures"]],
            **self._history_of(referrer_id),
            "metrics": self._metrics_of(referrer_id),
            "conversion": self.conversion_of(referrer_id),
        }

    # -- what the pages and commands ask ---------------------------------------------------------

    @property
    def referrer_count(self) -> int:
        """How many referrers this analysis judges (those started by ``as_of``)."""
        return len(self.histories)

    def members(self, kind: str | None = None) -> list[dict]:
        """Clinicians and staff (or one ``kind``), each its attributes with ``id``, by name then id."""
        rows = [{"id": m, **a} for m, a in self.index.members.items() if kind is None or a["kind"] == kind]
        return sorted(rows, key=lambda r: (r["name"].lower(), r["id"]))

    def member(self, member_id: str) -> dict:
        """A clinician's or staff member's attributes with ``id``; ``NotFound`` if there is none."""
        attrs = self.index.members.get(member_id)
        if attrs is None:
            raise NotFound(f"unknown clinician or staff member {member_id!r}")
        return {"id": member_id, **attrs}

    def member_names(self) -> dict[str, str]:
        """Every member's name, by id."""
        return {m: a["name"] for m, a in self.index.members.items()}

    def name_of(self, node_id: str | None) -> str | None:
        """The name of a member, referrer or outside provider (the id itself when it names none)."""
        if node_id is None:
            return None
        return self.G.nodes[node_id].get("name", node_id) if node_id in self.G else node_id

    def providers(self) -> list[dict]:
        """The outside providers, each its attributes with ``id``, by name then id."""
        rows = [{"id": n, **a} for n, a in self.G.nodes(data=True) if a.get("kind") == "provider"]
        return sorted(rows, key=lambda r: (r["name"].lower(), r["id"]))

    @cached_property
    def searchable(self) -> list[tuple[str, str, str, str, str, str, str]]:
        """What the header search looks in (``graphsvc.web.search``): ``(kind, id, name, organization,
        id, name and organization casefolded)`` for every referrer (``referrer_rows``), clinician, staff
        member and outside provider; kind ``referrer``, ``clinician``, ``staff`` or ``provider``."""
        people = [("referrer", r["id"], r["name"], r["organization"]) for r in self.referrer_rows]
        people += [(a["kind"], m, a["name"], "") for m, a in self.index.members.items()]
        people += [("provider", p["id"], p.get("name") or p["id"], "") for p in self.providers()]
        return [(kind, i, name, org, i.casefold(), name.casefold(), org.casefold()) for kind, i, name, org in people]

    def provider(self, provider_id: str) -> dict:
        node = self.G.nodes.get(provider_id)
        if node is None or node.get("kind") != "provider":
            raise NotFound(f"unknown outside provider {provider_id!r}")
        return {"id": provider_id, **node}

    def referrer_fields(self, referrer_id: str) -> dict:
        """A referrer as its edit form shows it: ``id``, ``name``, ``kind``, ``organization``, ``npi`` (None:
        none), ``since``, its point person now (``point_person_id``) and its first one with that tenure's start."""
        node = self._referrer_node(referrer_id)
        tenures = node.get("tenures") or []
        first = tenures[0] if tenures else (node.get("since"), None, None)
        return {"id": referrer_id, "name": node["name"], "kind": node["referrer_kind"],
                "organization": node.get("organization") or "", "npi": node.get("npi"),
                "since": node.get("since"), "point_person_id": current_point_person(self.G, referrer_id),
                "first_point_person_id": first[2], "first_since": first[0]}

    def referral(self, referrer_id: str, referral_id: str) -> dict | None:
        """One referral of a referrer: its edge's data with ``id``, ``referrer_id``, ``assigned_to``."""
        if referrer_id not in self.G:
            return None
        for _, member, key, data in self.G.out_edges(referrer_id, keys=True, data=True):
            if key == referral_id and data.get("type") == "referral":
                return {**data, "id": key, "referrer_id": referrer_id, "assigned_to": member}
        return None

    def recent_referrals(self, referrer_id: str, limit: int = 10) -> list[dict]:
        """The referrer's last ``limit`` referrals, newest first, each saying whether it can be passed
        (``passable``: addressed to a clinician), and where it stands (``status`` since ``status_on``,
        ``rules.current_status``)."""
        if referrer_id not in self.G:
            return []
        members = self.index.members
        rows = [{**data, "id": key, "assigned_to": member,
                 "passable": members.get(data["addressed_to"], {}).get("kind") == "clinician",
                 **dict(zip(("status", "status_on"), current_status(data["date"], data["statuses"]), strict=True))}
                for _, member, key, data in self.G.out_edges(referrer_id, keys=True, data=True)
                if data.get("type") == "referral"]
        rows.sort(key=lambda r: (r["date"], r["id"]), reverse=True)
        return rows[:limit]

    def update_for(self, referrer_id: str, day=None) -> list[dict]:
        """What the referrer's update tells (``rules.in_update``: the referrals of the last
        ``UPDATE_DAYS`` days whose client agreed), oldest first: each referral's ``id``, ``date``,
        ``clinician`` and ``clinician_name`` (who took it), its ``status`` now and since when
        (``status_on``). Nothing else about the client."""
        self._referrer_node(referrer_id)
        day = day or self.options.day()
        rows = []
        for _, member, key, data in self.G.out_edges(referrer_id, keys=True, data=True):
            if data.get("type") != "referral" or not in_update(data["date"], data["consent"], day):
                continue
            status, since = current_status(data["date"], data["statuses"])
            rows.append({"id": key, "date": data["date"], "clinician": member, "clinician_name": self.name_of(member),
                         "status": status, "status_on": since})
        rows.sort(key=lambda r: (r["date"], r["id"]))
        return rows

    def timeline(self, referrer_id: str) -> list[dict]:
        """Every referral, introduction, contact and referral out of the referrer, newest first."""
        events = []
        for _, target, key, data in self.G.out_edges(referrer_id, keys=True, data=True):
            kind = data["type"]
            event = {"date": data["date"], "id": key, "type": kind, "member": target}
            if kind == "referral":
                event.update(addressed_to=data["addressed_to"], pass_reason=data.get("pass_reason"),
                             needs=data.get("needs") or ())
            elif kind == "introduction":
                event.update(by=data.get("by"))
            elif kind == "contact":
                event.update(contact_kind=data.get("contact_kind"))
            elif kind == "referral_out":
                event.update(niche=data.get("niche"), provider=self.name_of(target))
            events.append(event)
        events.sort(key=lambda e: (e["date"], e["id"]), reverse=True)
        return events

    def connections(self, referrer_id: str) -> list[dict]:
        """The members a referrer is connected to, its point person first: each with its ``role``
        (``point_person`` now, ``past_point_person``, ``tried`` (assigned a referral), ``introduced``
        or ``contacted``) and its ``referrals``, ``introductions`` and ``contacts`` with the referrer."""
        node = self._referrer_node(referrer_id)
        tenures = node.get("tenures") or []
        current = current_point_person(self.G, referrer_id)
        past = {c for _, _, c in tenures if c != current}
        counts: dict[str, dict] = {}
        plural = {"referral": "referrals", "introduction": "introductions", "contact": "contacts"}
        for _, member, data in self.G.out_edges(referrer_id, data=True):
            if data["type"] in plural:
                c = counts.setdefault(member, {"referrals": 0, "introductions": 0, "contacts": 0})
                c[plural[data["type"]]] += 1
        for m in (current, *past):
            if m is not None:
                counts.setdefault(m, {"referrals": 0, "introductions": 0, "contacts": 0})
        out = []
        for m in sorted(counts, key=lambda m: (m != current, m not in past, -counts[m]["referrals"], m)):
            c = counts[m]
            role = ("point_person" if m == current else "past_point_person" if m in past else
                    "tried" if c["referrals"] else "introduced" if c["introductions"] else "contacted")
            out.append({"member": m, "name": self.name_of(m), "role": role, **c})
        return out

    @cached_property
    def duplicate_referrers(self) -> list[dict]:
        """Pairs of referrers likely to be one person recorded twice (``analysis.duplicates``), most alike
        first: ``{"ids", "name", "organization", "reasons"}`` each."""
        return likely_duplicate_referrers(self.G)

    @cached_property
    def referrer_row(self) -> dict[str, dict]:
        """``referrer_rows`` by referrer id."""
        return {row["id"]: row for row in self.referrer_rows}

    @cached_property
    def follow_up_by_referrer(self) -> dict:
        """``worklists.follow_up_counts``: per referrer, how the loops of its recent referrals stand."""
        o = self.options
        return follow_up_counts(self.G, self.histories, as_of=o.day(), follow_up_days=o.follow_up_days)

    @cached_property
    def follow_up_figures(self) -> dict:
        """How the loops of the follow-up worklist's referrals stand (``worklists.follow_up_figures``):
        ``referrals``, ``on_time``, ``late``, ``due`` and ``overdue``."""
        return sum_follow_ups(self.follow_up_by_referrer.values())

    # The practice-wide results made of per-referrer parts: after a change of some referrers, only their
    # parts are made again (``refresh``), the rest of ``AGGREGATES`` is dropped.
    PER_REFERRER = ("worklists", "_rows_of_referrer", "ranking", "follow_up_by_referrer", "outcomes")

    def refresh(self, referrer_ids, *, whole: bool = False) -> set[str]:
        """Bring ``PER_REFERRER`` up to date after a change of these referrers (``G``, ``histories``,
        ``metrics`` and the index already are: ``live.apply_change``), keeping every other referrer's part;
        returns the names brought up to date. ``whole``: something every row may show changed (a member's
        name, which staff member a ready row introduces): the worklists are made again when next asked.

        The result equals a full build's (``tests/test_live.py`` checks it, write after write).
        """
        done: set[str] = set()
        ids = sorted(set(referrer_ids))
        changed = set(ids)
        if whole:  # a member's name or role: every answer may show it
            self._introductions.clear()
        for key in [k for k in self._introductions if k[1] in changed]:
            del self._introductions[key]
        if "histories" not in self.__dict__:
            return done
        present = {r: self.histories[r] for r in ids if r in self.histories}
        o = self.options
        if "worklists" in self.__dict__ and not whole:
            fresh = build_worklists(self.G, present, self.metrics, as_of=o.day(), window=o.window,
                                    follow_up_days=o.follow_up_days, unseen_days=o.unseen_days,
                                    index=self.__dict__.get("index"))
            rows_of = self._rows_of_referrer
            old: dict[str, list] = {}
            for r in ids:
                for name, rows in rows_of.pop(r, {}).items():
                    old.setdefault(name, []).extend(rows)
            replace_rows(self.worklists, old, fresh)
            for name, rows in fresh.items():
                for row in rows:
                    rows_of.setdefault(row["referrer"], {}).setdefault(name, []).append(row)
            done |= {"worklists", "_rows_of_referrer"}
            if "ranking" in self.__dict__:
                rerank(self.ranking, old, fresh, ids)
                done.add("ranking")
        if "follow_up_by_referrer" in self.__dict__:
            counts = self.follow_up_by_referrer
            for r in ids:
                counts.pop(r, None)
            counts.update(follow_up_counts(self.G, present, as_of=o.day(), follow_up_days=o.follow_up_days))
            done.add("follow_up_by_referrer")
        if "outcomes" in self.__dict__:
            outcomes = self.outcomes
            for r in ids:
                outcomes.pop(r, None)
            outcomes.update(referral_outcomes(self.G, present, as_of=o.day(), wait_days=o.unseen_days))
            done.add("outcomes")
        return done

    def backtest(self, limit_cases: int | None = None) -> dict:
        """The suggestions replayed on past introductions, with the weights in force
        (``analysis.backtest.evaluate``): hit@1, hit@3 and MRR against the baselines."""
        w = self.weights
        return evaluate(self.G, limit_cases=limit_cases, window=self.options.window, weights=tuple(w["weights"]),
                        decay=w["decay"])

    def tune(self) -> dict:
        """Suggestion weights learned from this practice's history (``analysis.tuning.tune``)."""
        return tune(self.G, window=self.options.window)

    def _referrer_node(self, referrer_id: str) -> dict:
        """The referrer's node attributes; ``NotFound`` if unknown or not started by ``as_of``."""
        node = self.G.nodes.get(referrer_id)
        if node is None or node.get("kind") != "referrer":
            not_started = self.G.graph.get("not_started", {})
            if referrer_id in not_started:
                raise NotFound(f"referrer {referrer_id!r} had not started by {self.options.day()} "
                               f"(its relationship began on {not_started[referrer_id]})")
            raise NotFound(f"unknown referrer {referrer_id!r}")
        return node

    def _history_of(self, referrer_id: str) -> dict:
        """One referrer's stage history: from ``histories`` once computed, else for it alone."""
        if "histories" in self.__dict__:
            return self.histories[referrer_id]
        o = self.options
        return stage_histories(self.G, [referrer_id], window=o.window, stall_days=o.stall_days,
                               lapse_days=o.lapse_days, as_of=o.day())[referrer_id]

    def _metrics_of(self, referrer_id: str) -> dict:
        """One referrer's metrics: from ``metrics`` once computed, else for it alone."""
        if "metrics" in self.__dict__:
            return self.metrics[referrer_id]
        return referrer_metrics(self.G, [referrer_id], window=self.options.window,
                                as_of=self.options.day())[referrer_id]

    def stored_rows(self) -> tuple[list[dict], int]:
        """What ``graphsvc analyze`` stores on every Referrer node (``{"id", "props"}``), and how many
        of them got a stage: a referrer whose relationship had not started by ``as_of`` gets its stage
        and metrics removed (left from an earlier analysis, they would say it had a stage on a day it
        did not exist)."""
        rows = [{"id": r, "props": _flat(self.histories[r], self.metrics[r])} for r in self.histories]
        not_started = sorted(self.G.graph.get("not_started", {}))
        blank = _unanalysed()
        return rows + [{"id": r, "props": blank} for r in not_started], len(rows)


def _today_step(item: dict) -> str:
    """What to do about a ``/today`` item, naming whom to call and, for an introduction, whom to introduce."""
    who = item["point_person_name"] or "the practice"
    intro = item["introduce"]
    if intro is not None:
        reason = f" ({intro['reasons'][0]})" if intro["reasons"] else ""
        if item["worklist"] == "ready":
            return f"Call {item['call']}: {who} introduces {intro['name']}{reason}."
        if item["worklist"] == "stalled":
            goal = f"so that {item['name']} tries a colleague"
        else:
            alone = listing(item["depends_on_names"], "and")
            goal = f"so that {item['name']}'s referrals no longer depend on {alone} alone"
        return f"Call {item['call']}: {who} introduces {intro['name']}{reason}, {goal}."
    if item["worklist"] in ("stalled", "key-person-risk"):
        # Nobody to suggest: every colleague who takes new clients has met the referrer already.
        return (f"Call {item['call']}: {who} asks what {item['name']}'s next clients need; no colleague who "
                f"takes new clients is left to introduce, so see whether one who has met {item['name']} suits.")
    return f"Call {item['call']}. {item['next_step']}"


def _flat(history: dict, metrics: dict) -> dict:
    """Properties Neo4j can store (no maps): the stage, its pace, the metrics."""
    reached = history["reached"]
    return {
        "stage": history["stage"],
        "stage_1_on": reached.get(1), "stage_2_on": reached.get(2), "stage_3_on": reached.get(3),
        "days_to_stage_2": history["days_to_stage_2"], "days_to_stage_3": history["days_to_stage_3"],
        "jumped": history["jumped"], "stalled": history["stalled"], "lapsed": history["lapsed"],
        "referrals": metrics["referrals"], "reached": metrics["reached"], "breadth": metrics["breadth"],
        "concentration": metrics["concentration"], "effective_breadth": metrics["effective_breadth"],
        "point_person_share": metrics["point_person_share"], "practice_share": metrics["practice_share"],
        "recent_practice_share": metrics["recent_practice_share"],
        "passes": metrics["passes_total"],
        **{f"passes_{reason}": n for reason, n in metrics["passes"].items()},
        "introductions": metrics["introductions"], "contacts": metrics["contacts"],
        "last_referral": metrics["last_referral"], "last_contact": metrics["last_contact"],
        "referrals_last_12_months": metrics["trend"]["last_12_months"],
        "referrals_previous_12_months": metrics["trend"]["previous_12_months"],
    }


def _unanalysed() -> dict:
    """Every property ``_flat`` stores, as None (setting a property to null removes it)."""
    G = new_graph()
    add_referrer(G, "x")
    day = date(2000, 1, 1)
    return dict.fromkeys(_flat(stage_histories(G, as_of=day)["x"], referrer_metrics(G, as_of=day)["x"]))


def stored_analysis(sub, referrer_ids, options: AnalysisOptions) -> tuple[list[dict], dict, dict]:
    """What a write stores on the referrers it changed: ``(rows, histories, metrics)``.

    ``sub`` is the projection of just those referrers (with every member and
    provider), made by the write's own transaction; per-referrer analysis
    gives the same answer on it as on the whole graph. ``rows`` are as
    ``Insights.stored_rows``'s (a referrer not started by ``options.as_of``
    has its stage and metrics removed; unknown ids are skipped);
    ``histories`` and ``metrics`` those of the referrers analysed, which the
    live analysis takes as they are instead of computing them again.
    """
    ids = sorted(set(referrer_ids))
    insights = Insights(sub, options)
    not_started = insights.G.graph.get("not_started", {})
    present = [r for r in ids if r not in not_started and insights.G.nodes.get(r, {}).get("kind") == "referrer"]
    o = options
    histories = stage_histories(insights.G, present, window=o.window, stall_days=o.stall_days,
                                lapse_days=o.lapse_days, as_of=o.day())
    metrics = referrer_metrics(insights.G, present, window=o.window, as_of=o.day())
    rows = [{"id": r, "props": _flat(histories[r], metrics[r])} for r in present]
    rows += [{"id": r, "props": _unanalysed()} for r in ids if r in not_started]
    return rows, histories, metrics
