"""Delta Sharing from grants, read with the official ``delta-sharing`` connector over real HTTP.

A real uvicorn serves the app on a lake built in this test's folder (so a second table
version can be committed without touching the session's shared lake); the connector reads
through a profile file holding a department key, exactly as an analyst's pandas would.
"""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import delta_sharing
import httpx
import pyarrow.parquet as pq
import pytest
from deltalake import write_deltalake
from requests.exceptions import HTTPError
from sqlalchemy import select

from catalog import grants, keys, repository
from catalog.domain import Role
from catalog.models import AuditEntry
from catalog.store import Catalog
from demo.catalog import DEPT
from demo.catalog import PERSON_THEME as PERSON
from exchange_api.app import create_app
from exchange_api.audit import usage, verify_chain
from infra.settings import Settings
from jobs.sharing import prune_shares, refresh_shares
from lake.delta import TableRef
from lake.masked import sharing_root
from tests.catalogues import Clock
from tests.exchange_api.conftest import EXTRACT_PURPOSE, PERSON_FIELDS, PERSON_PURPOSE, _grant
from tests.exchange_api.lake_cases import build_lake
from tests.exchange_api.servers import uvicorn_thread
from tests.factories import STEWARD

REGISTRATION = "000001001/000001"
REG_FIELDS = ["统一社会信用代码", "企业名称", "法定代表人", "行政区划代码", "行业代码"]


@dataclass
class Sharing:
    url: str
    profiles: dict[str, str]  # who -> profile file path
    keys: dict[str, str]
    grants: dict[str, int]
    catalog: Catalog
    clock: Clock
    lake: str
    app: Any
    settings: Settings

    def table_url(self, who: str, table: str) -> str:
        return f"{self.profiles[who]}#{DEPT[who]}.{table}"

    def http(self, who: str) -> httpx.Client:
        return httpx.Client(
            base_url=f"{self.url}/delta-sharing",
            headers={"Authorization": f"Bearer {self.keys[who]}"},
            timeout=30,
        )


@pytest.fixture
def shared(
    demo_catalog: Catalog, settings: Settings, clock: Clock, tmp_path: Path,
    exchange_settings: Any, request: pytest.FixtureRequest,
) -> Iterator[Sharing]:  # fmt: skip
    """Parametrised indirectly, the parameter is the rows per masked file (default 1M)."""
    file_rows = getattr(request, "param", None)
    if file_rows is not None:
        exchange_settings = exchange_settings.model_copy(update={"sharing_file_rows": file_rows})
    lake = build_lake(tmp_path / "lake")
    with demo_catalog.unit() as ctx:
        granted = {
            "person": _grant(ctx, "rs", PERSON, PERSON_FIELDS, PERSON_PURPOSE),
            "registration": _grant(ctx, "rs", REGISTRATION, REG_FIELDS, EXTRACT_PURPOSE),
        }
        issued = {}
        for who in ("rs", "zj"):
            _key, issued[who] = keys.create_key(
                ctx, department_code=DEPT[who], role=Role.DEPARTMENT, label="sharing", actor=STEWARD
            )
    served = settings.model_copy(update={"lake_root": lake, "home": tmp_path / "home"})
    app = create_app(
        served,
        clock=clock,
        exchange_settings=exchange_settings,
    )
    with uvicorn_thread(app) as url:
        profiles = {}
        for who, secret in issued.items():
            path = tmp_path / f"{who}.share"
            endpoint = f"{url}/delta-sharing"
            profile = {"shareCredentialsVersion": 1, "endpoint": endpoint, "bearerToken": secret}
            path.write_text(json.dumps(profile))
            profiles[who] = str(path)
        yield Sharing(url, profiles, issued, granted, demo_catalog, clock, lake, app, served)


def _extract(shared: Sharing) -> Any:
    """The same grant's extract through the data API: the masking reference."""
    with httpx.Client(base_url=shared.url, timeout=30) as http:
        token = http.post("/api/v1/token", headers={"X-API-Key": shared.keys["rs"]}).json()
        response = http.get(
            f"/api/v1/extracts/{REGISTRATION}",
            headers={
                "Authorization": f"Bearer {token['access_token']}",
                "X-Purpose": quote(EXTRACT_PURPOSE),
            },
        )
        assert response.status_code == 200, response.text
        return pq.read_table(io.BytesIO(response.content)).to_pandas()


def test_connector_reads_exactly_the_granted_masked_fields(shared: Sharing) -> None:
    client = delta_sharing.SharingClient(shared.profiles["rs"])
    tables = {(t.schema, t.name) for t in client.list_all_tables()}
    reg = f"scjg_enterprise_registration_g{shared.grants['registration']}"
    person = f"theme_person_g{shared.grants['person']}"
    assert {("validated", reg), ("themes", person)} <= tables
    with shared.catalog.unit() as ctx:  # the demo gives 人社 one more grant of its own
        live = repository.grants(
            ctx.session,
            department_id=repository.department(ctx.session, DEPT["rs"]).id,
            active_at=ctx.now(),
        )
        assert {name.rsplit("_g", 1)[1] for _s, name in tables} == {str(g.id) for g in live}

    frame = delta_sharing.load_as_pandas(shared.table_url("rs", f"validated.{reg}"))
    assert list(frame.columns) == REG_FIELDS  # 成立日期, 住所, 注册资本 were not granted
    assert len(frame) == 40
    assert frame["法定代表人"].iloc[0] == "孙**"  # masked as the lookup API masks names
    reference = _extract(shared)
    assert (
        frame.sort_values("统一社会信用代码")
        .reset_index(drop=True)
        .equals(reference.sort_values("统一社会信用代码").reset_index(drop=True))
    )

    limited = delta_sharing.load_as_pandas(shared.table_url("rs", f"validated.{reg}"), limit=3)
    assert len(limited) == 3

    people = delta_sharing.load_as_pandas(shared.table_url("rs", f"themes.{person}"))
    assert "身份证号" in people.columns and len(people) > 0
    assert all("*" in v for v in people["身份证号"].dropna())


def test_masked_files_carry_stats_and_no_raw_bytes(shared: Sharing) -> None:
    reg = f"scjg_enterprise_registration_g{shared.grants['registration']}"
    with shared.http("rs") as http:
        response = http.post(f"/shares/{DEPT['rs']}/schemas/validated/tables/{reg}/query", json={})
        assert response.status_code == 200
        assert response.headers["delta-table-version"] == "0"
        lines = [json.loads(line) for line in response.text.splitlines()]
        assert lines[0] == {"protocol": {"minReaderVersion": 1}}
        files = [line["file"] for line in lines[2:]]
        assert files and all("/delta-sharing/files/g" in f["url"] for f in files)
        stats = json.loads(files[0]["stats"])
        assert stats["numRecords"] == 40
        assert stats["minValues"]["行业代码"] == "C13" and stats["maxValues"]["行业代码"] == "I65"
        body = httpx.get(files[0]["url"]).content
        assert "孙悟空".encode() not in body and shared.lake not in files[0]["url"]


def test_department_without_grants_sees_no_table_and_not_others_share(shared: Sharing) -> None:
    client = delta_sharing.SharingClient(shared.profiles["zj"])
    assert client.list_all_tables() == []
    with shared.http("zj") as http:
        other = http.get(f"/shares/{DEPT['rs']}/all-tables")
        assert other.status_code == 404
        assert other.json()["errorCode"] == "RESOURCE_DOES_NOT_EXIST"


def test_wrong_token_is_401(shared: Sharing) -> None:
    response = httpx.get(
        f"{shared.url}/delta-sharing/shares", headers={"Authorization": "Bearer gs_nope"}
    )
    assert response.status_code == 401
    assert set(response.json()) >= {"errorCode", "message"}


def test_revoked_grant_removes_the_table_and_its_file_urls(shared: Sharing) -> None:
    reg = f"scjg_enterprise_registration_g{shared.grants['registration']}"
    with shared.http("rs") as http:
        lines = http.post(f"/shares/{DEPT['rs']}/schemas/validated/tables/{reg}/query").text
        url = json.loads(lines.splitlines()[2])["file"]["url"]
        assert httpx.get(url).status_code == 200
        with shared.catalog.unit() as ctx:
            grants.revoke_grant(
                ctx, grant_id=shared.grants["registration"], reason="测试撤销", actor=STEWARD
            )
        names = [t["name"] for t in http.get(f"/shares/{DEPT['rs']}/all-tables").json()["items"]]
        assert reg not in names
        gone = http.post(f"/shares/{DEPT['rs']}/schemas/validated/tables/{reg}/query")
        assert gone.status_code == 404
    assert httpx.get(url).status_code == 403  # URL not yet expired, but the grant ended


def test_file_url_expires_after_fifteen_minutes_and_cannot_be_forged(shared: Sharing) -> None:
    reg = f"scjg_enterprise_registration_g{shared.grants['registration']}"
    with shared.http("rs") as http:
        lines = http.post(f"/shares/{DEPT['rs']}/schemas/validated/tables/{reg}/query").text
    url = json.loads(lines.splitlines()[2])["file"]["url"]
    forged = url[:-1] + ("0" if url[-1] != "0" else "1")
    assert httpx.get(forged).status_code == 403
    shared.clock.advance(minutes=14)
    assert httpx.get(url).status_code == 200
    shared.clock.advance(minutes=2)
    expired = httpx.get(url)
    assert expired.status_code == 403 and expired.json()["errorCode"] == "FORBIDDEN"


def test_time_travel_reads_the_older_version(shared: Sharing) -> None:
    reg = f"scjg_enterprise_registration_g{shared.grants['registration']}"
    uri = f"{shared.lake}/validated/scjg_enterprise_registration"
    from deltalake import DeltaTable

    first = DeltaTable(uri).to_pyarrow_table()
    write_deltalake(uri, first.slice(0, 5), mode="append")
    table = shared.table_url("rs", f"validated.{reg}")
    assert len(delta_sharing.load_as_pandas(table)) == 45
    assert len(delta_sharing.load_as_pandas(table, version=0)) == 40
    committed = {e["version"]: e["timestamp"] for e in DeltaTable(uri).history()}
    at_first = datetime.fromtimestamp(committed[0] / 1000, tz=UTC).isoformat()
    assert len(delta_sharing.load_as_pandas(table, timestamp=at_first)) == 40
    with shared.http("rs") as http:
        naive = http.post(
            f"/shares/{DEPT['rs']}/schemas/validated/tables/{reg}/query",
            json={"timestamp": "2026-01-01T00:00:00"},
        )
        assert naive.status_code == 400 and naive.json()["errorCode"] == "INVALID_PARAMETER_VALUE"
    client = delta_sharing.SharingClient(shared.profiles["rs"])
    assert client is not None
    with shared.http("rs") as http:
        head = http.head(f"/shares/{DEPT['rs']}/schemas/validated/tables/{reg}/version")
        assert head.headers["delta-table-version"] == "1"
        bad = http.post(
            f"/shares/{DEPT['rs']}/schemas/validated/tables/{reg}/query", json={"version": 7}
        )
        assert bad.status_code == 400 and bad.json()["errorCode"] == "INVALID_PARAMETER_VALUE"


def test_every_protocol_call_and_download_is_audited(shared: Sharing) -> None:
    def count() -> int:
        with shared.catalog.unit() as ctx:
            rows = ctx.session.scalars(select(AuditEntry.endpoint)).all()
        return sum(1 for r in rows if "/delta-sharing/" in r)

    before = count()
    reg = f"scjg_enterprise_registration_g{shared.grants['registration']}"
    with shared.http("rs") as http:
        assert http.get("/shares").status_code == 200
        assert http.get(f"/shares/{DEPT['rs']}/schemas").status_code == 200
        lines = http.post(f"/shares/{DEPT['rs']}/schemas/validated/tables/{reg}/query").text
        assert http.get(f"/shares/{DEPT['zj']}").status_code == 404
    assert httpx.get(json.loads(lines.splitlines()[2])["file"]["url"]).status_code == 200
    assert httpx.get(f"{shared.url}/delta-sharing/shares").status_code == 401
    assert count() - before == 6
    with shared.catalog.unit() as ctx:
        query = ctx.session.scalars(
            select(AuditEntry).where(AuditEntry.endpoint.like("POST /delta-sharing/%"))
        ).all()[-1]
        assert query.purpose == EXTRACT_PURPOSE and query.grant_id == shared.grants["registration"]
        assert query.department_code == DEPT["rs"] and query.table_version == 0
        assert verify_chain(ctx.session, shared.app.state.exchange.key).ok
        # The provider sees the sharing use beside lookups and extracts (govshare audit usage).
        used = {
            (u.department_code, u.endpoint.split(" ")[0], u.outcome): u
            for u in usage(ctx.session, provider_code=DEPT["scjg"])
            if "/delta-sharing/" in u.endpoint
        }
        assert used[(DEPT["rs"], "POST", "allowed")].rows == 40
        assert used[(DEPT["rs"], "GET", "allowed")].requests == 1  # the file download


def _downloads(shared: Sharing, outcome: str) -> list[AuditEntry]:
    with shared.catalog.unit() as ctx:
        entries = ctx.session.scalars(
            select(AuditEntry).where(AuditEntry.endpoint.like("% /delta-sharing/files/%"))
        ).all()
        ctx.session.expunge_all()
    return [e for e in entries if e.outcome == outcome]


def test_a_download_in_many_requests_is_one_audit_entry_each_request_checked(
    shared: Sharing,
) -> None:
    reg = f"scjg_enterprise_registration_g{shared.grants['registration']}"
    before = len(_downloads(shared, "allowed"))
    # The connector fetches each file in about eleven requests (exists, size, footer, data).
    frame = delta_sharing.load_as_pandas(shared.table_url("rs", f"validated.{reg}"))
    assert len(frame) == 40
    allowed = _downloads(shared, "allowed")
    assert len(allowed) - before == 1  # one file, one download
    entry = allowed[-1]
    assert entry.department_code == DEPT["rs"] and entry.grant_id == shared.grants["registration"]
    assert entry.purpose == EXTRACT_PURPOSE and entry.table_version == 0
    assert entry.resource_code == REGISTRATION and entry.provider_code == DEPT["scjg"]

    with shared.http("rs") as http:  # each query signs URLs of its own, same clock or not
        urls = [
            json.loads(
                http.post(
                    f"/shares/{DEPT['rs']}/schemas/validated/tables/{reg}/query"
                ).text.splitlines()[2]
            )["file"]["url"]
            for _ in range(2)
        ]
    assert urls[0] != urls[1] and urls[0].split("?")[0] == urls[1].split("?")[0]
    url = urls[0]
    with httpx.Client() as http:
        size = int(http.head(url).headers["content-length"])
        assert http.get(url, headers={"Range": "bytes=0-3"}).content == b"PAR1"
        assert http.get(url, headers={"Range": "bytes=-4"}).content == b"PAR1"
        assert len(http.get(url).content) == size
        assert len(_downloads(shared, "allowed")) - before == 2  # the new URL's download
        shared.clock.advance(seconds=61)  # a pause: the same URL again is a new download
        assert http.get(url, headers={"Range": "bytes=0-3"}).status_code == 206
        assert len(_downloads(shared, "allowed")) - before == 3
        refused = len(_downloads(shared, "denied"))
        with shared.catalog.unit() as ctx:
            grants.revoke_grant(
                ctx, grant_id=shared.grants["registration"], reason="测试撤销", actor=STEWARD
            )
        # Mid-download: the next request is checked, refused, and the refusal is logged.
        assert http.get(url, headers={"Range": "bytes=4-9"}).status_code == 403
        assert http.head(url).status_code == 403
    assert len(_downloads(shared, "denied")) - refused == 2
    assert len(_downloads(shared, "allowed")) - before == 3
    with shared.catalog.unit() as ctx:
        assert verify_chain(ctx.session, shared.app.state.exchange.key).ok


def test_connector_http_error_for_revoked_table(shared: Sharing) -> None:
    reg = f"scjg_enterprise_registration_g{shared.grants['registration']}"
    with shared.catalog.unit() as ctx:
        grants.revoke_grant(
            ctx, grant_id=shared.grants["registration"], reason="测试撤销", actor=STEWARD
        )
    with pytest.raises(HTTPError):
        delta_sharing.load_as_pandas(shared.table_url("rs", f"validated.{reg}"))


# One subprocess (~1.5 s of imports): the command is the same code on both backends.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_profile_command_writes_a_profile_the_connector_reads(
    shared: Sharing, settings: Settings, tmp_path: Path
) -> None:
    out = tmp_path / "out" / "rs.share"
    env = {
        **os.environ,
        "GOVSHARE_HOME": str(settings.home),
        "GOVSHARE_DATABASE_URL": settings.catalog_url,
        "COLUMNS": "200",
    }
    done = subprocess.run(
        [sys.executable, "-m", "govshare", "sharing", "profile", "--department", DEPT["rs"],
         "--endpoint", f"{shared.url}/delta-sharing", "--out", str(out)],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    document = json.loads(out.read_text())
    assert document["shareCredentialsVersion"] == 1
    assert document["bearerToken"].startswith("gs_")
    written = delta_sharing.SharingClient(str(out)).list_all_tables()
    expected = delta_sharing.SharingClient(shared.profiles["rs"]).list_all_tables()
    assert written == expected and written


def test_delta_response_format_is_a_delta_log_of_the_same_masked_files(
    shared: Sharing, tmp_path: Path
) -> None:
    """The shape Spark's connector relies on: Delta actions wrapping the same signed files.

    The lines are written out as a Delta log (as the Python connector does for its kernel
    reader) with each signed file downloaded beside it, and read back with delta-rs. The
    connector's own kernel reader (delta-kernel-rust-sharing-wrapper 0.3.3) resolves an
    ``http://`` file URL against the local filesystem, so ``use_delta_format=True`` cannot be
    used against a plain-HTTP test server.
    """
    reg = f"scjg_enterprise_registration_g{shared.grants['registration']}"
    with shared.http("rs") as http:
        response = http.post(
            f"/shares/{DEPT['rs']}/schemas/validated/tables/{reg}/query",
            headers={"delta-sharing-capabilities": "responseformat=delta;readerfeatures=x"},
        )
    assert response.headers["delta-sharing-capabilities"] == "responseformat=delta"
    assert response.headers["delta-table-version"] == "0"
    lines = [json.loads(line) for line in response.text.splitlines()]
    log = [
        {"protocol": lines[0]["protocol"]["deltaProtocol"]},
        {"metaData": lines[1]["metaData"]["deltaMetadata"]},
    ]
    folder = tmp_path / "as_delta"
    (folder / "_delta_log").mkdir(parents=True)
    for n, line in enumerate(lines[2:]):
        add = line["file"]["deltaSingleAction"]["add"]
        assert "/delta-sharing/files/g" in add["path"]
        (folder / f"f{n}.parquet").write_bytes(httpx.get(add["path"]).content)
        log.append({"add": {**add, "path": f"f{n}.parquet"}})
    (folder / "_delta_log" / f"{0:020d}.json").write_text(
        "\n".join(json.dumps(entry, ensure_ascii=False) for entry in log) + "\n"
    )
    from deltalake import DeltaTable

    as_delta = DeltaTable(str(folder)).to_pandas()
    as_parquet = delta_sharing.load_as_pandas(shared.table_url("rs", f"validated.{reg}"))
    key = "统一社会信用代码"
    assert list(as_delta.columns) == REG_FIELDS
    assert (
        as_delta.sort_values(key)
        .reset_index(drop=True)
        .equals(as_parquet.sort_values(key).reset_index(drop=True))
    )


def _manifests(shared: Sharing) -> set[str]:
    root = sharing_root(shared.settings.home)
    return {str(p.parent.relative_to(root)) for p in root.rglob("manifest.json")}


REG_TABLE = "scjg_enterprise_registration"


def test_the_job_masks_a_new_table_version_before_the_next_query(shared: Sharing) -> None:
    reg = f"{REG_TABLE}_g{shared.grants['registration']}"
    table = shared.table_url("rs", f"validated.{reg}")
    assert len(delta_sharing.load_as_pandas(table)) == 40  # first use: version 0 written
    ref = TableRef(shared.lake, "validated", REG_TABLE)
    from deltalake import DeltaTable

    write_deltalake(ref.uri, DeltaTable(ref.uri).to_pyarrow_table().slice(0, 5), mode="append")
    now = shared.clock()
    report = refresh_shares(shared.settings, table=ref, today=now.date(), now=now)
    assert report.version == 1 and report.grants == [shared.grants["registration"]]
    written = _manifests(shared)
    assert {w.split("/")[1].split("-")[0] for w in written} == {"v0", "v1"}
    frame = delta_sharing.load_as_pandas(table)
    assert len(frame) == 45 and frame["法定代表人"].str.contains("*", regex=False).all()
    assert _manifests(shared) == written  # the query served the job's files, wrote none
    # A refresh repeated (a re-run task) writes nothing new; a revoked grant is not refreshed.
    assert refresh_shares(shared.settings, table=ref, today=now.date(), now=now).grants
    assert _manifests(shared) == written
    with shared.catalog.unit() as ctx:
        grants.revoke_grant(
            ctx, grant_id=shared.grants["registration"], reason="测试撤销", actor=STEWARD
        )
    write_deltalake(ref.uri, DeltaTable(ref.uri).to_pyarrow_table().slice(0, 1), mode="append")
    assert refresh_shares(shared.settings, table=ref, today=now.date(), now=now).grants == []


def test_prune_keeps_live_grants_inside_the_time_travel_window(shared: Sharing) -> None:
    from deltalake import DeltaTable

    reg = f"{REG_TABLE}_g{shared.grants['registration']}"
    person = f"theme_person_g{shared.grants['person']}"
    delta_sharing.load_as_pandas(shared.table_url("rs", f"validated.{reg}"))
    delta_sharing.load_as_pandas(shared.table_url("rs", f"themes.{person}"))
    ref = TableRef(shared.lake, "validated", REG_TABLE)
    write_deltalake(ref.uri, DeltaTable(ref.uri).to_pyarrow_table().slice(0, 5), mode="append")
    now = shared.clock()
    refresh_shares(shared.settings, table=ref, today=now.date(), now=now)
    g_reg, g_person = shared.grants["registration"], shared.grants["person"]
    assert {w.split("/")[0] for w in _manifests(shared)} == {f"g{g_reg}", f"g{g_person}"}

    with shared.catalog.unit() as ctx:  # 一人一档's grant ends; the other outlives the test
        grants.revoke_grant(ctx, grant_id=g_person, reason="测试撤销", actor=STEWARD)
        repository.grant(ctx.session, g_reg).expires_at = now + timedelta(days=36_500)
    # Both versions of the registration table are inside the window (committed just now).
    removed = prune_shares(shared.settings, now=now)
    assert {r.split("/")[0] for r in removed} == {f"g{g_person}"}
    assert {w.split("/")[1][:2] for w in _manifests(shared)} == {"v0", "v1"}
    assert not (sharing_root(shared.settings.home) / f"g{g_person}").exists()
    # The same job from the command line (deployments without the maintenance DAG): the
    # real clock is later than the test's, so the registration grant must outlive it too.
    env = {
        **os.environ, "GOVSHARE_HOME": str(shared.settings.home),
        "GOVSHARE_DATABASE_URL": shared.settings.catalog_url, "GOVSHARE_LAKE_ROOT": shared.lake,
    }  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "govshare", "sharing", "prune", "--json"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"data": [], "count": 0}  # v0, v1 still in the window

    # A week and a day after the last commit only the current version is readable.
    last = max(e["timestamp"] for e in DeltaTable(ref.uri).history())
    later = datetime.fromtimestamp(last / 1000, tz=UTC) + timedelta(days=8)
    removed = prune_shares(shared.settings, now=later)
    assert [r.split("/")[1][:2] for r in removed] == ["v0"]
    kept = _manifests(shared)
    assert [w.split("/")[1][:2] for w in kept] == ["v1"]
    assert len(delta_sharing.load_as_pandas(shared.table_url("rs", f"validated.{reg}"))) == 45
    assert _manifests(shared) == kept


def _govshare(shared: Sharing, *args: str) -> Any:
    env = {
        **os.environ, "GOVSHARE_HOME": str(shared.settings.home),
        "GOVSHARE_DATABASE_URL": shared.settings.catalog_url, "GOVSHARE_LAKE_ROOT": shared.lake,
    }  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "govshare", *args, "--json"],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_lake_maintain_prunes_the_masked_folders_of_the_tables_it_maintains(
    shared: Sharing,
) -> None:
    reg = f"{REG_TABLE}_g{shared.grants['registration']}"
    person = f"theme_person_g{shared.grants['person']}"
    delta_sharing.load_as_pandas(shared.table_url("rs", f"validated.{reg}"))
    delta_sharing.load_as_pandas(shared.table_url("rs", f"themes.{person}"))
    g_reg, g_person = shared.grants["registration"], shared.grants["person"]
    assert {w.split("/")[0] for w in _manifests(shared)} == {f"g{g_reg}", f"g{g_person}"}
    with shared.catalog.unit() as ctx:  # both grants end
        for grant_id in (g_reg, g_person):
            grants.revoke_grant(ctx, grant_id=grant_id, reason="测试撤销", actor=STEWARD)

    # One table maintained: only its masked folders are judged.
    one = _govshare(shared, "lake", "maintain", f"validated.{REG_TABLE}")
    assert [r["table"] for r in one["data"]] == [f"validated.{REG_TABLE}"]
    assert {p.split("/")[0] for p in one["sharing_pruned"]} == {f"g{g_reg}"}
    assert {w.split("/")[0] for w in _manifests(shared)} == {f"g{g_person}"}

    # Every table maintained: the rest go too, as `govshare sharing prune` would have done.
    every = _govshare(shared, "lake", "maintain")
    assert {p.split("/")[0] for p in every["sharing_pruned"]} == {f"g{g_person}"}
    assert _manifests(shared) == set()
    assert _govshare(shared, "lake", "maintain")["sharing_pruned"] == []


@pytest.mark.parametrize("shared", [10], indirect=True, ids=["10-rows-per-file"])
def test_json_predicate_hints_skip_files_whose_stats_rule_the_match_out(shared: Sharing) -> None:
    reg = f"{REG_TABLE}_g{shared.grants['registration']}"
    table = shared.table_url("rs", f"validated.{reg}")
    whole = delta_sharing.load_as_pandas(table)
    key = "统一社会信用代码"
    wanted = sorted(whole[key])[17]
    hint = json.dumps({
        "op": "equal",
        "children": [
            {"op": "column", "name": key, "valueType": "string"},
            {"op": "literal", "value": wanted, "valueType": "string"},
        ],
    })  # fmt: skip
    path = f"/shares/{DEPT['rs']}/schemas/validated/tables/{reg}/query"
    with shared.http("rs") as http:
        every = http.post(path, json={}).text.splitlines()[2:]
        hinted = http.post(path, json={"jsonPredicateHints": hint}).text.splitlines()[2:]
        sql = http.post(path, json={"predicateHints": [f"{key} = '{wanted}'"]}).text.splitlines()
        unreadable = http.post(path, json={"jsonPredicateHints": "{not json"}).text.splitlines()
    assert len(every) == 4  # 40 rows, 10 per file
    assert 1 <= len(hinted) < len(every) and len(sql[2:]) == len(hinted)
    assert len(unreadable[2:]) == len(every)  # best effort: a hint not understood keeps all
    # Through the official connector: fewer rows arrive, the matching one among them.
    narrowed = delta_sharing.load_as_pandas(table, jsonPredicateHints=hint)
    assert len(narrowed) < len(whole) and wanted in set(narrowed[key])
    # A hint no file can satisfy: no file, an empty frame with the table's columns.
    nothing = json.dumps({"op": "lessThan", "children": [
        {"op": "column", "name": key, "valueType": "string"},
        {"op": "literal", "value": "0", "valueType": "string"},
    ]})  # fmt: skip
    empty = delta_sharing.load_as_pandas(table, jsonPredicateHints=nothing)
    assert len(empty) == 0 and list(empty.columns) == REG_FIELDS


CDF_COLUMNS = ["_change_type", "_commit_version", "_commit_timestamp"]


def test_change_data_feed_through_the_connector(shared: Sharing) -> None:
    from deltalake import DeltaTable

    reg = f"{REG_TABLE}_g{shared.grants['registration']}"
    table = shared.table_url("rs", f"validated.{reg}")
    uri = f"{shared.lake}/validated/{REG_TABLE}"
    first = DeltaTable(uri).to_pyarrow_table()
    write_deltalake(uri, first.slice(0, 5), mode="append")  # v1: five rows again
    gone = first.column("统一社会信用代码")[0].as_py()
    DeltaTable(uri).delete(f"\"统一社会信用代码\" = '{gone}'")  # v2: both copies of one row
    committed = {e["version"]: e["timestamp"] for e in DeltaTable(uri).history()}

    feed = delta_sharing.load_table_changes_as_pandas(table, starting_version=0)
    assert list(feed.columns) == REG_FIELDS + CDF_COLUMNS
    counts = feed.groupby(["_commit_version", "_change_type"]).size().to_dict()
    assert counts == {(0, "insert"): 40, (1, "insert"): 5, (2, "delete"): 2}
    assert set(feed.loc[feed["_change_type"] == "delete", "统一社会信用代码"]) == {gone}
    assert feed["法定代表人"].str.contains("*", regex=False).all()  # masked as served
    stamps = feed.groupby("_commit_version")["_commit_timestamp"].first().to_dict()
    assert stamps == {v: committed[v] for v in (0, 1, 2)}

    middle = delta_sharing.load_table_changes_as_pandas(table, starting_version=1, ending_version=1)
    assert len(middle) == 5 and set(middle["_commit_version"]) == {1}
    at_two = datetime.fromtimestamp(committed[2] / 1000, tz=UTC).isoformat()
    since = delta_sharing.load_table_changes_as_pandas(table, starting_timestamp=at_two)
    assert set(since["_change_type"]) == {"delete"} and len(since) == 2

    path = f"/shares/{DEPT['rs']}/schemas/validated/tables/{reg}"
    with shared.http("rs") as http:
        version = http.get(f"{path}/version", params={"startingTimestamp": at_two})
        assert version.status_code == 200 and version.headers["delta-table-version"] == "2"
        before_all = http.get(
            f"{path}/version", params={"startingTimestamp": "2000-01-01T00:00:00Z"}
        )
        assert before_all.headers["delta-table-version"] == "0"
        late = http.get(f"{path}/version", params={"startingTimestamp": "2999-01-01T00:00:00Z"})
        assert late.status_code == 400 and late.json()["errorCode"] == "INVALID_PARAMETER_VALUE"
        for params in ({}, {"startingVersion": 2, "endingVersion": 1},
                       {"startingVersion": 0, "endingVersion": 9},
                       {"startingVersion": 0, "startingTimestamp": at_two}):  # fmt: skip
            bad = http.get(f"{path}/changes", params=params)
            assert bad.status_code == 400, params
            assert bad.json()["errorCode"] == "INVALID_PARAMETER_VALUE"
        lines = http.get(f"{path}/changes", params={"startingVersion": 1}).text.splitlines()
    kinds = [next(iter(json.loads(line))) for line in lines]
    assert kinds == ["protocol", "metaData", "cdf", "cdf"]
    with shared.catalog.unit() as ctx:  # each feed read and each download is in the chain
        entries = ctx.session.scalars(select(AuditEntry)).all()
        feeds = [e for e in entries if e.endpoint.endswith("/changes") and e.status == 200]
        assert len(feeds) >= 4 and all(e.grant_id == shared.grants["registration"] for e in feeds)
        downloads = [e for e in entries if "/files/" in e.endpoint and e.status == 200]
        assert any(e.table_version == 2 for e in downloads)  # a cdf file of version 2
        assert verify_chain(ctx.session, shared.app.state.exchange.key).ok
