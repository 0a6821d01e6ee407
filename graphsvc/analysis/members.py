"""What each practice member did and holds: its referrers, passes, introductions and outreach.

``member_activity`` walks every event once and files it under the members it
concerns, for the clinician pages: the referrers a member is the current
point person of, the referrals it passed on and took over, the introductions
it made and the ones made of it, and its contacts with referrers (outreach).
Nothing here touches the database.
"""

from __future__ import annotations

from .referrals import current_point_person


def member_activity(G) -> dict:
    """Per member (clinicians and staff): its referrers and its events, newest first.

    Parameters
    ----------
    G : networkx.MultiDiGraph
        A referral graph (``graphsvc.analysis.graph``).

    Returns
    -------
    dict
        Keyed by member: ``point_person_for`` (referrer ids, sorted),
        ``passes_made`` (referrals addressed to it and assigned to a
        colleague) and ``passes_received`` (assigned to it, addressed to a
        colleague or the practice, with a pass reason), each a list of
        ``{"date", "referral", "referrer", "from", "to", "reason"}``;
        ``introductions_made`` (``{"date", "introduction", "referrer",
        "member"}``, the member introduced); ``introduced`` (introductions
        of it, ``"by"`` in place of ``"member"``); ``contacts``
        (``{"date", "contact", "referrer", "kind"}``). Lists are newest
        first, ties by id.

    Examples
    --------
    >>> from datetime import date
    >>> from graphsvc.analysis import graph as p
    >>> G = p.new_graph()
    >>> p.add_member(G, "ana"); p.add_member(G, "ben")
    >>> p.add_referrer(G, "drx", point_person="ana", since=date(2024, 1, 1))
    >>> p.add_referral(G, "drx", "r1", date(2024, 2, 1), "ana", "ben", pass_reason="insurance")
    >>> p.add_introduction(G, "drx", "i1", date(2024, 3, 1), "ben", by="ana")
    >>> p.add_contact(G, "drx", "c1", date(2024, 3, 2), "ana", kind="lunch")
    >>> a = member_activity(G)
    >>> a["ana"]["point_person_for"], [x["referral"] for x in a["ana"]["passes_made"]]
    (['drx'], ['r1'])
    >>> a["ben"]["passes_received"][0]["reason"], a["ben"]["introduced"][0]["by"], a["ana"]["contacts"][0]["kind"]
    ('insurance', 'ana', 'lunch')
    """
    members = [n for n, kind in G.nodes(data="kind") if kind in ("clinician", "staff")]
    out = {m: {"point_person_for": [], "passes_made": [], "passes_received": [], "introductions_made": [],
               "introduced": [], "contacts": []} for m in members}
    for r, kind in G.nodes(data="kind"):
        if kind != "referrer":
            continue
        current = current_point_person(G, r)
        if current in out:
            out[current]["point_person_for"].append(r)
        for _, target, key, data in G.out_edges(r, keys=True, data=True):
            kind_of = data["type"]
            if kind_of == "referral":
                reason = data.get("pass_reason")
                if not reason:
                    continue  # a pass is a referral with a pass reason (as in practice.clinician_sharing)
                addressed = data["addressed_to"]
                event = {"date": data["date"], "referral": key, "referrer": r, "from": addressed, "to": target,
                         "reason": reason}
                if addressed in out:
                    out[addressed]["passes_made"].append(event)
                if target in out:
                    out[target]["passes_received"].append(event)
            elif kind_of == "introduction":
                by = data.get("by")
                if by in out:
                    out[by]["introductions_made"].append({"date": data["date"], "introduction": key, "referrer": r,
                                                          "member": target})
                if target in out:
                    out[target]["introduced"].append({"date": data["date"], "introduction": key, "referrer": r,
                                                      "by": by})
            elif kind_of == "contact" and target in out:
                out[target]["contacts"].append({"date": data["date"], "contact": key, "referrer": r,
                                                "kind": data.get("contact_kind")})
    for activity in out.values():
        activity["point_person_for"].sort()
        for name in ("passes_made", "passes_received", "introductions_made", "introduced", "contacts"):
            id_key = {"passes_made": "referral", "passes_received": "referral", "introductions_made": "introduction",
                      "introduced": "introduction", "contacts": "contact"}[name]
            activity[name].sort(key=lambda e: (e["date"], e[id_key]), reverse=True)
    return out
