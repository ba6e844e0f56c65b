"""``synthesise``: write realistic departmental extracts for the demo catalogue's resources.

The run builds the shared world (persons, enterprises and their events), then streams each
resource's table in chunks: plan → values by catalogue item → defects → writer. Each chunk has
its own random stream derived from (seed, table, chunk number), so output depends only on the
arguments, never on timing; the defect stream is separate, so the same seed at another defect
rate gives the same underlying records.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from demo.catalog import DEPT, DemoResource
from demo.synth import defects as defect_mod
from demo.synth.errors import InvalidSynthOption, SynthOutputError
from demo.synth.manifest import DefectCounts, FileEntry, Manifest
from demo.synth.pools import stream
from demo.synth.tables import (
    DEFAULT_MOUNTS,
    DELIVERY,
    ENCODINGS,
    FORMATS,
    GENERIC_DELIVERY,
    items_of,
    mounted_resources,
    plan_for,
)
from demo.synth.values import generate, to_text
from demo.synth.world import World, build_world
from demo.synth.writers import XLSX_SHEET_ROWS, open_writer

MIN_SCALE = 1_000
MAX_SCALE = 10_000_000
CHUNK_ROWS = 100_000
DEFAULT_BATCH_DATE = dt.date(2026, 3, 1)
EXTENSIONS = {"csv": "csv", "xlsx": "xlsx", "jsonl": "jsonl", "parquet": "parquet"}

# Schema drift as departments cause it: a column renamed in their system, and one added.
DRIFT_RENAMES = {
    "法定代表人": "法人代表",
    "统一社会信用代码": "社会信用代码",
    "身份证号": "公民身份号码",
    "纳税信用等级": "信用等级",
}
DRIFT_EXTRA = "备注"

Progress = Callable[[str, int, int], None]  # (mount, units done, units in total)


@dataclass(frozen=True)
class SynthOptions:
    """Arguments of one run; ``validate`` explains in Chinese and English what is wrong."""

    out: Path
    scale: int = 10_000
    seed: int = 42
    defect_rate: float = 0.02
    format: str | None = None
    resources: tuple[str, ...] | None = None  # mount names or resource codes; "all" for every mount
    drift: bool = False
    batch_date: dt.date = DEFAULT_BATCH_DATE
    chunk_rows: int = CHUNK_ROWS
    min_scale: int = MIN_SCALE  # tests lower it; the CLI never does
    xlsx_sheet_rows: int = XLSX_SHEET_ROWS
    encoding: str | None = None  # overrides the CSV encoding of every CSV file

    def validate(self) -> None:
        if not self.min_scale <= self.scale <= MAX_SCALE:
            raise InvalidSynthOption(
                f"--scale 须在 {self.min_scale:,} 到 {MAX_SCALE:,} 之间 "
                f"(scale must be between {self.min_scale:,} and {MAX_SCALE:,}), "
                f"实际为 {self.scale:,}"
            )
        if self.seed < 0:
            raise InvalidSynthOption("--seed 须为非负整数 (seed must be a non-negative integer)")
        if not 0.0 <= self.defect_rate <= 1.0:
            raise InvalidSynthOption(
                f"--defect-rate 须在 0 到 1 之间 (defect rate must be a fraction between 0 and 1), "
                f"实际为 {self.defect_rate}"
            )
        if self.format is not None and self.format not in FORMATS:
            raise InvalidSynthOption(
                f"--format 只能是 {'/'.join(FORMATS)} (format must be one of {', '.join(FORMATS)})"
            )
        if self.encoding is not None and self.encoding not in ENCODINGS:
            raise InvalidSynthOption(
                f"--encoding 只能是 {'/'.join(ENCODINGS)} "
                f"(encoding must be one of {', '.join(ENCODINGS)})"
            )
        if self.chunk_rows < 1 or self.xlsx_sheet_rows < 1:
            raise InvalidSynthOption("分块行数须为正数 (chunk and sheet sizes must be positive)")
        self.selected()

    def selected(self) -> list[DemoResource]:
        """The resources to generate, in catalogue order; unknown names are an error."""
        mounted = mounted_resources()
        if not self.resources:
            return [mounted[m] for m in DEFAULT_MOUNTS]
        if "all" in self.resources:
            return list(mounted.values())
        by_code = {r.code: r for r in mounted.values()}
        chosen: dict[str, DemoResource] = {}
        unknown = []
        for name in self.resources:
            resource = mounted.get(name) or by_code.get(name)
            if resource is None:
                unknown.append(name)
            else:
                chosen[resource.mount or ""] = resource
        if unknown:
            raise InvalidSynthOption(
                f"未知的挂接库表 (unknown mounted table): {', '.join(unknown)}；"
                f"可选 (choose from): {', '.join(mounted)} 或 all",
                details=sorted(mounted),
            )
        return [r for m, r in mounted.items() if m in chosen]


@dataclass
class SynthResult:
    manifest: Manifest
    manifest_path: Path
    seconds: float
    world_seconds: float
    table_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return self.manifest.rows

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def _drift_for(resources: list[DemoResource], enabled: bool) -> tuple[str | None, dict[str, str]]:
    """The one file that drifts: the first whose items include a column departments rename."""
    if not enabled:
        return None, {}
    for resource in resources:
        names = [i.name for i in items_of(resource)]
        for old, new in DRIFT_RENAMES.items():
            if old in names:
                return resource.mount, {old: new}
    return (resources[0].mount, {}) if resources else (None, {})


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


_TRUTH_SCHEMA = pa.schema(
    [
        ("row", pa.int64()),  # 1-based data row (the header is row 0)
        ("kind", pa.string()),
        ("class", pa.string()),  # standardisable | rejectable
        ("item", pa.string()),
        ("source_row", pa.int64()),  # for duplicate_key: the earlier row with the same key
    ]
)
# Planted duplicates listed in the manifest per file; all of them are in the truth file.
MANIFEST_DUPLICATES = 10_000


def _write_table(
    world: World,
    resource: DemoResource,
    options: SynthOptions,
    out: Path,
    *,
    rename: dict[str, str] | None,
    progress: Progress | None,
) -> FileEntry:
    mount = resource.mount or ""
    items = items_of(resource)
    names = [i.name for i in items]
    delivery = DELIVERY.get(mount, GENERIC_DELIVERY).with_format(options.format)
    encoding = (options.encoding or delivery.encoding) if delivery.format == "csv" else None
    stamp = options.batch_date.strftime("%Y%m%d")
    folder = out / mount
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{mount}_{stamp}.{EXTENSIONS[delivery.format]}"
    header = [rename.get(n, n) for n in names] if rename is not None else list(names)
    if rename is not None:
        header.append(DRIFT_EXTRA)
    tmp = path.with_name(path.name + ".part")
    writer = open_writer(
        delivery.format,
        tmp,
        header,
        encoding=encoding,
        title=resource.name,
        types=[i.data_type for i in items] + ([None] if rename is not None else []),
        moment=dt.datetime.combine(options.batch_date, dt.time(8, 0)),
        sheet_rows=options.xlsx_sheet_rows,
    )
    spec = defect_mod.TableDefects.for_items(items)
    plan = plan_for(resource)
    total_units = plan.units(world)
    step = max(1, int(options.chunk_rows / plan.per_unit))
    counts = DefectCounts()
    duplicates: list[dict[str, Any]] = []
    truth_dir = out / "_truth"
    truth_dir.mkdir(exist_ok=True)
    truth_path = truth_dir / f"{mount}.parquet"
    truth = pq.ParquetWriter(truth_dir / f"{mount}.parquet.part", _TRUTH_SCHEMA)
    written = 0
    batch = np.datetime64(options.batch_date, "D")
    try:
        for chunk, lo in enumerate(range(0, total_units, step)):
            units = np.arange(lo, min(lo + step, total_units), dtype=np.int64)
            rows = plan.build(world, units, stream(options.seed, mount, chunk))
            columns = [to_text(item, generate(rows, item), rows.n) for item in items]
            table = pa.Table.from_arrays(columns, names=names)
            result = defect_mod.inject(
                table,
                spec,
                rate=options.defect_rate,
                rng=stream(options.seed, mount, chunk, "defects"),
                batch=batch,
                protected=rows.protected,
            )
            table = result.table
            if rename is not None:
                extra = stream(options.seed, mount, chunk, "drift").random(table.num_rows) < 0.1
                note = pa.array(["补录数据" if e else None for e in extra], pa.string())
                table = pa.Table.from_arrays([*table.columns, note], names=header)
            writer.write(table)
            for _row, kind, _item in result.records:
                counts.add(kind)
            sources = {d["row"]: d["source_row"] + written + 1 for d in result.duplicates}
            truth.write_table(
                pa.table(
                    {
                        "row": [written + r + 1 for r, _k, _i in result.records],
                        "kind": [k for _r, k, _i in result.records],
                        "class": [
                            "standardisable" if k in defect_mod.STANDARDISABLE else "rejectable"
                            for _r, k, _i in result.records
                        ],
                        "item": [i for _r, _k, i in result.records],
                        "source_row": [sources.get(r) for r, _k, _i in result.records],
                    },
                    schema=_TRUTH_SCHEMA,
                )
            )
            for dup in result.duplicates[: max(0, MANIFEST_DUPLICATES - len(duplicates))]:
                duplicates.append(
                    {
                        **dup,
                        "row": dup["row"] + written + 1,
                        "source_row": dup["source_row"] + written + 1,
                    }
                )
            written += table.num_rows
            if progress is not None:
                progress(mount, int(units[-1]) + 1, total_units)
        info = writer.close()
        truth.close()
    except BaseException:
        writer.close()
        truth.close()
        tmp.unlink(missing_ok=True)
        (truth_dir / f"{mount}.parquet.part").unlink(missing_ok=True)
        raise
    os.replace(tmp, path)
    os.replace(truth_dir / f"{mount}.parquet.part", truth_path)
    if progress is not None and total_units == 0:
        progress(mount, 0, 0)
    return FileEntry(
        resource_code=resource.code,
        resource_name=resource.name,
        provider_code=DEPT[resource.dept],
        mount=mount,
        load=resource.load,
        path=path.relative_to(out).as_posix(),
        format=delivery.format,
        encoding=info.get("encoding"),
        newline=info.get("newline"),
        rows=written,
        columns=header,
        items=names,
        key=[i.name for i in items if i.is_key],
        required=[i.name for i in items if i.required],
        defects=counts,
        duplicate_keys=duplicates,
        duplicate_keys_truncated=counts.rejectable["duplicate_key"] > len(duplicates),
        truth=truth_path.relative_to(out).as_posix(),
        sheets=info.get("sheets"),
        drift=({"renamed": rename, "extra": [DRIFT_EXTRA]} if rename is not None else None),
        sha256=_sha256(path),
    )


def _conflicts(world: World, mounts: set[str]) -> list[dict[str, Any]]:
    """The planted disagreements between a field's sources, as the files carry them."""
    resources = mounted_resources()
    out: list[dict[str, Any]] = []

    def item(mount: str, name: str) -> Any:
        return next(i for i in items_of(resources[mount]) if i.name == name)

    def source(mount: str, name: str, value: Any) -> dict[str, Any]:
        spec = item(mount, name)
        text = to_text(spec, value, 1)[0].as_py()
        return {
            "mount": mount,
            "resource_code": resources[mount].code,
            "value": text,
            "authoritative": spec.authoritative,
        }

    if {"scjg_enterprise_registration", "sw_tax_paid"} <= mounts and world.name_conflicts:
        firms = np.array(sorted(world.name_conflicts), dtype=np.int64)
        codes = world.enterprise_codes(firms).to_pylist()
        names = world.enterprise_names(firms).to_pylist()
        for firm, code, name in zip(firms.tolist(), codes, names, strict=True):
            out.append(
                {
                    "theme": "一企一档",
                    "key_item": "统一社会信用代码",
                    "key": code,
                    "field": "企业名称",
                    "sources": [
                        source("scjg_enterprise_registration", "企业名称", pa.array([name])),
                        source("sw_tax_paid", "企业名称", pa.array([world.name_conflicts[firm]])),
                    ],
                }
            )
    if {"ga_deregistration", "wj_death_certificates"} <= mounts:
        d = world.deaths
        planted = np.flatnonzero(d.conflict)
        ids = world.person_ids(d.person[planted]).to_pylist()
        for i, code in zip(planted.tolist(), ids, strict=True):
            out.append(
                {
                    "theme": "一人一档",
                    "key_item": "身份证号",
                    "key": code,
                    "field": "死亡日期",
                    "sources": [
                        source("ga_deregistration", "死亡日期", d.date[i : i + 1]),
                        source("wj_death_certificates", "死亡日期", d.certificate_date[i : i + 1]),
                    ],
                }
            )
    return out


def synthesise(options: SynthOptions, *, progress: Progress | None = None) -> SynthResult:
    """Generate the extracts and manifest.json under ``options.out``; returns the manifest.

    Files are written next to their final name and renamed when complete, so a reader never
    sees half a file; re-running with the same options rewrites identical files.
    """
    options.validate()
    resources = options.selected()
    out = Path(options.out)
    if out.exists() and not out.is_dir():
        raise SynthOutputError(f"输出路径不是目录 (output path is not a folder): {out}")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise SynthOutputError(
            f"无法创建输出目录 (cannot create the output folder): {out} ({error.strerror})"
        ) from None
    started = time.perf_counter()
    world = build_world(
        seed=options.seed, persons=options.scale, batch=np.datetime64(options.batch_date, "D")
    )
    world_seconds = time.perf_counter() - started
    drift_mount, rename = _drift_for(resources, options.drift)
    manifest = Manifest(
        seed=options.seed,
        scale=options.scale,
        persons=world.persons.n,
        enterprises=world.enterprises.n,
        defect_rate=options.defect_rate,
        batch_date=options.batch_date.isoformat(),
        chunk_size=options.chunk_rows,
        format_override=options.format,
        drift=options.drift,
    )
    timings: dict[str, float] = {}
    for resource in resources:
        began = time.perf_counter()
        manifest.files.append(
            _write_table(
                world,
                resource,
                options,
                out,
                rename=rename if resource.mount == drift_mount else None,
                progress=progress,
            )
        )
        timings[resource.mount or ""] = time.perf_counter() - began
    manifest.conflicts = _conflicts(world, {r.mount or "" for r in resources})
    manifest_path = out / "manifest.json"
    manifest.write(manifest_path)
    return SynthResult(
        manifest=manifest,
        manifest_path=manifest_path,
        seconds=time.perf_counter() - started,
        world_seconds=world_seconds,
        table_seconds=timings,
    )
