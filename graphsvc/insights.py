"""Analysis results for the whole practice, for one projection of the graph.

Neo4j -> ``projection.project`` -> ``analysis`` functions -> here -> web, API
and CLI. ``graphsvc.live.InsightsCache`` keeps one ``Insights`` per process
and keeps it current change by change (``Insights.apply``), so a request
about one referrer never re-reads the whole graph.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from functools import cached_property

from .analysis import activity, monthly_stage_counts, referrer_metrics, stage_histories
from .analysis.graph import add_referrer, new_graph
from .analysis.graph import as_of as graph_as_of
from .analysis.index import Index
from .analysis.layout import network_elements, network_layout
from .analysis.matching import match_client
from .analysis.members import member_activity as activity_of_members
from .analysis.practice import bridge_members, clinician_sharing, key_person_risk, practice_summary
from .analysis.suggestions import suggest_introductions
from .analysis.worklists import worklists as build_worklists
from .errors import NotFound
from .records import MatchRequest
from .store import projection
from .store.catalog import query
from .store.db import Graph
from .store.weights import in_force
from .store.writes import write_batches
from .vocabulary import PRACTICE, PRACTICE_ID

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AnalysisOptions:
    window: int = 5
    stall_days: int = 180
    lapse_days: int = 180
    as_of: date | None = None  # None: today
    follow_up_days: int = 14  # the follow-up worklist: days after a referral to close the loop

    def day(self) -> date:
        return self.as_of or date.today()

    def stored(self) -> dict:
        """The properties write-back stores beside ``analysed_at`` (``as_of`` is the day judged on)."""
        return {"analysis_window": self.window, "analysis_stall_days": self.stall_days,
                "analysis_lapse_days": self.lapse_days, "analysis_as_of": self.day()}


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
        self.built_at = datetime.now(UTC)
        # When it was last known to match the database (``graphsvc.live`` moves it on).
        self.data_as_of = self.built_at
        self.instance: str | None = None  # the database's Practice.instance, when built by graphsvc.live
        # The /network picture's last positions and the referrers written since: after a write only
        # those move (``layout``), so the picture neither jumps nor is laid out from scratch.
        self._layout_before: dict | None = None
        self._layout_changed: set = set()

    @classmethod
    def from_graph(cls, graph: Graph, options: AnalysisOptions | None = None) -> Insights:
        version = current_version(graph)
        return cls(projection.project(graph), options or graph.settings.analysis_options(), version)

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
        """The managers' worklists (``analysis.worklists``), judged on the analysis day."""
        o = self.options
        return build_worklists(self.G, self.histories, self.metrics, as_of=o.day(),
                               key_person_risk=self.key_person_risk, window=o.window,
                               follow_up_days=o.follow_up_days,
                               index=self.__dict__.get("index"))  # only if already built

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
                         "stage": h["stage"], "stalled": h["stalled"], "lapsed": h["lapsed"]})
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
        """Per referrer on any worklist: ``[(worklist name, next step), ...]`` in the lists' order."""
        out: dict[str, list] = {}
        for name, rows in self.worklists.items():
            for row in rows:
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
    AGGREGATES = ("referrer_rows", "totals", "clinician_table", "headline", "monthly_stages", "sharing", "bridges",
                  "key_person_risk", "worklists", "worklist_entries", "member_activity", "monthly_activity",
                  "outreach", "coverage", "network")

    def apply(self, sub, referrer_ids, version: int | None) -> None:
        """Bring this analysis up to date with changes to some referrers, in place.

        ``sub`` is ``projection.project(graph, referrers=referrer_ids)``: those
        referrers as the database holds them now, with every member and
        provider. Each referrer's node and events in ``G`` are replaced by
        ``sub``'s (a referrer missing from ``sub`` is gone), members and
        providers take ``sub``'s attributes, and only these referrers'
        histories, metrics and suggestion-index entries are computed again;
        the practice-wide results (``AGGREGATES``) are dropped, to be computed
        when next asked. The result equals a full rebuild at ``version``
        (a test checks it, write after write). The caller makes sure nobody
        reads this analysis meanwhile (``graphsvc.live``).
        """
        ids = sorted(set(referrer_ids))
        layout = self.__dict__.pop("layout", None)
        if layout is not None:  # kept: the next layout moves only these referrers
            self._layout_before, self._layout_changed = layout, set(ids)
        elif getattr(self, "_layout_before", None) is not None:
            self._layout_changed |= set(ids)
        if self.options.as_of is not None:
            sub = graph_as_of(sub, self.options.as_of)
        G = self.G
        index = self.__dict__.get("index")
        for n, attrs in sub.nodes(data=True):
            if attrs.get("kind") in ("clinician", "staff", "provider"):
                if n in G:
                    # In place: the index and any reader hold these very dicts.
                    G.nodes[n].clear()
                    G.nodes[n].update(attrs)
                else:
                    G.add_node(n, **attrs)
                    if index is not None and attrs["kind"] != "provider":
                        index.members[n] = G.nodes[n]
        not_started = G.graph.get("not_started")
        for r in ids:
            if r in G and G.nodes[r].get("kind") == "referrer":
                if index is not None:
                    index.forget(r)
                G.remove_node(r)
            if not_started is not None:
                not_started.pop(r, None)
            if r in sub and sub.nodes[r].get("kind") == "referrer":
                G.add_node(r, **sub.nodes[r])
                G.add_edges_from(sub.out_edges(r, keys=True, data=True))
                if index is not None:
                    index.learn(r)
            elif not_started is not None and r in sub.graph.get("not_started", {}):
                not_started[r] = sub.graph["not_started"][r]
        present = [r for r in ids if r in G and G.nodes[r].get("kind") == "referrer"]
        o = self.options
        if "histories" in self.__dict__:
            for r in ids:
                self.histories.pop(r, None)
            if present:
                self.histories.update(stage_histories(G, present, window=o.window, stall_days=o.stall_days,
                                                      lapse_days=o.lapse_days, as_of=o.day()))
        if "metrics" in self.__dict__:
            for r in ids:
                self.metrics.pop(r, None)
            if present:
                self.metrics.update(referrer_metrics(G, present, window=o.window, as_of=o.day()))
        for name in self.AGGREGATES:
            self.__dict__.pop(name, None)
        self.version = version

    @property
    def weights(self) -> dict:
        """The suggestion weights in force: ``{"weights": (fit, trust, track), "decay", "source"}``
        (tuned on this practice by ``graphsvc evaluate --tune``, or the defaults)."""
        return self.G.graph.get("suggestion_weights") or in_force(None)

    def weights_note(self) -> dict:
        """The weights in force for people: ``fit``, ``trust``, ``track``, ``decay``, ``source`` and
        ``weighs_most`` (a sentence: which parts weigh most in this practice)."""
        from .analysis.tuning import weights_reason

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
        return out

    def referrer(self, referrer_id: str) -> dict:
        """Stage, history and metrics of one referrer; ``NotFound`` if unknown."""
        node = self._referrer_node(referrer_id)
        return {
            "id": referrer_id,
            "name": node["name"],
            "kind": node["referrer_kind"],
            "organization": node["organization"],
            "since": node["since"],
            "point_person_history": [{"clinician": c, "since": s, "until": u} for s, u, c in node["tenures"]],
            **self._history_of(referrer_id),
            "metrics": self._metrics_of(referrer_id),
        }

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

    def write_back(self, graph: Graph, batch_size: int | None = None, workers: int | None = None) -> int:
        """Store stage, metrics and the options used on every Referrer node; returns how many.

        Batches (``batch_size`` rows, default the ``batch_size`` setting) run
        ``workers`` at a time (default the ``import_workers`` setting): each
        touches only its own referrers, so they never wait on each other's locks.
        Beside ``analysed_at`` each node gets ``analysis_window``,
        ``analysis_stall_days``, ``analysis_lapse_days`` and ``analysis_as_of``.
        A referrer whose relationship had not started by ``as_of`` gets those
        too, and its stage and metrics are removed (left from an earlier
        analysis, they would say it had a stage on a day it did not exist);
        the count returned leaves it out.
        """
        began = time.perf_counter()
        analysed_at = datetime.now(UTC)
        rows = [{"id": r, "props": _flat(self.histories[r], self.metrics[r])} for r in self.histories]
        not_started = sorted(self.G.graph.get("not_started", {}))
        if not_started:
            blank = _unanalysed()
            rows += [{"id": r, "props": blank} for r in not_started]
        write_batches(graph, "write_back_referrers", rows, batch_size=batch_size or graph.settings.batch_size,
                      workers=workers or graph.settings.import_workers, analysed_at=analysed_at,
                      **self.options.stored())
        _log.info("write-back: stage and metrics stored on %d referrers, removed from %d not started yet "
                  "(%s) in %.1fs", len(rows) - len(not_started), len(not_started), self.options,
                  time.perf_counter() - began)
        return len(rows) - len(not_started)


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


def write_back_of(tx, referrer_ids, options: AnalysisOptions) -> int:
    """Store fresh stage, metrics and options on some referrers, read and written in ``tx``.

    The properties ``Insights.write_back`` stores, for these referrers only:
    computed on a projection of just them (``project(tx, referrers=...)``;
    per-referrer analysis gives the same answer on it as on the whole graph)
    made with the transaction's own reads, so it counts that transaction's
    uncommitted writes and commits or rolls back with them. A referrer not
    started by ``options.as_of`` has them removed, as in ``write_back``;
    unknown ids are skipped. Returns how many got a stage.
    """
    ids = sorted(set(referrer_ids))
    insights = Insights(projection.project(tx, referrers=ids), options)
    not_started = insights.G.graph.get("not_started", {})
    rows = []
    for r in ids:
        if r in not_started:
            rows.append({"id": r, "props": _unanalysed()})
        elif insights.G.nodes.get(r, {}).get("kind") == "referrer":
            rows.append({"id": r, "props": _flat(insights._history_of(r), insights._metrics_of(r))})
    tx.run(query("write_back_referrers"), rows=rows, analysed_at=datetime.now(UTC),
           **options.stored()).consume()
    return sum(1 for row in rows if row["id"] not in not_started)


def current_version(graph: Graph) -> int:
    return graph.read("graph_version", practice_id=PRACTICE_ID)[0]["version"]
