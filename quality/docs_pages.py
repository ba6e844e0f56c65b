"""Reading Data Docs pages through an authorised door instead of the filesystem.

GE writes the pages under ``GOVSHARE_HOME/quality/gx/data_docs`` (``docs_assets.docs_root``):
``index.html`` and ``<suite>/<batch>.html``, whose links are relative to the folder. A web
page names a page by that relative path; here it becomes a file only if it stays inside the
folder, is a page the catalogue recorded for a batch (``QualityResult.docs_path``) or the
index, and the actor may read it. The vendored assets those pages load are public library
files and are served from the package (``docs_assets.VENDORED``), not from the folder.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from catalog.context import Actor, CatalogContext
from infra.settings import Settings
from quality import auth
from quality import repository as repo
from quality.docs_assets import docs_root
from quality.errors import NotFound

INDEX = "index.html"
# <suite>/<batch>.html: GE's suite names and our batch ids are plain words.
_PAGE = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+\.html")


def page_link(settings: Settings, docs_path: str | None) -> str | None:
    """A recorded page as its path relative to the Data Docs folder; None if it has none."""
    if not docs_path:
        return None
    page = Path(docs_path).resolve()
    root = docs_root(settings)
    if not page.is_relative_to(root):
        return None
    return page.relative_to(root).as_posix()


def has_index(settings: Settings) -> bool:
    return (docs_root(settings) / INDEX).is_file()


def view_page(ctx: CatalogContext, *, path: str, actor: Actor) -> Path:
    """The file of a Data Docs page the actor may read: the index (stewards), or a batch's
    page (its provider and stewards). Anything else is 404, whatever exists on disk."""
    missing = NotFound("没有该质检页面 (no such Data Docs page)")
    root = docs_root(ctx.settings)
    if path == INDEX:
        auth.view_data_docs_index(actor)
        index = root / INDEX
        if not index.is_file():
            raise missing
        return index
    if not _PAGE.fullmatch(path) or ".." in PurePosixPath(path).parts:
        raise missing
    page = (root / path).resolve()
    result = repo.result_or_none(ctx.session, PurePosixPath(path).stem)
    if result is None or not result.docs_path or Path(result.docs_path).resolve() != page:
        raise missing
    auth.view_data_docs(actor, result.resource)
    if not page.is_relative_to(root) or not page.is_file():
        raise missing
    return page
