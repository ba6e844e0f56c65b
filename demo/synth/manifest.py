"""manifest.json: what was generated, and the ground truth the ingest tests check against.

Per file it says where the file is and how to read it (format, encoding, sheets), its header,
and exactly how many rows carry each defect kind, split into what ingest should standardise and
what it should quarantine; it lists the planted duplicate keys and, for the run, the planted
cross-source conflicts. Nothing time-dependent is written, so the same seed gives the same file.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from demo.synth.defects import KIND_LABELS, REJECTABLE, STANDARDISABLE

SCHEMA_VERSION = 1


@dataclass
class DefectCounts:
    standardisable: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STANDARDISABLE, 0))
    rejectable: dict[str, int] = field(default_factory=lambda: dict.fromkeys(REJECTABLE, 0))

    def add(self, kind: str, count: int = 1) -> None:
        target = self.standardisable if kind in STANDARDISABLE else self.rejectable
        target[kind] += count

    @property
    def total_rejectable(self) -> int:
        return sum(self.rejectable.values())

    @property
    def total_standardisable(self) -> int:
        return sum(self.standardisable.values())


@dataclass
class FileEntry:
    resource_code: str
    resource_name: str
    provider_code: str
    mount: str
    load: str
    path: str  # relative to the output folder, with forward slashes
    format: str
    encoding: str | None
    newline: str | None
    rows: int
    columns: list[str]  # the header as written (differs from the items only under drift)
    items: list[str]  # the catalogue's data item names, in catalogue order
    key: list[str]
    required: list[str]
    defects: DefectCounts
    duplicate_keys: list[dict[str, Any]]  # row, source_row, key, identical, changed_item
    duplicate_keys_truncated: bool  # more than listed: the truth file has them all
    truth: str | None  # per-row ground truth (Parquet): row, kind, class, item, source_row
    sheets: list[dict[str, Any]] | None = None
    drift: dict[str, Any] | None = None
    sha256: str = ""


@dataclass
class Manifest:
    seed: int
    scale: int
    persons: int
    enterprises: int
    defect_rate: float
    batch_date: str
    chunk_size: int
    format_override: str | None
    drift: bool
    files: list[FileEntry] = field(default_factory=list)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    generator: str = "govshare synth"
    schema_version: int = SCHEMA_VERSION
    defect_kinds: dict[str, dict[str, str]] = field(
        default_factory=lambda: {
            "standardisable": {k: KIND_LABELS[k] for k in STANDARDISABLE},
            "rejectable": {k: KIND_LABELS[k] for k in REJECTABLE},
        }
    )

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["totals"] = {
            "files": len(self.files),
            "rows": self.rows,
            "rejectable": sum(f.defects.total_rejectable for f in self.files),
            "standardisable": sum(f.defects.total_standardisable for f in self.files),
            "conflicts": len(self.conflicts),
        }
        return data

    def write(self, path: Path) -> None:
        text = json.dumps(self.to_dict(), ensure_ascii=False, indent=2)
        path.write_text(text + "\n", encoding="utf-8")


def read_manifest(path: Path) -> dict[str, Any]:
    """The manifest as plain data (tests and the ingest read it this way)."""
    return json.loads(path.read_text(encoding="utf-8"))
