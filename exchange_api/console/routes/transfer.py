"""目录导入导出: a steward uploads a catalogue workbook and sees the importer's located error
table (sheet, row, column) before anything is written; exports download as xlsx, json or dcat.

The upload goes to ``catalog.transfer.import_catalog``, the CLI's importer: it judges every
row first and writes all or nothing, in the request's one transaction; "仅校验" is its dry run.
Both directions are stewards' (``auth.import_catalog`` / ``auth.export_catalog``).
"""

from __future__ import annotations

import tempfile
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from catalog import auth
from catalog.domain import ExportFormat
from catalog.transfer import (
    ImportRejected,
    UnreadableSource,
    export_catalog,
    import_catalog,
    read_source,
)
from exchange_api.console.routes.common import console_router, resource_url, unit
from exchange_api.console.web import CheckedForm, ConsoleUser, CurrentUser, render

router = console_router()
MAX_UPLOAD = 20 * 1024 * 1024  # a catalogue workbook of tens of thousands of rows is a few MB
SUFFIXES = {".xlsx", ".csv", ".json"}
MEDIA = {
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ExportFormat.JSON: "application/json",
    ExportFormat.DCAT: "application/ld+json",
}


def _page(
    request: Request,
    user: ConsoleUser,
    *,
    status_code: int = 200,
    problems: list[dict[str, Any]] | None = None,
    message: str | None = None,
    outcome: Any = None,
) -> HTMLResponse:
    return render(
        request,
        "transfer.html",
        status_code=status_code,
        problems=problems or [],
        message=message,
        outcome=outcome,
        formats=list(ExportFormat),
        resource_url=resource_url,
    )


@router.get("/transfer")
def transfer_page(request: Request, user: CurrentUser) -> HTMLResponse:
    auth.import_catalog(user.actor)
    return _page(request, user)


@router.post("/transfer/import")
def upload(request: Request, user: CurrentUser, form: CheckedForm) -> HTMLResponse:
    auth.import_catalog(user.actor)
    upload = form.get("workbook")
    dry_run = form.get("write") != "on"
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _page(request, user, status_code=422, message="请选择要上传的目录文件 (no file)")
    suffix = FilePath(upload.filename).suffix.lower()
    if suffix not in SUFFIXES:
        return _page(
            request, user, status_code=422,
            message="只接受 .xlsx 工作簿、信息资源 .csv 或导出的 .json (unsupported file type)",
        )  # fmt: skip
    data = upload.file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        return _page(request, user, status_code=413, message="文件超过 20 MB (file too large)")
    with tempfile.TemporaryDirectory(prefix="govshare-import-") as folder:
        # The importer reads by path and names sheets, not the file: keep the suffix only.
        path = FilePath(folder) / f"upload{suffix}"
        path.write_bytes(data)
        try:
            source = read_source(path)
            with unit(request) as ctx:
                report = import_catalog(ctx, source, actor=user.actor, dry_run=dry_run)
        except ImportRejected as error:
            return _page(
                request, user, status_code=422, message=error.message, problems=error.details
            )
        except UnreadableSource as error:
            return _page(request, user, status_code=422, message=error.message)
    return _page(request, user, outcome=report)


@router.get("/transfer/export")
def download(
    request: Request, user: CurrentUser, fmt: Annotated[ExportFormat, Query(alias="format")]
) -> Response:
    suffix = (
        "xlsx" if fmt is ExportFormat.XLSX else "json" if fmt is ExportFormat.JSON else "jsonld"
    )
    with tempfile.TemporaryDirectory(prefix="govshare-export-") as folder:
        out = FilePath(folder) / f"catalogue.{suffix}"
        with unit(request) as ctx:
            export_catalog(ctx, fmt=fmt, out=out, actor=user.actor, base_uri=None, full=False)
        body = out.read_bytes()
    name = f"govshare-catalogue.{suffix}"
    return Response(
        body,
        media_type=MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
