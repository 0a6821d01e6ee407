"""Issue 18's "finding things" in a real Chromium: the header's search box, answered as one types.

A manager types part of a name into the search box of the page it is on, the matches show under it as
links, and one click (or the arrow keys and Enter) opens the page of one; without JavaScript the same
box opens /search. The new pages (/clinicians, /search) read at 400 px wide with the matches open.
"""

from __future__ import annotations

import re

BOX = "Search referrers, clinicians, staff and outside providers"


def clean(log) -> None:
    assert log.csp_violations == []
    assert log.errors == []


def test_typing_in_the_header_search_and_following_a_result(page, live_server, console, sign_in_page, shot):
    log = console(page.context)
    asked = []
    page.on("request", lambda request: asked.append(request.url) if "/api/search" in request.url else None)
    sign_in_page(page, live_server, "manager")
    page.goto(f"{live_server}/worklists")
    box = page.get_by_role("searchbox", name=BOX)
    box.press_sequentially("veg")
    matches = page.locator("#site-search-results")
    page.wait_for_selector("form.site-search[data-answered='veg']", timeout=10_000)
    assert matches.is_visible()
    assert matches.get_by_role("link").all_inner_texts() == ["Ms. Vega referrer · rf2"]
    assert page.locator(".search-status").inner_text() == "1 match"
    assert asked and all(re.search(r"/api/search\?q=(v|ve|veg)$", url) for url in asked)
    shot(page, "typed-veg")
    with page.expect_navigation():
        matches.get_by_role("link", name=re.compile("^Ms. Vega")).click()
    assert page.url == f"{live_server}/referrers/rf2"
    assert page.get_by_role("heading", level=1).inner_text().startswith("Ms. Vega")
    clean(log)

    # By keyboard: type, arrow down to the first match, Enter opens it; Escape closes the list.
    box = page.get_by_role("searchbox", name=BOX)
    box.press_sequentially("park")
    page.wait_for_selector("form.site-search[data-answered='park']", timeout=10_000)
    box.press("Escape")
    assert not matches.is_visible()
    box.fill("CLEO")
    page.wait_for_selector("form.site-search[data-answered='CLEO']", timeout=10_000)
    box.press("ArrowDown")
    assert page.evaluate("document.activeElement.getAttribute('href')") == "/clinicians/cn3"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == f"{live_server}/clinicians/cn3"
    clean(log)

    # Nothing matches: said in words; an emptied box closes the list.
    box = page.get_by_role("searchbox", name=BOX)
    box.fill("zzz")
    page.wait_for_selector("form.site-search[data-answered='zzz']", timeout=10_000)
    assert page.locator(".search-note").inner_text() == "Nothing matches “zzz”."
    assert page.locator(".search-status").inner_text() == "No match"
    box.fill("")
    page.wait_for_selector("#site-search-results", state="hidden", timeout=10_000)
    clean(log)


def test_without_javascript_the_box_opens_the_results_page(browser, live_server, sign_in_page):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_in_page(page, live_server, "manager")
    page.get_by_role("searchbox", name=BOX).fill("ch")
    with page.expect_navigation():
        page.get_by_role("searchbox", name=BOX).press("Enter")
    assert page.url == f"{live_server}/search?q=ch"
    assert page.locator("ol.search-results a").all_inner_texts() == ["Rev. Stone", "Ms. Vega"]
    with page.expect_navigation():
        page.get_by_role("link", name="Rev. Stone").click()
    assert page.url == f"{live_server}/referrers/rf3"
    context.close()


def test_the_new_pages_at_phone_width(browser, live_server, console, sign_in_page, shot):
    context = browser.new_context(viewport={"width": 400, "height": 800})
    page = context.new_page()
    log = console(context)
    sign_in_page(page, live_server, "manager")
    for path in ("/clinicians", "/search?q=e", "/referrers"):
        page.goto(f"{live_server}{path}")
        box = page.get_by_role("searchbox", name=BOX)
        box.fill("e")
        page.wait_for_selector("form.site-search[data-answered='e']", timeout=10_000)
        # Everyone with an e: Dr. Hale, Ms. Vega, Rev. Stone, Ben Okafor, Cleo Park, Dee Lang, Eli Moss and
        # both outside providers.
        assert page.locator("#site-search-results a").count() == 9
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 1, (path, overflow)
        panel = page.locator("#site-search-results").bounding_box()
        assert panel["x"] >= 0 and panel["x"] + panel["width"] <= 400, (path, panel)
        unlabelled = page.evaluate("""() => [...document.querySelectorAll('input:not([type=hidden]), select')]
            .filter(el => !el.labels.length && !el.getAttribute('aria-label')).map(el => el.name)""")
        assert unlabelled == [], path
        shot(page, f"narrow-{path.strip('/').split('?')[0]}")
    clean(log)
    context.close()
