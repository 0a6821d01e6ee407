"""The audit log's page (``/audit``): managers only, filtered, paged, downloadable, the download audited."""

from __future__ import annotations

import csv
import io

import pytest

from graphsvc.accounts import ROLES


def test_only_a_manager_reads_the_audit_log(app, client_as, anon):
    for role in ROLES:
        page = client_as(role).get("/audit")
        if role == "manager":
            assert page.status_code == 200 and "<h1>Audit log</h1>" in page.get_data(as_text=True)
        else:
            assert page.status_code == 403, role
            assert (f"Only a manager may read the audit log; you are signed in as {role}."
                    in page.get_data(as_text=True))
            assert client_as(role).get("/audit?format=csv").status_code == 403
    assert anon.get("/audit").headers["Location"] == "/login?next=/audit"


def test_the_nav_links_the_audit_log_for_managers_only(client_as):
    assert 'href="/audit"' in client_as("manager").get("/practice").get_data(as_text=True)
    assert 'href="/audit"' not in client_as("intake").get("/practice").get_data(as_text=True)


def test_entries_newest_first_filtered_and_paged(app, web_accounts, sign_in):
    web_accounts.record("write referral", user="intake", address="10.0.0.5", ids=["r9", "rf1"])
    web_accounts.record("export", user="cli:ops", detail={"folder": "/srv/out"})
    app.config["PAGE_SIZE"] = 2
    manager = sign_in(app, "manager")  # its login is the newest entry
    html = manager.get("/audit").get_data(as_text=True)
    assert "3 entries · page 1 of 2" in html
    rows = html.split("<tbody>")[1].split("</tbody>")[0]
    assert rows.index("<td>manager</td>") < rows.index("<td>cli:ops</td>")
    assert "<td>export</td>" in rows and "{&#34;folder&#34;: &#34;/srv/out&#34;}" in rows
    assert "write referral" not in rows and 'rel="next"' in html
    page2 = manager.get("/audit?page=2").get_data(as_text=True)
    assert "<td>r9, rf1</td>" in page2 and "<td>10.0.0.5</td>" in page2
    only = manager.get("/audit?user=intake").get_data(as_text=True)
    assert "1 entry · page 1 of 1" in only and "<td>write referral</td>" in only
    writes = manager.get("/audit?action=write+*").get_data(as_text=True)
    assert "1 entry" in writes and "<td>r9, rf1</td>" in writes
    assert "No entries match these filters." in manager.get("/audit?since=2999-01-01").get_data(as_text=True)
    assert "Page 7 is past the end." in manager.get("/audit?page=7").get_data(as_text=True)


@pytest.mark.parametrize("query, message", [
    ("since=yesterday", "since must be a date as YYYY-MM-DD"),
    ("page=0", "page must be a whole number from 1"),
    ("page=%D9%A3", "page must be a whole number from 1"),  # an Arabic-Indic 3
    ("format=xml", "format must be csv"),
    ("sort=at", "sort is not a parameter of this page"),
    ("user=a&user=b", "user must be given once"),
])
def test_bad_parameters_are_400_pages_naming_them(client, query, message):
    page = client.get(f"/audit?{query}")
    assert page.status_code == 400 and message in page.get_data(as_text=True)


def test_the_csv_download_is_formula_safe_and_audited(app, web_accounts, sign_in):
    web_accounts.record("login_failed", user=None, address="10.0.0.9", detail={"username": "=HYPERLINK(1)"})
    web_accounts.record("write contact", user="clinician", ids=["-c1"])
    manager = sign_in(app, "manager")
    answer = manager.get("/audit?action=write+*")
    download = manager.get("/audit?format=csv&action=write+*")
    assert answer.status_code == 200 and download.status_code == 200
    assert download.mimetype == "text/csv" and download.headers["Content-Disposition"] == \
        'attachment; filename="audit.csv"'
    assert download.headers["Cache-Control"] == "no-store"
    rows = list(csv.reader(io.StringIO(download.get_data(as_text=True))))
    assert rows[0] == ["id", "at", "user", "address", "action", "ids", "detail"]
    assert [r[2:] for r in rows[1:]] == [["clinician", "", "write contact", "'-c1", ""]]
    everything = list(csv.reader(io.StringIO(manager.get("/audit?format=csv").get_data(as_text=True))))
    failed = next(r for r in everything if r[4] == "login_failed")
    assert failed[6] == '{"username": "=HYPERLINK(1)"}'  # starts with {: no formula
    downloads = web_accounts.entries(action="download *")
    assert [(e["action"], e["user"], e["detail"]) for e in downloads] == [
        ("download audit.csv", "manager", {"filters": {}, "rows": 4}),
        ("download audit.csv", "manager", {"filters": {"action": "write *"}, "rows": 1}),
    ]
