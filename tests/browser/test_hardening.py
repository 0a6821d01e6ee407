"""Issue 19 in a real Chromium: the console bounded for an analyst, a throttled login, logout that ends the session.

An analyst runs a query whose answer is far larger than the console shows
and reads that it was cut, and why; a deeply nested value is shown, not an
error; the server's settings are refused with the reason. Someone guessing a
password is told to wait, in words. A page saved before logout does not open
after it.
"""

from __future__ import annotations

import re

from tests.conftest import PASSWORD


def clean(log) -> None:
    assert log.csp_violations == []
    # The errors a browser reports here are the refusals' own pages (Chromium logs every document it loads
    # with a 4xx status: the console's 422, the login's 429); nothing else.
    assert [text for text, _ in log.errors if not re.search(r"status of (422|429) ", text)] == []


def run(page, cypher: str) -> None:
    page.get_by_label("Cypher (read-only)").fill(cypher)
    with page.expect_navigation():
        page.locator("form.record").last.get_by_role("button", name="Run").click()


def test_the_console_says_what_it_cut_and_refuses_the_servers_settings(page, live_server, console, sign_in_page,
                                                                        shot, app):
    app.config["CONSOLE_MAX_BYTES"] = 100_000  # small, so that the page stays small too
    log = console(page.context)
    sign_in_page(page, live_server, "analyst")
    page.goto(f"{live_server}/console")
    run(page, "UNWIND range(1, 4000) AS n RETURN n, reduce(s = '', i IN range(1, 20) | s + 'label ') AS label")
    summary = page.locator("p.muted", has_text="cut at").inner_text()
    assert re.fullmatch(r"[\d,]+ rows: cut at 100,000 bytes, there is more\.", summary), summary
    shown = int(summary.split(" ")[0].replace(",", ""))
    assert 0 < shown < 100_000 and page.locator("table tbody tr").count() == shown
    shot(page, "cut-by-bytes")

    run(page, "RETURN reduce(l = [], i IN range(1, 1500) | [l]) AS deep")
    assert page.get_by_role("heading", level=1).inner_text() != "Internal Server Error"
    assert "…" in page.locator("table tbody tr").first.inner_text()
    shot(page, "deep-value")

    run(page, "SHOW SETTINGS")
    refusal = page.locator("[role=alert]").first.inner_text()
    assert "SHOW SETTINGS" in refusal or "settings" in refusal.lower(), refusal
    assert page.locator("table tbody tr").count() == 0
    shot(page, "settings-refused")
    clean(log)


def test_guessing_a_password_is_told_to_wait_and_logout_ends_the_session(page, live_server, console, sign_in_page,
                                                                         shot, browser):
    log = console(page.context)
    for _ in range(3):
        sign_in_page(page, live_server, "manager", "not the password at all")
        assert page.get_by_text("Wrong username or password.").is_visible()
    answer = sign_in_page(page, live_server, "manager", "not the password at all")
    assert answer.status == 429
    assert re.search(r"Too many failed logins for this account or from this address: wait \d+ seconds? and try "
                     r"again\.", page.locator("main").inner_text())
    assert page.get_by_role("link", name="← back to sign in").get_attribute("href") == "/login"
    shot(page, "told-to-wait")

    # Another person (another browser) signs in as the analyst, keeps the cookie, signs out: the cookie is dead.
    other = browser.new_context()
    mine = other.new_page()
    sign_in_page(mine, live_server, "analyst", PASSWORD)
    saved = other.cookies()
    with mine.expect_navigation():
        mine.get_by_role("button", name=re.compile("Sign out|Log out")).click()
    replay = browser.new_context()
    replay.add_cookies(saved)
    again = replay.new_page()
    again.goto(f"{live_server}/console")
    assert again.url.startswith(f"{live_server}/login")
    shot(again, "replayed-cookie")
    other.close()
    replay.close()
    clean(log)
