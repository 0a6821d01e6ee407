"""A person's walk through the site in a real Chromium: sign in, the referrers, one referrer, the practice.

On every page visited: no console error, no uncaught error, and above all no
Content-Security-Policy report ("Refused to ..."): the site's CSP forbids
inline script and style, which only a browser enforces. Screenshots of each
step land in test-results/<test id>/ (see tests/browser/conftest.py).
"""

from __future__ import annotations

from pathlib import Path

from flask import url_for

import graphsvc.web

VENDOR = Path(graphsvc.web.__file__).parent / "static" / "vendor"
# The browser builds `make install` copies from node_modules (the Makefile's VENDOR_FILES).
VENDOR_FILES = {"chart.umd.js": "Chart.js v4.", "cytoscape.min.js": None}
JAVASCRIPT = {"text/javascript", "application/javascript"}  # what a browser runs under nosniff


def clean(log) -> None:
    """No CSP report and no console or uncaught error so far (each listed with its page)."""
    assert log.csp_violations == []
    assert log.errors == []


def column(page, n: int) -> list[str]:
    """The texts of the n-th column (1-based) of the page's table."""
    return [" ".join(t.split()) for t in page.locator(f"tbody tr td:nth-child({n})").all_inner_texts()]


def url_of(app, endpoint: str, **values) -> str:
    """The path of ``endpoint`` in ``app`` (the site's own routes, not copies of them)."""
    with app.test_request_context():
        return url_for(endpoint, **values)


def test_manager_signs_in_and_walks_to_a_referrer(page, app, live_server, console, sign_in_page, shot):
    log = console(page.context)

    page.goto(f"{live_server}/")  # not signed in: to the login form
    assert page.url == f"{live_server}/login"
    assert page.get_by_role("heading", level=1).inner_text() == "Sign in"
    shot(page, "login")
    clean(log)

    answer = sign_in_page(page, live_server, "manager")  # to the start page
    assert answer.status == 200
    assert answer.request.redirected_from.method == "POST"
    assert answer.request.redirected_from.url == f"{live_server}/login"
    assert page.url == f"{live_server}/"
    assert " ".join(page.locator("header .user").inner_text().split()) == "manager (manager)"
    shot(page, "start")
    clean(log)

    with page.expect_navigation() as navigation:
        page.locator("header nav").get_by_role("link", name="referrers", exact=True).click()
    assert navigation.value.status == 200
    assert page.url == live_server + url_of(app, "referrers.index")
    assert page.title() == "Referrers · graphsvc"
    # The small fixture's three referrers, most referrals first (as tests/test_web.py reads them).
    assert column(page, 1) == ["Ms. Vega rf2", "Dr. Hale rf1", "Rev. Stone rf3"]
    assert column(page, 4) == ["Ben Okafor", "Ana Ruiz", "Ben Okafor"]
    shot(page, "referrers")
    clean(log)

    with page.expect_navigation() as navigation:
        page.get_by_role("link", name="Dr. Hale", exact=True).click()
    assert navigation.value.status == 200
    assert page.url == live_server + url_of(app, "referrers.detail", referrer_id="rf1")
    assert " ".join(page.get_by_role("heading", level=1).inner_text().split()) == "Dr. Hale rf1"
    assert page.locator("main p b").first.inner_text() == "Ana Ruiz"  # point person
    shot(page, "referrer-rf1")
    clean(log)

    with page.expect_navigation() as navigation:
        page.locator("header nav").get_by_role("link", name="the practice", exact=True).click()
    assert navigation.value.status == 200
    assert page.url == live_server + url_of(app, "practice.index")
    assert page.get_by_role("heading", level=1).inner_text() == "The practice as referrers see it"
    shot(page, "practice")
    clean(log)


def test_a_rebuild_is_the_managers_alone(page, new_context, app, live_server, console, sign_in_page, shot):
    """``?refresh=1`` (a full rebuild of the analysis) answers the manager, and a 403 saying why to a clinician."""
    url = f"{live_server}/api/referrers/rf1?refresh=1"
    manager_log = console(page.context)
    sign_in_page(page, live_server, "manager")
    answer = page.goto(url)
    assert answer.status == 200
    assert answer.json()["id"] == "rf1"
    clean(manager_log)

    clinician = new_context().new_page()  # a context of its own: its own cookies, its own session
    log = console(clinician.context)
    answer = sign_in_page(clinician, live_server, "clinician")
    assert answer.status == 200
    assert clinician.url == f"{live_server}/"
    assert " ".join(clinician.locator("header .user").inner_text().split()) == "clinician (clinician)"
    clean(log)
    answer = clinician.goto(live_server + url_of(app, "referrers.index"))
    assert answer.status == 200
    assert column(clinician, 1) == ["Ms. Vega rf2", "Dr. Hale rf1", "Rev. Stone rf3"]
    clean(log)

    answer = clinician.goto(url)
    assert answer.status == 403
    assert answer.json() == {"error": "Only a manager may start a full rebuild of the analysis (refresh); "
                                      "you are signed in as clinician."}
    shot(clinician, "clinician-refresh-403")
    assert log.csp_violations == []
    # The one error is Chromium's note of the 403 itself.
    assert [text.split(" (")[0] for text, _ in log.errors] == [
        "Failed to load resource: the server responded with a status of 403"]


def test_vendor_libraries_are_served_and_run_under_the_csp(page, live_server, console, shot):
    """Chart.js and Cytoscape come from /static/vendor/ (not a CDN) and draw on a page under the site's CSP."""
    for name, banner in VENDOR_FILES.items():
        assert (VENDOR / name).is_file(), f"{VENDOR / name} is missing: run `make install`"
        answer = page.request.get(f"{live_server}/static/vendor/{name}")
        assert answer.status == 200
        assert answer.headers["content-type"].split(";")[0] in JAVASCRIPT
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.body() == (VENDOR / name).read_bytes()
        if banner:
            assert banner in answer.text()[:200]

    log = console(page.context)
    page.goto(f"{live_server}/login")  # a page of the site's (every answer carries the same CSP) loading neither
    assert page.evaluate("[typeof Chart, typeof cytoscape]") == ["undefined", "undefined"]
    # Loaded by <script src> elements of the page itself, so the page's CSP (script-src 'self') applies.
    page.add_script_tag(url="/static/vendor/chart.umd.js")
    page.add_script_tag(url="/static/vendor/cytoscape.min.js")
    drawn = page.evaluate("""() => {
        const main = document.querySelector("main");  // (signed in or not, every page has one)
        const canvas = document.createElement("canvas");
        const box = document.createElement("div");
        // The CSSOM, which style-src does not restrict (style attributes in the HTML it does).
        Object.assign(box.style, {width: "400px", height: "200px", position: "relative"});
        main.append(canvas, box);
        // Cytoscape puts a <style> element in <head> (".__________cytoscape_container { position:
        // relative; }") unless an element of this id is already there; style-src 'self' refuses it.
        // A page drawing a graph must therefore carry one, e.g. in its template
        // <meta id="__________cytoscape_stylesheet">, and position its container itself.
        const mark = document.createElement("meta");
        mark.id = "__________cytoscape_stylesheet";
        document.head.append(mark);
        const chart = new Chart(canvas, {type: "bar", options: {animation: false},
            data: {labels: ["stage 1", "stage 3"], datasets: [{label: "referrers", data: [2, 1]}]}});
        const cy = cytoscape({container: box, elements: [
            {data: {id: "cn1"}}, {data: {id: "rf1"}}, {data: {id: "r1", source: "rf1", target: "cn1"}}]});
        return {chart: Chart.version.split(".")[0], bars: chart.getDatasetMeta(0).data.length,
                cytoscape: cytoscape.version.split(".")[0], nodes: cy.nodes().length, edges: cy.edges().length};
    }""")
    assert drawn == {"chart": "4", "bars": 2, "cytoscape": "3", "nodes": 2, "edges": 1}
    shot(page, "chart-and-graph")
    clean(log)
