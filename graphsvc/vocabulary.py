"""The closed vocabularies of the referral graph.

Every enum-like field in the graph draws from one of these tuples. They are
the single source of truth for validation (``graphsvc.records``), the seed
generator and the README.
"""

POPULATIONS = ("child", "adolescent", "adult", "older_adult", "couples", "family")

SCHEDULE_SLOTS = ("weekday_day", "weekday_evening", "weekend")

REFERRER_KINDS = ("physician", "pediatrician", "school_counselor", "clergy", "attorney", "other")

STAFF_ROLES = ("intake_coordinator", "office_manager", "billing", "other")

CONTACT_KINDS = (
    "lunch",
    "talk",
    "school_consult",
    "staffing",
    "case_consult",
    "site_visit",
    "follow_up",
    "update_sent",  # the referrer's update (its consenting clients' statuses) was sent: closes their loops
)

PASS_REASONS = ("scheduling", "insurance", "specialty", "other")

# A referral addressed to the practice as a whole uses this word in place of
# a member id.
PRACTICE = "practice"

# The one Practice node's id. graphsvc models a single practice per database.
PRACTICE_ID = "practice"

# The worklists (``graphsvc.analysis.worklists``), by the names their pages, API paths and tasks use.
WORKLIST_NAMES = ("new", "stalled", "ready", "lapsed", "follow-up", "unseen", "key-person-risk")

# What a person can do to a worklist row (``graphsvc.service.Service.act_on_row``), and the states a
# stored task can be in: ``open`` (worked on: assigned or snoozed), ``done`` (marked done with an
# outcome note), ``closed`` (its reason disappeared before it was done; the system closed it).
TASK_ACTIONS = ("assign", "snooze", "done", "reopen")
TASK_STATUSES = ("open", "done", "closed")

# Closing the loop with a referrer: where a referral stands. It is ``received`` on its own date, then
# moves along ``REFERRAL_PROGRESS`` (any step may be skipped), or ends in one of ``REFERRAL_ENDS``
# before a first visit; each status once, each with a date (``graphsvc.rules.status_problem``).
REFERRAL_PROGRESS = ("received", "contacted", "scheduled", "first_visit")
REFERRAL_ENDS = ("declined", "no_show", "referred_out")
REFERRAL_STATUSES = REFERRAL_PROGRESS + REFERRAL_ENDS
# The statuses a person records (``received`` is the referral's own date).
RECORDED_STATUSES = REFERRAL_STATUSES[1:]

# Whether the client agreed that the referrer be told how its referral went (the update).
CONSENT = ("yes", "no", "unknown")
