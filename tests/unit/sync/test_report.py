"""What `agents sync` prints and returns as JSON: SyncReport.summary and as_dict."""

from __future__ import annotations

from agents.sync.engine import SyncReport, pending_hint
from agents.sync.pull import PullReport
from agents.sync.push import PushReport


def full_pull() -> PullReport:
    """A pull that did a bit of everything."""
    return PullReport(
        machines=["b", "c"],
        received=7,
        blobs=2,
        fast_forwarded=3,
        merged=2,
        kept=1,
        refused={"h1": "over the size limit", "h2": "a revision of another document"},
        pending={"d": "SHA256:dd", "c2": "SHA256:cc"},
        conflicts=[
            {"doc_id": "x", "resolution": "needs_review"},
            {"doc_id": "y", "resolution": "auto_resolved"},
        ],
        quarantined=[
            {"key": f"heads/e{i}.json", "machine": f"e{i}", "reason": "bad"} for i in range(22)
        ],
    )


def test_the_summary_of_a_sync_says_what_moved_what_needs_review_and_what_to_run() -> None:
    push = PushReport(pushed=True, snapshot="snapshots/a/01J.json", changed=4, objects=5, blobs=1)
    report = SyncReport("sync", "dir:///r", pull=full_pull(), push=push, notes=["a note"])
    assert report.summary().split("\n") == [
        "pulled from 2 machine(s): 3 fast-forwarded, 2 merged, 1 kept "
        "(7 revisions, 2 blobs fetched)",
        "1 conflict(s) need review: `agents sync conflicts` lists them, "
        "`agents sync resolve <doc> --take local|remote` settles one",
        "2 revision(s) refused and quarantined",
        *[f"quarantined heads/e{i}.json of e{i}: bad" for i in range(20)],  # the first 20
        "`agents sync quarantine` lists what was set aside",
        "pending, not merged (not trusted here): c2 (SHA256:cc), d (SHA256:dd). If it is "
        "yours, compare the fingerprint with `agents machines list` on it, then "
        "`agents machines trust ID`",
        "pushed 4 change(s) as snapshots/a/01J.json (5 objects, 1 blobs)",
        "a note",
    ]


def test_a_quiet_pull_names_no_conflict_quarantine_or_pending_machine() -> None:
    pull = PullReport(machines=["b"], conflicts=[{"doc_id": "y", "resolution": "auto_resolved"}])
    assert SyncReport("pull", "r", pull=pull).summary() == (
        "pulled from 1 machine(s): 0 fast-forwarded, 0 merged, 0 kept "
        "(0 revisions, 0 blobs fetched)"
    )
    quarantined = PullReport(quarantined=[{"key": "k", "machine": "m", "reason": "r"}])
    assert SyncReport("pull", "r", pull=quarantined).summary().split("\n")[1:] == [
        "quarantined k of m: r",
        "`agents sync quarantine` lists what was set aside",
    ]
    refused = PullReport(refused={"h": "why"})
    assert SyncReport("pull", "r", pull=refused).summary().split("\n")[1:] == [
        "1 revision(s) refused and quarantined",
        "`agents sync quarantine` lists what was set aside",
    ]


def test_a_push_with_nothing_to_push_and_an_empty_report_say_so() -> None:
    assert SyncReport("push", "r", push=PushReport()).summary() == "nothing to push"
    assert SyncReport("sync", "r").summary() == "nothing to do"


def test_the_json_form_holds_both_reports_the_record_and_a_rounded_duration() -> None:
    push = PushReport(pushed=True, snapshot="s", documents=3, changed=1, objects=2, bytes=9)
    report = SyncReport(
        "sync", "dir:///r", pull=full_pull(), push=push, record="r1", duration_ms=12.345
    )
    report.notes.append("n")
    data = report.as_dict()
    assert data == {
        "operation": "sync",
        "remote": "dir:///r",
        "pull": full_pull().as_dict(),
        "push": {
            "pushed": True,
            "snapshot": "s",
            "documents": 3,
            "changed": 1,
            "objects": 2,
            "blobs": 0,
            "bytes": 9,
            "audit_rows": 0,
        },
        "record": "r1",
        "duration_ms": 12.3,
        "notes": ["n"],
    }
    assert data["pull"]["changed"] == 5
    empty = SyncReport("pull", "r").as_dict()
    assert (empty["pull"], empty["push"], empty["record"], empty["notes"]) == (None, None, None, [])


def test_the_pending_hint_names_each_machine_with_its_fingerprint_in_order() -> None:
    assert pending_hint({"b": "SHA256:b", "a": "SHA256:a"}).startswith(
        "pending, not merged (not trusted here): a (SHA256:a), b (SHA256:b). "
    )
