"""Take the README's and the docs' screenshots from a running graphsvc with the demo practice.

The pictures land in docs/img/ as PNG files, 1280 px wide, one browser
window each (not the whole page), so each stays small.

How to run it, from the top of a checkout, without touching your own
database (a private Neo4j on its own ports and folders)::

    make install
    export GRAPHSVC_CONFIG=/dev/null GRAPHSVC_DATA_DIR=/tmp/docs-neo4j \
           GRAPHSVC_BOLT_PORT=17687 GRAPHSVC_HTTP_PORT=17474 GRAPHSVC_BROWSER=false \
           GRAPHSVC_ACCOUNTS_DB=/tmp/docs-accounts.sqlite3 GRAPHSVC_SNAPSHOT_DIR=/tmp/docs-snap \
           GRAPHSVC_LOG_FILE=/tmp/docs.log
    .venv/bin/graphsvc db start --new
    .venv/bin/python -m seed --out /tmp/docs-demo --seed 42 --quiet
    .venv/bin/graphsvc import /tmp/docs-demo
    .venv/bin/graphsvc user demo          # prints the manager's password, once
    .venv/bin/graphsvc analyze
    .venv/bin/graphsvc serve --port 15000 &

    printf '%s\\n%s\\n' "$MANAGER_PASSWORD" "$CLINICIAN_PASSWORD" |
        .venv/bin/python docs/screenshots.py --base-url http://127.0.0.1:15000

The passwords (the demo's ``manager``, then its ``clinician``) are read from
the first two lines of standard input (or asked for on a terminal), never
from the command line; without the second, the clinician's page is skipped. Then stop the server, run
``.venv/bin/graphsvc db stop`` with the same environment, and delete the
/tmp/docs-* folders.

It drives Debian's Chromium (``/usr/bin/chromium``, or ``--chromium PATH``)
through Playwright, installed with the dev extras (``pip install -e '.[dev]'``);
Playwright's own browser download is not needed.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

HERE = Path(__file__).resolve().parent
WIDTH, HEIGHT = 1280, 800
SEARCH_TEXT = "Jack"  # a few letters of the demo's Dr. Tamara Jackson (a clinician's name holds them too)


def read_passwords() -> tuple[str, str]:
    """The manager's password, then the clinician's (empty: no clinician pictures)."""
    if sys.stdin.isatty():
        return getpass.getpass("Manager's password: "), getpass.getpass("Clinician's password (empty: skip): ")
    return sys.stdin.readline().rstrip("\n"), sys.stdin.readline().rstrip("\n")


def sign_in(page: Page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("networkidle")
    if page.url.rstrip("/").endswith("/login"):
        sys.exit(f"could not sign in as {username} at {base}/login")


def scroll_to(page: Page, selector: str, above: int = 10) -> None:
    """Scroll so that the first element matching ``selector`` sits ``above`` px below the window's top."""
    page.evaluate("([selector, above]) => window.scrollBy(0, document.querySelector(selector)"
                  ".getBoundingClientRect().top - above)", [selector, above])
    page.wait_for_timeout(300)


def scroll_to_heading(page: Page, text: str, above: int = 10) -> None:
    """Scroll so that the h2 starting with ``text`` sits ``above`` px below the window's top."""
    page.evaluate("([text, above]) => window.scrollBy(0, [...document.querySelectorAll('h2')]"
                  ".find(h => h.textContent.startsWith(text)).getBoundingClientRect().top - above)", [text, above])
    page.wait_for_timeout(300)


def shoot(page: Page, out: Path, name: str) -> None:
    if page.url.split("?")[0].rstrip("/").endswith("/login"):
        sys.exit(f"{name}: the session ended (the page is {page.url})")
    path = out / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    print(f"{path} ({path.stat().st_size // 1024} KB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:15000")
    parser.add_argument("--user", default="manager", help="a manager account (default: the demo's manager)")
    parser.add_argument("--clinician-user", default="clinician",
                        help="a clinician account (default: the demo's clinician)")
    parser.add_argument("--out", type=Path, default=HERE / "img")
    parser.add_argument("--chromium", default=os.environ.get("GRAPHSVC_CHROMIUM", "/usr/bin/chromium"))
    args = parser.parse_args()
    base = args.base_url.rstrip("/")
    password, clinician_password = read_passwords()
    args.out.mkdir(parents=True, exist_ok=True)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
        sign_in(page, base, args.user, password)

        # Today: the few things most worth doing now, each with its one-click actions.
        page.goto(f"{base}/today")
        page.wait_for_load_state("networkidle")
        shoot(page, args.out, "today")

        # The dashboard: worklist counts and the charts.
        page.goto(f"{base}/dashboard")
        page.wait_for_selector("canvas[data-drawn='1']", timeout=15_000)
        page.wait_for_timeout(500)  # Chart.js animates
        shoot(page, args.out, "dashboard")
        # ... and further down, its charts: the stage funnel now and the referrers in each stage.
        page.wait_for_selector("#chart-stages[data-drawn='1']", timeout=15_000)
        scroll_to(page, "figure.chart")
        shoot(page, args.out, "dashboard-charts")

        # Pages shot as they open: a worklist of stalled referrers, each with why and the next step; the
        # follow-up worklist (how the recent referrals' loops stand, then the open ones); the clinicians,
        # each with its referrers by stage; the practice's vocabularies, built-in and added words.
        for path, name in (("/worklists/stalled", "worklist-stalled"), ("/worklists/follow-up", "worklist-follow-up"),
                           ("/clinicians", "clinicians"), ("/settings/vocabularies", "vocabularies")):
            page.goto(f"{base}{path}")
            page.wait_for_load_state("networkidle")
            shoot(page, args.out, name)
        page.goto(f"{base}/worklists/stalled")
        page.wait_for_load_state("networkidle")

        # The first stalled referrer's page, scrolled to its suggestions.
        first = page.locator("main table a[href^='/referrers/']").first.get_attribute("href")
        page.goto(f"{base}{first}")
        page.wait_for_selector("#ego-network[data-drawn]", timeout=15_000)
        scroll_to_heading(page, "Next colleague to introduce")
        shoot(page, args.out, "referrer-suggestions")
        page.evaluate("window.scrollTo(0, 0)")
        page.wait_for_timeout(300)
        shoot(page, args.out, "referrer")

        # The network: one point person's group, named, then the whole network (fetched from /api/network);
        # both drawn by Cytoscape.js in the browser.
        for path, name in (("/network", "network"), ("/network?whole=1", "network-whole")):
            page.goto(f"{base}{path}")
            page.wait_for_selector("#network[data-drawn]", timeout=30_000)
            page.wait_for_timeout(1000)
            shoot(page, args.out, name)

        # The header's search box, its matches open under it as one types.
        page.goto(f"{base}/today")
        page.wait_for_load_state("networkidle")
        page.get_by_label("Search referrers, clinicians, staff and outside providers").press_sequentially(
            SEARCH_TEXT, delay=50)
        page.wait_for_selector(f"form.site-search[data-answered='{SEARCH_TEXT}']", timeout=15_000)
        page.wait_for_timeout(300)
        shoot(page, args.out, "search")

        # The console: the analysts' library, one saved query with its typed inputs.
        page.goto(f"{base}/console?query=stalled_referrers_by_point_person")
        page.wait_for_load_state("networkidle")
        shoot(page, args.out, "console")
        # ... and a saved query's answer, as a table.
        page.goto(f"{base}/console?query=referrers_by_stage_and_kind")
        page.get_by_role("button", name="Run").first.click()
        page.wait_for_load_state("networkidle")
        scroll_to_heading(page, "The answer")
        shoot(page, args.out, "console-answer")

        if clinician_password:
            # A point person's start page: My referrers, with what to do next.
            context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
            page = context.new_page()
            sign_in(page, base, args.clinician_user, clinician_password)
            page.goto(f"{base}/")
            page.wait_for_load_state("networkidle")
            shoot(page, args.out, "my-referrers")
            context.close()

        browser.close()


if __name__ == "__main__":
    main()
