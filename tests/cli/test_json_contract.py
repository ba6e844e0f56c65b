"""One ``--json`` contract for every command (docs/cli-json.md), and the actor the CLI records.

Lists are ``{"data": [...], "count": n}``, one object is the object, errors are
``{"errorCode", "message", "details"}`` on stdout with a non-zero exit code and the message on
stderr, timestamps are ISO 8601 in Beijing time with the offset.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from typer import _click as click
from typer.testing import CliRunner

from govshare.cli import build_app
from infra.settings import get_settings

# Leaf commands without --json, each with the reason JSON makes no sense there.
NO_JSON = {
    "demo": "runs the whole demonstration for a person watching; each step has its own command",
    "serve": "starts a long-running server; it prints nothing to parse",
}
BEIJING = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$")
RESOURCE = "000001001/000001"  # 企业登记信息 in the demo catalogue
ADD_RULE = ("quality", "rules", "add", RESOURCE, "统一社会信用代码", "not_null")


def _leaves(command: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    commands = getattr(command, "commands", None)
    if not commands:
        yield path
        return
    for name, sub in commands.items():
        yield from _leaves(sub, (*path, name))


def _command(root: click.Command, path: tuple[str, ...]) -> click.Command:
    for name in path:
        root = root.commands[name]  # type: ignore[attr-defined]
    return root


def test_every_leaf_command_takes_json_unless_listed_with_a_reason() -> None:
    import typer

    root = typer.main.get_command(build_app())
    leaves = list(_leaves(root))
    assert len(leaves) > 40  # the walk found the whole tree, not one group
    missing = [
        " ".join(path)
        for path in leaves
        if not any("--json" in p.opts for p in _command(root, path).params)
    ]
    assert sorted(missing) == sorted(NO_JSON)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home with the demo catalogue, shared by the read-only checks below."""
    home = tmp_path_factory.mktemp("json") / "home"
    assert _run(home, "init").exit_code == 0
    assert _run(home, "catalog", "seed-demo").exit_code == 0
    return home


def _run(home: Path, *args: str, **env: str | None) -> Result:
    environment: dict[str, str | None] = {
        "GOVSHARE_HOME": str(home),
        "GOVSHARE_DATABASE_URL": None,
        "GOVSHARE_CONFIG": None,
        "GOVSHARE_CLI_ACTOR": None,
        "COLUMNS": "200",
        **env,
    }
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(build_app(), list(args), env=environment)
    finally:
        get_settings.cache_clear()


def _ok(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _error(result: Result, code: str, exit_code: int) -> dict[str, Any]:
    assert result.exit_code == exit_code, result.output
    body: dict[str, Any] = json.loads(result.stdout)
    assert set(body) == {"errorCode", "message", "details"}
    assert body["errorCode"] == code and body["message"]
    assert result.stderr.strip(), "the human message goes to stderr"
    return body


@pytest.mark.parametrize(
    "args",
    [
        ("catalog", "list"),
        ("catalog", "search", "企业"),
        ("keys", "list"),
        ("grants", "list"),
        ("calendar", "show"),
        ("quality", "rules", "list", RESOURCE),
        ("quality", "notices"),
    ],
    ids=lambda args: " ".join(args[:3]),
)
def test_lists_come_in_the_data_count_envelope(home: Path, args: tuple[str, ...]) -> None:
    body = _ok(_run(home, *args, "--json"))
    assert isinstance(body, dict) and isinstance(body["data"], list)
    assert isinstance(body["count"], int) and body["count"] >= len(body["data"])


def test_one_object_is_the_object_with_beijing_timestamps(home: Path) -> None:
    shown = _ok(_run(home, "catalog", "show", RESOURCE, "--json"))
    assert shown["resource"]["code"] == RESOURCE
    assert shown["history"] and all(BEIJING.match(h["at"]) for h in shown["history"])
    provider = shown["resource"]["provider_code"]
    created = _ok(_run(home, "keys", "create", "--department", provider, "--json"))
    assert BEIJING.match(created["created_at"]) and created["api_key"].startswith("gs_")
    listed = _ok(_run(home, "keys", "list", "--json"))["data"]
    assert all(BEIJING.match(k["created_at"]) for k in listed)


def test_an_expected_error_is_the_error_shape_with_exit_1(home: Path) -> None:
    body = _error(_run(home, "catalog", "show", "999999999/000001", "--json"), "NOT_FOUND", 1)
    assert "999999999/000001" in body["message"]


def test_usage_errors_found_by_the_parser_or_the_command_are_the_error_shape(home: Path) -> None:
    missing = _error(_run(home, "catalog", "show", "--json"), "USAGE_ERROR", 2)
    assert missing["details"] == {"param": "code"}
    _error(_run(home, "quality", "release", "--json"), "USAGE_ERROR", 2)
    _error(_run(home, "quality", "reject", "--all-held", "b1", "--json"), "USAGE_ERROR", 2)


def test_an_unreachable_database_is_the_error_shape_with_exit_3(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"postgresql://govshare:s3cret@127.0.0.1:{port}/catalogue"
    result = _run(tmp_path / "home", "catalog", "list", "--json", GOVSHARE_DATABASE_URL=url)
    body = _error(result, "DATABASE_UNAVAILABLE", 3)
    assert "s3cret" not in result.stdout + result.stderr and "***" in body["message"]


def test_without_json_an_error_prints_nothing_on_stdout(home: Path) -> None:
    result = _run(home, "catalog", "show", "999999999/000001")
    assert result.exit_code == 1 and result.stdout == "" and "错误" in result.stderr


def test_the_actor_comes_from_as_then_the_setting_then_the_login(home: Path) -> None:
    def rule_by(*root: str, **env: str | None) -> str:
        created = _ok(_run(home, *root, *ADD_RULE, "--json", **env))
        return str(created["created_by"])

    assert rule_by(GOVSHARE_CLI_ACTOR="steward:王五") == "王五"
    assert rule_by("--as", "张三", GOVSHARE_CLI_ACTOR="steward:王五") == "张三"
    assert rule_by().startswith("cli:")  # unconfigured: the login name, never a bare "cli"
    # A department identity acts with a department's rights: adding a rule is a steward's.
    provider = _ok(_run(home, "catalog", "show", RESOURCE, "--json"))["resource"]["provider_code"]
    department = _run(home, "--as", f"dept:{provider}:李四", *ADD_RULE, "--json")
    assert "steward role required" in _error(department, "NOT_AUTHORIZED", 1)["message"]
    bad = _run(home, "--as", "dept:not-a-code:李四", "catalog", "show", RESOURCE, "--json")
    assert "操作人身份格式错误" in _error(bad, "VALIDATION_ERROR", 1)["message"]
