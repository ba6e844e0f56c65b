"""Aggregates (统计查询): count, sum and mean by whitelisted dimensions, 可用不可见.

Protections, in the order they apply (``docs/privacy.md`` states the guarantees):

- The grant is checked before anything about the data is looked at: a caller without one
  learns nothing of the lake (not even whether its table exists).
- The query is built from whitelisted pieces only: dimensions map to fixed SQL expressions
  over columns the catalogue declares, measures to numeric data items; filter values are
  bound as parameters. No client text ever becomes SQL. A declared column missing from the
  mounted table is a 409 naming the field.
- Exact answers (no personal rows): filters must leave at least k records and leave out at
  least k; groups with fewer than k records are suppressed, and secondary suppression
  (``privacy.suppression``) hides further groups so that no suppressed group can be derived
  from released groups and margins (the complement attack). Suppression is decided on the
  full table of every dimension the query uses, so all queries over the same dimensions hide
  the same cells.
- Noised answers (rows about persons, or personal measures): each person's rows are bounded
  (``max_rows_per_person``) and OpenDP Laplace noise is calibrated to that bound. Groups are
  released only when their noisy count passes a threshold set by k and δ, the number of
  hidden groups is not reported, and the filter-size refusal uses noisy counts and is
  charged. ε is charged to the department's budget of the privacy unit (the population, e.g.
  every person by ID number), shared by all resources about it, per period.
- The charge and the stored release are one transaction, the charge a conditional UPDATE
  whose row count decides: concurrent calls, threads or processes, never overspend and the
  releases always sum to the budget's spent ε. The same question on the same table version
  returns the stored answer at no further cost, so noise cannot be averaged away by asking
  again, concurrently or not.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

import duckdb
import pyarrow as pa
from sqlalchemy import CursorResult, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from catalog.context import CHINA_TZ
from catalog.identifiers import identifier_kind
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
from exchange_api.exceptions import FieldNotInData, QueryRefused
from exchange_api.profiles import evidence
from exchange_api.runtime import DataCall, Exchange
from exchange_api.views import ResourceView
from infra.errors import ValidationError
from privacy.dp import (
    budget_units,
    epsilon_units,
    laplace_count,
    laplace_sum,
    noisy_mean,
    units_epsilon,
)
from privacy.errors import BudgetExhausted
from privacy.suppression import secondary_suppression
from privacy.units import PERSON, budget_period, privacy_unit

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
    """The SQL expression of a dimension over this resource's columns.

    ``columns`` are the data items the catalogue declares, so the answer (and the fields the
    grant must cover) never depends on what the lake holds; the lake is checked afterwards.
    """
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


def _check_measure_fields(body: AggregateIn, view: ResourceView) -> None:
    """Measures name data items of the resource: checked on the catalogue, before the grant."""
    for n, m in enumerate(body.measures):
        if m.op is Op.COUNT:
            continue
        where = f"measures.{n}.field"
        if m.field is None or m.field not in view.items:
            raise ValidationError(
                f"{where}: 需要该资源的数值字段 (a numeric field of the resource is required)",
                details=[{"field": where, "reason": "unknown field"}],
            )


def _check_measures(
    body: AggregateIn, view: ResourceView, schema: pa.Schema, *, personal_rows: bool
) -> bool:
    """Validate measures against the data; True when any needs differential privacy."""
    sensitive = personal_rows
    for n, m in enumerate(body.measures):
        if m.op is Op.COUNT or m.field is None:
            continue
        where = f"measures.{n}.field"
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


def _query(snap: Any, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Run one statement over the snapshot; rows as dicts."""
    used = {k: v for k, v in params.items() if f"${k}" in sql}
    con = duckdb.connect()
    try:
        _attach(con, snap)
        try:
            cursor = con.execute(sql, used)
        except duckdb.BinderException:
            # The columns were checked against this snapshot's schema; a file of the version
            # that still lacks one (schema evolution) is the same conflict, never a 500.
            raise FieldNotInData(
                "挂接的数据与目录不一致，缺少统计所需字段 (the mounted data lacks a field)"
            ) from None
        names = [d[0] for d in cursor.description or []]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _privacy_unit(view: ResourceView) -> tuple[str, str | None]:
    """(the privacy unit whose budget pays, the column identifying its members in the rows).

    Decided from the catalogue: a resource with an ID-number data item is about persons, and
    its rows are bounded per value of that item (the key when it is one).
    """
    kinds = {name: identifier_kind(name) for name in view.items}
    unit = privacy_unit(resource_code=view.code, identifier_kinds=kinds.values())
    if view.key_kind == "ric" and view.key:
        return unit, view.key
    return unit, next((name for name, kind in kinds.items() if kind == "ric"), None)


def _require_columns(fields: list[str], snap: Any) -> None:
    """409 naming each declared field the mounted table does not hold."""
    present = set(snap.columns)
    missing = [name for name in fields if name not in present]
    if missing:
        raise FieldNotInData(
            f"挂接的数据缺少字段：{'、'.join(missing)}，请提供方核对挂接 "
            "(the mounted data lacks these catalogued fields)",
            details=[{"field": name, "reason": "not in the mounted data"} for name in missing],
        )


def _measure_values(body: AggregateIn, row: dict[str, Any]) -> dict[str, float | int | str | None]:
    values: dict[str, float | int | str | None] = {}
    for n, m in enumerate(body.measures):
        label = _measure_label(m)
        if m.op is Op.COUNT:
            values[label] = int(row["n"])
            continue
        total, present = row[f"s{n}"], int(row[f"c{n}"] or 0)
        if m.op is Op.SUM:
            values[label] = round(float(total), 4) if total is not None else None
        else:
            values[label] = round(float(total) / present, 4) if present else None
    return values


def _exact(
    ex: Exchange, snap: Any, body: AggregateIn, dims: list[Piece], filters: list[Piece],
    today: date,
) -> dict[str, Any]:  # fmt: skip
    """An exact answer with primary and secondary suppression.

    The cells are those of the full table over every dimension the query names (grouped and
    filtered), computed without the filter; the filter then selects a slice. So the filtered
    total, a row of a two-way table and the cell of a one-way table are one and the same cell,
    hidden or released alike whichever query asks for it.
    """
    k = ex.config.min_group_size
    axes: list[Piece] = list(dims)
    filter_axes: list[int] = []
    for piece in filters:
        if piece in axes:
            filter_axes.append(axes.index(piece))
        else:
            axes.append(piece)
            filter_axes.append(len(axes) - 1)
    columns = [f"{p.sql} AS a{n}" for n, p in enumerate(axes)] + ["count(*) AS n"]
    for n, m in enumerate(body.measures):
        if m.op is not Op.COUNT:
            value = f"CAST({quote(m.field or '')} AS DOUBLE)"
            columns += [f"sum({value}) AS s{n}", f"count({value}) AS c{n}"]
    sql = f"SELECT {', '.join(columns)} FROM lake_table" + (" GROUP BY ALL" if axes else "")
    rows = _query(snap, sql, {"today": today})
    cells = {tuple(_text(r[f"a{n}"]) for n in range(len(axes))): r for r in rows}
    hidden = secondary_suppression({c: int(r["n"]) for c, r in cells.items()}, k)
    wanted = [value for value in body.filters.values()]
    chosen = {
        c: r
        for c, r in cells.items()
        if all(c[a] == v for a, v in zip(filter_axes, wanted, strict=True))
    }
    total = sum(int(r["n"]) for r in rows)
    filtered = sum(int(r["n"]) for r in chosen.values())
    if body.filters and not (k <= filtered <= total - k):
        raise QueryRefused(
            f"筛选条件圈定的记录过少或过多（须在 {k} 条以上且排除 {k} 条以上），"
            "可能识别个人，查询被拒绝 (filters isolate too small a set)"
        )
    names = [str(d) for d in body.group_by]
    groups = [
        GroupOut(
            dimensions={names[i]: cell[i] for i in range(len(dims))},
            values=_measure_values(body, row),
        )
        for cell, row in chosen.items()
        if cell not in hidden
    ]
    groups.sort(key=lambda g: [str(v) for v in g.dimensions.values()])
    return {
        "resource_code": body.resource_code,
        "groups": [g.model_dump(mode="json") for g in groups],
        "suppressed_groups": sum(cell in hidden for cell in chosen),
        "k": k,
        "noise": None,
        "privacy_unit": None,
        "contribution_bound": None,
        "epsilon_spent": 0.0,
        "budget_remaining": None,
        "table_version": snap.version,
    }


def _most_rows_per(snap: Any, column: str) -> int:
    """The most rows any one value of ``column`` has in this version (NULLs count as one value,
    as they form one partition in the bounding window).

    The bound keeps at most c rows per person through a window over every person, which on
    10M persons costs seconds where the group-by itself costs milliseconds. Where no person
    has more than c rows (a theme, a table keyed by the ID number) the window would keep every
    row, so it is skipped: the same rows, the same answer. Counted once per table version.
    """

    def count() -> int:
        per_value = f"SELECT count(*) AS n FROM lake_table GROUP BY {quote(column)}"
        sql = f"SELECT max(n) AS most FROM ({per_value})"
        (row,) = _query(snap, sql, {})
        return int(row["most"] or 0)

    return int(snap.fact(f"most_rows_per:{column}", count))


def _noised(
    ex: Exchange, snap: Any, body: AggregateIn, dims: list[Piece], filters: list[Piece],
    today: date, unit: str, unit_column: str | None, epsilon: float,
) -> dict[str, Any]:  # fmt: skip
    """A differentially private answer, or a refusal payload ({"refused": message}).

    Each person keeps at most ``c = max_rows_per_person`` rows (chosen by a hash of the row,
    so the choice is stable), so one person moves any count by at most c in total across
    groups; every mechanism is calibrated to that bound. ε is split evenly between the counts,
    each noised measure and, with filters, the noisy check of the filtered set's size.
    """
    k = ex.config.min_group_size
    c = ex.config.max_rows_per_person if unit_column else 1
    source = "lake_table"
    if unit_column and _most_rows_per(snap, unit_column) > c:
        source = (
            f"(SELECT * FROM lake_table QUALIFY row_number() OVER (PARTITION BY "
            f"{quote(unit_column)} ORDER BY hash(lake_table::VARCHAR)) <= {c}) AS bounded"
        )
    params: dict[str, Any] = {"today": today}
    where = []
    for n, (piece, value) in enumerate(zip(filters, body.filters.values(), strict=True)):
        params[f"f{n}"] = value
        where.append(f"({piece.sql}) = $f{n}")
    noised_measures = [m for m in body.measures if m.op is not Op.COUNT]
    parts = 1 + len(noised_measures) + (1 if where else 0)
    share = epsilon / parts
    if where:
        condition = " AND ".join(where)
        (sizes,) = _query(
            snap,
            f"SELECT count(*) FILTER (WHERE {condition}) AS inside, count(*) AS n FROM {source}",
            params,
        )
        inside, outside = int(sizes["inside"]), int(sizes["n"]) - int(sizes["inside"])
        # Both sets are disjoint: one person moves the pair by at most c, one share pays.
        if min(laplace_count(inside, share, sensitivity=c),
               laplace_count(outside, share, sensitivity=c)) < k:  # fmt: skip
            return {
                "refused": f"筛选条件圈定的记录过少或过多（须在约 {k} 条以上且排除约 {k} 条以上），"
                "可能识别个人，查询被拒绝 (filters isolate too small a set)"
            }
    select_dims = [f"{p.sql} AS d{n}" for n, p in enumerate(dims)]
    select_measures = []
    for n, m in enumerate(body.measures):
        if m.op is not Op.COUNT:
            column = f"CAST({quote(m.field or '')} AS DOUBLE)"
            select_measures.append(f"list({column}) FILTER (WHERE {column} IS NOT NULL) AS m{n}")
    sql = (
        f"SELECT {', '.join([*select_dims, 'count(*) AS n', *select_measures])} FROM {source}"
        + (f" WHERE {' AND '.join(where)}" if where else "")
        + (" GROUP BY ALL" if dims else "")
    )
    rows = _query(snap, sql, params)
    if not dims and not rows:
        rows = [{"n": 0}]
    # A group's key is only shown when its noisy count passes the threshold; for a group-by,
    # the threshold also keeps the chance that one person's group appears at all below δ.
    scale = c / share
    threshold = float(k)
    if dims:
        threshold = max(threshold, c + scale * math.log(1 / (2 * ex.config.dp_delta)))
    names = [str(d) for d in body.group_by]
    groups: list[GroupOut] = []
    for row in rows:
        count = laplace_count(int(row["n"]), share, sensitivity=c)
        if count < threshold:
            continue
        values: dict[str, float | int | str | None] = {}
        for n, m in enumerate(body.measures):
            label = _measure_label(m)
            if m.op is Op.COUNT:
                values[label] = count
                continue
            data = row.get(f"m{n}") or []
            lower, upper = float(m.lower or 0), float(m.upper or 0)
            if m.op is Op.SUM:
                values[label] = round(laplace_sum(data, lower, upper, share, contributions=c), 2)
            else:
                values[label] = round(noisy_mean(data, lower, upper, share, contributions=c), 4)
        groups.append(
            GroupOut(
                dimensions={names[i]: _text(row[f"d{i}"]) for i in range(len(dims))}, values=values
            )
        )
    groups.sort(key=lambda g: [str(v) for v in g.dimensions.values()])
    return {
        "resource_code": body.resource_code,
        "groups": [g.model_dump(mode="json") for g in groups],
        "suppressed_groups": None,
        "k": k,
        "noise": f"laplace ε={epsilon:g}, ≤{c} row(s) per person",
        "privacy_unit": unit,
        "contribution_bound": c,
        "epsilon_spent": epsilon,
        "budget_remaining": None,
        "table_version": snap.version,
    }


# ---- the ledger: budgets per department, privacy unit and period ---------------------------


@dataclass(frozen=True)
class Ledger:
    """Where one noised query is charged."""

    department_id: int
    resource_id: int
    unit: str
    period: str
    total_epsilon: float


def _account(session: Session, ledger: Ledger) -> PrivacyBudgetAccount | None:
    return session.scalars(
        select(PrivacyBudgetAccount).where(
            PrivacyBudgetAccount.department_id == ledger.department_id,
            PrivacyBudgetAccount.privacy_unit == ledger.unit,
            PrivacyBudgetAccount.period == ledger.period,
        )
    ).first()


def _open_account(session: Session, ledger: Ledger, now: Any) -> None:
    """Create the budget row if absent; a concurrent creator wins silently (never a 500)."""
    values = {
        "department_id": ledger.department_id,
        "privacy_unit": ledger.unit,
        "period": ledger.period,
        "total_units": budget_units(ledger.total_epsilon),
        "spent_units": 0,
        "updated_at": now,
    }
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(PrivacyBudgetAccount).values(**values)
    session.execute(
        statement.on_conflict_do_nothing(index_elements=["department_id", "privacy_unit", "period"])
    )


def _precheck(ex: Exchange, ledger: Ledger, epsilon: float) -> None:
    """Refuse early when the budget cannot pay: saves the query, decides nothing."""
    with ex.catalog.unit() as ctx:
        account = _account(ctx.session, ledger)
        total = account.total_units if account else budget_units(ledger.total_epsilon)
        spent = account.spent_units if account else 0
    if spent + epsilon_units(epsilon) > total:
        raise BudgetExhausted(requested=epsilon, remaining=units_epsilon(max(total - spent, 0)))


def _record(
    ex: Exchange, ledger: Ledger, *, version: int, query_hash: str, payload: dict[str, Any],
    epsilon: float,
) -> float:  # fmt: skip
    """Store the release and charge its ε in one transaction; returns the ε remaining.

    The release row goes first: it is the transaction's first write (so SQLite takes its write
    lock before reading anything) and its unique key makes a concurrent twin of the same
    question fail with IntegrityError, for the caller to serve the twin's answer. The charge is
    a conditional UPDATE: the database checks and spends in one statement under its row lock,
    and a row count of 0 means the budget cannot pay, which rolls the release back too.
    """
    units = epsilon_units(epsilon)
    with ex.catalog.unit() as ctx:
        session = ctx.session
        session.add(
            AggregateRelease(
                department_id=ledger.department_id,
                resource_id=ledger.resource_id,
                table_version=version,
                query_hash=query_hash,
                result=payload,
                epsilon=epsilon,
                privacy_unit=ledger.unit,
                period=ledger.period,
                created_at=ctx.now(),
            )
        )
        session.flush()
        _open_account(session, ledger, ctx.now())
        budget = PrivacyBudgetAccount
        charged = cast(
            CursorResult[Any],
            session.execute(
                update(budget)
                .where(
                    budget.department_id == ledger.department_id,
                    budget.privacy_unit == ledger.unit,
                    budget.period == ledger.period,
                    budget.spent_units + units <= budget.total_units,
                )
                .values(spent_units=budget.spent_units + units, updated_at=ctx.now())
                .execution_options(synchronize_session=False)
            ),
        )
        account = _account(session, ledger)
        assert account is not None  # opened above, in this transaction
        session.refresh(account)
        remaining = units_epsilon(max(account.total_units - account.spent_units, 0))
        if charged.rowcount != 1:
            raise BudgetExhausted(requested=epsilon, remaining=remaining)
    return remaining


def _stored(ex: Exchange, department_id: int, resource_id: int, query_hash: str) -> Any:
    with ex.catalog.unit() as ctx:
        release = ctx.session.scalars(
            select(AggregateRelease).where(
                AggregateRelease.department_id == department_id,
                AggregateRelease.resource_id == resource_id,
                AggregateRelease.query_hash == query_hash,
            )
        ).first()
        return None if release is None else (release.result, release.table_version)


def aggregate(ex: Exchange, call: DataCall, body: AggregateIn) -> AggregateOut:
    """Answer an aggregate query under the protections of this module, audited."""
    with ex.audited(call) as recorder:
        with ex.catalog.unit() as ctx:
            view = ex.view(ctx, body.resource_code)
            recorder.uses(view)
            declared = set(view.items)
            dims = [dimension(d, view, declared) for d in body.group_by]
            filters = [dimension(d, view, declared) for d in body.filters]
            _check_measure_fields(body, view)
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
            ex.limiter.hit(ctx, grant)
            department_id = grant.department_id
            today = ctx.now().astimezone(CHINA_TZ).date()
        snap = ex.lake.snapshot(view.table)
        unit, unit_column = _privacy_unit(view)
        # The ID column bounds each person's rows; it is read inside the query, never released,
        # so the grant need not cover it, but without it the bound cannot hold: a 409 too.
        _require_columns(needed + ([unit_column] if unit_column else []), snap)
        sensitive = _check_measures(body, view, snap.schema, personal_rows=unit == PERSON)
        if not sensitive:
            payload = _exact(ex, snap, body, dims, filters, today)
            ref = ex.commit(
                recorder, fields=needed, rows=len(payload["groups"]), result=payload,
                table_version=snap.version,
            )  # fmt: skip
            return AggregateOut.model_validate(
                {**payload, "repeated": False, "evidence": evidence(ref)}
            )
        epsilon = ex.config.epsilon_per_query
        ledger = Ledger(
            department_id=department_id,
            resource_id=view.resource_id,
            unit=unit,
            period=budget_period(today, ex.config.budget_period),
            total_epsilon=ex.config.budget_epsilon,
        )
        query_hash = _query_hash(call.actor.department_code or "", body, snap.version)
        stored = _stored(ex, department_id, view.resource_id, query_hash)
        fresh = stored is None
        if stored is None:
            _precheck(ex, ledger, epsilon)
            payload = _noised(ex, snap, body, dims, filters, today, unit, unit_column, epsilon)
            try:
                remaining = _record(
                    ex, ledger, version=snap.version, query_hash=query_hash,
                    payload={**payload, "budget_remaining": None}, epsilon=epsilon,
                )  # fmt: skip
            except IntegrityError:
                stored = _stored(ex, department_id, view.resource_id, query_hash)
                if stored is None:  # pragma: no cover - the twin's row is committed
                    raise
                fresh = False
            else:
                payload["budget_remaining"] = remaining
        if stored is not None:
            payload, version = stored
        else:
            version = snap.version
        if "refused" in payload:
            if fresh:
                recorder.record.epsilon = f"{epsilon:g}"
            raise QueryRefused(str(payload["refused"]))
        ref = ex.commit(
            recorder, fields=needed, rows=len(payload["groups"]), result=payload,
            table_version=version, epsilon=epsilon if fresh else None,
        )  # fmt: skip
        answer = {**payload, "repeated": not fresh, "evidence": evidence(ref)}
        if not fresh:
            answer["epsilon_spent"] = 0.0
    return AggregateOut.model_validate(answer)
