"""Issue 17's walk in a real Chromium: a manager's day and a clinician's day, worked from Today.

Manager: the dashboard opens with Today -> /today -> records the suggested introduction in one click ->
snoozes a row and sees it leave -> records two referrals of Rev. Stone (one whose client agreed to an
update, one whose did not) -> marks the second one's follow-up done -> records the first one's statuses
to a first visit -> prints the update (and its PDF) and sends it -> the first one's follow-up row closes.
Clinician (cn1, Ana Ruiz): Today holds its own referrer only, and its contact is recorded from there.

The app judges on 2024-12-31 (``AS_OF``): events are dated before it; a snooze ends after the clock's
today (``records.today``), as the service requires.
"""

from __future__ import annotations

from datetime import timedelta

from graphsvc.records import today


def clean(log) -> None:
    assert log.csp_violations == []
    assert log.errors == []


def item(page, name: str):
    """The Today item of the referrer named ``name``."""
    return page.locator("li.today-item").filter(has=page.get_by_role("link", name=name, exact=True))


def test_a_managers_day_from_today(page, live_server, console, sign_in_page, shot):
    log = console(page.context)
    sign_in_page(page, live_server, "manager")
    assert page.get_by_role("heading", level=2).first.inner_text() == "Today"
    assert page.locator("ol.today li.today-item").count() == 3
    shot(page, "dashboard-today")
    with page.expect_navigation():
        page.get_by_role("link", name="All of today (3)").click()
    assert page.url == f"{live_server}/today"
    stone = item(page, "Rev. Stone")
    assert "Ben Okafor introduces Ana Ruiz" in stone.locator("p.step").inner_text()
    shot(page, "today")

    # The suggested introduction, in one click: back on Today, the suggestion is used up.
    with page.expect_navigation():
        stone.get_by_role("button", name="Record the introduction of Ana Ruiz").click()
    assert page.url == f"{live_server}/today"
    assert page.locator("p.notice.done").inner_text().startswith("Recorded the introduction of ")
    assert item(page, "Rev. Stone").get_by_role("button", name="Record the introduction of Ana Ruiz").count() == 0
    clean(log)

    # Snooze Ms. Vega's stalled row: it leaves Today (until the day chosen); her next row, lapsed, takes its place.
    vega = item(page, "Ms. Vega")
    assert vega.locator(".badge").inner_text() == "stalled"
    snoozed = vega.get_attribute("data-row")
    vega.get_by_label("snooze until").fill((today() + timedelta(days=7)).isoformat())
    with page.expect_navigation():
        vega.get_by_role("button", name="Snooze").click()
    assert "snoozed until" in page.locator("p.notice.done").inner_text()
    assert page.locator(f"li.today-item[data-row='{snoozed}']").count() == 0
    assert item(page, "Ms. Vega").locator(".badge").inner_text() == "lapsed or declining"
    shot(page, "today-snoozed")
    clean(log)

    # Two recent referrals of Rev. Stone: the first client agreed to an update, the second did not.
    for day, consent in (("2024-12-10", "yes"), ("2024-12-12", "no")):
        page.goto(f"{live_server}/referrers/rf3/referrals/new")
        page.get_by_label("Date").fill(day)
        page.get_by_label("Existing client", exact=True).fill("cl1")
        page.get_by_label("Addressed to").select_option("cn2")
        page.get_by_label("May the referrer be told how it went?").select_option(consent)
        with page.expect_navigation():
            page.get_by_role("button", name="Record referral").click()
        assert page.locator("p.notice.done").inner_text().startswith("Recorded the referral of ")

    # The second one's follow-up, marked done from the follow-up worklist.
    page.goto(f"{live_server}/worklists/follow-up")
    rows = page.locator("table.worklist tbody tr")
    assert rows.count() == 2
    second = rows.filter(has_text="referred on 2024-12-12")
    second.locator("summary").click()
    second.get_by_label("Outcome").fill("called Rev. Stone: no details shared (no consent)")
    with page.expect_navigation():
        second.get_by_role("button", name="Done").click()
    assert "marked done; it has left the list." in page.locator("p.notice.done").inner_text()
    assert page.locator("table.worklist tbody tr").count() == 1
    shot(page, "follow-up-done")
    clean(log)

    # The first one's statuses, to a first visit, from the referrer's page.
    for status, day in (("contacted", "2024-12-11"), ("scheduled", "2024-12-13"), ("first_visit", "2024-12-20")):
        page.goto(f"{live_server}/referrers/rf3")
        row = page.locator("table.referrals tbody tr").filter(has_text="2024-12-10")
        with page.expect_navigation():
            row.get_by_role("link", name="next status…").click()
        page.get_by_label("Status").select_option(status)
        page.get_by_label("Date").fill(day)
        with page.expect_navigation():
            page.get_by_role("button", name="Record the status").click()
        assert page.url == f"{live_server}/referrers/rf3"
    row = page.locator("table.referrals tbody tr").filter(has_text="2024-12-10")
    assert "first visit 2024-12-20" in row.inner_text()
    shot(page, "statuses")
    clean(log)

    # The update: printable, as a PDF, sent with one button; the covered follow-up row closes.
    with page.expect_navigation():
        page.get_by_role("link", name="Rev. Stone's update").click()
    lines = page.locator("table.update tbody tr").all_inner_texts()
    assert [" ".join(line.split()) for line in lines] == ["2024-12-10 Ben Okafor first visit (2024-12-20)"]
    pdf = page.request.get(f"{live_server}/referrers/rf3/update?format=pdf")
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")
    shot(page, "update")
    with page.expect_navigation():
        page.get_by_role("button", name="Send: record that Rev. Stone got this update today").click()
    assert page.locator("p.notice.done").inner_text() == (
        "Update sent to Rev. Stone: 1 referral; their follow-up rows are closed.")
    page.goto(f"{live_server}/worklists/follow-up")
    assert "Nothing on this list today." in page.locator("table.worklist").inner_text()
    clean(log)


def test_a_clinicians_day_from_today(page, live_server, console, sign_in_page, shot):
    log = console(page.context)
    sign_in_page(page, live_server, "clinician")  # cn1, Ana Ruiz
    page.goto(f"{live_server}/today")
    assert page.locator("li.today-item").count() == 1
    hale = item(page, "Dr. Hale")
    assert hale.locator("p.step").inner_text().startswith("Call Dr. Hale (Northside Pediatrics). Check in: Ana Ruiz")
    with page.expect_navigation():
        hale.get_by_role("link", name="Record the contact").click()
    page.get_by_label("Date").fill("2024-12-30")
    page.get_by_label("Kind").select_option("lunch")
    with page.expect_navigation():
        page.get_by_role("button", name="Record contact").click()
    assert page.url == f"{live_server}/today"
    assert page.locator("p.notice.done").inner_text().startswith("Recorded the ")
    shot(page, "clinician-today")
    clean(log)
