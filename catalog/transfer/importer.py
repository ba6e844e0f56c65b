"""Importing a catalogue: judge every row first, write only when nothing is wrong.

Stewards fix a spreadsheet in one sitting when they see all its problems at once, so the
validator never stops at the first error: it collects every one with its sheet, row and column.
Writing happens only after a clean check, through the same services a person would use, inside
the caller's single transaction: a catalogue is imported whole or not at all.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict
from pydantic import ValidationError as PydanticError

from catalog import auth, repository, services, themes
from catalog.context import Actor, CatalogContext
from catalog.domain import DataType, ResourceState, ShareType
from catalog.errors import Conflict, NotFound, ValidationError
from catalog.identifiers import region_problem, uscc_problem
from catalog.models import Resource
from catalog.schemas import (
    DataItemIn,
    DepartmentIn,
    DerivedFieldIn,
    DutyIn,
    ResourceIn,
    ThemeIn,
    VerificationIn,
)
from catalog.transfer.aliases import CLASSIFICATION_SEPARATORS
from catalog.transfer.errors import ImportRejected
from catalog.transfer.readers import Row, Source, Table
from catalog.transfer.template import (
    CHECKS,
    DEPARTMENTS,
    DUTIES,
    ITEMS,
    RESOURCES,
    THEME_DERIVED,
    THEMES,
    CellError,
    Issue,
    cell_text,
    compact,
    is_blank,
    normalise_header,
)
from catalog.views import department_out, duty_out
from catalog.workflow import ResourceAction

M = TypeVar("M", bound=BaseModel)


class Interpretation(BaseModel):
    """One way the importer read the file other than literally (an alias, a split, a default
    it applied, a department it will create), with every row it applies to: nothing is
    guessed silently, so a steward can check each reading in the dry run."""

    model_config = ConfigDict(frozen=True)

    sheet: str
    column: str
    message: str
    rows: list[int]


class ResourceOutcome(BaseModel):
    """What an update import does (or would do) with one resource of the file."""

    code: str
    name: str
    outcome: str  # created | changed | unchanged
    label: str  # 新增 | 变更 | 未变
    state: str  # the resource's state now (a new one: the state it is created in)
    # changed: 修改 (a draft or returned resource edited in place) or 申请变更 (published: the
    # next version goes to a steward's review, the current one stays in force until then)
    action: str = ""
    changes: list[dict[str, Any]] = []  # {field, before, after}


OUTCOME_LABELS = {"created": "新增", "changed": "变更", "unchanged": "未变"}


class ImportReport(BaseModel):
    """What an import wrote (or, on a dry run, would write), and what it chose to ignore."""

    source: str
    dry_run: bool
    departments: int
    duties: int
    resources: int
    data_items: int
    skipped_departments: int = 0
    skipped_duties: int = 0
    themes: int = 0
    verifications: int = 0
    warnings: list[Issue]
    interpretations: list[Interpretation] = []
    # What is (or would be) created: departments {code, name, region_code, from_providers},
    # resources {code, name, provider_code, items, state}.
    created_departments: list[dict[str, Any]] = []
    created_resources: list[dict[str, Any]] = []
    # --update: resources already catalogued are compared with the file, not refused.
    update: bool = False
    updated_resources: int = 0
    unchanged_resources: int = 0
    outcomes: list[ResourceOutcome] = []  # every resource of the file, in its order


@dataclass
class Plan:
    """The validated content of a file, in the order it must be written."""

    departments: list[DepartmentIn] = field(default_factory=list)
    duties: list[DutyIn] = field(default_factory=list)
    resources: list[tuple[ResourceIn, ResourceState]] = field(default_factory=list)
    # Themes and 核验事项 with where they were written (sheet, row): checked against the
    # catalogue when written, after the resources they read exist.
    themes: list[tuple[ThemeIn, str, int]] = field(default_factory=list)
    verifications: list[tuple[VerificationIn, str, int]] = field(default_factory=list)
    # --update: catalogued resources the file changes, and every resource's outcome.
    updates: list[ResourceIn] = field(default_factory=list)
    outcomes: list[ResourceOutcome] = field(default_factory=list)
    skipped_departments: int = 0
    skipped_duties: int = 0
    providers: set[str] = field(default_factory=set)  # departments created from provider cells


def _pydantic_message(error: Any) -> str:
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind in ("missing", "string_too_short", "too_short"):
        return "必填项为空 (required value missing)"
    if kind == "string_too_long":
        return f"过长，最多 {ctx.get('max_length')} 个字符 (too long)"
    if kind == "value_error":
        return str(ctx.get("error") or error.get("msg", "")).removeprefix("Value error, ")
    return f"取值无效 (invalid value: {error.get('msg', '')})"


def _new_department_note(name: str, code: str) -> str:
    return (
        f"新建部门「{name}」（{code}），行政区划 {code[2:8]} 取自统一社会信用代码第 3–8 位 "
        "(new department from the provider cells; region from the code)"
    )


class _Checker:
    """Collects every problem of one import; ``error`` never raises."""

    def __init__(
        self,
        ctx: CatalogContext,
        source: Source,
        *,
        create_departments: bool = False,
        update: bool = False,
    ) -> None:
        self.ctx = ctx
        self.source = source
        self.create_departments = create_departments
        self.update = update
        self.notes: dict[tuple[str, str, str], list[int]] = {}
        # Providers named only in the resources sheet: code -> (name, first row)
        self.new_providers: dict[str, tuple[str, int]] = {}
        self.errors: list[Issue] = list(source.errors)
        self.warnings: list[Issue] = list(source.warnings)
        self.plan = Plan()
        self.row_errors: Counter[tuple[str, int | None]] = Counter()
        self.file_departments: dict[str, Row] = {}
        self.file_duties: dict[str, Row] = {}
        self.file_resources: dict[str, Row] = {}
        self.names: dict[str, set[str]] = {}

    def error(self, sheet: str, row: int | None, column: str, message: str) -> None:
        self.errors.append(Issue(sheet=sheet, row=row, column=column, message=message))
        self.row_errors[sheet, row] += 1

    def repeated(
        self, seen: dict[str, int], code: str, table: Table, row: Row, what: tuple[str, str]
    ) -> bool:
        """Whether ``code`` already appeared on an earlier row (reported here); else remember it."""
        if code in seen:
            self.error(
                row.sheet,
                row.number,
                table.label("code"),
                f"{what[0]}重复，与第 {seen[code]} 行相同 (duplicate {what[1]})",
            )
            return True
        seen[code] = row.number
        return False

    def warn(self, sheet: str, row: int | None, column: str, message: str) -> None:
        self.warnings.append(Issue(sheet=sheet, row=row, column=column, message=message))

    def note(self, sheet: str, row: int | None, column: str, message: str) -> None:
        """Record an interpretation; the same reading on many rows is listed once."""
        rows = self.notes.setdefault((sheet, column, message), [])
        if row is not None and row not in rows:
            rows.append(row)

    def interpretations(self) -> list[Interpretation]:
        return [
            Interpretation(sheet=sheet, column=column, message=message, rows=rows)
            for (sheet, column, message), rows in self.notes.items()
        ]

    def headers(self) -> None:
        """Headers read through the alias table, once per sheet."""
        for table in self.source.tables.values():
            if table.header_row is None:
                continue  # JSON: fields are named exactly
            for name, written in table.labels.items():
                column = table.spec.by_field[name]
                if normalise_header(written) != normalise_header(column.header):
                    self.note(
                        table.name,
                        table.header_row,
                        written,
                        f"列「{written}」读作「{column.header}」(header alias)",
                    )

    def table(self, key: str) -> Table | None:
        return self.source.tables.get(key)

    # ---- cells and schemas -------------------------------------------------------------

    def cells(self, table: Table, row: Row) -> tuple[dict[str, Any], set[str]]:
        """Parsed values of a row and the fields whose cells could not be read."""
        values: dict[str, Any] = {}
        bad: set[str] = set()
        for name, raw in row.values.items():
            if is_blank(raw):
                continue
            try:
                values[name] = table.spec.by_field[name].parse(raw)
            except ValueError as error:  # CellError, or a converter's own complaint
                self.error(row.sheet, row.number, table.label(name), str(error))
                bad.add(name)
                continue
            value = values[name]
            written = cell_text(raw)
            if (
                isinstance(value, StrEnum)
                and not isinstance(value, DataType)  # code and name are both the guideline's
                and compact(written).upper() != compact(value.value).upper()
            ):
                self.note(
                    row.sheet,
                    row.number,
                    table.label(name),
                    f"「{written}」读作「{value.value}」(value alias)",
                )
        for column in table.spec.columns:
            present = column.field in table.labels  # a missing column is reported once
            given = column.field in values or column.field in bad
            if column.required and present and not given:
                self.error(
                    row.sheet, row.number, table.label(column.field), "必填项为空 (required)"
                )
                bad.add(column.field)
        return values, bad

    def model(
        self, cls: type[M], values: dict[str, Any], bad: set[str], table: Table, row: Row
    ) -> M | None:
        """Validate with the service's own schema and put each complaint in its column."""
        try:
            return cls.model_validate(values)
        except PydanticError as exc:
            explained = False
            for error in exc.errors():
                loc = error["loc"]
                name = str(loc[0]) if loc else ""
                if name in bad:
                    continue  # its cell was reported already
                if name == "items" or (error["type"] == "missing" and name not in table.labels):
                    explained = True  # reported on the item rows, or once at the header
                    continue
                if not loc and self.row_errors[row.sheet, row.number]:
                    continue  # a cross-field rule restating a problem reported on this row
                self.error(
                    row.sheet,
                    row.number,
                    table.label(name) if name in table.spec.by_field else name,
                    _pydantic_message(error),
                )
            if not explained and not self.row_errors[row.sheet, row.number]:
                # Never refuse a row silently: the schema knew a rule this module does not.
                self.error(row.sheet, row.number, "", _pydantic_message(exc.errors()[0]))
            return None

    # ---- what the file declares --------------------------------------------------------

    def _peek(self, key: str, field_name: str) -> dict[str, Row]:
        """Rows by the readable value of one cell, first occurrence only, reporting nothing:
        references are checked against everything the file declares, valid row or not, so
        one bad row does not also make every row pointing at it look wrong."""
        table = self.table(key)
        found: dict[str, Row] = {}
        if table is None:
            return found
        column = table.spec.by_field[field_name]
        for row in table.rows:
            raw = row.values.get(field_name)
            if is_blank(raw):
                continue
            try:
                found.setdefault(column.parse(raw), row)
            except ValueError:
                continue
        return found

    def _known_department(self, code: str) -> bool:
        if code in self.file_departments:
            return True
        return repository.department_or_none(self.ctx.session, code) is not None

    # ---- departments -------------------------------------------------------------------

    def departments(self) -> None:
        table = self.table(DEPARTMENTS.key)
        if table is None:
            return
        new: dict[str, tuple[DepartmentIn, Row]] = {}
        seen: dict[str, int] = {}
        for row in table.rows:
            values, bad = self.cells(table, row)
            spec = self.model(DepartmentIn, values, bad, table, row)
            code = values.get("code") if "code" not in bad else None
            self._check_parent(table, row, code, values, bad)
            if not code:
                continue
            if self.repeated(seen, code, table, row, ("统一社会信用代码", "department")):
                continue
            existing = repository.department_or_none(self.ctx.session, code)
            if existing is None:
                if spec is not None:
                    new[code] = (spec, row)
            elif spec is not None and department_out(existing).model_dump() == spec.model_dump():
                self.plan.skipped_departments += 1
                self.warn(
                    row.sheet,
                    row.number,
                    table.label("code"),
                    "部门已登记且内容相同，跳过 (department already registered, unchanged)",
                )
            elif spec is not None:
                self.error(
                    row.sheet,
                    row.number,
                    table.label("code"),
                    "部门已登记但内容不同，导入不修改已登记部门 "
                    "(department already registered with different details)",
                )
        self._order_departments(table, new)

    def _check_parent(
        self, table: Table, row: Row, code: str | None, values: dict[str, Any], bad: set[str]
    ) -> None:
        parent = values.get("parent_code")
        if not parent or "parent_code" in bad or uscc_problem(parent):
            return  # blank, or its format is reported by the schema
        if parent == code:
            message = "上级部门不能是本部门 (a department cannot be its own parent)"
        elif not self._known_department(parent):
            message = "上级部门未登记，也不在「部门」表中 (parent department unknown)"
        else:
            return
        self.error(row.sheet, row.number, table.label("parent_code"), message)

    def _order_departments(self, table: Table, new: dict[str, tuple[DepartmentIn, Row]]) -> None:
        """Parents before children, since a department is registered under its parent."""
        pending = dict(new)
        while pending:
            ready = [
                code
                for code, (spec, _row) in pending.items()
                if not spec.parent_code or spec.parent_code not in pending
            ]
            if not ready:
                for spec, row in pending.values():
                    if spec.parent_code != spec.code:  # that one is reported already
                        self.error(
                            row.sheet,
                            row.number,
                            table.label("parent_code"),
                            "上级部门关系成环 (parent departments form a cycle)",
                        )
                return
            for code in ready:
                self.plan.departments.append(pending.pop(code)[0])

    # ---- duties ------------------------------------------------------------------------

    def duties(self) -> None:
        table = self.table(DUTIES.key)
        if table is None:
            return
        seen: dict[str, int] = {}
        for row in table.rows:
            values, bad = self.cells(table, row)
            spec = self.model(DutyIn, values, bad, table, row)
            code = values.get("code") if "code" not in bad else None
            department = values.get("department_code")
            if (
                department
                and "department_code" not in bad
                and not uscc_problem(department)
                and not self._known_department(department)
            ):
                self.error(
                    row.sheet,
                    row.number,
                    table.label("department_code"),
                    "部门未登记，也不在「部门」表中 (department unknown)",
                )
                spec = None
            if not code:
                continue
            if self.repeated(seen, code, table, row, ("职责编码", "duty")):
                continue
            existing = repository.duty_or_none(self.ctx.session, code)
            if existing is None:
                if spec is not None:
                    self.plan.duties.append(spec)
            elif spec is not None and duty_out(existing).model_dump() == spec.model_dump():
                self.plan.skipped_duties += 1
                self.warn(
                    row.sheet,
                    row.number,
                    table.label("code"),
                    "职责已登记且内容相同，跳过 (duty already registered, unchanged)",
                )
            elif spec is not None:
                self.error(
                    row.sheet,
                    row.number,
                    table.label("code"),
                    "职责编码已存在但内容不同 (duty already registered with different details)",
                )

    # ---- data items --------------------------------------------------------------------

    def items(self) -> dict[str, list[tuple[Row, DataItemIn | None]]]:
        """Item rows grouped by resource code, duplicates within a resource reported."""
        table = self.table(ITEMS.key)
        grouped: dict[str, list[tuple[Row, DataItemIn | None]]] = defaultdict(list)
        if table is None:
            return grouped
        names: dict[tuple[str, str], int] = {}
        for row in table.rows:
            values, bad = self.cells(table, row)
            code = values.pop("resource_code", None)
            item = self.model(DataItemIn, values, bad, table, row)
            if not code:
                continue
            name = values.get("name")
            if name and (code, name) in names:
                self.error(
                    row.sheet,
                    row.number,
                    table.label("name"),
                    f"同一信息资源下信息项名称重复，与第 {names[code, name]} 行相同 "
                    "(duplicate data item name)",
                )
                item = None
            elif name:
                names[code, name] = row.number
            grouped[code].append((row, item))
        return grouped

    # ---- resources ---------------------------------------------------------------------

    def resources(self) -> None:
        table = self.table(RESOURCES.key)
        items_table = self.table(ITEMS.key)
        items = self.items()
        rows = table.rows if table is not None else []
        if rows and items_table is None:
            self.error(
                ITEMS.name,
                None,
                "",
                "缺少「信息项」表：每个信息资源至少要有一个信息项 (the data items sheet is "
                "missing; CSV imports pass it with --items)",
            )
        self.names = self._department_names()
        seen: dict[str, int] = {}
        for row in rows:
            assert table is not None
            self._resource(table, row, items.get(self._code_of(row) or "", []), seen)
        if items_table is None:
            return
        for code, entries in items.items():
            if code in self.file_resources:
                continue
            catalogued = repository.resource_or_none(self.ctx.session, code) is not None
            for row, _item in entries:
                self.error(
                    row.sheet,
                    row.number,
                    items_table.label("resource_code"),
                    "该信息资源已在目录中，导入不能为其追加信息项 (resource already "
                    "catalogued; items cannot be added by import)"
                    if catalogued
                    else "信息资源代码不在「信息资源」表中 (unknown resource code)",
                )

    @staticmethod
    def _code_of(row: Row) -> str | None:
        raw = row.values.get("code")
        if is_blank(raw):
            return None
        try:
            return str(RESOURCES.by_field["code"].parse(raw))
        except CellError:
            return None

    def _department_names(self) -> dict[str, set[str]]:
        """Department codes by full and short name, registered ones and the file's own."""
        names: dict[str, set[str]] = defaultdict(set)
        for department in repository.departments(self.ctx.session):
            names[department.name].add(department.code)
            if department.short_name:
                names[department.short_name].add(department.code)
        for code, row in self.file_departments.items():
            for name_field in ("name", "short_name"):
                name = row.values.get(name_field)
                if not is_blank(name):
                    names[str(name).strip()].add(code)
        return names

    def _provider(
        self, table: Table, row: Row, values: dict[str, Any], bad: set[str]
    ) -> str | None:
        """The provider's code: as written, or found by its name when the code is blank."""
        code = values.get("provider_code")
        name = values.get("provider_name")
        if "provider_code" in bad:
            return None
        if code is None:
            matches = self.names.get(name or "", set())
            if len(matches) == 1:
                found = next(iter(matches))
                self.note(
                    row.sheet,
                    row.number,
                    table.label("provider_code")
                    if "provider_code" in table.labels
                    else "提供方代码",
                    f"提供方代码为空：按名称「{name}」取已知部门 {found} "
                    "(provider found by its name)",
                )
                return found
            hint = "；按信息资源提供方名称也找不到唯一的部门" if name else ""
            self.error(
                row.sheet,
                row.number,
                table.label("provider_code"),
                f"必填项为空{hint} (provider code required)",
            )
            return None
        if uscc_problem(code):
            return code  # the schema reports the bad check digit in this column
        if code in self.new_providers:
            return self._same_provider(table, row, code, name)
        if not self._known_department(code):
            if not self.create_departments:
                self.error(
                    row.sheet,
                    row.number,
                    table.label("provider_code"),
                    "提供方未登记，也不在「部门」表中；确认无误可加 --create-departments，"
                    "按表中的提供方名称和代码新建部门 (provider not registered and not in the "
                    "departments sheet; pass --create-departments to register it from this row)",
                )
                return None
            return self._new_provider(table, row, code, name)
        if name and code not in self.names.get(name, set()):
            self.warn(
                row.sheet,
                row.number,
                table.label("provider_name"),
                "信息资源提供方与提供方代码登记的部门名称不一致，以代码为准 "
                "(provider name differs from the registered department; the code wins)",
            )
        return code

    def _new_provider(self, table: Table, row: Row, code: str, name: str | None) -> str | None:
        """A provider named in the sheet becomes a department: its name from the sheet, its
        region from the code itself (characters 3-8 of a USCC are the registering region)."""
        if not name:
            self.error(
                row.sheet,
                row.number,
                table.label("provider_name")
                if "provider_name" in table.labels
                else "信息资源提供方",
                "新建提供方部门需要提供方名称 (a provider to create needs its name)",
            )
            return None
        region = code[2:8]
        problem = region_problem(region)
        if problem:
            self.error(
                row.sheet,
                row.number,
                table.label("provider_code"),
                f"提供方代码第 3–8 位 {region} 不是有效的行政区划代码，无法新建部门，"
                "请在「部门」表中登记 (the code's region segment is not a known region; list "
                "the department in the departments sheet)",
            )
            return None
        self.new_providers[code] = (name, row.number)
        self.names.setdefault(name, set()).add(code)
        self.plan.departments.append(DepartmentIn(code=code, name=name, region_code=region))
        self.plan.providers.add(code)
        self.note(
            row.sheet,
            row.number,
            table.label("provider_code"),
            _new_department_note(name, code),
        )
        return code

    def _same_provider(self, table: Table, row: Row, code: str, name: str | None) -> str | None:
        first_name, first_row = self.new_providers[code]
        if name and name != first_name:
            self.error(
                row.sheet,
                row.number,
                table.label("provider_name") if "provider_name" in table.labels else "",
                f"同一提供方代码在第 {first_row} 行名为「{first_name}」，名称不一致 "
                "(the same provider code has another name on an earlier row)",
            )
            return None
        self.note(
            row.sheet,
            row.number,
            table.label("provider_code"),
            _new_department_note(first_name, code),
        )
        return code

    def _split_classification(self, table: Table, row: Row) -> None:
        """「基础信息资源/法人」: the first level is the 分类, the rest the 类目."""
        raw = row.values.get("classification")
        if is_blank(raw):
            return
        written = cell_text(raw)
        text = compact(written)
        for separator in CLASSIFICATION_SEPARATORS[1:]:
            text = text.replace(separator, CLASSIFICATION_SEPARATORS[0])
        if CLASSIFICATION_SEPARATORS[0] not in text:
            return
        head, _, tail = text.partition(CLASSIFICATION_SEPARATORS[0])
        tail = tail.strip(CLASSIFICATION_SEPARATORS[0])
        try:
            klass = RESOURCES.by_field["classification"].parse(head)
        except CellError:
            return  # reported as an invalid 分类 by cells(), with the whole value
        row.values["classification"] = klass
        label = table.label("classification")
        given = row.values.get("category")
        if tail and not is_blank(given) and cell_text(given) != tail:
            self.error(
                row.sheet,
                row.number,
                table.label("category"),
                f"与信息资源分类中的类目「{tail}」不一致 (differs from the category in "
                "信息资源分类)",
            )
            return
        if tail:
            row.values["category"] = tail
        self.note(
            row.sheet,
            row.number,
            label,
            f"「{written}」拆为 分类「{klass.value}」、类目「{tail}」"
            "(hierarchical classification split)",
        )

    def _share_defaults(self, table: Table, row: Row, values: dict[str, Any]) -> None:
        """The 不予共享 basis where stewards write it, and a blank 共享方式, said aloud."""
        share = values.get("share_type")
        if (
            share is ShareType.NOT_SHARED
            and "not_shared_basis" not in table.labels
            and values.get("share_condition")
        ):
            values["not_shared_basis"] = values.pop("share_condition")
            self.note(
                row.sheet,
                row.number,
                table.label("share_condition"),
                "表中无「不予共享依据」列：不予共享资源的共享条件读作不予共享依据 "
                "(legal basis read from 共享条件)",
            )
        if "share_method" in values or share is None:
            return
        if share is ShareType.NOT_SHARED:
            message = "共享方式为空：不予共享的资源保持为空 (blank share method kept blank)"
        else:
            message = "共享方式为空：记为 接口 (blank share method recorded as 接口)"
        label = table.label("share_method") if "share_method" in table.labels else "共享方式"
        self.note(row.sheet, row.number, label, message)

    def _resource(
        self,
        table: Table,
        row: Row,
        entries: list[tuple[Row, DataItemIn | None]],
        seen: dict[str, int],
    ) -> None:
        before = len(self.errors)
        self._split_classification(table, row)
        values, bad = self.cells(table, row)
        state_written = "state" in values
        state = values.pop("state", ResourceState.DRAFT)
        self._share_defaults(table, row, values)
        provider = self._provider(table, row, values, bad)
        values.pop("provider_name", None)
        if provider is not None:
            values["provider_code"] = provider
        else:
            bad.add("provider_code")
        code = values.get("code") if "code" not in bad else None
        if code:
            self._check_code(table, row, code, seen)
        self._check_duty(table, row, values, bad, provider)
        self._check_share_rules(table, row, values)
        self._check_related(table, row, values)
        if code and not entries and self.table(ITEMS.key) is not None:
            self.error(
                row.sheet,
                row.number,
                table.label("code"),
                "没有信息项：请在「信息项」表中按信息资源代码填写 (no data items)",
            )
        valid_items = [item for _row, item in entries if item is not None]
        spec = self.model(ResourceIn, {**values, "items": valid_items}, bad, table, row)
        if spec is None or len(valid_items) != len(entries) or len(self.errors) != before:
            return
        existing = repository.resource_or_none(self.ctx.session, spec.code)
        if existing is None:
            self.plan.resources.append((spec, state))
            self.plan.outcomes.append(_outcome(spec, "created", str(state)))
        else:
            written = state if state_written else None
            self._revision(table, row, spec, existing, set(values), written)

    def _revision(
        self,
        table: Table,
        row: Row,
        spec: ResourceIn,
        existing: Resource,
        given: set[str],
        state: ResourceState | None,
    ) -> None:
        """--update: compare a catalogued resource with its row; a change becomes a revision.

        Columns the file does not have keep the catalogued values (a province's sheet without
        数据分级 does not reset it), and so do item columns the items sheet lacks.
        """
        spec = self._keep_absent(table, spec, existing, given)
        if state is not None and state is not existing.state:
            self.warn(
                row.sheet,
                row.number,
                table.label("state"),
                f"目录状态不随导入改变，仍为「{existing.state}」(the state column does not "
                "change a catalogued resource's state)",
            )
        changes = services.resource_changes(existing, spec)
        if not changes:
            self.plan.outcomes.append(_outcome(spec, "unchanged", str(existing.state)))
            return
        if existing.pending_revision == spec.model_dump(mode="json"):
            # This very change is already waiting for a steward: proposing it again adds nothing.
            self.plan.outcomes.append(
                _outcome(spec, "unchanged", str(existing.state), action="变更待审核")
            )
            return
        if existing.state not in (*services.EDITABLE_STATES, ResourceState.PUBLISHED):
            self.error(
                row.sheet,
                row.number,
                table.label("code"),
                f"信息资源当前状态为「{existing.state}」，只有待提交、已退回或已发布的资源可以"
                "变更 (only draft, returned or published resources change by import)",
            )
            return
        if existing.state is ResourceState.PUBLISHED and spec.provider_code != (
            existing.provider.code
        ):
            self.error(
                row.sheet,
                row.number,
                table.label("provider_code") if "provider_code" in table.labels else "",
                "已发布的信息资源不能更换提供方 (a published resource keeps its provider)",
            )
            return
        action = (
            ResourceAction.REQUEST_CHANGE
            if existing.state is ResourceState.PUBLISHED
            else "修改"  # services.update_resource's history action
        )
        self.plan.updates.append(spec)
        self.plan.outcomes.append(
            _outcome(spec, "changed", str(existing.state), action=str(action), changes=changes)
        )

    def _keep_absent(
        self, table: Table, spec: ResourceIn, existing: Resource, given: set[str]
    ) -> ResourceIn:
        current = services.resource_spec(existing)
        merged = spec.model_dump()
        for name in ResourceIn.model_fields:
            if name != "items" and name not in table.labels and name not in given:
                merged[name] = getattr(current, name)
        items_table = self.table(ITEMS.key)
        catalogued = {i.name: i.model_dump() for i in current.items}
        for item in merged["items"]:
            old = catalogued.get(item["name"])
            if old is None or items_table is None:
                continue
            for name in DataItemIn.model_fields:
                if name not in items_table.labels:
                    item[name] = old[name]
        return ResourceIn.model_validate(merged)

    def _check_code(self, table: Table, row: Row, code: str, seen: dict[str, int]) -> None:
        label = table.label("code")
        try:
            services.check_code(self.ctx, code)
        except ValidationError as error:
            self.error(row.sheet, row.number, label, error.message)
        if self.repeated(seen, code, table, row, ("信息资源代码", "resource code")):
            return
        if not self.update and repository.resource_or_none(self.ctx.session, code) is not None:
            self.error(
                row.sheet,
                row.number,
                label,
                "信息资源代码已存在于目录中；要把表中的修改作为新版本导入，请加 --update "
                "(resource code already catalogued; pass --update to import changes)",
            )

    def _duty_owner(self, duty_code: str) -> tuple[bool, str | None]:
        """Whether the duty exists (in the file or the catalogue) and whose it is."""
        row = self.file_duties.get(duty_code)
        if row is not None:
            try:
                return True, DUTIES.by_field["department_code"].parse(
                    row.values.get("department_code", "")
                )
            except CellError:
                return True, None
        duty = repository.duty_or_none(self.ctx.session, duty_code)
        return duty is not None, duty.department.code if duty is not None else None

    def _check_duty(
        self, table: Table, row: Row, values: dict[str, Any], bad: set[str], provider: str | None
    ) -> None:
        duty_code = values.get("duty_code")
        if not duty_code or "duty_code" in bad:
            return
        exists, owner = self._duty_owner(duty_code)
        if not exists:
            message = "职责未登记，也不在「职责」表中 (duty unknown)"
        elif provider is not None and owner is not None and owner != provider:
            message = "职责不属于提供方 (the duty belongs to another department)"
        else:
            return
        self.error(row.sheet, row.number, table.label("duty_code"), message)
        bad.add("duty_code")

    def _check_share_rules(self, table: Table, row: Row, values: dict[str, Any]) -> None:
        share = values.get("share_type")
        if share is ShareType.CONDITIONAL and not values.get("share_condition"):
            self.error(
                row.sheet,
                row.number,
                table.label("share_condition"),
                "有条件共享的资源必须填写共享条件 (share condition required)",
            )
        if share is ShareType.NOT_SHARED and not values.get("not_shared_basis"):
            self.error(
                row.sheet,
                row.number,
                table.label("not_shared_basis"),
                "不予共享的资源必须填写法律法规或政策依据 (legal basis required)",
            )

    def _check_related(self, table: Table, row: Row, values: dict[str, Any]) -> None:
        """Related resources may live in another region's catalogue: unknown ones only warn."""
        for related in values.get("related_codes", []):
            if related in self.file_resources:
                continue
            if repository.resource_or_none(self.ctx.session, related) is None:
                self.warn(
                    row.sheet,
                    row.number,
                    table.label("related_codes"),
                    f"关联资源代码 {related} 不在本目录中 (related resource not catalogued here)",
                )

    # ---- themes and 核验事项 --------------------------------------------------------------

    def _catalogued(self, code: str) -> bool:
        return code in self.file_resources or (
            repository.resource_or_none(self.ctx.session, code) is not None
        )

    def _missing_resource(self, table: Table, row: Row, name: str, code: str | None) -> bool:
        if code and not self._catalogued(code):
            self.error(
                row.sheet,
                row.number,
                table.label(name),
                f"信息资源 {code} 不在目录中，也不在本文件中 (resource unknown)",
            )
            return True
        return False

    def themes(self) -> None:
        derived: dict[str, list[DerivedFieldIn]] = defaultdict(list)
        fields_table = self.table(THEME_DERIVED.key)
        declared = set(self._peek(THEMES.key, "code"))
        for row in fields_table.rows if fields_table else []:
            assert fields_table is not None
            values, bad = self.cells(fields_table, row)
            theme_code = values.pop("theme_code", None)
            field_spec = self.model(DerivedFieldIn, values, bad, fields_table, row)
            if theme_code and theme_code not in declared:
                self.error(
                    row.sheet,
                    row.number,
                    fields_table.label("theme_code"),
                    f"主题 {theme_code} 不在「主题」表中 (theme not in the themes sheet)",
                )
                continue
            for code in values.get("sources", []):
                self._missing_resource(fields_table, row, "sources", code)
            if field_spec is not None and theme_code:
                derived[theme_code].append(field_spec)
        table = self.table(THEMES.key)
        for row in table.rows if table else []:
            assert table is not None
            values, bad = self.cells(table, row)
            missing = self._missing_resource(
                table, row, "resource_code", values.get("resource_code")
            )
            missing |= self._missing_resource(
                table, row, "population_code", values.get("population_code")
            )
            values["derived"] = derived.get(values.get("code", ""), [])
            theme_spec = self.model(ThemeIn, values, bad, table, row)
            if theme_spec is not None and not missing:
                self.plan.themes.append((theme_spec, row.sheet, row.number))
        checks = self.table(CHECKS.key)
        for row in checks.rows if checks else []:
            assert checks is not None
            values, bad = self.cells(checks, row)
            missing = self._missing_resource(
                checks, row, "resource_code", values.get("resource_code")
            )
            theme_code = values.get("theme_code")
            if (
                theme_code
                and theme_code not in declared
                and (repository.theme_or_none(self.ctx.session, theme_code) is None)
            ):
                self.error(
                    row.sheet,
                    row.number,
                    checks.label("theme_code"),
                    f"主题 {theme_code} 未定义，也不在「主题」表中 (theme unknown)",
                )
                missing = True
            check_spec = self.model(VerificationIn, values, bad, checks, row)
            if check_spec is not None and not missing:
                self.plan.verifications.append((check_spec, row.sheet, row.number))

    # ---- all together ------------------------------------------------------------------

    def run(self) -> Plan:
        self.file_departments = self._peek(DEPARTMENTS.key, "code")
        self.file_duties = self._peek(DUTIES.key, "code")
        self.file_resources = self._peek(RESOURCES.key, "code")
        self.headers()
        self.departments()
        self.duties()
        self.resources()
        self.themes()
        return self.plan


def _sorted(issues: list[Issue], source: Source) -> list[Issue]:
    """Sheet by sheet in the file's order, top to bottom, left to right: how stewards read."""
    rank: dict[str, int] = {}
    columns: dict[str, dict[str, int]] = {}
    for index, table in enumerate(source.tables.values()):
        rank[table.name] = index
        order = {c.header: i for i, c in enumerate(table.spec.columns)}
        order |= {table.labels[c.field]: i for i, c in enumerate(table.spec.columns)
                  if c.field in table.labels}  # fmt: skip
        columns[table.name] = order
    return sorted(
        issues,
        key=lambda i: (
            rank.get(i.sheet, len(rank)),
            i.sheet,
            i.row or 0,
            columns.get(i.sheet, {}).get(i.column, -1),
        ),
    )


def _outcome(
    spec: ResourceIn,
    outcome: str,
    state: str,
    *,
    action: str = "",
    changes: list[dict[str, Any]] | None = None,
) -> ResourceOutcome:
    return ResourceOutcome(
        code=spec.code,
        name=spec.name,
        outcome=outcome,
        label=OUTCOME_LABELS[outcome],
        state=state,
        action=action,
        changes=changes or [],
    )


def validate_source(
    ctx: CatalogContext,
    source: Source,
    *,
    create_departments: bool = False,
    update: bool = False,
) -> tuple[Plan, list[Issue], list[Interpretation]]:
    """Check a file against the template and the catalogue; raise with every problem."""
    checker = _Checker(ctx, source, create_departments=create_departments, update=update)
    plan = checker.run()
    if checker.errors:
        raise ImportRejected([i.model_dump() for i in _sorted(checker.errors, source)])
    return plan, _sorted(checker.warnings, source), checker.interpretations()


def _define(ctx: CatalogContext, plan: Plan, *, actor: Actor) -> None:
    """Themes, then 核验事项, through the services a steward would use. Their checks need the
    resources in place, so they run here; a refusal rejects the whole import (nothing of it
    is committed), named by sheet and row like every other problem."""
    steps: list[tuple[Any, str, int]] = [
        *((lambda s=spec: themes.define_theme(ctx, spec=s, actor=actor), sheet, row)
          for spec, sheet, row in plan.themes),
        *((lambda s=spec: themes.define_verification(ctx, spec=s, actor=actor), sheet, row)
          for spec, sheet, row in plan.verifications),
    ]  # fmt: skip
    problems = []
    for step, sheet, row in steps:
        try:
            step()
        except (ValidationError, Conflict, NotFound) as error:
            problems.append(Issue(sheet=sheet, row=row, column="", message=error.message))
    if problems:
        raise ImportRejected([p.model_dump() for p in problems])


def import_catalog(
    ctx: CatalogContext,
    source: Source,
    *,
    actor: Actor,
    dry_run: bool = False,
    create_departments: bool = False,
    update: bool = False,
) -> ImportReport:
    """Validate a whole file and, unless it is a dry run, write it in the caller's transaction.

    With ``create_departments`` a provider named in the resources sheet (name and code) that
    is neither registered nor in the departments sheet is registered too. Raises
    :class:`ImportRejected` listing every problem, before anything is written.

    With ``update`` a resource already catalogued is compared with its row instead of
    refused: unchanged ones are skipped, changed ones go through
    :func:`catalog.services.revise_resource` (a draft is edited, a published resource gets its
    next version proposed for review); ``outcomes`` says which, field by field.
    """
    auth.import_catalog(actor)
    plan, warnings, interpretations = validate_source(
        ctx, source, create_departments=create_departments, update=update
    )
    if not dry_run:
        for department in plan.departments:
            services.register_department(ctx, spec=department, actor=actor)
        for duty in plan.duties:
            services.add_duty(ctx, spec=duty, actor=actor)
        for resource, state in plan.resources:
            services.create_resource(ctx, spec=resource, actor=actor, state=state)
        for revised in plan.updates:
            services.revise_resource(ctx, code=revised.code, spec=revised, actor=actor)
        _define(ctx, plan, actor=actor)
    return ImportReport(
        source=source.description,
        dry_run=dry_run,
        departments=len(plan.departments),
        duties=len(plan.duties),
        resources=len(plan.resources),
        data_items=sum(len(spec.items) for spec, _state in plan.resources),
        skipped_departments=plan.skipped_departments,
        skipped_duties=plan.skipped_duties,
        themes=len(plan.themes),
        verifications=len(plan.verifications),
        warnings=warnings,
        interpretations=interpretations,
        created_departments=[
            {
                "code": d.code,
                "name": d.name,
                "region_code": d.region_code,
                "from_providers": d.code in plan.providers,
            }
            for d in plan.departments
        ],
        created_resources=[
            {
                "code": r.code,
                "name": r.name,
                "provider_code": r.provider_code,
                "items": len(r.items),
                "state": str(state),
            }
            for r, state in plan.resources
        ],
        update=update,
        updated_resources=len(plan.updates),
        unchanged_resources=sum(o.outcome == "unchanged" for o in plan.outcomes),
        outcomes=plan.outcomes if update else [],
    )
