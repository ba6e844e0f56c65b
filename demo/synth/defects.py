"""The defects real departmental extracts carry, injected into a fraction of rows.

Each defective row gets exactly one defect, so the manifest's counts are exact and a checker
can recompute them from the files. Kinds come in two classes the ingest must treat
differently:

* standardisable (可标准化): full-width characters, padding whitespace, dates written 2024年3月5日
  or as an Excel serial number, a lower-case x in an ID number. Ingest fixes them and keeps
  the row.
* rejectable (应拒收): a wrong check character, a blank required item, an out-of-range value,
  a second row with a key already seen. Ingest quarantines them.

Which kinds apply follows the table's catalogue items (no date items, no date defects), and
rows carrying a planted cross-source conflict are never touched, so the conflict survives.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from stdnum.cn import ric, uscc

from catalog.domain import DataType
from catalog.schemas import DataItemIn
from demo.synth.text import excel_serial, full_width

STANDARDISABLE = ("full_width", "whitespace", "date_chinese", "date_excel_serial", "lowercase_x")
REJECTABLE = ("wrong_check_digit", "missing_required", "out_of_range", "duplicate_key")
KIND_LABELS = {
    "full_width": "全角字符",
    "whitespace": "首尾空白",
    "date_chinese": "中文日期（2024年3月5日）",
    "date_excel_serial": "Excel 日期序列号",
    "lowercase_x": "身份证号小写 x",
    "wrong_check_digit": "校验位错误",
    "missing_required": "必填项为空",
    "out_of_range": "取值超出范围",
    "duplicate_key": "主键重复",
}
_WEIGHTS = {
    "wrong_check_digit": 1.0,
    "missing_required": 1.0,
    "out_of_range": 1.0,
    "duplicate_key": 1.0,
    "full_width": 1.0,
    "whitespace": 1.0,
    "date_chinese": 0.5,
    "date_excel_serial": 0.5,
    # Only about one ID number in eleven ends in X; a higher weight keeps this kind about as
    # frequent as the others (rows it cannot apply to fall through to another kind).
    "lowercase_x": 8.0,
}
# Dates that lie in the future by nature; everything else dated is an event that happened.
FUTURE_ALLOWED = ("有效期至", "有效期", "资格有效期")
PERIOD_SUFFIXES = ("月份", "所属期")
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def identifier_kind(name: str) -> str | None:
    """Which national identifier an item holds, by its catalogue name."""
    if name.endswith("身份证号") or name == "驾驶证号":
        return "ric"
    if name.endswith("统一社会信用代码"):
        return "uscc"
    if name == "持证主体代码":
        return "mixed"  # an enterprise's USCC or a person's ID number
    return None


def _is_period(item: DataItemIn) -> bool:
    return (
        item.data_type is DataType.CHAR and item.length == 6 and item.name.endswith(PERIOD_SUFFIXES)
    )


def out_of_range_applies(item: DataItemIn) -> bool:
    if item.name == "纳税信用等级" or item.name == "评价年度" or _is_period(item):
        return True
    if item.data_type is DataType.DATE:
        return not item.name.endswith(FUTURE_ALLOWED)
    return item.data_type in (
        DataType.MONEY,
        DataType.INTEGER,
        DataType.NUMBER,
        DataType.DOUBLE,
        DataType.FLOAT,
    )


@dataclass(frozen=True)
class TableDefects:
    """What can go wrong in one table, decided once from its catalogue items."""

    items: tuple[DataItemIn, ...]
    targets: dict[str, tuple[str, ...]]  # kind -> items it may hit

    @classmethod
    def for_items(cls, items: list[DataItemIn]) -> TableDefects:
        ids = [i.name for i in items if identifier_kind(i.name)]
        required_ids = [i.name for i in items if identifier_kind(i.name) and i.required]
        chars = [i.name for i in items if i.data_type is DataType.CHAR]
        targets = {
            "wrong_check_digit": tuple(required_ids or ids),
            "missing_required": tuple(i.name for i in items if i.required),
            "out_of_range": tuple(i.name for i in items if out_of_range_applies(i)),
            "duplicate_key": tuple(i.name for i in items if i.is_key),
            "full_width": tuple(
                ids or [i.name for i in items if i.is_key and i.data_type is DataType.CHAR]
            ),
            "whitespace": tuple(chars),
            "date_chinese": tuple(i.name for i in items if i.data_type is DataType.DATE),
            "date_excel_serial": tuple(i.name for i in items if i.data_type is DataType.DATE),
            "lowercase_x": tuple(n for n in ids if identifier_kind(n) in ("ric", "mixed")),
        }
        return cls(tuple(items), {k: v for k, v in targets.items() if v})

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(k for k in _WEIGHTS if k in self.targets)

    @property
    def key(self) -> tuple[str, ...]:
        return self.targets.get("duplicate_key", ())


@dataclass
class ChunkDefects:
    """What one chunk got: the rewritten table and, per defect, where it is."""

    table: pa.Table
    records: list[tuple[int, str, str]] = field(default_factory=list)  # (row, kind, item)
    duplicates: list[dict[str, Any]] = field(default_factory=list)


def _parse_date(value: str) -> np.datetime64:
    if len(value) == 8 and value.isdigit():
        value = f"{value[:4]}-{value[4:6]}-{value[6:]}"
    return np.datetime64(value, "D")


def _write_like(value: str, day: np.datetime64) -> str:
    iso = str(day)
    return iso.replace("-", "") if len(value) == 8 and value.isdigit() else iso


def _break_check(value: str, kind: str, rng: np.random.Generator) -> str | None:
    """The value with a different, wrong check character (verified with stdnum)."""
    if kind == "mixed":
        kind = "ric" if ric.is_valid(value) else "uscc"
    alphabet = "0123456789X" if kind == "ric" else _USCC_ALPHABET
    for char in rng.permutation(list(alphabet)):
        broken = value[:-1] + str(char)
        if not ric.is_valid(broken) and not uscc.is_valid(broken):
            return broken
    return None


def _out_of_range(
    item: DataItemIn, value: str, rng: np.random.Generator, batch: np.datetime64
) -> str | None:
    if item.name == "纳税信用等级":
        return "Z"
    if item.name == "评价年度":
        return str(int(str(batch)[:4]) + int(rng.integers(1, 80)))
    if _is_period(item):
        return value[:4] + "13"
    if item.data_type is DataType.DATE:
        return _write_like(value, batch + np.timedelta64(int(rng.integers(30, 3650)), "D"))
    try:
        amount = float(value)
    except ValueError:
        return None
    return "-" + value if amount > 0 else "-" + ("100.00" if "." in value else "100")


def _apply(
    kind: str, item: DataItemIn, value: str, rng: np.random.Generator, batch: np.datetime64
) -> str | None:
    """The defective form of ``value``; None when this kind cannot apply to this value."""
    if kind == "missing_required":
        return ""
    if kind == "wrong_check_digit":
        return _break_check(value, identifier_kind(item.name) or "ric", rng)
    if kind == "out_of_range":
        return _out_of_range(item, value, rng, batch)
    if kind == "full_width":
        return full_width(value) if any(c.isascii() and c.isalnum() for c in value) else None
    if kind == "whitespace":
        pads = [(" ", ""), ("", " "), ("\u3000", ""), ("  ", "  "), ("", "\t")]
        left, right = pads[int(rng.integers(len(pads)))]
        return f"{left}{value}{right}"
    if kind == "date_chinese":
        day = _parse_date(value)
        y, m, d = str(day).split("-")
        return f"{int(y)}年{int(m)}月{int(d)}日"
    if kind == "date_excel_serial":
        return str(excel_serial(_parse_date(value)))
    if kind == "lowercase_x":
        return value[:-1] + "x" if value.endswith("X") else None
    raise ValueError(kind)


def inject(
    table: pa.Table,
    spec: TableDefects,
    *,
    rate: float,
    rng: np.random.Generator,
    batch: np.datetime64,
    protected: np.ndarray | None,
) -> ChunkDefects:
    """Give about ``rate`` of the rows one defect each; duplicates are added as extra rows."""
    n = table.num_rows
    kinds = spec.kinds
    if rate <= 0 or n == 0 or not kinds:
        return ChunkDefects(table)
    chosen = rng.random(n) < rate
    if protected is not None:
        chosen &= ~protected
    rows = np.flatnonzero(chosen)
    if len(rows) == 0:
        return ChunkDefects(table)
    weights = np.array([_WEIGHTS[k] for k in kinds])
    first_pick = rng.choice(len(kinds), size=len(rows), p=weights / weights.sum())
    by_item = {i.name: i for i in spec.items}
    # Only the columns defects may touch are pulled into Python, and only their chosen rows.
    touched = sorted({name for k in kinds for name in spec.targets[k]})
    values = {name: table.column(name).take(pa.array(rows)).to_pylist() for name in touched}
    edits: dict[str, dict[int, str | None]] = {}
    records: list[tuple[int, str, str]] = []
    dup_rows: list[int] = []
    for pos, row in enumerate(rows.tolist()):
        order = [
            kinds[first_pick[pos]],
            *rng.permutation([k for k in kinds if k != kinds[first_pick[pos]]]),
        ]
        for kind in order:
            if kind == "duplicate_key":
                if all(values[k][pos] not in (None, "") for k in spec.key):
                    dup_rows.append(row)
                    break
                continue
            candidates = [
                name for name in spec.targets[kind] if values[name][pos] not in (None, "")
            ]
            done = False
            for name in rng.permutation(candidates) if candidates else []:
                new = _apply(kind, by_item[str(name)], values[str(name)][pos], rng, batch)
                if new is not None and new != values[str(name)][pos]:
                    edits.setdefault(str(name), {})[row] = new or None
                    records.append((row, kind, str(name)))
                    done = True
                    break
            if done:
                break
    columns = []
    for name, col in zip(table.column_names, table.columns, strict=True):
        change = edits.get(name)
        if change:
            at = sorted(change)
            mask = np.zeros(n, dtype=bool)
            mask[at] = True
            col = pc.replace_with_mask(
                col.combine_chunks(), pa.array(mask), pa.array([change[r] for r in at], pa.string())
            )
        columns.append(col)
    table = pa.Table.from_arrays(columns, names=table.column_names)
    clean = np.setdiff1d(np.arange(n), rows)
    return _add_duplicates(table, spec, dup_rows, records, rng, clean)


def _add_duplicates(
    table: pa.Table,
    spec: TableDefects,
    sources: list[int],
    records: list[tuple[int, str, str]],
    rng: np.random.Generator,
    clean: np.ndarray,
) -> ChunkDefects:
    """Insert a copy of each source row somewhere after it; half the copies change one value."""
    n = table.num_rows
    if not sources:
        return ChunkDefects(table, sorted(records))
    src = np.array(sources)
    copies = table.take(pa.array(src))
    others = [c for c in table.column_names if c not in spec.key]
    changed: list[str | None] = []
    if others:
        new_cols = {c: copies.column(c).combine_chunks() for c in table.column_names}
        edits: dict[str, dict[int, str | None]] = {}
        for j, s in enumerate(sources):
            name = None
            if rng.random() < 0.5 and len(clean):
                # The changed value comes from a row without defects, so it adds none.
                name = str(rng.choice(others))
                donor = int(clean[rng.integers(len(clean))])
                value = table.column(name)[donor].as_py()
                if value == table.column(name)[s].as_py():
                    name = None
                else:
                    edits.setdefault(name, {})[j] = value
            changed.append(name)
        for name, change in edits.items():
            mask = np.zeros(len(sources), dtype=bool)
            at = sorted(change)
            mask[at] = True
            new_cols[name] = pc.replace_with_mask(
                new_cols[name], pa.array(mask), pa.array([change[j] for j in at], pa.string())
            )
        copies = pa.Table.from_arrays(
            [new_cols[c] for c in table.column_names], names=table.column_names
        )
    else:
        changed = [None] * len(sources)
    # Copies land at a random later position of the chunk, as resent records do.
    position = np.concatenate(
        [np.arange(n, dtype=np.float64), src + rng.uniform(0.5, n - src + 0.5)]
    )
    order = np.argsort(position, kind="stable")
    out = pa.concat_tables([table, copies]).take(pa.array(order))
    new_index = np.empty(len(order), dtype=np.int64)
    new_index[order] = np.arange(len(order))
    moved = [(int(new_index[r]), kind, item) for r, kind, item in records]
    duplicates = []
    key_values = {k: copies.column(k).to_pylist() for k in spec.key}
    for j, s in enumerate(sources):
        row = int(new_index[n + j])
        moved.append((row, "duplicate_key", "、".join(spec.key)))
        duplicates.append(
            {
                "row": row,
                "source_row": int(new_index[s]),
                "key": {k: key_values[k][j] for k in spec.key},
                "identical": changed[j] is None,
                "changed_item": changed[j],
            }
        )
    return ChunkDefects(out, sorted(moved), sorted(duplicates, key=lambda d: d["row"]))
