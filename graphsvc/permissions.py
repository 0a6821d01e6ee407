"""Who may do what: every permission rule of graphsvc, once.

``why_not(user, action, **context)`` is None when ``user`` (anything with a
``role`` and a ``clinician_id``: a signed-in account, or the
``graphsvc.service.Actor`` of a write) may do ``action``, else a sentence
saying why not; ``can`` is its yes/no. The web asks before it shows a form
or takes a request; the service asks again for every write, in the write's
own transaction, with what the database holds then (the referral a
clinician passes, the referrer it hands over).

Every role (``manager``, ``intake``, ``clinician``, ``analyst``) reads
every page and every API read; the actions beyond reading are ``ACTIONS``:

=======================  ======================================================
action                   who
=======================  ======================================================
``refresh``              manager (``?refresh=1``: a full rebuild of the analysis)
``manage_accounts``      manager
``view_audit``           manager
``run_queries``          manager, analyst (the query console, ``/console``)
``record_referral``      manager, intake (a referral and its assignment)
``record_pass``          manager, intake; a clinician for a referral addressed
                         to it (``addressed_to=<clinician id>``)
``record_introduction``  manager; a clinician for an introduction it makes
                         (``by_id=<member id>``)
``record_contact``       manager; a clinician for its own contact
                         (``member_id=<member id>``)
``hand_over``            manager; a clinician for a referrer it is the current
                         point person of (``point_person_id=<clinician id>``)
``record_referral_out``  manager
``record_status``        manager, intake; a clinician for a referral assigned to
                         it (``assigned_to=<clinician id>``)
``send_update``          manager, intake; a clinician to a referrer it is the
                         point person of (``point_person_id=<clinician id>``)
``work_on_rows``         manager; a clinician for the worklist rows of a referrer
                         it is the current point person of
                         (``point_person_id=<clinician id>``): assign, snooze,
                         mark done, reopen
``save_referrer``,       manager
``save_clinician``,
``save_staff``,
``save_provider``
``manage_vocabularies``  manager (add words to the vocabularies; an import's
                         ``--add-values`` too)
``merge_referrers``      manager (merge two records of one referrer)
``void_records``         manager (void a mistaken referral, introduction,
                         contact or referral out, with a reason; restore it)
=======================  ======================================================

An analyst writes nothing; it may run read-only queries in the console. The context keywords are the write's own fields
(``graphsvc.records``); a clinician's rule without its keyword is a no.
"""

from __future__ import annotations

ROLES = ("manager", "intake", "clinician", "analyst")

ACTIONS = ("refresh", "manage_accounts", "view_audit", "run_queries",
           "record_referral", "record_pass", "record_introduction", "record_contact", "record_referral_out",
           "hand_over", "save_referrer", "save_clinician", "save_staff", "save_provider", "work_on_rows",
           "record_status", "send_update", "manage_vocabularies", "merge_referrers",
           "void_records")

# What each action is, in words, for the reasons ``why_not`` gives.
_DOING = {
    "refresh": "start a full rebuild of the analysis (refresh)",
    "manage_accounts": "manage accounts",
    "view_audit": "read the audit log",
    "run_queries": "run queries in the console",
    "record_referral": "record referrals",
    "record_pass": "record passes",
    "record_introduction": "record introductions",
    "record_contact": "record contacts",
    "record_referral_out": "record referrals out",
    "hand_over": "hand a referrer over to another point person",
    "save_referrer": "add or change referrers",
    "save_clinician": "add or change clinicians",
    "save_staff": "add or change staff",
    "save_provider": "add or change outside providers",
    "work_on_rows": "assign, snooze or close worklist rows",
    "record_status": "record where referrals stand",
    "send_update": "send referrers their updates",
    "manage_vocabularies": "add words to the practice's vocabularies",
    "merge_referrers": "merge two records of one referrer",
    "void_records": "void and restore records",
}
# Actions an analyst may take besides a manager (it writes nothing).
_ANALYST = {"run_queries"}
# Actions intake may take besides a manager.
_INTAKE = {"record_referral", "record_pass", "record_status", "send_update"}
# Actions a clinician may take about itself: the context keyword that must be its clinician id,
# and the rule in words.
_CLINICIAN_OWN = {
    "record_pass": ("addressed_to", "record passes only of referrals addressed to it"),
    "record_introduction": ("by_id", "record only the introductions it makes"),
    "record_contact": ("member_id", "record only its own contacts"),
    "hand_over": ("point_person_id", "hand over only referrers it is the point person of"),
    "work_on_rows": ("point_person_id", "work only on the rows of referrers it is the point person of"),
    "record_status": ("assigned_to", "record statuses only of referrals assigned to it"),
    "send_update": ("point_person_id", "send updates only to referrers it is the point person of"),
}


def why_not(user, action: str, **context) -> str | None:
    """None if ``user`` (a ``User``, or anything with ``role`` and ``clinician_id``) may do ``action``;
    otherwise one sentence saying why not. ``ValueError`` for an action that is not in ``ACTIONS``.

    >>> from graphsvc.accounts import User
    >>> ana = User("ana", "clinician", "cn1", None)
    >>> why_not(ana, "record_contact", member_id="cn1") is None
    True
    >>> why_not(ana, "record_contact", member_id="cn2")
    'A clinician may record only its own contacts; you are clinician cn1.'
    >>> why_not(ana, "refresh")
    'Only a manager may start a full rebuild of the analysis (refresh); you are signed in as clinician.'
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; the actions are {', '.join(ACTIONS)}")
    role = getattr(user, "role", None)
    doing = _DOING[action]
    if role == "manager":
        return None
    if role not in ROLES:
        return f"Only a signed-in user may {doing}."
    if role == "intake" and action in _INTAKE:
        return None
    if role == "analyst" and action in _ANALYST:
        return None
    if role == "clinician" and action in _CLINICIAN_OWN:
        field, which = _CLINICIAN_OWN[action]
        mine = getattr(user, "clinician_id", None)
        if mine and context.get(field) == mine:
            return None
        return f"A clinician may {which}; you are clinician {mine or '(linked to no clinician)'}."
    allowed = (["a manager"] + (["an analyst"] if action in _ANALYST else [])
               + (["intake"] if action in _INTAKE else [])
               + (["a clinician (its own)"] if action in _CLINICIAN_OWN else []))
    who = allowed[0] if len(allowed) == 1 else ", ".join(allowed[:-1]) + " or " + allowed[-1]
    return f"Only {who} may {doing}; you are signed in as {role}."


def own_context(user, action: str) -> dict:
    """The context under which ``user`` might do ``action`` at all: a clinician's own rule about its own
    id (``{"addressed_to": "cn1"}``), else nothing. For refusing a role that may never do an action
    before the details are known; the details are checked with the real context later.

    >>> from graphsvc.accounts import User
    >>> own_context(User("ana", "clinician", "cn1", None), "record_pass")
    {'addressed_to': 'cn1'}
    >>> own_context(User("mo", "manager", None, None), "record_pass")
    {}
    """
    if getattr(user, "role", None) == "clinician" and action in _CLINICIAN_OWN:
        return {_CLINICIAN_OWN[action][0]: getattr(user, "clinician_id", None)}
    return {}


def can(user, action: str, **context) -> bool:
    """Whether ``user`` may do ``action`` (see ``why_not`` for the rules and the reason)."""
    return why_not(user, action, **context) is None
