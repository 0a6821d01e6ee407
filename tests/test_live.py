"""The live analysis (graphsvc.live) against the real Neo4j: every write applied in place equals a full build."""

from __future__ import annotations

import os
import threading
import time
from datetime import date, timedelta

import pytest

from graphsvc.config import AnalysisOptions
from graphsvc.inputs import MatchRequest
from graphsvc.insights import Insights
from graphsvc.live import InsightsCache
from graphsvc.store.projection import project
from graphsvc.store.reads import changes_since
from graphsvc.store.schema import init_schema
from tests.helpers import TEST_QUERIES, fixture_path, import_folder, service_of, someone

TODAY = AnalysisOptions()
DEC_2024 = AnalysisOptions(as_of=date(2024, 12, 31))
INDEX_TABLES = ("referrals", "referred_to", "trusted", "trusted_by", "introduced", "intro_record",
                "addressed_counts", "assigned_counts", "kind_trust")


def full_build(graph, options) -> Insights:
    return Insights(project(graph), options, changes_since(graph, 0).version)


def tables(index) -> dict:
    """The index's tables without empty entries (a defaultdict read leaves them behind)."""
    out = {}
    for name in INDEX_TABLES:
        table = getattr(index, name)
        out[name] = {k: (dict(v) if name == "kind_trust" else v) for k, v in table.items()
                     if v and (not isinstance(v, list) or name != "intro_record" or v[0])}
    out["members"] = dict(index.members)
    return out


def assert_same_analysis(live: Insights, fresh: Insights) -> None:
    assert live.version == fresh.version
    assert dict(live.G.nodes(data=True)) == dict(fresh.G.nodes(data=True))
    assert ({(u, v, k): d for u, v, k, d in live.G.edges(keys=True, data=True)}
            == {(u, v, k): d for u, v, k, d in fresh.G.edges(keys=True, data=True)})
    assert live.G.graph == fresh.G.graph
    assert live.histories == fresh.histories
    assert live.metrics == fresh.metrics
    assert tables(live.index) == tables(fresh.index)
    assert live.summary() == fresh.summary()
    for r in fresh.histories:
        assert live.suggestions(r) == fresh.suggestions(r), r
    request = MatchRequest(needs=["adhd"], population="child")
    assert live.match(request) == fresh.match(request)
    # The results made of per-referrer parts, brought up to date part by part (Insights.refresh).
    assert live.worklists == fresh.worklists
    assert live.follow_up_figures == fresh.follow_up_figures
    assert live.conversion == fresh.conversion
    # The colleague an item names is remembered across other referrers' writes (a test below): compared
    # here as the suggestions give it now.
    live._introductions.clear()
    assert live.today() == fresh.today() and live.today("cn2") == fresh.today("cn2")


def writes_in_turn(graph, day):
    """One write of every kind that changes the analysed graph, each a function of no arguments."""
    later = date(2025, 6, 1)  # after DEC_2024's as_of: an analysis as of then must leave it out
    return [
        lambda: service_of(graph).record_referral({"id": "w1", "date": day, "referrer_id": "rf1", "client_id": "cl2",
                                                   "addressed_to": "cn2"}, by=someone()),
        lambda: service_of(graph).save("referrer", {"id": "rf9", "name": "Dr. New", "kind": "physician",
                                                    "organization": "Clinic", "point_person_id": "cn2",
                                                    "since": day}, by=someone()),
        lambda: service_of(graph).record_referral({"id": "w2", "date": day, "referrer_id": "rf9", "client_id": "cl3",
                                                   "addressed_to": "practice", "assigned_to": "cn1"}, by=someone()),
        lambda: service_of(graph).record_introduction({"id": "w3", "date": day, "referrer_id": "rf3",
                                                       "introduced_id": "cn1", "by_id": "cn2"}, by=someone()),
        lambda: service_of(graph).record_referral({"id": "w4", "date": day, "referrer_id": "rf3", "client_id": "cl1",
                                                   "addressed_to": "cn1"}, by=someone()),
        lambda: service_of(graph).record_contact({"id": "w5", "date": day, "referrer_id": "rf2", "member_id": "cn2",
                                                  "kind": "lunch"}, by=someone()),
        lambda: service_of(graph).hand_over({"referrer_id": "rf1", "to_clinician_id": "cn2",
                                             "date": day}, by=someone()),
        lambda: service_of(graph).pass_referral({"referral_id": "w1", "to_clinician_id": "cn3",
                                                 "reason": "specialty"}, by=someone()),
        lambda: service_of(graph).save("client", {"needs": ["adhd", "trauma"], "population": "child",
                                                  "insurance": "bcbs",
                                                  "schedule": "weekend"}, by=someone(), record_id="cl1"),
        lambda: service_of(graph).save("clinician", {"name": "Cleo Park", "specialties": ["autism", "adhd"],
                                                     "populations": ["child"], "insurances": ["medicaid"],
                                                     "schedule": ["weekday_day"], "accepting_new": True},
                                   by=someone(), record_id="cn3"),
        lambda: service_of(graph).save("clinician", {"id": "cn4", "name": "Dana Wu", "specialties": ["adhd"],
                                                     "populations": ["child"], "insurances": ["bcbs"],
                                                     "schedule": ["weekend"]}, by=someone()),
        lambda: service_of(graph).record_referral_out({"id": "w6", "date": day, "referrer_id": "rf1",
                                                       "client_id": "cl3", "provider_id": "ep2",
                                                       "niche": "forensic_evaluation"}, by=someone()),
        lambda: service_of(graph).record_referral({"id": "w7", "date": later, "referrer_id": "rf2", "client_id": "cl3",
                                                   "addressed_to": "cn4"}, by=someone()),
        lambda: service_of(graph).save("referrer", {"id": "rf10", "name": "Ms. Later", "kind": "attorney",
                                                    "organization": "", "point_person_id": "cn4",
                                                    "since": later}, by=someone()),
        # Closing the loop and working on rows: a status, consent and its update, a task, a referral to staff.
        lambda: service_of(graph).record_referral({"id": "w8", "date": day, "referrer_id": "rf2", "client_id": "cl2",
                                                   "addressed_to": "cn2", "consent_to_update": "yes"}, by=someone()),
        lambda: service_of(graph).record_status("w8", {"status": "contacted", "date": day}, by=someone()),
        lambda: service_of(graph).send_update("rf2", by=someone(), day=day),
        lambda: service_of(graph).act_on_row("key-person-risk", {"id": "kpr-x", "referrer": "rf3"},
                                             {"action": "assign", "to": "st1"}, by=someone()),
        lambda: service_of(graph).record_referral({"id": "w9", "date": day, "referrer_id": "rf3", "client_id": "cl2",
                                                   "addressed_to": "st1", "assigned_to": "cn2"}, by=someone()),
    ]


@pytest.mark.parametrize("options", [TODAY, DEC_2024], ids=["today", "as-of-2024"])
def test_every_write_applied_in_place_equals_a_full_build(graph, options):
    import_folder(graph, fixture_path("small"))
    cache = InsightsCache(graph, options, check_seconds=3600)
    live = cache.get()
    live.histories, live.metrics, live.summary()  # everything computed, so everything must be updated
    _ = live.worklists, live.follow_up_figures, live.conversion
    day = date(2024, 11, 1) if options.as_of else date.today()
    kept = []
    for n, write in enumerate(writes_in_turn(graph, day), start=1):
        write()
        assert cache.update() == "applied"
        assert cache.served is live  # changed in place, not rebuilt
        kept.append("worklists" in live.__dict__)  # brought up to date in place, not dropped
        assert_same_analysis(live, full_build(graph, options))
        assert (cache.full_builds, cache.incremental_updates) == (1, n)
    assert cache.update() == "current"
    # Made again whole only after a change every row may show: a clinician changed (cn3), one added (cn4),
    # a referral addressed to a staff member (which one a ready row introduces may change).
    assert [n for n, k in enumerate(kept, start=1) if not k] == [10, 11, 19]


def test_a_referrer_added_then_changed_before_the_update_is_read_once(graph):
    import_folder(graph, fixture_path("small"))
    cache = InsightsCache(graph, TODAY, check_seconds=3600)
    live = cache.get()
    before = live.version
    service_of(graph).record_contact({"id": "c1", "date": date.today(), "referrer_id": "rf3", "member_id": "cn1",
                                      "kind": "talk"}, by=someone())
    service_of(graph).record_contact({"id": "c2", "date": date.today(), "referrer_id": "rf3", "member_id": "cn2",
                                      "kind": "site_visit"}, by=someone())
    service_of(graph).save("staff", {"id": "st3", "name": "Flo Ray", "role": "billing"}, by=someone())
    feed = changes_since(graph, before)
    assert (feed.version, feed.referrers) == (before + 3, ["rf3"])
    assert cache.update() == "applied"
    assert live.metrics["rf3"]["contacts"] == 3
    assert live.G.nodes["st3"]["name"] == "Flo Ray" and "st3" in live.index.members
    assert_same_analysis(live, full_build(graph, TODAY))


def test_an_import_is_caught_up_by_a_full_rebuild_in_the_background(graph, tmp_path):
    import_folder(graph, fixture_path("small"))
    cache = InsightsCache(graph, TODAY, check_seconds=3600)
    first = cache.get()
    (tmp_path / "referrers.csv").write_text("id,name,kind,organization,point_person_id,since\n"
                                            "rf7,Dr. Bulk,physician,,cn1,2024-01-01\n")
    import_folder(graph, tmp_path)
    assert cache.update() == "rebuilding"
    assert cache.get() is first  # served meanwhile
    assert cache.wait_for_rebuild(timeout=60)
    rebuilt = cache.served
    assert rebuilt is not first and "rf7" in rebuilt.histories
    assert (cache.full_builds, cache.rebuilding) == (2, False)
    assert_same_analysis(rebuilt, full_build(graph, TODAY))


def test_a_forced_rebuild_runs_in_the_background_at_most_once_per_refresh_seconds(graph):
    import_folder(graph, fixture_path("small"))
    cache = InsightsCache(graph, TODAY, check_seconds=3600, refresh_seconds=3600)
    first = cache.get()
    assert cache.get(refresh=True) is first  # answered from what there is
    assert cache.wait_for_rebuild(timeout=60)
    forced = cache.served
    assert forced is not first and cache.full_builds == 2
    assert cache.refresh() is False  # the next, within the hour, is refused
    assert cache.served is forced and cache.full_builds == 2


def test_an_update_waits_for_readers_and_readers_never_see_half_a_change(graph):
    import_folder(graph, fixture_path("small"))
    cache = InsightsCache(graph, TODAY, check_seconds=3600)
    cache.get()
    service_of(graph).record_referral({"id": "w1", "date": date.today(), "referrer_id": "rf1", "client_id": "cl2",
                                       "addressed_to": "cn2"}, by=someone())
    outcome = []
    with cache.reading() as insights:
        seen = insights.metrics["rf1"]["referrals"]
        updater = threading.Thread(target=lambda: outcome.append(cache.update()))
        updater.start()
        updater.join(timeout=1.0)
        assert updater.is_alive()  # waiting for this reader
        assert insights.metrics["rf1"]["referrals"] == seen == 2
        assert insights.G.number_of_edges("rf1", "cn2") == 0
    updater.join(timeout=10)
    assert outcome == ["applied"]
    with cache.reading() as insights:
        assert insights.metrics["rf1"]["referrals"] == 3


def test_a_poller_serves_another_process_write(graph):
    import_folder(graph, fixture_path("small"))
    cache = InsightsCache(graph, TODAY)
    cache.get()
    cache.start(poll_seconds=0.2)
    try:
        service_of(graph).record_referral({"id": "w1", "date": date.today(), "referrer_id": "rf3", "client_id": "cl2",
                                           "addressed_to": "cn1"}, by=someone())
        version = changes_since(graph, 0).version
        deadline = time.monotonic() + 60  # a bound on waiting, not a speed target (see make bench)
        while cache.served.version != version and time.monotonic() < deadline:
            time.sleep(0.02)
        assert cache.served.version == version
        with cache.reading() as insights:
            assert insights.metrics["rf3"]["referrals"] == 2
        assert (cache.full_builds, cache.incremental_updates) == (1, 1)
    finally:
        cache.close()


def test_a_warm_start_loads_the_snapshot_and_applies_the_changes_since(graph, tmp_path):
    snapshots = tmp_path / "snapshots"
    import_folder(graph, fixture_path("small"))
    first = InsightsCache(graph, TODAY, snapshot_dir=snapshots)
    first.get()
    assert first.wait_idle()  # nothing left running: the snapshot was saved before the first answer
    saved = list(snapshots.iterdir())
    assert len(saved) == 1 and saved[0].suffix == ".pickle"
    assert (os.stat(snapshots).st_mode & 0o777, os.stat(saved[0]).st_mode & 0o777) == (0o700, 0o600)
    service_of(graph).record_referral({"id": "w1", "date": date.today(), "referrer_id": "rf2", "client_id": "cl1",
                                       "addressed_to": "cn3"}, by=someone())

    second = InsightsCache(graph, TODAY, snapshot_dir=snapshots)
    warm = second.get()
    assert (second.full_builds, second.warm_starts, second.incremental_updates) == (1, 1, 1)
    assert_same_analysis(warm, full_build(graph, TODAY))

    # An import after the snapshot: it no longer applies, the start is a full build.
    (tmp_path / "more").mkdir()
    (tmp_path / "more" / "referrers.csv").write_text("id,name,kind,organization,point_person_id,since\n"
                                                     "rf7,Dr. Bulk,physician,,cn1,2024-01-01\n")
    import_folder(graph, tmp_path / "more")
    third = InsightsCache(graph, TODAY, snapshot_dir=snapshots)
    assert "rf7" in third.get().histories
    assert (third.full_builds, third.warm_starts) == (1, 0)
    assert third.wait_idle()

    # A snapshot folder others may open is not trusted.
    os.chmod(snapshots, 0o755)
    fourth = InsightsCache(graph, TODAY, snapshot_dir=snapshots)
    fourth.get()
    assert fourth.warm_starts == 0 and fourth.wait_idle()


def test_a_snapshot_of_another_database_or_a_damaged_one_is_ignored(graph, tmp_path):
    snapshots = tmp_path / "snapshots"
    import_folder(graph, fixture_path("small"))
    first = InsightsCache(graph, TODAY, snapshot_dir=snapshots)
    first.get()
    assert first.wait_idle()
    (path,) = snapshots.iterdir()
    path.write_bytes(b"not a pickle")
    cache = InsightsCache(graph, TODAY, snapshot_dir=snapshots)
    assert "rf1" in cache.get().histories and cache.warm_starts == 0
    assert cache.wait_idle()
    # The damaged file was replaced by the full build's own snapshot, which the next start uses.
    again = InsightsCache(graph, TODAY, snapshot_dir=snapshots)
    again.get()
    assert (again.warm_starts, path.stat().st_size > 1000) == (1, True)

    # A snapshot of another database (another instance id) is never applied to this one.
    graph.write("wipe_graph", catalog=TEST_QUERIES)
    init_schema(graph)
    import_folder(graph, fixture_path("small"))
    other = InsightsCache(graph, TODAY, snapshot_dir=snapshots)
    other.get()
    assert other.warm_starts == 0 and other.wait_idle()
    assert len(list(snapshots.iterdir())) == 2  # one per database


def test_a_database_without_an_instance_id_yet_keeps_its_analysis_when_it_gets_one(graph):
    import_folder(graph, fixture_path("small"))
    graph.write("remove_instance", catalog=TEST_QUERIES)  # as a database from before instance ids
    cache = InsightsCache(graph, TODAY, check_seconds=3600)
    live = cache.get()
    assert live.instance is None
    service_of(graph).record_contact({"id": "c1", "date": date.today(), "referrer_id": "rf1", "member_id": "cn1",
                                      "kind": "talk"}, by=someone())
    assert cache.update() == "applied" and cache.served is live and live.instance is not None


def test_a_write_of_this_process_is_read_and_analysed_once(graph, monkeypatch):
    """The service's write hands its own projection and analysis to the live analysis: the referrer is
    projected once (in the write's transaction) and analysed once, and the result equals a full build."""
    from graphsvc import live
    from graphsvc.service import Service
    from graphsvc.store import projection

    import_folder(graph, fixture_path("small"))
    cache = InsightsCache(graph, DEC_2024, check_seconds=3600)
    served = cache.get()
    _ = served.histories, served.metrics
    projected, analysed = [], []
    real_project, real_histories = projection.project, live.stage_histories
    monkeypatch.setattr(projection, "project", lambda *a, **k: projected.append(k.get("referrers")) or
                        real_project(*a, **k))
    monkeypatch.setattr(live, "stage_histories", lambda *a, **k: analysed.append(a[1]) or real_histories(*a, **k))

    Service(graph, DEC_2024, live=cache).record_contact(
        {"id": "k9", "date": date(2024, 6, 1), "referrer_id": "rf1", "member_id": "cn2", "kind": "talk"},
        by=someone())

    assert (projected, analysed) == ([["rf1"]], [])  # the write's projection, and no second analysis
    assert (cache.get() is served, cache.full_builds, cache.incremental_updates) == (True, 1, 1)
    assert served.version == changes_since(graph, 0).version
    monkeypatch.undo()
    fresh = full_build(graph, DEC_2024)
    assert (served.histories, served.metrics) == (fresh.histories, fresh.metrics)
    assert served.metrics["rf1"]["contacts"] == 2


def test_a_new_day_rebuilds_an_analysis_of_today(graph):
    import_folder(graph, fixture_path("small"))
    cache = InsightsCache(graph, TODAY, check_seconds=3600)
    first = cache.get()
    assert cache.update() == "current"
    first.judged_on = date.today() - timedelta(days=1)  # as if built yesterday: stalled, due, snoozed moved on
    assert cache.update() == "rebuilding"
    assert cache.wait_for_rebuild(timeout=60)
    assert cache.served is not first and cache.served.judged_on == date.today()
    # An analysis of a fixed day never goes stale.
    fixed = InsightsCache(graph, DEC_2024, check_seconds=3600)
    fixed.get().judged_on = date(2000, 1, 1)
    assert fixed.update() == "current"


def test_an_introduction_is_remembered_until_its_referrer_changes_or_it_is_old(graph, monkeypatch):
    import_folder(graph, fixture_path("small"))
    cache = InsightsCache(graph, DEC_2024, check_seconds=3600)
    live = cache.get()
    calls = []
    original = Insights._introduction

    def counted(self, worklist, item):
        calls.append(item["referrer"])
        return original(self, worklist, item)

    monkeypatch.setattr(Insights, "_introduction", counted)
    row = next(r for r in live.worklist("key-person-risk") if r["referrer"] == "rf3")
    first = live.introduction_for("key-person-risk", row)
    assert live.introduction_for("key-person-risk", row) is first and calls == ["rf3"]
    # Another referrer's write: remembered; rf3's own: asked again.
    service_of(graph).record_contact({"date": "2024-12-01", "referrer_id": "rf1", "member_id": "cn1",
                                      "kind": "talk"}, by=someone())
    assert cache.update() == "applied"
    assert live.introduction_for("key-person-risk", row) is first and calls == ["rf3"]
    service_of(graph).record_contact({"date": "2024-12-01", "referrer_id": "rf3", "member_id": "cn2",
                                      "kind": "talk"}, by=someone())
    assert cache.update() == "applied"
    assert live.introduction_for("key-person-risk", row) == first and calls == ["rf3", "rf3"]
    monkeypatch.setattr(Insights, "INTRODUCTION_SECONDS", 0)  # old at once
    live.introduction_for("key-person-risk", row)
    assert calls == ["rf3", "rf3", "rf3"]
