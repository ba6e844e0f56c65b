"""Catalogue import and export: the steward's spreadsheet template, JSON, and DCAT.

Stewards keep catalogues in Excel; this package reads their workbooks (or CSV files, or our JSON
export), checks every row before writing anything, and writes the catalogue back out in the same
template, as JSON, or as DCAT JSON-LD for open-data portals. The template itself is documented in
``docs/catalog-template.md``.
"""

from __future__ import annotations

from catalog.transfer.dcat import dcat_document, dcat_feed
from catalog.transfer.document import CatalogDocument, catalog_document
from catalog.transfer.errors import ImportRejected, UnreadableSource
from catalog.transfer.exporters import (
    ExportFormat,
    ExportSummary,
    export_catalog,
    write_json,
    write_template,
    write_workbook,
)
from catalog.transfer.importer import ImportReport, import_catalog, validate_source
from catalog.transfer.readers import Source, read_source
from catalog.transfer.template import Issue

__all__ = [
    "CatalogDocument",
    "ExportFormat",
    "ExportSummary",
    "ImportRejected",
    "ImportReport",
    "Issue",
    "Source",
    "UnreadableSource",
    "catalog_document",
    "dcat_document",
    "dcat_feed",
    "export_catalog",
    "import_catalog",
    "read_source",
    "validate_source",
    "write_json",
    "write_template",
    "write_workbook",
]
