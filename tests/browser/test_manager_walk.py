"""The walk of the issue, in a real Chromium: what a manager and a clinician do each week.

Manager: sign in -> the dashboard's charts are drawn -> the stalled worklist ->
a referrer -> record an introduction -> its suggestions change -> the network
page draws its nodes -> a worklist downloads as CSV. Clinician: sign in -> My
referrers -> a manager-only page answers 403. Then the pages at 400 px wide, by
keyboard, with labels and contrast checked.

The app judges on 2024-12-31 (the ``app`` fixture's ``ANALYSIS_AS_OF``), so
the introduction is dated before it. Screenshots of each step land in
test-results/<test id>/.
"""

from __future__ import annotations

import csv
import io

import pytest


def clean(log) -> None:
    assert log.csp_violations == []
    assert log.errors == []


def test_a_managers_week(page, live_server, console, sign_in_page, shot):
    log = console(page.context)
    assert sign_in_page(page, live_server, "manager").status == 200
    assert page.get_by_role("heading", level=1).inner_text() == "Dashboard"
    for chart in ("chart-funnel", "chart-stages", "chart-breadth", "chart-referrals"):
        page.wait_for_selector(f"canvas#{chart}[data-drawn='1']", timeout=10_000)
    drawn = page.evaluate("Chart.getChart(document.getElementById('chart-funnel')).data.datasets[0].data")
    assert drawn == [0, 2, 0, 1]  # referrers in stages 0..3 on 2024-12-31
    shot(page, "dashboard")
    clean(log)

    with page.expect_navigation():
        page.get_by_role("link", name="Stalled referrers").first.click()
    assert page.url == f"{live_server}/worklists/stalled"
    assert page.locator("table.worklist tbody tr").count() == 1
    shot(page, "stalled")

    with page.expect_navigation():
        page.locator("table.worklist").get_by_role("link", name="Ms. Vega", exact=True).click()
    assert page.url == f"{live_server}/referrers/rf2"
    page.wait_for_selector("#ego-network[data-drawn='4']", timeout=10_000)  # rf2 and 3 members
    suggested = page.locator("ol.suggestions > li > b").all_inner_texts()
    assert suggested == ["Cleo Park"]  # the one colleague rf2 has not met (not accepting new clients)
    shot(page, "referrer-before")
    clean(log)

    with page.expect_navigation():
        page.get_by_role("link", name="Record an introduction").click()
    page.get_by_label("Date").fill("2024-12-15")
    page.get_by_label("Colleague introduced").select_option("cn3")
    page.get_by_label("Introduced by").select_option("cn2")
    shot(page, "introduction-form")
    with page.expect_navigation() as landed:
        page.get_by_role("button", name="Record introduction").click()
    assert landed.value.status == 200 and page.url == f"{live_server}/referrers/rf2"
    assert page.locator("p.notice.done").inner_text().startswith("Recorded the introduction of ")
    assert page.locator("ol.suggestions > li").count() == 0  # Cleo Park has now been introduced
    assert "Everyone has already been introduced or referred to." in page.locator("main").inner_text()
    assert "Introduction of Cleo Park by Ben Okafor" in page.locator("ol.timeline").inner_text()
    shot(page, "referrer-after")
    clean(log)

    with page.expect_navigation():
        page.locator("header nav").get_by_role("link", name="network", exact=True).click()
    page.wait_for_selector("#network[data-drawn]", timeout=15_000)
    # It opens on the busiest point person's group: Ben Okafor, his 2 referrers and the 3 colleagues they
    # know now (Cleo Park just introduced); then the whole network.
    assert page.locator("#network").get_attribute("data-drawn") == "6"
    assert page.locator("main h2").first.inner_text() == "Ben Okafor: point person of 2 referrers"
    with page.expect_navigation():
        page.get_by_role("link", name="The whole network (3 referrers and 5 members)").click()
    page.wait_for_selector("#network[data-drawn]", timeout=15_000)
    assert page.locator("#network").get_attribute("data-drawn") == "8"  # 3 referrers, 3 clinicians, 2 staff
    page.get_by_label("Stage").select_option("3")
    assert page.locator("#network-status").inner_text() == "1 referrer shown"
    shot(page, "network")
    clean(log)

    page.goto(f"{live_server}/worklists/key-person-risk")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    assert download.value.suggested_filename == "worklist-key-person-risk.csv"
    rows = list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    assert [r["referrer"] for r in rows] == ["rf2", "rf3", "rf1"]
    clean(log)


def test_a_clinicians_week(page, live_server, console, sign_in_page, shot):
    log = console(page.context)
    assert sign_in_page(page, live_server, "clinician").status == 200  # linked to cn1, Ana Ruiz
    assert page.get_by_role("heading", level=1).inner_text() == "My referrers"
    assert page.locator("table tbody tr td:first-child a").all_inner_texts() == ["Dr. Hale"]
    shot(page, "my-referrers")
    clean(log)
    answer = page.goto(f"{live_server}/audit")
    assert answer.status == 403
    assert "Only a manager may read the audit log; you are signed in as clinician." in page.locator("main").inner_text()
    assert page.locator("header nav").get_by_role("link", name="dashboard").is_visible()  # a way on
    shot(page, "forbidden")
    assert log.csp_violations == []


PAGES = ["/", "/worklists/stalled", "/referrers/rf2", "/clinicians/cn2", "/network", "/outreach", "/coverage",
         "/referrers", "/practice", "/audit", "/console?query=new_referrers", "/nope",
         # every other page a manager opens (issue 18: every page reads at 400 px)
         "/today", "/dashboard", "/worklists", "/clinicians", "/network?whole=1", "/search?q=a",
         "/settings/vocabularies", "/referrers/duplicates", "/referrers/rf2/update", "/referrers/rf2/edit",
         "/referrers/rf2/referrals/new", "/referrers/rf2/introductions/new", "/referrers/rf2/contacts/new",
         "/referrers/rf2/referrals-out/new", "/referrers/rf2/handoff", "/referrals/r1/pass", "/referrers/new",
         "/clinicians/new", "/clinicians/cn2/edit", "/staff/new", "/providers/new", "/my-referrers"]


def _contrast(page) -> list:
    """(selector, ratio) of text colours against their background, WCAG's formula, for the site's kinds of text."""
    return page.evaluate("""() => {
      const lum = (rgb) => { const c = rgb.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number).map(v => {
        v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]; };
      const bg = (el) => { while (el) { const b = getComputedStyle(el).backgroundColor;
        if (b && !b.startsWith('rgba(0, 0, 0, 0)') && b !== 'transparent') return b; el = el.parentElement; }
        return 'rgb(255, 255, 255)'; };
      const out = [];
      for (const sel of ['main', 'main .muted', 'header nav a', 'main a', 'main th', '.notice']) {
        const el = document.querySelector(sel); if (!el) continue;
        const a = lum(getComputedStyle(el).color), b = lum(bg(el));
        out.push([sel, (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)]);
      }
      return out; }""")


@pytest.mark.parametrize("width", [400])
def test_pages_at_phone_width_by_keyboard_labelled_and_readable(browser, live_server, console, sign_in_page, shot,
                                                                width):
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    log = console(context)
    sign_in_page(page, live_server, "manager")
    for path in PAGES:
        page.goto(f"{live_server}{path}")
        page.wait_for_load_state("networkidle")
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 1, (path, overflow)  # nothing wider than the screen: wide tables scroll in their box
        unlabelled = page.evaluate("""() => [...document.querySelectorAll('main input:not([type=hidden]), main select')]
            .filter(el => !el.labels.length && !el.getAttribute('aria-label')).map(el => el.name)""")
        assert unlabelled == [], path
        for selector, ratio in _contrast(page):
            assert ratio >= 4.5, (path, selector, round(ratio, 2))  # WCAG AA for body text
        shot(page, f"narrow-{path.strip('/').replace('/', '-') or 'home'}")
    # By keyboard alone: Tab to the stalled worklist's card from the top of the dashboard, Enter opens it
    # (past Today's items first: each a link, its buttons and fields).
    page.goto(f"{live_server}/")
    for _ in range(120):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.getAttribute('href')") == "/worklists/stalled":
            break
    else:
        pytest.fail("Tab never reached the stalled worklist's link")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # the focus is visible
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == f"{live_server}/worklists/stalled"
    assert log.csp_violations == []
    context.close()
