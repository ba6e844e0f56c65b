"""Masked copies of lake table versions: the only files Delta Sharing hands out.

One folder per (grant, table version, recipe) under ``GOVSHARE_HOME/sharing``:
``g<grant>/v<version>-<fingerprint>/part-NNNNN.parquet`` with a ``manifest.json`` holding the
Delta schema, each file's statistics (on the masked values) and the :class:`Recipe` that made
them. The recipe (source table, columns, per-field plans, disclosure rules, and the day when an
age band moves with it) is everything the bytes depend on besides the data, and its
fingerprint names the folder: the API finds a version by computing the fingerprint, and a job
replays a recipe on a new table version to write the folder before anyone asks
(``jobs.sharing``). Writes go to a staging folder renamed into place, so a reader sees a whole
version or none. The grant, catalogue and audit side lives in ``exchange_api.sharing``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from deltalake import Schema as DeltaSchema

from privacy.columnar import served_batch, served_schema
from privacy.disclosure import BirthDateShown, DisclosureRules, FieldPlan, Treatment
from privacy.masking import MaskKind, NameMask

SHARING_DIR = "sharing"
MANIFEST = "manifest.json"
ROWS_PER_FILE = 1_000_000
"""Rows per masked file: the Python connector makes about eleven requests per file (probes,
``HEAD``, footer, data), each audited, so files are large and their row groups small."""
ROW_GROUP_ROWS = 131_072
_FOLDER = re.compile(r"^v(\d+)-([0-9a-f]{16})$")
_GRANT = re.compile(r"^g(\d+)$")


@dataclass(frozen=True)
class MaskedFile:
    path: str  # relative to the sharing root: g<grant>/<version dir>/<file>
    size: int
    rows: int
    stats: dict[str, Any]


@dataclass(frozen=True)
class MaskedVersion:
    """The masked files of one grant at one table version."""

    version: int
    schema_string: str
    columns: list[str]
    files: list[MaskedFile]
    recipe: Recipe | None = None


@dataclass(frozen=True)
class Recipe:
    """What a grant's masked files are made of, besides the rows of the table version."""

    table_uri: str
    columns: tuple[str, ...]
    plans: tuple[FieldPlan, ...]
    rules: DisclosureRules = field(default_factory=DisclosureRules)
    today: date | None = None  # set only when the bytes depend on the day (age bands)
    file_rows: int = ROWS_PER_FILE

    @classmethod
    def of(
        cls, *, table_uri: str, columns: list[str], plans: Mapping[str, FieldPlan],
        rules: DisclosureRules, today: date, file_rows: int = ROWS_PER_FILE,
    ) -> Recipe:  # fmt: skip
        ordered = tuple(plans[n] for n in sorted(plans))
        recipe = cls(table_uri, tuple(columns), ordered, rules, file_rows=file_rows)
        return recipe.on(today)

    def on(self, today: date) -> Recipe:
        """The recipe as a run on ``today`` applies it (an age band moves with the day)."""
        moves = self.rules.birth_date is BirthDateShown.AGE_BAND and any(
            p.treatment is Treatment.GENERALISE for p in self.plans
        )
        return replace(self, today=today if moves else None)

    @property
    def plan_map(self) -> dict[str, FieldPlan]:
        return {p.name: p for p in self.plans}

    def document(self) -> dict[str, Any]:
        return {
            "table": self.table_uri,
            "columns": list(self.columns),
            "plans": [[p.name, str(p.treatment), p.mask_kind and str(p.mask_kind)]
                      for p in self.plans],
            "rules": {k: str(v) if v is not None else None for k, v in asdict(self.rules).items()},
            "today": self.today.isoformat() if self.today else None,
            "file_rows": self.file_rows,
        }  # fmt: skip

    @classmethod
    def from_document(cls, saved: Mapping[str, Any]) -> Recipe:
        rules = saved["rules"]
        cap = rules.get("age_band_cap")
        return cls(
            table_uri=saved["table"],
            columns=tuple(saved["columns"]),
            plans=tuple(
                FieldPlan(name, Treatment(how), MaskKind(kind) if kind else None)
                for name, how, kind in saved["plans"]
            ),
            rules=DisclosureRules(
                name_mask=NameMask(rules["name_mask"]),
                birth_date=BirthDateShown(rules["birth_date"]),
                age_band_width=int(rules["age_band_width"]),
                age_band_cap=int(cap) if cap is not None else None,
            ),
            today=date.fromisoformat(saved["today"]) if saved.get("today") else None,
            file_rows=int(saved.get("file_rows", ROWS_PER_FILE)),
        )

    def fingerprint(self) -> str:
        described = json.dumps(self.document(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(described.encode()).hexdigest()[:16]


def sharing_root(home: Path | str) -> Path:
    return Path(home, SHARING_DIR).resolve()


def _stats_value(value: Any) -> Any:
    if value is None:
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, int | float | str | bool):
        return value
    return str(value)


def file_stats(data: pa.Table) -> dict[str, Any]:
    """Delta statistics of one file: row count and per-column min, max and null count."""
    minimum: dict[str, Any] = {}
    maximum: dict[str, Any] = {}
    nulls: dict[str, int] = {}
    for name in data.column_names:
        column = data.column(name)
        nulls[name] = column.null_count
        kind = column.type
        if pa.types.is_nested(kind) or pa.types.is_binary(kind) or pa.types.is_boolean(kind):
            continue
        if column.null_count == len(column):
            continue
        bounds = pc.min_max(column).as_py()
        minimum[name] = _stats_value(bounds["min"])
        maximum[name] = _stats_value(bounds["max"])
    return {
        "numRecords": data.num_rows,
        "minValues": minimum,
        "maxValues": maximum,
        "nullCount": nulls,
    }


def masked_version(
    root: Path, *, grant_id: int, version: int, source: ds.Dataset, recipe: Recipe,
    batch_rows: int = 65_536,
) -> MaskedVersion:  # fmt: skip
    """The masked files of ``source`` (the table at ``version``) under ``recipe``, written on
    first call and read afterwards. Idempotent and atomic; two writers race harmlessly."""
    relative = f"g{grant_id}/v{version}-{recipe.fingerprint()}"
    folder = root / relative
    manifest = folder / MANIFEST
    if not manifest.exists():
        _write_version(source, recipe, folder, relative, batch_rows)
    return read_manifest(manifest, version=version)


def read_manifest(manifest: Path, *, version: int) -> MaskedVersion:
    saved = json.loads(manifest.read_text(encoding="utf-8"))
    recipe = saved.get("recipe")
    return MaskedVersion(
        version=version,
        schema_string=saved["schemaString"],
        columns=saved["columns"],
        files=[MaskedFile(**f) for f in saved["files"]],
        recipe=Recipe.from_document(recipe) if recipe else None,
    )


def _rebatched(batches: Iterator[pa.RecordBatch], rows: int) -> Iterator[pa.RecordBatch]:
    """Batches of about ``rows`` rows: lake files written in small row groups would otherwise
    pay the masking kernels' per-call cost once per thousand rows."""
    pending: list[pa.RecordBatch] = []
    count = 0
    for batch in batches:
        if batch.num_rows == 0:
            continue
        pending.append(batch)
        count += batch.num_rows
        if count >= rows:
            yield pa.concat_batches(pending)
            pending, count = [], 0
    if pending:
        yield pa.concat_batches(pending)


def _write_version(
    source: ds.Dataset, recipe: Recipe, folder: Path, relative: str, batch_rows: int
) -> None:
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = folder.parent / f".{folder.name}.{uuid.uuid4().hex}"
    staging.mkdir()
    columns = list(recipe.columns)
    plans = recipe.plan_map
    today = recipe.today or date.min  # unused unless an age band is shown, then it is set
    try:
        schema = served_schema(source.schema.empty_table().select(columns).schema, plans)
        files: list[MaskedFile] = []
        pending: list[pa.RecordBatch] = []
        pending_rows = 0

        def flush() -> None:
            nonlocal pending, pending_rows
            data = pa.Table.from_batches(pending, schema=schema)
            name = f"part-{len(files):05d}.parquet"
            pq.write_table(data, staging / name, row_group_size=ROW_GROUP_ROWS)
            files.append(
                MaskedFile(
                    path=f"{relative}/{name}",
                    size=(staging / name).stat().st_size,
                    rows=data.num_rows,
                    stats=file_stats(data),
                )
            )
            pending, pending_rows = [], 0

        scanner = source.scanner(columns=columns, batch_size=batch_rows)
        for batch in _rebatched(scanner.to_batches(), batch_rows):
            shown = served_batch(batch, plans, recipe.rules, today).cast(schema)
            while shown.num_rows:  # cut at the file size exactly, so files hold file_rows
                room = recipe.file_rows - pending_rows
                pending.append(shown.slice(0, room))
                pending_rows += min(room, shown.num_rows)
                shown = shown.slice(room)
                if pending_rows >= recipe.file_rows:
                    flush()
        if pending or not files:
            flush()
        saved = {
            "schemaString": DeltaSchema.from_arrow(schema).to_json(),  # type: ignore[arg-type]
            "columns": columns,
            "files": [f.__dict__ for f in files],
            "recipe": recipe.document(),
        }
        (staging / MANIFEST).write_text(json.dumps(saved, ensure_ascii=False), "utf-8")
        try:
            os.rename(staging, folder)
        except OSError:
            if not (folder / MANIFEST).exists():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@dataclass(frozen=True)
class MaskedFolder:
    """One written version folder of one grant."""

    grant_id: int
    version: int
    path: Path

    def manifest(self) -> MaskedVersion:
        return read_manifest(self.path / MANIFEST, version=self.version)


def masked_folders(root: Path) -> list[MaskedFolder]:
    """Every complete version folder under ``root`` (staging folders are not listed)."""
    found: list[MaskedFolder] = []
    if not root.is_dir():
        return found
    for grant_dir in sorted(root.iterdir()):
        grant = _GRANT.match(grant_dir.name)
        if grant is None or not grant_dir.is_dir():
            continue
        for child in sorted(grant_dir.iterdir()):
            match = _FOLDER.match(child.name)
            if match is not None and (child / MANIFEST).is_file():
                found.append(MaskedFolder(int(grant[1]), int(match[1]), child))
    return found


def prune(
    root: Path, *, keep: Callable[[MaskedFolder], bool], now: datetime,
    staging_age_seconds: float = 86_400,
) -> list[str]:  # fmt: skip
    """Remove the version folders ``keep`` refuses, staging folders older than
    ``staging_age_seconds`` (a writer that died) and grant folders left empty; returns the
    removed paths relative to ``root``."""
    removed = []
    for folder in masked_folders(root):
        if not keep(folder):
            shutil.rmtree(folder.path, ignore_errors=True)
            removed.append(str(folder.path.relative_to(root)))
    if not root.is_dir():
        return removed
    for grant_dir in root.iterdir():
        if _GRANT.match(grant_dir.name) is None or not grant_dir.is_dir():
            continue
        for child in grant_dir.iterdir():
            stale = now.timestamp() - child.stat().st_mtime > staging_age_seconds
            if child.name.startswith(".") and child.is_dir() and stale:
                shutil.rmtree(child, ignore_errors=True)
                removed.append(str(child.relative_to(root)))
        if not any(grant_dir.iterdir()):
            grant_dir.rmdir()
    return removed


def latest_recipes(root: Path, *, table_uri: str) -> dict[int, tuple[MaskedFolder, Recipe]]:
    """Per grant, the newest recipe written for the table at ``table_uri`` (the version last
    served, or last replayed): what a new version of the table should be masked by."""
    newest: dict[int, tuple[MaskedFolder, Recipe]] = {}
    for folder in masked_folders(root):
        recipe = folder.manifest().recipe
        if recipe is None or recipe.table_uri != table_uri:
            continue
        held = newest.get(folder.grant_id)
        if held is None or (folder.version, folder.path.stat().st_mtime) > (
            held[0].version, held[0].path.stat().st_mtime
        ):  # fmt: skip
            newest[folder.grant_id] = (folder, recipe)
    return newest


def replay(
    root: Path, *, table_uri: str, version: int, source: ds.Dataset, today: date,
    live: Callable[[int], bool], batch_rows: int = 65_536,
) -> dict[int, MaskedVersion]:  # fmt: skip
    """Write ``version`` of the table for every live grant already shared from it, by that
    grant's newest recipe (on ``today``). A grant whose columns the version no longer has is
    left to its next query, which plans it afresh."""
    written = {}
    for grant_id, (_folder, recipe) in sorted(latest_recipes(root, table_uri=table_uri).items()):
        if not live(grant_id) or not set(recipe.columns) <= set(source.schema.names):
            continue
        written[grant_id] = masked_version(
            root, grant_id=grant_id, version=version, source=source,
            recipe=recipe.on(today), batch_rows=batch_rows,
        )  # fmt: skip
    return written


# ---- change data feed ---------------------------------------------------------------------

CHANGE_TYPE = "_change_type"


def _placeholder(kind: pa.DataType) -> pa.Scalar:
    """Any valid value of ``kind``: nulls are grouped through a separate flag column."""
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return pa.scalar("", kind)
    if pa.types.is_date(kind) or pa.types.is_time(kind):
        return pa.array([0], pa.int32()).cast(kind)[0]
    if pa.types.is_nested(kind):
        raise ValueError(f"a {kind} column cannot be compared row by row")
    return pa.array([0], pa.int8()).cast(kind)[0]


def _row_counts(data: pa.Table) -> pa.Table:
    """How many times each distinct row occurs (nulls equal to nulls, as rows compare)."""
    columns: dict[str, pa.ChunkedArray] = {}
    for i, name in enumerate(data.column_names):
        column = data.column(name)
        columns[f"v{i}"] = pc.fill_null(column, _placeholder(column.type))
        columns[f"n{i}"] = pc.is_null(column)
    return pa.table(columns).group_by(list(columns)).aggregate([([], "count_all")])


def _read(root: Path, version: MaskedVersion) -> pa.Table:
    return pq.read_table([str(root / f.path) for f in version.files])


def changes_file(
    root: Path, *, previous: MaskedVersion, current: MaskedVersion
) -> MaskedFile | None:
    """The rows ``current`` adds to and removes from ``previous``, as a Parquet file with a
    ``_change_type`` column (``insert`` / ``delete``) beside the masked columns, written once
    into ``current``'s folder; None when nothing changed.

    Derived by comparing the two masked versions as multisets of rows: what a recipient
    could see change. Rows carry no identity here (the key may be masked), so an update is a
    delete of the old row and an insert of the new one. ValueError when the two versions do
    not have the same columns.
    """
    folder = current.files[0].path.rsplit("/", 1)[0]
    name = f"changes-from-v{previous.version}.parquet"
    target = root / folder / name
    marker = root / folder / f"{name}.empty"
    if marker.exists():
        return None
    if not target.exists():
        before, after = _read(root, previous), _read(root, current)
        if before.schema != after.schema:
            raise ValueError("the versions' columns differ")
        changed = _changed_rows(before, after)
        if changed.num_rows == 0:
            marker.touch()
            return None
        staging = target.with_name(f".{name}.{uuid.uuid4().hex}")
        pq.write_table(changed, staging, row_group_size=ROW_GROUP_ROWS)
        os.replace(staging, target)
    data = pq.read_metadata(target)
    return MaskedFile(
        path=f"{folder}/{name}", size=target.stat().st_size, rows=data.num_rows, stats={}
    )


def _changed_rows(before: pa.Table, after: pa.Table) -> pa.Table:
    keys = [f"{kind}{i}" for i in range(after.num_columns) for kind in ("v", "n")]
    joined = _row_counts(before).join(
        _row_counts(after), keys=keys, join_type="full outer",
        left_suffix="_before", right_suffix="_after",
    )  # fmt: skip
    delta = pc.subtract(
        pc.fill_null(joined.column("count_all_after"), 0),
        pc.fill_null(joined.column("count_all_before"), 0),
    ).to_numpy()
    parts = []
    for change, times in (("delete", -delta), ("insert", delta)):
        chosen = times > 0
        # A row added twice is two inserts: repeat each distinct row as often as it changed.
        rows = joined.filter(pa.array(chosen)).take(
            pa.array(np.repeat(np.arange(int(chosen.sum())), times[chosen]))
        )
        columns = {}
        for i, column in enumerate(after.schema):
            value, null = rows.column(f"v{i}"), rows.column(f"n{i}")
            columns[column.name] = pc.if_else(null, pa.scalar(None, column.type), value)
        columns[CHANGE_TYPE] = pa.array([change] * rows.num_rows, pa.string())
        parts.append(
            pa.table(columns, schema=after.schema.append(pa.field(CHANGE_TYPE, pa.string())))
        )
    return pa.concat_tables(parts)
