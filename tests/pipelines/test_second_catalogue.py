"""A second province's catalogue, with its own codes and names, gets themes and 核验.

Nothing of the demo is used: departments and resources come in through ``govshare catalog
import``, mounts and grants through the HTTP API, the themes and 核验事项 through
``govshare themes``; data lands with ``govshare ingest`` and the themes are built with
``govshare themes build``. If any production module still knew the demo's resource codes,
column names or theme names, something here would come out empty or refused.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from click.testing import Result
from fastapi.testclient import TestClient
from stdnum.cn import ric, uscc
from typer.testing import CliRunner

from govshare.cli import app
from infra.settings import Settings, get_settings

pytestmark = pytest.mark.slow

REGION = "510100"


def _uscc(n: int, kind: str = "91") -> str:
    base = f"{kind}{REGION}{n:09d}"
    return base + uscc.calc_check_digit(base)


def _dept(n: int) -> str:
    return _uscc(n, "11")


def _person(n: int, birth: str) -> str:
    base = f"510122{birth}{n:03d}"  # 双流县: stdnum knows it for these birth years
    return base + ric.calc_check_digit(base + "0")


AUTHORITY, REGISTRY, POPULATION, ENFORCEMENT, LICENSING, EMPLOYMENT = (
    _dept(n) for n in range(1, 7)
)
MARKET = "CD.FR-01/000101"  # 市场主体登记信息
RESIDENTS = "CD.RK-01/000201"  # 常住人口信息
PENALTIES = "CD.ZF-02/000301"  # 综合执法处罚记录
PERMITS = "CD.ZZ-03/000401"  # 许可证照库
MARKET_FILE = "CD.ZT-09/000901"  # 市场主体全景档案 (theme)
RESIDENT_FILE = "CD.ZT-09/000902"  # 居民全景档案 (theme)
FIRMS = [_uscc(n) for n in (11, 12, 13)]
PEOPLE = [_person(1, "19700101"), _person(3, "19850505"), _person(5, "19300303")]
PURPOSE = "创业补贴资格审查"


def _item(name: str, kind: str, length: int | None = None, **flags: Any) -> dict[str, Any]:
    return {"name": name, "data_type": kind, "length": length, **flags}


def _resource(
    code: str, name: str, provider: str, cls: str, category: str, items: list[dict[str, Any]],
    share: str = "无条件共享",
) -> dict[str, Any]:  # fmt: skip
    return {
        "code": code, "name": name, "classification": cls, "category": category,
        "provider_code": provider, "share_type": share, "update_cycle": "每日",
        "share_condition": "按需审批" if share == "有条件共享" else "", "state": "已发布",
        "items": items,
    }  # fmt: skip


def _catalogue() -> dict[str, Any]:
    key = {"is_key": True, "authoritative": True, "required": True}
    return {
        "departments": [
            {"code": AUTHORITY, "name": "成都市政务数据局", "region_code": REGION,
             "is_data_authority": True},
            {"code": REGISTRY, "name": "成都市市场主体登记中心", "region_code": REGION},
            {"code": POPULATION, "name": "成都市人口信息中心", "region_code": REGION},
            {"code": ENFORCEMENT, "name": "成都市城市管理综合执法局", "region_code": REGION},
            {"code": LICENSING, "name": "成都市证照服务中心", "region_code": REGION},
            {"code": EMPLOYMENT, "name": "成都市就业服务局", "region_code": REGION},
        ],
        "resources": [
            _resource(MARKET, "市场主体登记信息", REGISTRY, "基础", "法人", [
                _item("统一社会信用代码", "C", 18, **key),
                _item("市场主体名称", "C", 200, authoritative=True),
                _item("经营状态", "C", 10, authoritative=True),
                _item("登记机关", "C", 100),
            ]),
            _resource(RESIDENTS, "常住人口信息", POPULATION, "基础", "人口", [
                _item("公民身份号码", "C", 18, **key),
                _item("姓名", "C", 50, authoritative=True),
                _item("性别", "C", 2, authoritative=True),
                _item("死亡日期", "D", None, authoritative=True),
            ]),
            _resource(PENALTIES, "综合执法处罚记录", ENFORCEMENT, "部门", "执法", [
                _item("处罚决定书文号", "C", 50, is_key=True, required=True),
                _item("当事人信用代码", "C", 18, required=True),
                _item("处罚种类", "C", 20),
                _item("处罚日期", "D"),
            ]),
            _resource(PERMITS, "许可证照库", LICENSING, "基础", "电子证照", [
                _item("证照编号", "C", 50, is_key=True, required=True),
                _item("持有人代码", "C", 18, required=True),
                _item("许可种类", "C", 50),
                _item("截止日期", "D"),
                _item("许可状态", "C", 10),
            ]),
            _resource(MARKET_FILE, "市场主体全景档案", AUTHORITY, "主题", "法人综合", [
                _item("统一社会信用代码", "C", 18, is_key=True, required=True),
                _item("市场主体名称", "C", 200),
                _item("经营状态", "C", 10),
                _item("违法处罚次数", "I", 8),
                _item("在用许可数", "I", 8),
            ]),
            _resource(RESIDENT_FILE, "居民全景档案", AUTHORITY, "主题", "人口综合", [
                _item("公民身份号码", "C", 18, is_key=True, required=True),
                _item("姓名", "C", 50),
                _item("性别", "C", 2),
                _item("死亡日期", "D"),
                _item("健在", "L", 1),
            ], share="有条件共享"),
        ],
    }  # fmt: skip


MOUNTS = {
    MARKET: ("cd_market_entities", REGISTRY, ["统一社会信用代码"]),
    RESIDENTS: ("cd_residents", POPULATION, ["公民身份号码"]),
    PENALTIES: ("cd_penalties", ENFORCEMENT, ["处罚决定书文号"]),
    PERMITS: ("cd_permits", LICENSING, ["证照编号"]),
    MARKET_FILE: ("theme_cd_market", AUTHORITY, ["统一社会信用代码"]),
    RESIDENT_FILE: ("theme_cd_residents", AUTHORITY, ["公民身份号码"]),
}

EXTRACTS: dict[str, tuple[list[str], list[list[str]]]] = {
    MARKET: (
        ["统一社会信用代码", "市场主体名称", "经营状态", "登记机关"],
        [[FIRMS[0], "成都锦江味道餐饮有限公司", "存续", "锦江区"],
         [FIRMS[1], "成都天府软件有限公司", "存续", "高新区"],
         [FIRMS[2], "成都青羊老茶馆", "吊销", "青羊区"]],
    ),
    RESIDENTS: (
        ["公民身份号码", "姓名", "性别", "死亡日期"],
        [[PEOPLE[0], "王建国", "男", ""], [PEOPLE[1], "李晓梅", "女", ""],
         [PEOPLE[2], "赵老汉", "男", "2025-11-02"]],
    ),
    PENALTIES: (
        ["处罚决定书文号", "当事人信用代码", "处罚种类", "处罚日期"],
        [["成综执罚〔2026〕1号", FIRMS[0], "罚款", "2026-01-05"],
         ["成综执罚〔2026〕2号", FIRMS[0], "警告", "2026-02-01"],
         ["成综执罚〔2026〕3号", FIRMS[1], "罚款", "2026-02-10"]],
    ),
    PERMITS: (
        ["证照编号", "持有人代码", "许可种类", "截止日期", "许可状态"],
        [["SP-0001", FIRMS[0], "食品经营许可证", "2030-12-31", "在用"],
         ["SP-0002", FIRMS[0], "排水许可证", "2025-01-01", "在用"],
         ["SP-0003", FIRMS[1], "食品经营许可证", "2030-12-31", "注销"]],
    ),
}  # fmt: skip


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "home"
    get_settings.cache_clear()


def _govshare(home: Path, *args: str) -> Result:
    env = {
        "GOVSHARE_HOME": str(home),
        "GOVSHARE_DATABASE_URL": None,
        "GOVSHARE_CONFIG": None,
        "GOVSHARE_SPARK_MASTER": "local[2]",
        "GOVSHARE_SPARK_SHUFFLE_PARTITIONS": "2",
        "COLUMNS": "200",
    }
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(app, list(args), env=env)
    finally:
        get_settings.cache_clear()


def _ok(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout) if result.stdout.lstrip().startswith(("{", "[")) else None


def _key(home: Path, department: str, role: str = "department") -> str:
    out = _ok(_govshare(home, "keys", "create", "--department", department, "--role", role,
                        "--json"))  # fmt: skip
    return str(out["api_key"])


def _write(path: Path, headers: list[str], rows: list[list[str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        writer.writerows(rows)
    return path


def _define_themes(home: Path) -> None:
    """What a steward types: the themes, their derived fields and the 核验事项."""
    _ok(
        _govshare(
            home,
            "themes",
            "define",
            "market",
            "--name",
            "市场主体全景档案",
            "--resource",
            MARKET_FILE,
            "--key-kind",
            "uscc",
        )
    )
    _ok(
        _govshare(
            home,
            "themes",
            "derive",
            "market",
            "违法处罚次数",
            "--rule",
            "count_rows",
            "--source",
            PENALTIES,
            "--link",
            "当事人信用代码",
        )
    )
    _ok(
        _govshare(
            home,
            "themes",
            "derive",
            "market",
            "在用许可数",
            "--rule",
            "count_valid_licences",
            "--source",
            PERMITS,
            "--link",
            "持有人代码",
            "--param",
            "valid_until=截止日期",
            "--param",
            "state=许可状态",
            "--param",
            "valid_states=在用",
        )
    )
    _ok(
        _govshare(
            home,
            "themes",
            "define",
            "resident",
            "--name",
            "居民全景档案",
            "--resource",
            RESIDENT_FILE,
            "--key-kind",
            "ric",
            "--population",
            RESIDENTS,
        )
    )
    _ok(
        _govshare(
            home,
            "themes",
            "derive",
            "resident",
            "健在",
            "--rule",
            "alive",
            "--param",
            "death_field=死亡日期",
        )
    )
    _ok(
        _govshare(
            home,
            "themes",
            "check",
            "identity",
            "--name",
            "身份核验",
            "--theme",
            "resident",
            "--field",
            "name=姓名",
        )
    )
    _ok(
        _govshare(
            home,
            "themes",
            "check",
            "living",
            "--name",
            "是否健在",
            "--theme",
            "resident",
            "--field",
            "value=健在",
            "--yes",
            "true",
        )
    )
    _ok(_govshare(home, "themes", "check", "licence", "--name", "许可核验", "--resource",
                  PERMITS, "--field", "holder=持有人代码", "--field", "type=许可种类",
                  "--field", "valid_until=截止日期", "--field", "state=许可状态",
                  "--yes", "在用"))  # fmt: skip


def test_a_differently_coded_catalogue_gets_themes_and_verification_without_code_changes(
    home: Path, tmp_path: Path
) -> None:
    _ok(_govshare(home, "init"))
    document = tmp_path / "成都市目录.json"
    document.write_text(json.dumps(_catalogue(), ensure_ascii=False), encoding="utf-8")
    _ok(_govshare(home, "catalog", "import", str(document)))
    keys = {
        "steward": _key(home, AUTHORITY, "steward"),
        **{code: _key(home, code) for code in (AUTHORITY, REGISTRY, POPULATION, ENFORCEMENT,
                                               LICENSING, EMPLOYMENT)},
    }  # fmt: skip

    get_settings.cache_clear()
    settings = Settings(home=home, spark_master="local[2]", spark_shuffle_partitions=2)
    from exchange_api.app import create_app

    with TestClient(create_app(settings)) as client:

        def api(method: str, path: str, key: str, body: Any = None) -> Any:
            response = client.request(
                method, f"/api/v1{path}", json=body, headers={"X-API-Key": keys[key]}
            )
            assert response.status_code < 300, response.text
            return response.json() if response.content else None

        for code, (target, provider, key_items) in MOUNTS.items():
            config = {"layer": "validated", "key": key_items, "load": "merge", "encoding": "utf-8"}
            mount = api("POST", f"/resources/{code}/mounts", provider,
                        {"kind": "库表", "target": target, "config": config})  # fmt: skip
            api("POST", f"/mounts/{mount['id']}/review", "steward", {"approve": True})

        _define_themes(home)
        # A mistake is a precise message at definition time, not an empty field later.
        wrong = _govshare(
            home,
            "themes",
            "derive",
            "market",
            "违法处罚次数",
            "--rule",
            "count_rows",
            "--source",
            PENALTIES,
            "--link",
            "统一社会信用代码",
        )
        assert wrong.exit_code == 1 and "没有连接列「统一社会信用代码」" in wrong.output
        listed = api("GET", "/themes", EMPLOYMENT)
        assert {t["code"] for t in listed["data"]} == {"market", "resident"}
        assert api("GET", "/verifications/living", EMPLOYMENT)["fields"] == {"value": "健在"}

        for code, (headers, rows) in EXTRACTS.items():
            extract = _write(tmp_path / "extracts" / f"{MOUNTS[code][0]}.csv", headers, rows)
            listed = _ok(_govshare(home, "ingest", code, "--file", str(extract), "--json"))
            assert listed["count"] == 1, listed  # the CLI's list envelope: one file, one batch
            result = listed["data"][0]
            assert result["rows_accepted"] == len(rows), result
        built = _ok(_govshare(home, "themes", "build", "--json"))
        rows_by_theme = {b["theme"]: b["rows"] for b in built["data"]}
        assert rows_by_theme == {"市场主体全景档案": 3, "居民全景档案": 3}

        # The consumer asks for both themes and the licences through the demand list.
        for code, items in (
            (MARKET_FILE, ["统一社会信用代码", "市场主体名称", "违法处罚次数", "在用许可数"]),
            (RESIDENT_FILE, ["公民身份号码", "姓名", "健在"]),
            (PERMITS, ["持有人代码", "许可种类", "截止日期", "许可状态"]),
        ):
            demand = api("POST", "/demands", EMPLOYMENT, {
                "resource_code": code, "wanted_items": items, "purpose": PURPOSE,
                "legal_basis": "《成都市创业补贴管理办法》",
            })  # fmt: skip
            if demand["grant"] is None:
                api("POST", f"/demands/{demand['code']}/decision", AUTHORITY,
                    {"approve": True, "reason": "同意"})  # fmt: skip
        token = client.post("/api/v1/token", headers={"X-API-Key": keys[EMPLOYMENT]}).json()
        headers = {"Authorization": f"Bearer {token['access_token']}", "X-Purpose": quote(PURPOSE)}

        def data(path: str, body: dict[str, Any]) -> Any:
            return client.post(f"/api/v1{path}", json=body, headers=headers)

        case = {"case_ref": "CD-2026-0001", "business_matter": "创业补贴申领"}
        firm = data("/themes/market/profiles/lookup", {"key": FIRMS[0]})
        assert firm.status_code == 200, firm.text
        fields = firm.json()["fields"]
        assert fields["市场主体名称"]["value"] == "成都锦江味道餐饮有限公司"
        assert fields["市场主体名称"]["source"] == MARKET  # 一数一源: the registry
        assert fields["违法处罚次数"]["value"] == 2
        assert fields["在用许可数"]["value"] == 1  # the other permit expired
        assert fields["违法处罚次数"]["source"] == PENALTIES
        person = data("/themes/resident/profiles/lookup", {"key": PEOPLE[2]})
        assert person.status_code == 200, person.text
        assert person.json()["fields"]["健在"]["value"] is False

        def verify(path: str, body: dict[str, Any]) -> bool:
            response = data(path, {**body, **case})
            assert response.status_code == 200, response.text
            return bool(response.json()["result"])

        assert verify("/verify/identity", {"id_number": PEOPLE[0], "name": "王建国"})
        assert not verify("/verify/identity", {"id_number": PEOPLE[0], "name": "王健国"})
        assert verify("/verify/person", {"id_number": PEOPLE[1], "check": "living"})
        assert not verify("/verify/person", {"id_number": PEOPLE[2], "check": "living"})
        licence = {"uscc": FIRMS[0], "licence_type": "食品经营许可证"}
        assert verify("/verify/licence", licence)
        assert not verify("/verify/licence", {**licence, "uscc": FIRMS[1]})  # 注销

        # The demo's theme and check names mean nothing here: clear 404s, in Chinese.
        unknown = data("/themes/enterprise/profiles/lookup", {"key": FIRMS[0]})
        assert unknown.status_code == 404 and "主题 enterprise 未定义" in unknown.json()["message"]
        undefined = data("/verify/person", {"id_number": PEOPLE[1], "check": "married", **case})
        assert undefined.status_code == 404
        assert "核验事项 married 未定义" in undefined.json()["message"]
