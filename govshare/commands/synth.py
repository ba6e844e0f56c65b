"""``govshare synth``: realistic departmental extracts for the demo catalogue, with defects.

The files land where the ingest job looks for them (``<out>/<mount table>/<file>``) together
with manifest.json, the ground truth of what was planted: defect counts per file, duplicate
keys and the cross-source conflicts the themes should report.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from govshare.runtime import (
    console,
    err_console,
    handle_errors,
    json_option,
    print_json,
    settings,
)

if TYPE_CHECKING:
    from demo.synth import SynthResult

# Literal here so that building the CLI does not import numpy, pyarrow and Faker; the
# generator checks the value again.
FORMATS = ("csv", "xlsx", "jsonl", "parquet")

JsonFlag = Annotated[bool, json_option("打印 manifest.json (print the manifest)")]


def _batch_date(text: str | None) -> dt.date:
    from demo.synth import DEFAULT_BATCH_DATE, InvalidSynthOption

    if text is None:
        return DEFAULT_BATCH_DATE
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidSynthOption(
            "--batch-date 须为 YYYY-MM-DD 格式的日期 (batch date must be a YYYY-MM-DD date)"
        ) from None


def _resources(text: str | None) -> tuple[str, ...] | None:
    if not text:
        return None
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _summary(result: SynthResult) -> None:
    manifest = result.manifest
    table = Table(
        title=(
            f"合成数据 (synthetic extracts)：{manifest.persons:,} 人，"
            f"{manifest.enterprises:,} 家企业"
        )
    )
    for col in ("文件 (file)", "格式", "编码", "行数", "应拒收", "可标准化", "重复主键"):
        table.add_column(
            col, justify="right" if col in ("行数", "应拒收", "可标准化", "重复主键") else "left"
        )
    for f in manifest.files:
        name = f.path + (" [yellow](结构漂移)[/]" if f.drift else "")
        table.add_row(
            name,
            f.format,
            f.encoding or "",
            f"{f.rows:,}",
            f"{f.defects.total_rejectable:,}",
            f"{f.defects.total_standardisable:,}",
            f"{f.defects.rejectable['duplicate_key']:,}",
        )
    console.print(table)
    console.print(
        f"共 {manifest.rows:,} 行，耗时 {result.seconds:.1f} 秒，"
        f"{result.rows_per_second:,.0f} 行/秒 "
        f"(rows, seconds, rows/s)；植入冲突 {len(manifest.conflicts)} 处 (planted conflicts)"
    )
    console.print(f"清单 (manifest)：{result.manifest_path}")


@handle_errors
def synth(
    scale: Annotated[
        int,
        typer.Option(
            help="人口规模：人数 1,000–10,000,000，企业约为十分之一 (persons; enterprises ≈ N/10)"
        ),
    ] = 10_000,
    seed: Annotated[
        int, typer.Option(help="随机种子：相同种子生成相同文件 (same seed, same files)")
    ] = 42,
    defect_rate: Annotated[
        float,
        typer.Option("--defect-rate", help="缺陷行比例 0–1，默认 0.02 (share of defective rows)"),
    ] = 0.02,
    out: Annotated[
        Path | None,
        typer.Option(
            help="输出目录，默认为配置的 landing_dir (output folder; default: landing_dir)"
        ),
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format", help=f"统一改用一种格式：{'|'.join(FORMATS)} (one format for all files)"
        ),
    ] = None,
    resources: Annotated[
        str | None,
        typer.Option(
            help="逗号分隔的挂接库表名或资源代码，all 为全部挂接资源 (mount tables or codes)"
        ),
    ] = None,
    drift: Annotated[
        bool,
        typer.Option("--drift", help="让一个文件出现列改名和多余列 (one file gets schema drift)"),
    ] = False,
    batch_date: Annotated[
        str | None, typer.Option("--batch-date", help="批次日期 YYYY-MM-DD，默认 2026-03-01")
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """生成演示目录各挂接资源的仿真部门数据及 manifest.json (synthetic extracts)."""
    from demo.synth import SynthOptions, synthesise

    options = SynthOptions(
        out=out if out is not None else settings().landing_dir,
        scale=scale,
        seed=seed,
        defect_rate=defect_rate,
        format=fmt,
        resources=_resources(resources),
        drift=drift,
        batch_date=_batch_date(batch_date),
    )
    options.validate()  # before the progress bar, so a typo fails at once
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as progress:
        tasks: dict[str, TaskID] = {}

        def report(mount: str, done: int, total: int) -> None:
            if mount not in tasks:
                tasks[mount] = progress.add_task(mount, total=total or 1)
            progress.update(tasks[mount], completed=done if total else 1)

        result = synthesise(options, progress=report)
    if json_output:
        print_json(result.manifest.to_dict())
        return
    _summary(result)


def register(app: typer.Typer) -> None:
    """Add ``synth`` as a top-level command of ``app``."""
    app.command("synth")(synth)
