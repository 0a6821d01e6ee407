"""Browser tests: Playwright (pytest-playwright, sync API) driving a real Chromium against the real app.

Playwright's own browser download (``playwright install``) is not used: the
tests drive the system's Chromium, found by ``find_chromium()`` in this order:
``$GRAPHSVC_CHROMIUM`` (when set, it alone is tried), ``chromium`` or
``chromium-browser`` on ``PATH``, ``/usr/bin/chromium``. Without one, every
test here is skipped, the reason saying how to get one, and the run's summary
ends with one line saying whether the browser tests ran and with which
Chromium (``pytest_terminal_summary`` below).

Every test here is marked ``browser`` (``-m "not browser"`` leaves them out),
and ``neo4j`` too by tests/conftest.py, since ``live_server`` serves ``app``.
They run after the rest of the suite, so that the one Chromium of the
session (pytest-playwright's session-scoped ``browser``) is not kept open
through it.

Fixtures:

``live_server``
    the app of tests/conftest.py's ``app`` (the test Neo4j holding the small
    fixture practice, the ``web_accounts`` users, password ``PASSWORD``),
    served over HTTP on 127.0.0.1 on a free port by a thread; its base URL.
``shot``
    ``shot(page, name)`` saves a PNG of the whole page as
    ``test-results/<test id>/<nn>-<name>.png``: pytest-playwright's output
    folder (``--output``, default ``test-results`` in the directory pytest
    runs from, gitignored), which pytest-playwright empties at the start of
    each run. CI can keep that folder as the run's artifacts.
``console``
    ``console(context)``: a ``ConsoleLog`` of every console message and
    uncaught error of that browser context's pages (``errors`` leaves out
    the ``TOLERATED`` ones, none today).
``sign_in_page``
    ``sign_in_page(page, base_url, username)``: signs in through ``/login``
    the way a person does (fills the form, presses "Sign in").

pytest-playwright's ``browser_type_launch_args`` is overridden to launch
that Chromium headless (``--no-sandbox`` when running as root, where
Chromium's sandbox refuses to start).
"""

from __future__ import annotations

import itertools
import os
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import PASSWORD
from tests.helpers import fixture_path

HERE = Path(__file__).resolve().parent
HOW_TO_GET_ONE = "apt-get install chromium, or set GRAPHSVC_CHROMIUM"


def find_chromium() -> tuple[str | None, str]:
    """(the Chromium executable to drive, or None; why none was found)."""
    told = os.environ.get("GRAPHSVC_CHROMIUM")
    if told:
        found = shutil.which(told)
        if found:
            return found, ""
        return None, f"GRAPHSVC_CHROMIUM={told} is not an executable ({HOW_TO_GET_ONE})"
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found, ""
    if os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium", ""
    return None, f"no Chromium found ({HOW_TO_GET_ONE})"


CHROMIUM, NO_CHROMIUM = find_chromium()
# The node ids of the browser tests collected in this run, and why they are all skipped (None: they run).
_COLLECTED = pytest.StashKey[set]()
_SKIPPED_BECAUSE = pytest.StashKey["str | None"]()


def _is_here(item) -> bool:
    return Path(str(item.path)).resolve().is_relative_to(HERE)


# A wrapper: the markers are added before any plugin's hook runs (so `-m` sees them), and the
# browser tests are put last after all have run (pytest itself regroups the tests by their
# parametrized session fixtures, pytest-playwright's browser_name among them).
@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(config, items):
    # A conftest's collection hook sees the items of the whole run: only those of this folder.
    mine = [item for item in items if _is_here(item)]
    config.stash[_COLLECTED] = {item.nodeid for item in mine}
    if not config.pluginmanager.hasplugin("playwright"):
        why = "pytest-playwright is not installed (.venv/bin/pip install -e '.[dev]')"
    elif CHROMIUM is None:
        why = NO_CHROMIUM
    else:
        why = None
    config.stash[_SKIPPED_BECAUSE] = why
    for item in mine:
        item.add_marker(pytest.mark.browser)
        item.add_marker(pytest.mark.slow)  # one Chromium for the session, pages drawn and measured
        if why:
            item.add_marker(pytest.mark.skip(reason=f"browser tests: {why}"))
    result = yield
    # Last, so that the session's one Chromium starts after the rest of the suite has run.
    items[:] = [item for item in items if not _is_here(item)] + [item for item in items if _is_here(item)]
    return result


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """One plain line: whether the browser tests ran, and with which Chromium (none when none were run)."""
    collected = config.stash.get(_COLLECTED, set())
    reports = [r for key in ("passed", "failed", "error", "skipped")
               for r in terminalreporter.stats.get(key, []) if getattr(r, "nodeid", None) in collected]
    if not reports:
        return  # none of them selected (-k, -m, or another folder)
    ran = len({r.nodeid for r in reports if r.when == "call"})
    skipped = len({r.nodeid for r in reports if r.skipped and r.when != "call"})
    why = config.stash.get(_SKIPPED_BECAUSE, None)
    if why:
        terminalreporter.write_line(f"browser tests: SKIPPED - {why}")
    else:
        terminalreporter.write_line(f"browser tests: {ran} ran with {CHROMIUM}"
                                    + (f", {skipped} skipped" if skipped else ""))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright's launch options (``--headed``, ``--slowmo``, ...), with the system's Chromium."""
    args = ["--disable-dev-shm-usage"]  # containers often have a tiny /dev/shm
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")  # Chromium's sandbox does not start as root
    return {**browser_type_launch_args, "executable_path": CHROMIUM,
            "args": [*browser_type_launch_args.get("args", []), *args]}


@pytest.fixture
def live_server(app, graph):
    """The base URL (``http://127.0.0.1:<port>``) of ``app`` served over HTTP, the small fixture practice loaded."""
    from tests.helpers import import_folder

    import_folder(graph, fixture_path("small"))
    # Port 0: the system picks a free port when the socket is bound, so no other process can take it first.
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live_server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()  # serve_forever returns; requests being answered finish in their own threads
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture
def shot(output_path):
    """``shot(page, name)``: a full-page PNG at ``test-results/<test id>/<nn>-<name>.png`` (its path)."""
    numbers = itertools.count(1)

    def take(page, name: str) -> Path:
        path = Path(output_path) / f"{next(numbers):02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


# Console errors not counted: (start of the text, end of the URL it is about). Chromium asks every
# page's server for /favicon.ico unless the page names an icon; the site has none yet (a 404).
# Drop this once templates/base.html names one, e.g. <link rel="icon" href="data:,">.
# Console errors a page may show without failing a test (none: base.html's data: icon spares the
# /favicon.ico request Chromium would otherwise make, and its 404).
TOLERATED: list[tuple[str, str]] = []


@dataclass
class ConsoleLog:
    """Every console message and uncaught page error of a browser context.

    ``messages`` are (type, text, URL): the URL of the resource a message is
    about ("Failed to load resource", a CSP report), else of the page.
    """

    messages: list[tuple[str, str, str]] = field(default_factory=list)

    def attach(self, context) -> ConsoleLog:
        context.on("console", self._console)
        context.on("weberror", lambda e: self.messages.append(("pageerror", str(e.error),
                                                               e.page.url if e.page else "")))
        return self

    def _console(self, message) -> None:
        url = message.location.get("url") or (message.page.url if message.page else "")
        self.messages.append((message.type, message.text, url))

    @property
    def errors(self) -> list[tuple[str, str]]:
        """(text, URL) of the console errors and uncaught errors, but those in ``TOLERATED``."""
        return [(text, url) for kind, text, url in self.messages if kind in ("error", "pageerror")
                and not any(text.startswith(start) and url.endswith(end) for start, end in TOLERATED)]

    @property
    def csp_violations(self) -> list[tuple[str, str]]:
        """(text, URL) of Chromium's Content-Security-Policy reports ("Refused to ..."), of any level."""
        return [(text, url) for _, text, url in self.messages
                if text.startswith("Refused to") or "Content Security Policy" in text]


@pytest.fixture
def console():
    """``console(context)``: a ``ConsoleLog`` collecting from then on."""
    return lambda context: ConsoleLog().attach(context)


def sign_in_through_form(page, base_url: str, username: str, password: str = PASSWORD):
    """Open ``/login``, fill the form as a person does, press "Sign in"; the answer to the form's POST."""
    page.goto(f"{base_url}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Sign in").click()
    return navigation.value


@pytest.fixture
def sign_in_page():
    """``sign_in_page(page, base_url, username, password=PASSWORD)`` (``sign_in_through_form``)."""
    return sign_in_through_form
