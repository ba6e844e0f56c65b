"""Attack: cutting the newest entries off the audit log, and calls refused before logging.

Deleting the newest 10 rows, 515 rows or every row of ``audit_log`` left a chain that
verified ``ok: true``: a hash chain says nothing about what follows its last entry. Signed
checkpoints of the head, kept outside the database, now make such a cut visible. And a 401,
a missing purpose or a malformed request (422) was answered without any log entry.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from urllib.parse import quote

import pytest
from sqlalchemy import delete, func, select

from catalog.models import AuditEntry
from exchange_api.audit import AuditRecord, verify_and_anchor, verify_chain
from tests.exchange_api.api_helpers import Api, token
from tests.exchange_api.lake_cases import ZHANG

ENTRIES = 605  # a checkpoint is written every 100 appends by default: the last at 600


@pytest.fixture
def api(small_api: Api, catalog) -> Api:  # type: ignore[no-untyped-def]
    small_api.catalog = catalog  # type: ignore[attr-defined]
    return small_api


def _exchange(api: Api):  # type: ignore[no-untyped-def]
    return api.client.app.state.exchange  # type: ignore[attr-defined]


def _fill(api: Api, n: int = ENTRIES) -> None:
    log = _exchange(api).audit
    for _ in range(n):
        log.append(AuditRecord(request_id=uuid.uuid4().hex, actor="dept:x", endpoint="GET /x"))


def _cut(api: Api, newest: int | None) -> None:
    """The attacker's DELETE: the newest ``newest`` rows, or every row when None."""
    with api.catalog.unit() as ctx:  # type: ignore[attr-defined]
        query = delete(AuditEntry)
        if newest is not None:
            last = ctx.session.scalar(select(func.max(AuditEntry.seq))) or 0
            query = query.where(AuditEntry.seq > last - newest)
        ctx.session.execute(query)


def _verify(api: Api):  # type: ignore[no-untyped-def]
    exchange = _exchange(api)
    with api.catalog.unit() as ctx:  # type: ignore[attr-defined]
        return verify_chain(ctx.session, exchange.key, exchange.audit.checkpoints)


@pytest.mark.parametrize("newest", [10, 515, None], ids=["newest-10", "newest-515", "every-row"])
def test_deleting_the_newest_entries_is_detected(api: Api, newest: int | None) -> None:
    _fill(api)
    assert _verify(api).ok
    _cut(api, newest)
    report = _verify(api)
    assert not report.ok
    assert "末尾" in (report.problem or "") and "删除" in (report.problem or "")
    remaining = ENTRIES - (newest or ENTRIES)
    assert report.entries == remaining and report.first_broken_seq == remaining + 1


def test_a_verification_anchors_the_head_so_a_later_cut_is_found(api: Api) -> None:
    _fill(api, 7)  # fewer than a checkpoint interval: only the verification anchors it
    verified = api.get("steward", "/audit/verify")
    assert verified.status_code == 200 and verified.json()["ok"]
    _cut(api, 2)
    report = api.get("steward", "/audit/verify").json()
    assert report["ok"] is False and report["first_broken_seq"] == 6
    assert "末尾" in report["problem"]


def test_new_entries_after_a_cut_do_not_hide_it(api: Api) -> None:
    _fill(api, 5)
    exchange = _exchange(api)
    with api.catalog.unit() as ctx:  # type: ignore[attr-defined]
        assert verify_and_anchor(
            ctx.session, exchange.key, exchange.audit.checkpoints, now=ctx.now()
        ).ok
    _cut(api, 3)
    _fill(api, 3)  # the log grows past the anchor again
    assert not _verify(api).ok


def test_cli_verify_reports_a_cut_in_chinese(api: Api, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _fill(api, 3)
    exchange = _exchange(api)
    env = {
        **os.environ,
        "GOVSHARE_HOME": str(settings.home),
        "GOVSHARE_DATABASE_URL": settings.catalog_url,
        "GOVSHARE_EXCHANGE_SIGNING_KEY_PATH": str(exchange.config.key_path(settings)),
    }
    command = [sys.executable, "-m", "govshare", "audit", "verify"]
    intact = subprocess.run(command, env=env, capture_output=True, text=True)
    assert intact.returncode == 0, intact.stderr
    _cut(api, None)
    broken = subprocess.run(command, env=env, capture_output=True, text=True)
    assert broken.returncode == 1
    said = "".join(broken.stderr.split())  # rich wraps long lines
    assert "末尾的条目被删除" in said and "第1条" in said and "现日志为空" in said


def _entries(api: Api) -> list[AuditEntry]:
    with api.catalog.unit() as ctx:  # type: ignore[attr-defined]
        return list(ctx.session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))


def test_refused_calls_are_logged_without_personal_data(api: Api) -> None:
    bearer = {"Authorization": f"Bearer {token(api, 'first')}"}
    purpose = {"X-Purpose": quote("就业困难人员认定")}
    body = {"id_number": ZHANG, "name": "张三丰", "case_ref": "C1", "business_matter": "测试"}
    answers = [
        api.client.get(f"/api/v1/themes/person/profiles/{ZHANG}"),  # no credentials
        api.client.get(
            f"/api/v1/themes/person/profiles/{ZHANG}", headers={"X-API-Key": api.keys["first"]}
        ),  # a key where a token is required
        api.client.post("/api/v1/verify/identity", json=body, headers=bearer),  # no purpose
        api.client.post(  # malformed body
            "/api/v1/verify/identity", json={"id_number": ZHANG}, headers=bearer | purpose
        ),
        api.client.post(  # not JSON at all
            "/api/v1/verify/identity", content=b"{", headers=bearer | purpose
        ),
        api.client.post("/api/v1/token", headers={"X-API-Key": "gs_nope"}),  # bad key
    ]
    assert [a.status_code for a in answers] == [401, 401, 422, 422, 422, 401]
    entries = _entries(api)
    assert [(e.status, e.outcome) for e in entries] == [(a.status_code, "denied") for a in answers]
    assert [e.reason for e in entries] == [
        "NOT_AUTHENTICATED", "TOKEN_REQUIRED", "VALIDATION_ERROR", "VALIDATION_ERROR",
        "VALIDATION_ERROR", "NOT_AUTHENTICATED",
    ]  # fmt: skip
    assert entries[0].endpoint == "GET /api/v1/themes/{theme}/profiles/{key}"
    assert entries[2].department_code == api.codes["first"]  # the token told who it was
    assert entries[3].purpose == "就业困难人员认定"
    for entry in entries:
        columns = {c.name: getattr(entry, c.name) for c in AuditEntry.__table__.columns}
        assert ZHANG not in json.dumps(columns, default=str, ensure_ascii=False)
        assert "张三丰" not in json.dumps(columns, default=str, ensure_ascii=False)
    assert _verify(api).ok
