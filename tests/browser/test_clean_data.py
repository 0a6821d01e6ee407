"""Issue 18's clean data in a real Chromium: a typo refused with the closest word, a duplicate refused
naming the first, and two records of one referrer merged by a manager.

The small fixture practice: insurances aetna, bcbs and medicaid; Ms. Vega (rf2) met Ana Ruiz for a school
consult on 2023-03-15 (contact k2).
"""

from __future__ import annotations

from tests.helpers import service_of, someone


def clean(log, refused: str | None = None) -> None:
    """No CSP violation and no error, but the 422 of the form ``refused`` (a refused write's page, which
    Chromium logs as a resource that failed to load)."""
    assert log.csp_violations == []
    assert [e for e in log.errors if not (refused and "status of 422" in e[0] and e[1].endswith(refused))] == []


def test_a_typo_is_refused_beside_its_field_with_the_closest_word(page, live_server, console, sign_in_page, shot):
    log = console(page.context)
    sign_in_page(page, live_server, "manager")
    page.goto(f"{live_server}/referrers/rf1/referrals/new")
    page.get_by_label("Date").fill("2024-06-10")
    page.get_by_role("checkbox", name="ADHD").check()
    page.get_by_label("New client: insurance").fill("medicaide")
    with page.expect_navigation():
        page.get_by_role("button", name="Record referral").click()
    field = page.locator('[data-field="insurance"]')
    assert field.locator("p.error").inner_text() == (
        "'medicaide' is not on the practice's list of insurances; did you mean medicaid? "
        "(a manager can add it under Settings, Vocabularies)")
    assert page.get_by_label("New client: insurance").input_value() == "medicaide"  # what was typed stays
    assert page.get_by_role("checkbox", name="ADHD").is_checked()
    shot(page, "typo-refused")
    page.get_by_label("New client: insurance").fill("medicaid")
    with page.expect_navigation():
        page.get_by_role("button", name="Record referral").click()
    assert page.url == f"{live_server}/referrers/rf1"
    assert page.locator("p.notice.done").inner_text().startswith("Recorded the referral of 2024-06-10 from Dr. Hale")
    clean(log, refused="/referrers/rf1/referrals/new")


def test_the_same_contact_twice_is_refused_naming_the_first(page, live_server, console, sign_in_page, shot):
    log = console(page.context)
    sign_in_page(page, live_server, "manager")
    page.goto(f"{live_server}/referrers/rf2/contacts/new")
    page.get_by_label("Date").fill("2023-03-15")
    page.get_by_label("Who met them").select_option("cn1")
    page.get_by_label("Kind").select_option("school_consult")
    with page.expect_navigation():
        page.get_by_role("button", name="Record contact").click()
    assert page.locator("p.error, .problems").first.inner_text() == (
        "Already recorded as contact k2 (same referrer, member, kind and day)")
    shot(page, "duplicate-refused")
    page.get_by_label("Date").fill("2023-03-16")  # the next day: another consult
    with page.expect_navigation():
        page.get_by_role("button", name="Record contact").click()
    assert page.url == f"{live_server}/referrers/rf2"
    clean(log, refused="/referrers/rf2/contacts/new")


def test_a_manager_merges_two_records_of_one_referrer(page, live_server, graph, console, sign_in_page, shot):
    service_of(graph).save("referrer", {"id": "rf9", "name": "Ms. Vega, LCSW", "kind": "school_counselor",
                                        "organization": "Lincoln Middle", "point_person_id": "cn3",
                                        "since": "2022-09-01"}, by=someone())
    log = console(page.context)
    sign_in_page(page, live_server, "manager")
    page.goto(f"{live_server}/referrers")
    with page.expect_navigation():
        page.get_by_role("link", name="Likely duplicates").click()
    rows = page.locator("table.duplicates tbody tr")
    assert rows.count() == 1
    assert "the same name; the same organization" in rows.first.inner_text()
    shot(page, "duplicates")
    with page.expect_navigation():
        page.get_by_role("button", name="Keep Ms. Vega (rf2) and merge Ms. Vega, LCSW (rf9) into it").click()
    assert page.url == f"{live_server}/referrers/rf2"
    assert page.locator("p.notice.done").inner_text().startswith("Merged 'rf9' into Ms. Vega")
    page.goto(f"{live_server}/referrers/rf9")  # the old page leads to the one kept
    assert page.url == f"{live_server}/referrers/rf2"
    clean(log)


def test_a_manager_voids_a_referral_and_restores_it(page, live_server, console, sign_in_page, shot):
    log = console(page.context)
    sign_in_page(page, live_server, "manager")

    def in_stage_3() -> list[str]:
        page.goto(f"{live_server}/referrers?stage=3")
        return page.locator("main table tbody tr td:first-child").all_inner_texts()

    assert in_stage_3() == ["Rev. Stone rf3"]  # r5, to the practice as a whole
    page.goto(f"{live_server}/referrers/rf3")
    page.locator("ol.timeline li.referral details.void summary").click()
    page.get_by_label("Why is this referral of 2024-04-01 a mistake?").fill("entered for the wrong referrer")
    with page.expect_navigation():
        page.locator("ol.timeline li.referral details.void").get_by_role("button", name="Void").click()
    assert page.url == f"{live_server}/referrers/rf3"
    assert page.locator("p.notice.done").inner_text().startswith("Voided the referral (entered for the wrong")
    assert "voided" in page.locator("ol.timeline.voided").inner_text()
    shot(page, "voided")
    assert in_stage_3() == ["No referrers match these filters."]  # out of the analysis and the lists at once
    page.goto(f"{live_server}/referrers/rf3")
    with page.expect_navigation():
        page.get_by_role("button", name="Restore the referral of 2024-04-01 with Ben Okafor").click()
    assert page.locator("p.notice.done").inner_text() == "Restored the referral: it counts again."
    assert in_stage_3() == ["Rev. Stone rf3"]
    clean(log)
