"""The signed, hash-chained audit log: intact after real calls, and any tampering is found.

Runs on SQLite and PostgreSQL: the canonical form of an entry must survive both backends'
round trips (timestamps, JSON) byte for byte.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from sqlalchemy import delete, select, update

from catalog.models import AuditEntry
from exchange_api.audit import entry_hash, verify_chain
from tests.exchange_api.api_helpers import Api, data_get, data_post
from tests.exchange_api.conftest import PERSON_PURPOSE
from tests.exchange_api.lake_cases import UNKNOWN, ZHANG


def _calls(api: Api) -> None:
    assert (
        data_get(api, "rs", f"/themes/person/profiles/{ZHANG}", PERSON_PURPOSE).status_code == 200
    )
    assert (
        data_get(api, "zj", f"/themes/person/profiles/{ZHANG}", PERSON_PURPOSE).status_code == 403
    )
    body = {"id_number": UNKNOWN, "name": "张三丰", "case_ref": "BJ1", "business_matter": "测试"}
    assert data_post(api, "rs", "/verify/identity", body, PERSON_PURPOSE).status_code == 200
    assert data_get(api, "rs", "/themes/person/profiles/123", PERSON_PURPOSE).status_code == 422


def _report(api: Api):  # type: ignore[no-untyped-def]
    exchange = api.client.app.state.exchange  # type: ignore[attr-defined]
    with api.catalog.unit() as ctx:  # type: ignore[attr-defined]
        return verify_chain(ctx.session, exchange.key)


def _tamper(api: Api, seq: int, **values: object) -> None:
    with api.catalog.unit() as ctx:  # type: ignore[attr-defined]
        ctx.session.execute(update(AuditEntry).where(AuditEntry.seq == seq).values(**values))


def test_every_call_is_logged_and_the_chain_verifies(data_api: Api) -> None:
    _calls(data_api)
    report = _report(data_api)
    assert report.ok and report.entries == 4
    with data_api.catalog.unit() as ctx:  # type: ignore[attr-defined]
        entries = ctx.session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
    assert [e.outcome for e in entries] == ["allowed", "denied", "allowed", "denied"]
    assert [e.status for e in entries] == [200, 403, 200, 422]
    assert entries[0].fields and entries[0].row_count == 1 and entries[0].result_hash
    assert entries[1].reason == "NO_GRANT" and entries[1].row_count == 0
    assert all(ZHANG not in json.dumps(e.fields) + e.subject_hash for e in entries)
    assert entries[1].prev_hash == entries[0].entry_hash
    verified = data_api.get("steward", "/audit/verify").json()
    assert verified["ok"] and verified["entries"] == 4
    assert data_api.get("rs", "/audit/verify").status_code == 403


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"row_count": 99}, id="row-count"),
        pytest.param({"department_code": "11330100449159D74N"}, id="department"),
        pytest.param({"fields": ["姓名"]}, id="fields"),
        pytest.param({"purpose": "别的用途"}, id="purpose"),
        pytest.param({"outcome": "allowed"}, id="outcome"),
    ],
)
def test_changing_any_field_of_an_entry_is_detected_at_that_entry(
    data_api: Api, change: dict[str, object]
) -> None:
    _calls(data_api)
    _tamper(data_api, 2, **change)
    report = _report(data_api)
    assert not report.ok and report.first_broken_seq == 2 and report.entries == 1
    assert "修改" in (report.problem or "")


def test_rehashing_a_changed_entry_still_fails_on_its_signature(data_api: Api) -> None:
    _calls(data_api)
    with data_api.catalog.unit() as ctx:  # type: ignore[attr-defined]
        entry = ctx.session.scalars(select(AuditEntry).where(AuditEntry.seq == 3)).one()
        entry.row_count = 7
        entry.entry_hash = entry_hash(entry)
    report = _report(data_api)
    assert report.first_broken_seq == 3 and "签名" in (report.problem or "")


def test_deleting_an_entry_is_detected(data_api: Api) -> None:
    _calls(data_api)
    with data_api.catalog.unit() as ctx:  # type: ignore[attr-defined]
        ctx.session.execute(delete(AuditEntry).where(AuditEntry.seq == 2))
    report = _report(data_api)
    assert not report.ok and report.first_broken_seq == 3


def test_cli_audit_verify_names_the_broken_entry(
    data_api: Api, settings, exchange_settings
) -> None:  # type: ignore[no-untyped-def]
    _calls(data_api)
    env = {
        **os.environ,
        "GOVSHARE_HOME": str(settings.home),
        "GOVSHARE_DATABASE_URL": settings.catalog_url,
        "GOVSHARE_EXCHANGE_SIGNING_KEY_PATH": str(exchange_settings.signing_key_path),
    }
    command = [sys.executable, "-m", "govshare", "audit"]
    intact = subprocess.run([*command, "verify"], env=env, capture_output=True, text=True)
    assert intact.returncode == 0, intact.stderr
    assert "4 条" in intact.stdout
    usage = subprocess.run(
        [*command, "usage", "--department", data_api.codes["sjj"], "--json"],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert usage.returncode == 0, usage.stderr
    assert {r["outcome"] for r in json.loads(usage.stdout)["data"]} == {"allowed", "denied"}
    _tamper(data_api, 3, row_count=5)
    broken = subprocess.run([*command, "verify"], env=env, capture_output=True, text=True)
    assert broken.returncode == 1 and "第 3 条" in broken.stderr
