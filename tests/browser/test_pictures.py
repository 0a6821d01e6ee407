"""Issue 18's pictures in a real Chromium: they tell the truth and can be read.

The network opens on one point person's group, every node named, the names readable at 400 px; the
whole practice is a link away, its members named. A referrer's stage chart is on a time axis (days
proportional), and the charts' series take distinct colours from the one palette (js/palette.js).

The small fixture practice, judged on 2024-12-31 (the ``app`` fixture's ``ANALYSIS_AS_OF``).
"""

from __future__ import annotations

from datetime import date

# Okabe and Ito's colours, as js/palette.js names them.
VERMILLION, ORANGE, SKY_BLUE, BLUISH_GREEN, REDDISH_PURPLE = "#D55E00", "#E69F00", "#56B4E9", "#009E73", "#CC79A7"

NODES = """(id) => document.getElementById(id)._cyreg.cy.nodes().map(n => ({
  id: n.id(), label: n.style('label'), colour: n.data('colour'), font: parseFloat(n.renderedStyle('font-size'))}))"""


def clean(log) -> None:
    assert log.csp_violations == []
    assert log.errors == []


def day(iso: str) -> int:
    """Days since 1970-01-01: the stage chart's x values."""
    return (date.fromisoformat(iso) - date(1970, 1, 1)).days


def test_the_network_opens_on_a_named_group_readable_at_400_px(browser, live_server, console, sign_in_page, shot):
    context = browser.new_context(viewport={"width": 400, "height": 800})
    page = context.new_page()
    log = console(context)
    sign_in_page(page, live_server, "manager")
    page.goto(f"{live_server}/network")
    page.wait_for_selector("#network[data-drawn='5']", timeout=15_000)  # Ben Okafor, 2 referrers, 2 colleagues
    nodes = page.evaluate(NODES, "network")
    assert [(n["id"], n["label"], n["colour"]) for n in nodes] == [
        ("cn2", "Ben Okafor", VERMILLION), ("rf2", "Ms. Vega", ORANGE), ("rf3", "Rev. Stone", BLUISH_GREEN),
        ("cn1", "Ana Ruiz", VERMILLION), ("st1", "Dee Lang", REDDISH_PURPLE)]
    assert min(n["font"] for n in nodes) >= 9  # pixels on the screen, once fitted
    swatches = page.evaluate("""() => [...document.querySelectorAll('p.legend .key')].map(k =>
        [k.textContent, getComputedStyle(k, '::before').backgroundColor])""")
    assert swatches == [["clinician", "rgb(213, 94, 0)"], ["staff", "rgb(204, 121, 167)"],
                        ["referrer, 0 · new", "rgb(153, 153, 153)"], ["referrer, 1 · point person", "rgb(230, 159, 0)"],
                        ["referrer, 2 · trying colleagues", "rgb(86, 180, 233)"],
                        ["referrer, 3 · whole practice", "rgb(0, 158, 115)"]]
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 1
    shot(page, "network-group-400")

    page.locator("#network-picker select[name=point_person]").select_option("cn1")
    with page.expect_navigation():
        page.get_by_role("button", name="Show").click()
    assert page.url == f"{live_server}/network?point_person=cn1"
    page.wait_for_selector("#network[data-drawn='3']", timeout=15_000)
    assert [n["label"] for n in page.evaluate(NODES, "network")] == ["Ana Ruiz", "Dr. Hale", "Cleo Park"]
    with page.expect_navigation():  # a name opens its page
        page.evaluate("document.getElementById('network')._cyreg.cy.$id('rf1').emit('tap')")
    assert page.url == f"{live_server}/referrers/rf1"
    clean(log)

    page.goto(f"{live_server}/network")
    with page.expect_navigation():
        page.get_by_role("link", name="The whole network (3 referrers and 5 members)").click()
    assert page.url == f"{live_server}/network?whole=1"
    page.wait_for_selector("#network[data-drawn='8']", timeout=15_000)
    members = [n for n in page.evaluate(NODES, "network") if n["id"][:2] in ("cn", "st")]
    assert [(n["id"], n["label"]) for n in members] == [("cn1", "Ana Ruiz"), ("cn2", "Ben Okafor"),
                                                        ("cn3", "Cleo Park"), ("st1", "Dee Lang"), ("st2", "Eli Moss")]
    assert min(n["font"] for n in members) >= 9
    shot(page, "network-whole-400")
    clean(log)
    context.close()


def test_the_stage_chart_is_on_a_time_axis_and_series_have_distinct_colours(page, app, web_accounts, live_server,
                                                                           console, sign_in_page, shot):
    # Dr. Hale (rf1), stage 1 with Ana Ruiz since 2023-02-01, sends a client to Ben Okafor on 2024-12-01: stage 2.
    _, token = web_accounts.create_token("manager", "tests")
    answer = app.test_client().post("/api/referrals", headers={"Authorization": f"Bearer {token}"},
                                    json={"date": "2024-12-01", "referrer_id": "rf1", "addressed_to": "cn2",
                                          "client": {"needs": ["anxiety"], "population": "adult"}})
    assert answer.status_code == 201, answer.get_json()
    log = console(page.context)
    sign_in_page(page, live_server, "manager")
    page.goto(f"{live_server}/referrers/rf1")
    page.wait_for_selector("canvas#chart-stage[data-drawn='1']", timeout=10_000)
    chart = page.evaluate("""() => { const c = Chart.getChart(document.getElementById('chart-stage'));
        const x = c.scales.x, d = c.data.datasets[0];
        return {type: c.config.options.scales.x.type, labels: c.data.labels, data: d.data, stepped: d.stepped,
                min: x.min, max: x.max, ticks: x.ticks.map(t => [t.value, t.label]),
                pixels: d.data.map(p => x.getPixelForValue(p.x)), points: d.pointBackgroundColor}; }""")
    assert chart["type"] == "linear" and chart["labels"] == []  # days on a number line, not evenly spaced labels
    assert chart["data"] == [{"x": day("2023-02-01"), "y": 1}, {"x": day("2024-12-01"), "y": 2},
                             {"x": day("2024-12-31"), "y": 2}]  # the last: stage 2 held until the day judged
    assert (chart["min"], chart["max"]) == (day("2023-02-01"), day("2024-12-31"))
    assert chart["stepped"] == "before"  # each stage held until the next change
    # 669 days at stage 1 are drawn 669/30 times as wide as the 30 days since at stage 2.
    one, two, end = chart["pixels"]
    assert abs((two - one) / (end - two) - 669 / 30) < 1e-9
    assert chart["ticks"] == [[day("2023-07-01"), "2023-07"], [day("2024-01-01"), "2024-01"],
                              [day("2024-07-01"), "2024-07"]]
    assert chart["points"] == [ORANGE, SKY_BLUE, SKY_BLUE]  # each point in its stage's colour
    shot(page, "stage-chart")
    clean(log)

    page.goto(f"{live_server}/outreach")
    page.wait_for_selector("canvas#chart-outreach[data-drawn='1']", timeout=10_000)
    series = page.evaluate("""() => Chart.getChart(document.getElementById('chart-outreach')).data.datasets
        .map(d => [d.label, d.backgroundColor])""")
    named = page.evaluate("graphsvcPalette.named")
    contact = {k: v for k, v in named.items() if k.startswith("contact:")}
    assert len(contact) == 8 and len(set(contact.values())) == 8  # every kind of contact its own colour
    assert series == [[label, named["contact:" + label.replace(" ", "_")]] for label, _ in series]
    clean(log)
