"""The practice's rules, each written once, on plain values.

Every part of graphsvc that needs one of these asks here: the analysis
(stages, suggestions, worklists, metrics), the checks a write or an import
goes through (``graphsvc.checks``), and the pages. Nothing here knows a
graph, a database or a request; each rule is a small function with its
examples.

* **The point person on a day** (``point_person_on``): the tenure begun by
  then; the current one is the last.
* **A colleague tried** (``tries_colleague``): a referral addressed to a
  clinician other than the referrer's point person *on that referral's
  date* (so a referral to a former point person, made while it held the
  role, is never a try).
* **Stage 3, the whole practice** (``whole_practice``, ``in_whole_practice``).
* **Ready for stage 3** (``ready_for_stage_3``, ``coordinator_to_introduce``).
* **What closes a follow-up** (``follow_up``).
* **Two records of one referrer merged** (``merged_tenures``): the point-person
  histories joined in date order.
* **Ids of parties** (``party_id_problem``): clinicians, staff members,
  referrers and outside providers share one id space; events keep their own.
* **One NPI, one party** (``npi_holder_problem``): a clinician, staff member
  or referrer may not carry an NPI another party holds.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from .vocabulary import PRACTICE, RECORDED_STATUSES, REFERRAL_ENDS, REFERRAL_PROGRESS, REFERRAL_STATUSES

# -- the point person ------------------------------------------------------------------------------


def point_person_on(tenures: Sequence[tuple], day: date | None = None):
    """The point person on ``day`` (None: now, the latest tenure's).

    ``tenures`` is a referrer's point-person history, ``[(since, until,
    clinician), ...]`` oldest first. A day before the first tenure is
    credited to the first point person.

    >>> from datetime import date
    >>> held = [(date(2023, 1, 1), date(2024, 1, 15), "ana"), (date(2024, 1, 15), None, "ben")]
    >>> point_person_on(held, date(2023, 6, 1)), point_person_on(held, date(2024, 1, 15)), point_person_on(held)
    ('ana', 'ben', 'ben')
    >>> point_person_on(held, date(2020, 1, 1)), point_person_on([])
    ('ana', None)
    """
    if not tenures:
        return None
    if day is None:
        return tenures[-1][2]
    starts = [t[0] for t in tenures]
    return tenures[max(bisect_right(starts, day) - 1, 0)][2]


def point_person_finder(tenures: Sequence[tuple]):
    """``point_person_on(tenures, day)`` as a function of ``day``, for many days of one referrer.

    >>> from datetime import date
    >>> on = point_person_finder([(date(2023, 1, 1), None, "ana")])
    >>> on(date(2022, 1, 1)), on(date(2025, 1, 1))
    ('ana', 'ana')
    """
    if len(tenures) < 2:  # most referrers: one point person whatever the day
        only = tenures[0][2] if tenures else None
        return lambda day: only
    starts = [t[0] for t in tenures]
    return lambda day: tenures[max(bisect_right(starts, day) - 1, 0)][2]


# -- stages ---------------------------------------------------------------------------------------


def tries_colleague(addressed_to, *, to_practice: bool, point_person) -> bool:
    """Whether a referral tries a colleague of the point person.

    ``to_practice``: addressed to the practice as a whole (the practice, or a
    staff member such as the intake coordinator); ``point_person``: who held
    the role on the referral's date (``point_person_on``).

    >>> tries_colleague("ben", to_practice=False, point_person="ana")
    True
    >>> tries_colleague("ana", to_practice=False, point_person="ana")   # the point person that day
    False
    >>> tries_colleague("st1", to_practice=True, point_person="ana")    # the intake coordinator: the practice
    False
    """
    return not to_practice and addressed_to != point_person


def whole_practice(recent: Sequence[bool], in_stage_3: bool) -> bool:
    """Whether a referrer is in stage 3 (whole practice) after its latest referral.

    Parameters
    ----------
    recent : sequence of bool
        Whether each of its last ``window`` referrals (all of them while it
        has fewer), the latest included, went to the practice as a whole.
    in_stage_3 : bool
        Whether it was in stage 3 before the latest referral.

    Returns
    -------
    bool
        Outside stage 3: whether at least half of ``recent`` went to the
        practice (it enters). In stage 3: whether any of ``recent`` did (it
        leaves only when none did).

    Examples
    --------
    >>> whole_practice([True, False], in_stage_3=False)   # half: enters
    True
    >>> whole_practice([True, False, False], in_stage_3=False)
    False
    >>> whole_practice([True, False, False], in_stage_3=True)  # one is enough to stay
    True
    >>> whole_practice([False, False, False], in_stage_3=True)
    False
    """
    hits = sum(map(bool, recent))
    if in_stage_3:
        return hits > 0
    return bool(recent) and 2 * hits >= len(recent)


def in_whole_practice(flags: Iterable[bool], window: int) -> bool:
    """Whether a referrer is in stage 3 after all its referrals (``whole_practice`` replayed).

    ``flags``: whether each of its referrals, in date order (ties by id), went to the practice as a whole.

    Examples
    --------
    >>> in_whole_practice([True, True, False, False, False], window=3)  # none left in the last 3
    False
    >>> in_whole_practice([True, True, False, False], window=3)  # 1 of the last 3: stays
    True
    >>> in_whole_practice([False, False, True], window=3)  # 1 of 3: never entered
    False
    """
    recent: deque = deque(maxlen=window)
    state = False
    for flag in flags:
        recent.append(flag)
        state = whole_practice(recent, state)
    return state


# -- ready for stage 3 ----------------------------------------------------------------------------

INTAKE_ROLE = "intake_coordinator"
READY_AFTER = 2  # colleagues tried before a referrer is ready for stage 3


def ready_for_stage_3(colleagues_tried: int, *, in_stage_3: bool, ready_after: int = READY_AFTER) -> bool:
    """Whether a referrer is ready to be introduced to the whole practice.

    It has tried at least ``ready_after`` distinct colleagues of its point
    person (``tries_colleague``) and is not in stage 3 yet
    (``in_whole_practice`` over the stage window).

    >>> ready_for_stage_3(2, in_stage_3=False), ready_for_stage_3(1, in_stage_3=False)
    (True, False)
    >>> ready_for_stage_3(3, in_stage_3=True)
    False
    """
    check_ready_after(ready_after)
    return colleagues_tried >= ready_after and not in_stage_3


def check_ready_after(ready_after: int) -> None:
    """``ValueError`` unless ``ready_after`` is at least 1 (a colleague tried)."""
    if ready_after < 1:
        raise ValueError(f"ready_after must be at least 1 (a colleague tried), not {ready_after}")


def coordinator_to_introduce(staff: Mapping[str, str | None], met: set, addressed_counts: Mapping[str, int]):
    """The staff member to introduce a referrer ready for stage 3 to, or None.

    ``staff``: each staff member's role, by id; ``met``: the members the
    referrer has met already (introduced to it, or named on one of its
    referrals); ``addressed_counts``: referrals addressed to each member,
    practice-wide. The intake coordinators when the practice has any (once
    they have all met the referrer, nobody: an office manager does not take
    referrals for the whole practice), else any staff member; among several,
    the one addressed the most referrals, then by id.

    >>> staff = {"st1": "intake_coordinator", "st2": "office_manager", "st3": "intake_coordinator"}
    >>> coordinator_to_introduce(staff, set(), {"st3": 4, "st1": 2})
    'st3'
    >>> coordinator_to_introduce(staff, {"st1", "st3"}, {}) is None
    True
    >>> coordinator_to_introduce({"st2": "office_manager"}, set(), {})  # no intake coordinator at all
    'st2'
    """
    pool = [m for m, role in staff.items() if role == INTAKE_ROLE] or list(staff)
    left = [m for m in pool if m not in met]
    if not left:
        return None
    return min(left, key=lambda m: (-addressed_counts.get(m, 0), m))


# -- follow-up ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FollowUp:
    """Where a referral's loop stands on a day.

    ``status``: ``"due"`` (open, still in time), ``"overdue"`` (open, past
    ``due``), ``"on_time"`` or ``"late"`` (closed by the follow-up of
    ``closed_on``, by ``due`` or after it).
    """

    status: str
    due: date
    closed_on: date | None = None

    @property
    def open(self) -> bool:
        return self.closed_on is None


def follow_up(referred_on: date, follow_ups: Sequence[date], *, due_days: int, as_of: date) -> FollowUp:
    """What closes a referral's loop: any follow-up contact with its referrer on or after its date.

    ``follow_ups``: the dates of the referrer's ``follow_up`` contacts,
    sorted. The first one on or after the referral (and by ``as_of``: a later
    one has not happened on the day judged) closes the loop; after the due
    day (``referred_on + due_days``) it closes it late. One follow-up closes
    every referral of that referrer made before it.

    >>> from datetime import date
    >>> day, ups = date(2024, 12, 1), [date(2024, 11, 20), date(2024, 12, 20)]
    >>> follow_up(day, ups, due_days=14, as_of=date(2024, 12, 10)).status   # the 11-20 one came before
    'due'
    >>> follow_up(day, ups, due_days=14, as_of=date(2024, 12, 19)).status
    'overdue'
    >>> follow_up(day, ups, due_days=14, as_of=date(2024, 12, 31))
    FollowUp(status='late', due=datetime.date(2024, 12, 15), closed_on=datetime.date(2024, 12, 20))
    >>> follow_up(day, ups, due_days=30, as_of=date(2024, 12, 31)).status
    'on_time'
    """
    due = referred_on + timedelta(days=due_days)
    i = bisect_left(follow_ups, referred_on)
    if i < len(follow_ups) and follow_ups[i] <= as_of:
        closed = follow_ups[i]
        return FollowUp("on_time" if closed <= due else "late", due, closed)
    return FollowUp("due" if as_of <= due else "overdue", due)


# -- closing the loop: where a referral stands -------------------------------------------------------------


def current_status(referred_on: date, statuses: dict) -> tuple[str, date]:
    """A referral's status now and since when: the furthest of ``statuses`` (``{status: date}``, as
    recorded) along ``REFERRAL_STATUSES``'s order, else ``received`` on its own date.

    >>> from datetime import date
    >>> current_status(date(2024, 5, 2), {"contacted": date(2024, 5, 3), "scheduled": date(2024, 5, 6)})
    ('scheduled', datetime.date(2024, 5, 6))
    >>> current_status(date(2024, 5, 2), {})
    ('received', datetime.date(2024, 5, 2))
    """
    for status in reversed(REFERRAL_STATUSES):
        if statuses.get(status) is not None:
            return status, statuses[status]
    return "received", referred_on


def status_problem(referred_on: date, statuses: dict, status: str, day: date) -> str | None:
    """Why a referral (dated ``referred_on``, with ``statuses`` so far) cannot move to ``status`` on
    ``day``, or None. The messages name the request's field (``status`` or ``date``).

    A referral moves forward along ``REFERRAL_PROGRESS`` (received, contacted,
    scheduled, first visit; a step may be skipped) or ends (declined, no show,
    referred out) before a first visit; each status once, dated on or after
    the referral and the status before it.

    >>> from datetime import date
    >>> day = date(2024, 5, 2)
    >>> status_problem(day, {"scheduled": date(2024, 5, 6)}, "contacted", date(2024, 5, 7))
    "field 'status': the referral is scheduled already (since 2024-05-06); contacted comes before that"
    >>> status_problem(day, {"scheduled": date(2024, 5, 6)}, "first_visit", date(2024, 5, 5))
    "field 'date': 2024-05-05 is before the referral's last status (scheduled on 2024-05-06)"
    >>> status_problem(day, {}, "contacted", date(2024, 5, 1))
    "field 'date': 2024-05-01 is before the referral (2024-05-02)"
    >>> status_problem(day, {"first_visit": date(2024, 5, 9)}, "no_show", date(2024, 5, 10))
    "field 'status': the referral had its first visit already (2024-05-09); it can no longer end as no_show"
    >>> status_problem(day, {"contacted": date(2024, 5, 3)}, "no_show", date(2024, 5, 9)) is None
    True
    """
    if status not in RECORDED_STATUSES:
        return (f"field 'status': must be one of {', '.join(RECORDED_STATUSES)} (received is the referral's "
                f"own date)")
    now, since = current_status(referred_on, statuses)
    if now in REFERRAL_ENDS:
        return f"field 'status': the referral ended already ({now} on {since})"
    if statuses.get(status) is not None:
        return f"field 'status': the referral was {status} already (on {statuses[status]})"
    if status in REFERRAL_ENDS:
        if now == "first_visit":
            return (f"field 'status': the referral had its first visit already ({since}); it can no longer end "
                    f"as {status}")
    elif REFERRAL_PROGRESS.index(status) < REFERRAL_PROGRESS.index(now):
        return f"field 'status': the referral is {now} already (since {since}); {status} comes before that"
    if day < referred_on:
        return f"field 'date': {day} is before the referral ({referred_on})"
    if now != "received" and day < since:
        return f"field 'date': {day} is before the referral's last status ({now} on {since})"
    return None


# The referrals a referrer's update tells about: those of the last this many days whose client agreed.
UPDATE_DAYS = 90


def in_update(referred_on: date, consent: str, day: date, days: int = UPDATE_DAYS) -> bool:
    """Whether a referral goes in its referrer's update sent on ``day``: its client agreed (``consent``
    ``yes``) and it is dated within the ``days`` before (``day - days <= referred_on <= day``).

    >>> from datetime import date
    >>> in_update(date(2024, 10, 2), "yes", date(2024, 12, 31)), in_update(date(2024, 10, 1), "yes", date(2024, 12, 31))
    (True, False)
    >>> in_update(date(2024, 12, 20), "unknown", date(2024, 12, 31))
    False
    """
    return consent == "yes" and day - timedelta(days=days) <= referred_on <= day


# -- parties and their ids ----------------------------------------------------------------------------

# The record kinds that are parties (nodes of the analysed graph, keyed by id), and how people call them.
PARTY_KINDS = {"clinician": "clinician", "staff": "staff member", "referrer": "referrer",
               "external_provider": "outside provider", "merged_referrer": "merged referrer"}


def merged_tenures(kept: Sequence[tuple], merged: Sequence[tuple]) -> list[tuple]:
    """The point-person history of a referrer whose second record (``merged``) is merged into ``kept``.

    Each is ``[(since, clinician), ...]``. The two histories are joined in
    date order; on a day both begin a tenure, the kept record's stands; a
    tenure that goes on with the same clinician is one tenure (the earlier
    start). So the current point person is whoever the later handoff of the
    two records named.

    >>> d = date.fromisoformat
    >>> merged_tenures([(d("2023-03-01"), "cn1"), (d("2024-01-15"), "cn2")],
    ...                [(d("2022-05-01"), "cn1"), (d("2024-01-15"), "cn3"), (d("2024-06-01"), "cn4")])
    [(datetime.date(2022, 5, 1), 'cn1'), (datetime.date(2024, 1, 15), 'cn2'), (datetime.date(2024, 6, 1), 'cn4')]
    """
    by_day = {since: clinician for since, clinician in merged}
    by_day.update({since: clinician for since, clinician in kept})
    out: list[tuple] = []
    for since in sorted(by_day):
        if not out or out[-1][1] != by_day[since]:
            out.append((since, by_day[since]))
    return out


def party_id_problem(kind: str, party_id: str, held_by: str | None) -> str | None:
    """Why ``party_id`` cannot be the id of a new ``kind`` of party, or None.

    ``held_by`` is the kind of party that already holds the id (None: none).
    Clinicians, staff members, referrers and outside providers share one id
    space (the analysis keys them all by id), and ``"practice"`` names the
    practice itself.

    >>> party_id_problem("external_provider", "cn001", "clinician")
    "field 'id': 'cn001' is already a clinician's id; an outside provider needs an id of its own"
    >>> party_id_problem("referrer", "rf1", "referrer") is None   # the same kind: an update
    True
    >>> party_id_problem("staff", "practice", None)
    "field 'id': 'practice' is reserved for the practice itself (referrals addressed to it)"
    """
    if party_id == PRACTICE:
        return f"field 'id': {PRACTICE!r} is reserved for the practice itself (referrals addressed to it)"
    if held_by is None or held_by == kind:
        return None
    return (f"field 'id': {party_id!r} is already {_a(PARTY_KINDS[held_by])}'s id; "
            f"{_a(PARTY_KINDS[kind])} needs an id of its own")


def npi_holder_problem(npi: str, party_id: str, holder_id: str | None, holder_kind: str | None,
                       where: str = "") -> str | None:
    """Why party ``party_id`` cannot carry ``npi``, or None: another party (``holder_id``, a ``holder_kind``)
    holds it. ``where`` says where the holder was met (", line 3 of referrers.csv"), if not in the graph.

    >>> npi_holder_problem("1234567893", "rf2", "cn1", "clinician")
    "field 'npi': 1234567893 is already the NPI of clinician 'cn1'; one NPI belongs to one party"
    >>> npi_holder_problem("1234567893", "rf2", "rf2", "referrer") is None   # its own
    True
    """
    if holder_id is None or holder_id == party_id:
        return None
    return (f"field 'npi': {npi} is already the NPI of {PARTY_KINDS.get(holder_kind, holder_kind)} "
            f"{holder_id!r}{where}; one NPI belongs to one party")


def _a(noun: str) -> str:
    return ("an " if noun[0] in "aeiou" else "a ") + noun
