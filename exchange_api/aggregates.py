"""Aggregates (统计查询): count, sum and mean by whitelisted dimensions, 可用不可见.

Protections, in the order they apply:

- The query is built from whitelisted pieces only: dimensions map to fixed SQL expressions
  over columns the catalogue declares, measures to numeric data items; filter values are
  bound as parameters. No client text ever becomes SQL.
- Query-set-size control: filters must leave at least k records and leave out at least k,
  so two overlapping queries cannot be subtracted to isolate a few people.
- Small cells: groups with fewer than k records (default 10) are suppressed.
- Rows about people (一人一档 and resources keyed by ID number) and personal measures get
  OpenDP Laplace noise; ε per query is charged to a persisted per-department, per-resource
  budget and a spent budget refuses further queries. The noisy count decides suppression.
- The same question on the same table version returns the stored answer at no further cost,
  so noise cannot be averaged away by asking again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb
import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from catalog.context import CHINA_TZ
from catalog.models import AggregateRelease, PrivacyBudgetAccount
from exchange_api.access import authorise_data_call
from exchange_api.data_schemas import (
    AggregateIn,
    AggregateOut,
    Dimension,
    GroupOut,
    MeasureIn,
    Op,
)
from exchange_api.exceptions import QueryRefused
from exchange_api.profiles import evidence
from exchange_api.runtime import DataCall, Exchange, ResourceView
from infra.errors import ValidationError
from privacy.dp import PrivacyBudget, laplace_count, laplace_sum, noisy_mean

# Dimensions read straight from a column the resource declares.
COLUMN_DIMENSIONS = {
    Dimension.ENTERPRISE_STATUS: "企业状态",
    Dimension.INSURANCE_STATUS: "参保状态",
    Dimension.MARITAL_STATUS: "婚姻状况",
    Dimension.CREDIT_GRADE: "纳税信用等级",
    Dimension.LICENCE_TYPE: "证照类型",
}


def quote(name: str) -> str:
    """A whitelisted identifier as DuckDB reads it (names come from the catalogue, not clients)."""
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class Piece:
    sql: str
    needs: tuple[str, ...]  # fields the grant must cover


def _unsupported(dim: Dimension) -> ValidationError:
    return ValidationError(
        f"该信息资源不支持按 {dim} 统计 (dimension not available for this resource)",
        details=[{"field": "group_by", "reason": f"{dim} not available"}],
    )


def dimension(dim: Dimension, view: ResourceView, columns: set[str]) -> Piece:
    """The SQL expression of a dimension over this resource's columns."""
    key = view.key
    if dim in COLUMN_DIMENSIONS:
        column = COLUMN_DIMENSIONS[dim]
        if column not in columns:
            raise _unsupported(dim)
        return Piece(quote(column), (column,))
    if dim in (Dimension.REGION, Dimension.CITY):
        if "行政区划代码" in columns:
            base, needs = quote("行政区划代码"), ("行政区划代码",)
        elif key and view.key_kind == "ric":
            base, needs = f"substr({quote(key)}, 1, 6)", (key,)
        elif key and view.key_kind == "uscc":
            base, needs = f"substr({quote(key)}, 3, 6)", (key,)
        else:
            raise _unsupported(dim)
        return Piece(base if dim is Dimension.REGION else f"substr({base}, 1, 4) || '00'", needs)
    if dim is Dimension.INDUSTRY:
        if "行业代码" not in columns:
            raise _unsupported(dim)
        return Piece(f"left({quote('行业代码')}, 1)", ("行业代码",))  # GB/T 4754 门类
    if dim is Dimension.SEX:
        if "性别" in columns:
            return Piece(quote("性别"), ("性别",))
        if key and view.key_kind == "ric":
            digit = f"TRY_CAST(substr({quote(key)}, 17, 1) AS INTEGER)"
            return Piece(f"CASE WHEN {digit} % 2 = 1 THEN '男' ELSE '女' END", (key,))
        raise _unsupported(dim)
    if dim is Dimension.AGE_BAND:
        if "出生日期" in columns:
            birth, needs = f"CAST({quote('出生日期')} AS DATE)", ("出生日期",)
        elif key and view.key_kind == "ric":
            birth = f"CAST(TRY_STRPTIME(substr({quote(key)}, 7, 8), '%Y%m%d') AS DATE)"
            needs = (key,)
        else:
            raise _unsupported(dim)
        band = f"(date_sub('year', {birth}, $today) // 10) * 10"
        return Piece(f"CAST({band} AS VARCHAR) || '-' || CAST({band} + 9 AS VARCHAR)", needs)
    raise _unsupported(dim)  # pragma: no cover - every member is handled above


def _numeric(schema: pa.Schema, name: str) -> bool:
    kind = schema.field(name).type
    return pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)


def _measure_label(m: MeasureIn) -> str:
    return m.op.value if m.op is Op.COUNT else f"{m.op.value}:{m.field}"


def _check_measures(body: AggregateIn, view: ResourceView, schema: pa.Schema) -> bool:
    """Validate measures; True when any needs differential privacy (personal data)."""
    sensitive = view.personal_rows
    for n, m in enumerate(body.measures):
        if m.op is Op.COUNT:
            continue
        where = f"measures.{n}.field"
        if m.field is None or m.field not in view.items or m.field not in schema.names:
            raise ValidationError(
                f"{where}: 需要该资源的数值字段 (a numeric field of the resource is required)",
                details=[{"field": where, "reason": "unknown field"}],
            )
        if not _numeric(schema, m.field):
            raise ValidationError(
                f"{where}: 只能对数值字段求和或平均 (sum/mean need a numeric field)",
                details=[{"field": where, "reason": "not numeric"}],
            )
        if view.items[m.field].sensitivity.is_personal:
            sensitive = True
    if sensitive:
        for n, m in enumerate(body.measures):
            if m.op is not Op.COUNT and (
                m.lower is None or m.upper is None or not m.lower < m.upper
            ):
                raise ValidationError(
                    f"measures.{n}: 个人数据的求和/平均需给出截断区间 lower < upper "
                    "(personal measures need clamp bounds for differential privacy)",
                    details=[{"field": f"measures.{n}.lower", "reason": "bounds required"}],
                )
    return sensitive


def _query_hash(department: str, body: AggregateIn, version: int) -> str:
    document = {"department": department, "version": version, **body.model_dump(mode="json")}
    canonical = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _run(
    ex: Exchange, view: ResourceView, body: AggregateIn, dims: list[Piece], filters: list[Piece],
    today: date, sensitive: bool,
) -> tuple[list[dict[str, Any]], int, int, int]:  # fmt: skip
    """(groups with true counts and measure inputs, filtered total, table total, version)."""
    snap = ex.lake.snapshot(view.table)
    params: dict[str, Any] = {"today": today}
    where = []
    for n, (piece, value) in enumerate(zip(filters, body.filters.values(), strict=True)):
        params[f"f{n}"] = value
        where.append(f"({piece.sql}) = $f{n}")
    select_dims = [f"{p.sql} AS d{n}" for n, p in enumerate(dims)]
    select_measures = []
    for n, m in enumerate(body.measures):
        if m.op is Op.COUNT:
            continue
        column = f"CAST({quote(m.field or '')} AS DOUBLE)"
        if sensitive:
            select_measures.append(f"list({column}) FILTER (WHERE {column} IS NOT NULL) AS m{n}")
        else:
            agg = "sum" if m.op is Op.SUM else "avg"
            select_measures.append(f"{agg}({column}) AS m{n}")
    sql = (
        f"SELECT {', '.join([*select_dims, 'count(*) AS n', *select_measures])} FROM lake_table"
        + (f" WHERE {' AND '.join(where)}" if where else "")
        + (" GROUP BY ALL" if dims else "")
    )
    used = {k: v for k, v in params.items() if f"${k}" in sql}
    con = duckdb.connect()
    try:
        _attach(con, snap)
        cursor = con.execute(sql, used)
        names = [d[0] for d in cursor.description or []]
        groups = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        filtered = sum(int(g["n"]) for g in groups)
        total = filtered
        if where:  # the table's size matters only for the query-set-size control
            row = con.execute("SELECT count(*) FROM lake_table").fetchone()
            total = int(row[0]) if row else 0
    finally:
        con.close()
    return groups, filtered, total, snap.version


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _attach(con: duckdb.DuckDBPyConnection, snap: Any) -> None:
    """Expose the snapshot to DuckDB as ``lake_table``.

    Local lakes are read by DuckDB's own Parquet reader over exactly the files of the Delta
    version (paths from the Delta log, never from a client). Scanning a pyarrow dataset
    instead makes DuckDB call back into Python from its worker threads, which can deadlock
    while the server's thread pool starts or stops threads (a known duckdb-python issue), so
    that path is kept only for remote lakes.
    """
    paths = snap.local_paths()
    if paths is None:
        con.register("lake_table", snap.dataset())
        return
    if not paths:
        con.register("lake_table", snap.schema.empty_table())
        return
    files = ", ".join(_sql_text(p) for p in paths)
    con.execute(
        "CREATE TEMP VIEW lake_table AS SELECT * FROM "
        f"read_parquet([{files}], union_by_name = true, hive_partitioning = false)"
    )


def _release(
    body: AggregateIn, groups: list[dict[str, Any]], dims: int, k: int, sensitive: bool,
    epsilon: float,
) -> tuple[list[GroupOut], int]:  # fmt: skip
    """Suppress small cells and add noise where required."""
    parts = 1 + sum(m.op is not Op.COUNT for m in body.measures)
    share = epsilon / parts
    out: list[GroupOut] = []
    suppressed = 0
    for g in groups:
        count = laplace_count(int(g["n"]), share) if sensitive else int(g["n"])
        if count < k:
            suppressed += 1
            continue
        values: dict[str, float | int | str | None] = {}
        for n, m in enumerate(body.measures):
            label = _measure_label(m)
            if m.op is Op.COUNT:
                values[label] = count
            elif sensitive:
                data = g[f"m{n}"] or []
                lower, upper = float(m.lower or 0), float(m.upper or 0)
                if m.op is Op.SUM:
                    values[label] = round(laplace_sum(data, lower, upper, share), 2)
                else:
                    values[label] = round(noisy_mean(data, lower, upper, share), 4)
            else:
                value = g[f"m{n}"]
                values[label] = round(float(value), 4) if value is not None else None
        names = [str(d) for d in body.group_by]
        out.append(
            GroupOut(dimensions={names[i]: _text(g[f"d{i}"]) for i in range(dims)}, values=values)
        )
    out.sort(key=lambda grp: [str(v) for v in grp.dimensions.values()])
    return out, suppressed


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _budget(ctx: Any, department_id: int, resource_id: int, total: float) -> PrivacyBudgetAccount:
    query = select(PrivacyBudgetAccount).where(
        PrivacyBudgetAccount.department_id == department_id,
        PrivacyBudgetAccount.resource_id == resource_id,
    )
    account = ctx.session.scalars(query.with_for_update()).first()
    if account is None:
        account = PrivacyBudgetAccount(
            department_id=department_id, resource_id=resource_id, total_epsilon=total,
            spent_epsilon=0.0, updated_at=ctx.now(),
        )  # fmt: skip
        ctx.session.add(account)
        ctx.session.flush()
    return account


def aggregate(ex: Exchange, call: DataCall, body: AggregateIn) -> AggregateOut:
    """Answer an aggregate query under the protections of this module, audited."""
    k = ex.config.min_group_size
    with ex.audited(call) as recorder:
        with ex.catalog.unit() as ctx:
            view = ex.view(ctx, body.resource_code)
            recorder.uses(view)
            snap = ex.lake.snapshot(view.table)
            columns = set(snap.columns)
            dims = [dimension(d, view, columns) for d in body.group_by]
            filters = [dimension(d, view, columns) for d in body.filters]
            sensitive = _check_measures(body, view, snap.schema)
            needed = list(
                dict.fromkeys(
                    [n for p in dims + filters for n in p.needs]
                    + [m.field for m in body.measures if m.field]
                )
            )
            grant = authorise_data_call(
                ctx, actor=call.actor, resource=view, purpose=call.purpose, fields=needed
            )
            recorder.uses(view, grant)
            ex.limiter.hit(grant)
            department_id, resource_id = grant.department_id, view.resource_id
            today = ctx.now().astimezone(CHINA_TZ).date()
            query_hash = _query_hash(call.actor.department_code or "", body, snap.version)
            stored = ctx.session.scalars(
                select(AggregateRelease).where(
                    AggregateRelease.department_id == department_id,
                    AggregateRelease.resource_id == resource_id,
                    AggregateRelease.query_hash == query_hash,
                )
            ).first()
            epsilon = ex.config.epsilon_per_query
            if stored is None and sensitive:
                account = _budget(ctx, department_id, resource_id, ex.config.budget_epsilon)
                PrivacyBudget(account.total_epsilon, account.spent_epsilon).charge(epsilon)
        if stored is not None:
            ref = ex.commit(
                recorder,
                fields=needed,
                rows=len(stored.result.get("groups", [])),
                result=stored.result,
                table_version=stored.table_version,
            )
            return AggregateOut.model_validate(
                {**stored.result, "repeated": True, "epsilon_spent": 0.0,
                 "evidence": evidence(ref)}
            )  # fmt: skip
        groups, filtered, total, version = _run(ex, view, body, dims, filters, today, sensitive)
        if body.filters and not (k <= filtered <= total - k):
            raise QueryRefused(
                f"筛选条件圈定的记录过少或过多（须在 {k} 条以上且排除 {k} 条以上），"
                "可能识别个人，查询被拒绝 (filters isolate too small a set)"
            )
        released, suppressed = _release(body, groups, len(dims), k, sensitive, epsilon)
        remaining: float | None = None
        if sensitive:
            with ex.catalog.unit() as ctx:
                account = _budget(ctx, department_id, resource_id, ex.config.budget_epsilon)
                budget = PrivacyBudget(account.total_epsilon, account.spent_epsilon).charge(epsilon)
                account.spent_epsilon = budget.spent_epsilon
                account.updated_at = ctx.now()
                remaining = budget.remaining_epsilon
        payload = {
            "resource_code": view.code,
            "groups": [g.model_dump(mode="json") for g in released],
            "suppressed_groups": suppressed,
            "k": k,
            "noise": f"laplace ε={epsilon:g}" if sensitive else None,
            "epsilon_spent": epsilon if sensitive else 0.0,
            "budget_remaining": remaining,
            "table_version": version,
        }
        ref = ex.commit(
            recorder, fields=needed, rows=len(released), result=payload, table_version=version,
            epsilon=epsilon if sensitive else None,
        )  # fmt: skip
        if sensitive:
            _store(ex, department_id, resource_id, version, query_hash, payload, epsilon)
    return AggregateOut.model_validate({**payload, "repeated": False, "evidence": evidence(ref)})


def _store(
    ex: Exchange, department_id: int, resource_id: int, version: int, query_hash: str,
    payload: dict[str, Any], epsilon: float,
) -> None:  # fmt: skip
    try:
        with ex.catalog.unit() as ctx:
            ctx.session.add(
                AggregateRelease(
                    department_id=department_id,
                    resource_id=resource_id,
                    table_version=version,
                    query_hash=query_hash,
                    result=payload,
                    epsilon=epsilon,
                    created_at=ctx.now(),
                )
            )
    except IntegrityError:
        pass  # the same query answered concurrently: the first stored answer stands
