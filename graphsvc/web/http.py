"""What the web holds every request and response to: limits, headers, how long a session lasts.

A module of its own (rather than ``graphsvc.web``'s) so that the modules of
the web, the OpenAPI document among them, can name them without importing
the app factory.
"""

from __future__ import annotations

from datetime import timedelta

# A page waits at most this long for a Neo4j that went away, then says so.
WEB_RETRY_SECONDS = 1
# A write through the web (its retries, connecting and every statement included) starts no statement later than
# this many seconds after it began; past it, it is rolled back and answered 503, nothing written
# (``Graph.connect``'s ``wait_seconds``). A restarting server holds a statement about a second before it says
# "unavailable", and a statement still unanswered 0.8 s past the bound has its connection shut (never a commit:
# ``store.db._Watchdog``), so a write answers within 2 s whatever Neo4j is doing. A healthy write
# takes 30 ms at the demo's size and about 230 ms at 100,000 referrers; the first writes after a restart plan
# their statements afresh and may meet the bound once.
WEB_WAIT_SECONDS = 1.0

# The largest request body taken, in bytes: a POST /api/match is a few hundred
# bytes, and the pages take none. Past it a 413 (JSON under /api/, a page
# elsewhere), before the body is read.
MAX_CONTENT_LENGTH = 64 * 1024


# On every response. The pages use no inline script or style (tests hold the templates to it).
SECURITY_HEADERS = {
    "Content-Security-Policy": ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
SERVER = "graphsvc"  # the Server header: no name or version of the software underneath
# The default of web.session_max_hours: a session (and its cookie) ends this long after signing in.
SESSION_LIFETIME = timedelta(hours=12)
