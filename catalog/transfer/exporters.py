"""Writing the catalogue out: the steward's workbook, our JSON, and DCAT for open-data portals.

The workbook uses the very template the importer reads (:mod:`catalog.transfer.template`), so an
export imported into an empty catalogue gives back the same departments, duties and resources.
Files are written to a temporary name and renamed, so a failed export never leaves half a file
where the last good one was.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from catalog.context import Actor, CatalogContext
from catalog.domain import ExportFormat
from catalog.transfer.dcat import dcat_feed
from catalog.transfer.document import CatalogDocument, catalog_document
from catalog.transfer.template import (
    CHECKS,
    DEPARTMENTS,
    DUTIES,
    ITEMS,
    RESOURCES,
    SHEETS,
    THEME_DERIVED,
    THEMES,
    SheetSpec,
)


class ExportSummary(BaseModel):
    format: ExportFormat
    path: str
    departments: int
    duties: int
    resources: int
    data_items: int
    datasets: int | None = None  # DCAT only: the published resources listed
    full: bool = False  # DCAT only: every published resource (stewards), not only open ones


def _atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Write beside ``path``, then rename, with the mode a plain ``open()`` would give.

    ``mkstemp`` creates its file 0600 whatever the umask, so exports were unreadable to the
    colleagues they were made for. A catalogue export holds metadata only (departments,
    duties, resources, data item names, never a data row or a personal value), so it follows
    the umask like any file the steward writes: 0644 under the usual 022. Personal data never
    leaves as a file: rows go out through the exchange API, masked and audited.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(handle)
    try:
        write(Path(temporary))
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _umask() -> int:
    current = os.umask(0o022)  # the only portable way to read it is to set it
    os.umask(current)
    return current


# ---- workbook --------------------------------------------------------------------------


def _records(document: CatalogDocument | None) -> dict[str, list[dict[str, Any]]]:
    """Each sheet's rows as field -> value, in the order the sheet lists them."""
    if document is None:
        return {spec.key: [] for spec in SHEETS}
    return {
        DEPARTMENTS.key: [d.model_dump() for d in document.departments],
        DUTIES.key: [d.model_dump() for d in document.duties],
        RESOURCES.key: [r.model_dump(exclude={"items", "mounts"}) for r in document.resources],
        ITEMS.key: [
            {"resource_code": r.code, **item.model_dump()}
            for r in document.resources
            for item in r.items
        ],
        THEMES.key: [t.model_dump(exclude={"derived", "fields", "key"}) for t in document.themes],
        THEME_DERIVED.key: [
            {"theme_code": t.code, **d.model_dump()} for t in document.themes for d in t.derived
        ],
        CHECKS.key: [v.model_dump() for v in document.verifications],
    }


def _note(spec: SheetSpec, index: int) -> str:
    column = spec.columns[index]
    parts = ["必填 (required)" if column.required else "选填 (optional)"]
    if column.standard:
        parts.append("《政务信息资源目录编制指南》标准项")
    if column.note:
        parts.append(column.note)
    if column.choices:
        parts.append("可选：" + "、".join(column.choices))
    return "\n".join(parts)


def _write_sheet(workbook: Any, spec: SheetSpec, records: Iterable[dict[str, Any]]) -> None:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # type: ignore[import-untyped]
    from openpyxl.comments import Comment  # type: ignore[import-untyped]
    from openpyxl.styles import Alignment, Font, PatternFill  # type: ignore[import-untyped]
    from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]
    from openpyxl.worksheet.datavalidation import DataValidation  # type: ignore[import-untyped]

    sheet = workbook.create_sheet(spec.name)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for index, column in enumerate(spec.columns):
        cell = sheet.cell(row=1, column=index + 1, value=column.header)
        cell.font = bold
        cell.fill = fill
        cell.alignment = Alignment(vertical="center")
        comment = Comment(_note(spec, index), "govshare")
        comment.width, comment.height = 260, 120
        cell.comment = comment
        letter = get_column_letter(index + 1)
        sheet.column_dimensions[letter].width = column.width
        if column.choices:
            choices = DataValidation(
                type="list", formula1='"' + ",".join(column.choices) + '"', allow_blank=True
            )
            choices.add(f"{letter}2:{letter}1048576")
            sheet.add_data_validation(choices)
    for row_number, record in enumerate(records, start=2):
        for index, column in enumerate(spec.columns):
            value = column.render(record.get(column.field))
            if isinstance(value, str):
                value = ILLEGAL_CHARACTERS_RE.sub("", value)
            cell = sheet.cell(row=row_number, column=index + 1, value=value)
            if isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"  # text, not a formula: a summary may start with "="
            if column.text_format:
                cell.number_format = "@"
            elif isinstance(value, date):
                cell.number_format = "yyyy-mm-dd"
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions


def write_workbook(document: CatalogDocument | None, path: Path) -> None:
    """The four template sheets; with no document, the empty template stewards fill in."""
    from openpyxl import Workbook  # type: ignore[import-untyped]

    records = _records(document)
    workbook = Workbook()
    workbook.remove(workbook.active)
    for spec in SHEETS:
        _write_sheet(workbook, spec, records[spec.key])
    _atomic_write(path, lambda target: workbook.save(target))


# ---- JSON and DCAT ---------------------------------------------------------------------


def _write_text(path: Path, data: Any) -> None:
    text = json.dumps(data, ensure_ascii=False, indent=2)
    _atomic_write(path, lambda target: target.write_text(text + "\n", encoding="utf-8"))


def write_json(document: CatalogDocument, path: Path) -> None:
    _write_text(path, document.model_dump(mode="json"))


def export_catalog(
    ctx: CatalogContext,
    *,
    fmt: ExportFormat,
    out: Path,
    actor: Actor,
    base_uri: str | None = None,
    full: bool = False,
) -> ExportSummary:
    """Write the catalogue to ``out`` in one of the three formats and say what was written.

    DCAT is the public open-data feed unless ``full`` asks for every published resource.
    """
    document = catalog_document(ctx, actor=actor)
    datasets: int | None = None
    if fmt is ExportFormat.XLSX:
        write_workbook(document, out)
    elif fmt is ExportFormat.JSON:
        write_json(document, out)
    else:
        graph = dcat_feed(ctx, full=full, actor=actor, base_uri=base_uri)
        datasets = len(graph["dcat:dataset"])
        _write_text(out, graph)
    return ExportSummary(
        format=fmt,
        path=str(out),
        departments=len(document.departments),
        duties=len(document.duties),
        resources=len(document.resources),
        data_items=sum(len(r.items) for r in document.resources),
        datasets=datasets,
        full=full and fmt is ExportFormat.DCAT,
    )


def write_template(path: Path) -> None:
    """An empty workbook with the template's headers, notes and drop-downs."""
    write_workbook(None, path)
