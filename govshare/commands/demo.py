"""``govshare demo``: the story a newcomer sees first, on embedded defaults.

Each step is what a user would type next; the demo runs them in order with a progress display
and leaves GOVSHARE_HOME ready to explore. Steps are idempotent, so running it twice is fine.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from catalog import repository
from catalog.context import CatalogContext
from catalog.gaps import gap_report
from catalog.search import search
from catalog.store import Catalog
from demo.catalog import seed_demo
from govshare.runtime import catalog_unit, console, handle_errors, settings

# Real extracts are mostly clean; at 0.5% defects most batches clear the 99% gate
# (质检入库率) and the few that do not show what a hold looks like.
DEMO_DEFECT_RATE = 0.005


@dataclass
class Step:
    title: str
    run: Callable[[], str]


def _init() -> str:
    cfg = settings()
    cfg.home.mkdir(parents=True, exist_ok=True)
    for folder in ("lake", "airflow", "reports", "exports"):
        (cfg.home / folder).mkdir(exist_ok=True)
    store = Catalog(cfg)
    try:
        store.migrate()
    finally:
        store.dispose()
    return f"GOVSHARE_HOME = {cfg.home.resolve()}"


def _seed() -> str:
    with catalog_unit() as ctx:
        if repository.count_resources(ctx.session):
            return "目录已存在，跳过加载 (catalogue already loaded)"
        counts = seed_demo(ctx)
    return (
        f"{counts['departments']} 个部门、{counts['resources']} 个信息资源、"
        f"{counts['demands']} 条需求"
    )


def _gaps() -> str:
    with catalog_unit() as ctx:
        report = gap_report(ctx)
    return (
        f"缺口 {report.total} 项：未编目职责 {len(report.uncatalogued_duties)}，"
        f"未挂接资源 {len(report.unmounted_resources)}，无主需求 {len(report.unowned_demands)}，"
        f"无能力需求 {len(report.no_capability_demands)}，超期审核 {len(report.overdue_reviews)}，"
        f"一数一源冲突 {len(report.source_conflicts)}"
    )


def _search() -> str:
    with catalog_unit() as ctx:
        found, total = search(ctx.session, "企业 信用", limit=3)
        names = "、".join(r.name for r in found)
    return f"检索「企业 信用」：{total} 条，{names}"


def _synth() -> str:
    from demo.synth import SynthOptions, synthesise

    result = synthesise(
        SynthOptions(out=settings().landing_dir, scale=2000, seed=7, defect_rate=DEMO_DEFECT_RATE)
    )
    return (
        f"{result.rows:,} 行部门数据（含 {DEMO_DEFECT_RATE:.1%} 缺陷）写入 {settings().landing_dir}"
    )


def _dag_runs() -> str:
    """Every ingest DAG with files waiting runs through Airflow (real metadata DB, dag.test)."""
    from catalog.store import refresh_snapshot
    from dags.runner import list_dags, run_dags
    from jobs.batch import ingestable_resources, landing_files

    cfg = settings()
    # The demo's own lines tell the outcome; a held batch's failed task is expected here, and
    # its traceback belongs in the task logs under GOVSHARE_HOME/airflow/logs, not on screen.
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "CRITICAL")
    refresh_snapshot(cfg)
    by_table = {
        spec["table"]: spec["dag_id"] for spec in list_dags(cfg) if spec["kind"] == "ingest"
    }
    # In the order ``govshare ingest --all`` uses: base libraries first, for reference rules.
    wanted = [
        by_table[table]
        for _code, table in ingestable_resources(cfg)
        if table in by_table and landing_files(cfg, table)
    ]
    results = run_dags(cfg, wanted)
    failed = [r.dag_id for r in results if not r.ok]
    read = accepted = quarantined = 0
    with catalog_unit() as ctx:
        from catalog import batches

        for batch in batches.batches(ctx):
            read += batch.rows_read
            accepted += batch.rows_accepted
            quarantined += batch.rows_quarantined
    # A run whose batch the gate held fails at quality_gate by design: say so apart from errors.
    held = [r.dag_id for r in results if not r.ok and r.tasks.get("quality_gate") == "failed"]
    broken = [d for d in failed if d not in held]
    outcome = (
        f"Airflow 运行 {len(results)} 个入库 DAG：读取 {read:,} = 合格 {accepted:,} + "
        f"隔离 {quarantined:,}；{len(held)} 个因质检暂缓入库而按设计失败"
    )
    if held:
        outcome += f" (held: {', '.join(held)})"
    if broken:
        outcome += f"；出错 (failed): {', '.join(broken)}"
    return outcome


def _quality() -> str:
    """The gate's outcome per batch, the pass-rate chart and GE Data Docs under GOVSHARE_HOME."""
    from catalog import batches
    from catalog.context import Actor
    from quality.expectations import docs_root
    from quality.report import write_chart

    with catalog_unit() as ctx:
        found = batches.batches(ctx)
        held = [b for b in found if b.status == batches.HELD]
        read = sum(b.rows_read for b in found)
        passed = sum(b.rows_accepted for b in found)
        chart = write_chart(ctx, actor=Actor.steward("demo"))
    rate = passed / read if read else 1.0
    return (
        f"总体合格率 {rate:.2%}；{len(found) - len(held)} 批入库，{len(held)} 批暂缓入库"
        f"（govshare quality release 批次号 放行）；图表 {chart}；"
        f"Data Docs {docs_root(settings()) / 'index.html'}"
    )


def _theme_dag() -> str:
    from deltalake import DeltaTable

    from dags.runner import run_dags
    from pipelines.themes.build import theme_tables
    from pipelines.themes.spec import resolve_defined

    (result,) = run_dags(settings(), ["govshare_themes"])
    with catalog_unit() as ctx:
        specs = resolve_defined(ctx.session)
    built = []
    for spec in specs:
        theme, conflicts = theme_tables(settings(), spec)
        rows = DeltaTable(str(theme.path)).to_pyarrow_dataset().count_rows()
        clashes = DeltaTable(str(conflicts.path)).to_pyarrow_dataset().count_rows()
        built.append(f"{spec.name} {rows:,} 条，冲突 {clashes:,}")
    return f"Airflow 主题 DAG {result.state}：" + "；".join(built)


# Demo: the exchange API as a consumer department (人社) uses it.
PERSON_PURPOSE = "就业困难人员认定"
ENTERPRISE_PURPOSE = "企业吸纳就业补贴"
PERSON_FIELDS = ["身份证号", "姓名", "性别", "出生日期", "户籍地址", "婚姻状况", "参保状态"]
ENTERPRISE_FIELDS = ["统一社会信用代码", "企业名称", "法定代表人", "注册资本", "企业状态"]


def _consumer_grants(ctx: CatalogContext) -> None:
    """人社 asks for both themes through the demand list; 数据局 approves (once per home)."""
    from sqlalchemy import select

    from catalog import demands
    from catalog.context import Actor
    from catalog.models import Grant
    from catalog.schemas import DemandDecisionIn, DemandIn
    from demo.catalog import DEPT, ENTERPRISE_THEME, PERSON_THEME

    requester = repository.department(ctx.session, DEPT["rs"])
    for code, fields, purpose in (
        (PERSON_THEME, PERSON_FIELDS, PERSON_PURPOSE),
        (ENTERPRISE_THEME, ENTERPRISE_FIELDS, ENTERPRISE_PURPOSE),
    ):
        resource = repository.resource(ctx.session, code)
        held = ctx.session.scalar(
            select(Grant).where(
                Grant.department_id == requester.id, Grant.resource_id == resource.id
            )
        )
        if held is not None:
            continue
        demand = demands.submit_demand(
            ctx,
            requester_code=requester.code,
            spec=DemandIn(
                resource_code=code, wanted_items=fields, purpose=purpose, legal_basis="演示依据"
            ),
            actor=Actor.department(requester.code),
        )
        if demand.grant is None:
            demands.decide_demand(
                ctx,
                code=demand.code,
                decision=DemandDecisionIn(approve=True, reason="符合法定职责", raw_fields=[]),
                actor=Actor.department(resource.provider.code),
            )


def _first_row(table: Path, columns: list[str]) -> list[str]:
    from deltalake import DeltaTable

    head = DeltaTable(str(table)).to_pyarrow_dataset().head(1, columns=columns)
    return [str(head.column(c)[0].as_py()) for c in columns]


def _exchange() -> str:
    """Start the API, query it as 人社 would over HTTP, stop it."""
    import socket
    import threading
    import time
    from urllib.parse import quote

    import httpx
    import uvicorn

    from catalog import keys
    from catalog.context import Actor
    from demo.catalog import DEPT, ENTERPRISE_THEME
    from exchange_api.app import create_app
    from pipelines.themes.build import theme_tables
    from pipelines.themes.spec import resolve

    cfg = settings()
    with catalog_unit() as ctx:
        _consumer_grants(ctx)
        _key, api_key = keys.create_key(
            ctx, department_code=DEPT["rs"], label="演示 (demo)", actor=Actor.steward("demo")
        )
        person_spec, enterprise_spec = (resolve(ctx.session, c) for c in ("person", "enterprise"))
    # The platform may read its own lake: the real name shows what a matching 核验 answers.
    person_id, name = _first_row(theme_tables(cfg, person_spec)[0].path, [person_spec.key, "姓名"])
    (company,) = _first_row(theme_tables(cfg, enterprise_spec)[0].path, [enterprise_spec.key])
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(cfg), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    lines = []
    try:
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.1)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}/api/v1", timeout=30) as client:
            token = client.post("/token", headers={"X-API-Key": api_key}).json()["access_token"]

            def headers(purpose: str) -> dict[str, str]:
                return {"Authorization": f"Bearer {token}", "X-Purpose": quote(purpose)}

            # Keys travel in the body, never in a URL that access logs would keep.
            person = client.post(
                "/themes/person/profiles/lookup",
                json={"key": person_id},
                headers=headers(PERSON_PURPOSE),
            ).json()
            shown = {k: v.get("value") for k, v in (person.get("fields") or {}).items()}
            lines.append(f"一人一档（脱敏）{json.dumps(shown, ensure_ascii=False)}")
            firm = client.post(
                "/themes/enterprise/profiles/lookup",
                json={"key": company},
                headers=headers(ENTERPRISE_PURPOSE),
            ).json()
            shown = {k: v.get("value") for k, v in (firm.get("fields") or {}).items()}
            lines.append(f"一企一档 {json.dumps(shown, ensure_ascii=False)}")
            for claimed in (name, "张三"):
                check = client.post(
                    "/verify/identity",
                    # A 核验 belongs to one business case: its 办件编号 and 业务事项 go with it.
                    json={
                        "id_number": person_id,
                        "name": claimed,
                        "case_ref": "DEMO-2026-000001",
                        "business_matter": PERSON_PURPOSE,
                    },
                    headers=headers(PERSON_PURPOSE),
                ).json()
                evidence = (check.get("evidence") or {}).get("audit_seq")
                lines.append(
                    f"核验「身份证号与所报姓名一致」：{check.get('result')}"
                    f"（不返回记录；审计凭证 #{evidence}）"
                )
            counts = client.post(
                "/aggregates",
                json={
                    "resource_code": ENTERPRISE_THEME,
                    "measures": [{"op": "count"}],
                    "group_by": ["region"],
                },
                headers=headers(ENTERPRISE_PURPOSE),
            ).json()
            lines.append(
                f"按区划统计企业数：{len(counts.get('groups') or [])} 组公开，"
                f"{counts.get('suppressed_groups')} 组被抑制（少于 k={counts.get('k')}，"
                "或为防止由合计差分推算而补充隐去）"
            )
            refused = client.post(
                "/themes/person/profiles/lookup",
                json={"key": person_id},
                headers=headers("随意查询"),
            )
            lines.append(f"用途不符的查询：HTTP {refused.status_code}，不返回数据")
    finally:
        server.should_exit = True
        thread.join(timeout=30)
    from exchange_api.audit import verify_chain
    from exchange_api.signing import PlatformKey

    with catalog_unit() as ctx:
        chain = verify_chain(ctx.session, PlatformKey.of_deployment(cfg))
    lines.append(
        f"审计日志 {chain.entries} 条，签名哈希链{'完整' if chain.ok else '被破坏'} "
        "(govshare audit verify)"
    )
    return "\n  ".join(["交换接口已启动并停止；人社的查询：", *lines])


def _console() -> str:
    """Keys to sign in to the web console as each role (kept in the demo home, mode 0600)."""
    from catalog.domain import Role
    from demo.catalog import DEPT
    from govshare.commands.console_signins import ensure_signins

    with catalog_unit() as ctx:
        signins = ensure_signins(
            ctx,
            settings().home,
            [
                ("审核员", DEPT["sjj"], Role.STEWARD),
                ("提供部门", DEPT["sw"], Role.DEPARTMENT),
                ("需求部门", DEPT["rs"], Role.DEPARTMENT),
            ],
        )
    lines = [f"{s.role} {s.department_name}：{s.key}" for s in signins]
    return "\n  ".join(
        [f"govshare serve 之后打开 {CONSOLE_URL} ，用以下密钥登录 (demo sign-ins)：", *lines]
    )


CONSOLE_URL = "http://127.0.0.1:8000/"

STEPS = [
    Step("初始化 (init)", _init),
    Step("加载演示目录 (seed demo catalogue)", _seed),
    Step("缺口报告 (gap report)", _gaps),
    Step("目录检索 (search)", _search),
    Step("生成部门数据 (synthetic extracts)", _synth),
    Step("Airflow 调度入库 (ingest DAGs: Spark into Delta, quality gate)", _dag_runs),
    Step("质量报告 (quality gate report, chart, Data Docs)", _quality),
    Step("主题库 (theme DAG: 一企一档 / 一人一档)", _theme_dag),
    Step("交换接口 (exchange API: masked lookups, 核验, aggregates)", _exchange),
    Step("共享交换门户 (web console sign-ins)", _console),
]


@handle_errors
def demo() -> None:
    """端到端演示：初始化、演示目录、缺口报告、检索……(end-to-end demo on embedded defaults)."""
    results: list[tuple[str, str]] = []
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("govshare demo", total=len(STEPS))
        for step in STEPS:
            progress.update(task, description=step.title)
            results.append((step.title, step.run()))
            progress.advance(task)
    for title, outcome in results:
        # Outcomes name keys, batch ids and codes a person copies next: never fold them.
        console.print(f"[green]✓[/] {title}：{outcome}", soft_wrap=True)
    console.print(
        "\n接下来可以试试 (try next)：govshare catalog gaps · govshare catalog search 婚姻 · "
        "govshare quality report 信息资源代码 · govshare quality release --all-held · "
        "govshare dags list · govshare themes list · govshare lake read themes.theme_person · "
        "govshare audit verify · "
        "govshare serve"
    )
    console.print(f"\n共享交换门户 (web console)：govshare serve，然后在浏览器打开 {CONSOLE_URL}")
