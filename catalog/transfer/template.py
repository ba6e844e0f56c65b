"""The spreadsheet template stewards keep catalogues in, and how its cells are read and written.

One definition serves the importer, the exporter, the empty template and the documentation, so
the headers a file is checked against are exactly the headers an export writes. The standard
headers of the 2017 guideline come first; our own columns are optional, so a provincial
spreadsheet that only has the standard ones imports as it is.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from catalog.domain import (
    DataLevel,
    DataType,
    KeyKind,
    ResourceClass,
    ResourceState,
    Sensitivity,
    ShareMethod,
    ShareType,
    UpdateCycle,
)
from catalog.transfer.aliases import (
    CLASSIFICATION_VALUES,
    SHARE_METHOD_VALUES,
    SHARE_TYPE_VALUES,
    UPDATE_CYCLE_VALUES,
    header_aliases,
)


class Issue(BaseModel):
    """One problem found in an imported file, located the way the steward sees it.

    ``row`` is the row number in the sheet (the header row counts, a title row above it too),
    or the 1-based position in a JSON array; None for a problem with the whole sheet.
    """

    model_config = ConfigDict(frozen=True)

    sheet: str
    row: int | None
    column: str
    message: str


class CellError(ValueError):
    """A cell's text cannot be read as its column's type; the message is for the steward."""


# ---- cell parsing ----------------------------------------------------------------------

TRUE_WORDS = frozenset({"是", "Y", "YES", "TRUE", "1", "√", "T"})
FALSE_WORDS = frozenset({"否", "N", "NO", "FALSE", "0", "×", "F"})


def is_blank(raw: Any) -> bool:
    """Empty cells, blank strings, JSON null and empty lists all mean "not given"."""
    if raw is None:
        return True
    if isinstance(raw, str):
        return not raw.strip()
    if isinstance(raw, list | tuple):
        return not raw
    return False


_IDENTIFIER_LIKE = re.compile(r"\d{6,}|@")


def _shown(text: str) -> str:
    """A cell value quoted in a message, cut short so a pasted paragraph cannot flood it.

    A value that looks like an ID number, phone number or e-mail address (a cell pasted into
    the wrong column) is not repeated: error messages end up in logs and must hold no
    personal data.
    """
    if _IDENTIFIER_LIKE.search(text):
        return "该值已隐去 (value hidden)"
    return text if len(text) <= 20 else text[:20] + "…"


def cell_text(raw: Any) -> str:
    """Any cell as text: 18.0 becomes "18", a date "2024-03-05", line ends are unified."""
    if isinstance(raw, bool):
        return "是" if raw else "否"
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, datetime):
        return raw.date().isoformat() if raw.time() == datetime.min.time() else raw.isoformat()
    if isinstance(raw, date):
        return raw.isoformat()
    return str(raw).replace("\r\n", "\n").replace("\r", "\n").strip()


def compact(text: str) -> str:
    """Full-width to half-width and no whitespace at all: how codes and keywords compare."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def parse_text(raw: Any) -> str:
    return cell_text(raw)


def parse_code(raw: Any) -> str:
    """Codes typed with a Chinese input method come with full-width digits or slashes."""
    return compact(cell_text(raw))


def parse_upper_code(raw: Any) -> str:
    """统一社会信用代码 and 行政区划代码: letters are always upper case."""
    return parse_code(raw).upper()


def parse_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    word = compact(cell_text(raw)).upper()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise CellError(f"「{_shown(cell_text(raw))}」不是是/否值，应填 是 或 否 (expected 是/否, Y/N)")


def parse_positive_int(raw: Any) -> int:
    if isinstance(raw, bool):
        raise CellError("应为正整数 (expected a positive whole number)")
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if isinstance(raw, str):
        text = compact(raw)
        raw = int(text) if text.isdigit() else text
    if not isinstance(raw, int) or raw <= 0:
        raise CellError(
            f"「{_shown(cell_text(raw))}」不是正整数 (expected a positive whole number)"
        )
    return raw


_DATE = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[\sT]+\d{1,2}:\d{2}(?::\d{2})?)?"
)
_EXCEL_EPOCH = date(1899, 12, 30)


def parse_date(raw: Any) -> date:
    """2024-03-05, 2024/3/5, 2024.3.5, 2024年3月5日, 20240305, or an Excel date."""
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        number = int(raw)
        if 19000101 <= number <= 29991231:
            raw = str(number)
        elif 1 <= number <= 2958465:  # an Excel serial day number not formatted as a date
            return _EXCEL_EPOCH + timedelta(days=number)
    # Spaces stay: removing them would glue a time onto the day ("2024-3-5 10:00").
    text = unicodedata.normalize("NFKC", cell_text(raw)).strip()
    match = _DATE.fullmatch(text)
    parts: tuple[str, ...] | None = match.groups() if match else None
    if parts is None and re.fullmatch(r"\d{8}", text):
        parts = (text[:4], text[4:6], text[6:])
    if parts is None:
        raise CellError(f"「{_shown(text)}」不是日期，应如 2024-03-05 (unrecognised date)")
    try:
        return date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        raise CellError(f"日期「{_shown(text)}」不存在 (no such date)") from None


def _split(raw: Any, separators: str) -> list[str]:
    if isinstance(raw, list | tuple):
        parts = [cell_text(p) for p in raw]
    else:
        parts = re.split(separators, cell_text(raw))
    return [p.strip() for p in parts if p.strip()]


def parse_names(raw: Any) -> list[str]:
    """A list of data item names separated by 、 or ; (half or full width) or line breaks."""
    return _split(raw, r"[、;；\n]+")


def parse_codes(raw: Any) -> list[str]:
    """Resource codes never hold spaces or commas, so those separate them too."""
    return [compact(c).upper() for c in _split(raw, r"[、;；,，\s]+")]


def enum_parser(
    enum_cls: type[StrEnum], what: str, aliases: Mapping[str, str] | None = None
) -> Callable[[Any], Any]:
    """Accept an enum's Chinese value, or a common alternative spelling of it."""
    table = {compact(m.value).upper(): m for m in enum_cls}
    for alias, value in (aliases or {}).items():
        table[compact(alias).upper()] = enum_cls(value)
    allowed = "、".join(m.value for m in enum_cls)

    def parse(raw: Any) -> Any:
        if isinstance(raw, enum_cls):
            return raw
        text = cell_text(raw)
        found = table.get(compact(text).upper())
        if found is None:
            raise CellError(
                f"「{_shown(text)}」不是有效的{what}，可选：{allowed} (not an allowed value)"
            )
        return found

    return parse


def parse_data_type(raw: Any) -> DataType:
    if isinstance(raw, DataType):
        return raw
    try:
        return DataType.parse(compact(cell_text(raw)))
    except ValueError:
        allowed = "、".join(f"{m.value} {m.label}" for m in DataType)
        raise CellError(
            f"「{_shown(cell_text(raw))}」不是有效的数据类型，可选：{allowed} (unknown data type)"
        ) from None


# ---- cell rendering (export) -----------------------------------------------------------


def render_plain(value: Any) -> Any:
    if value is None or value == "":
        return None
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list | tuple):
        return "、".join(str(v) for v in value) or None
    return value


def render_data_type(value: Any) -> Any:
    return DataType(value).label if value else None


# ---- columns and sheets ----------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column of a sheet: its header, the schema field it fills, and how cells convert."""

    header: str
    field: str
    parse: Callable[[Any], Any] = parse_text
    render: Callable[[Any], Any] = render_plain
    required: bool = False
    standard: bool = False  # one of the guideline's headers, as opposed to our additions
    aliases: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()  # offered as a drop-down in the written workbook
    width: int = 16
    text_format: bool = False  # codes: keep Excel from turning them into numbers
    note: str = ""


@dataclass(frozen=True)
class SheetSpec:
    """A sheet of the template; ``key`` names it in code and in JSON."""

    key: str
    name: str
    columns: tuple[Column, ...]
    aliases: tuple[str, ...] = ()
    by_field: dict[str, Column] = field(init=False, repr=False, compare=False)
    by_header: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Alternative headers come from the one alias table (catalog.transfer.aliases).
        columns = tuple(
            replace(c, aliases=c.aliases or header_aliases(self.key, c.field)) for c in self.columns
        )
        object.__setattr__(self, "columns", columns)
        object.__setattr__(self, "by_field", {c.field: c for c in self.columns})
        headers: dict[str, Column] = {}
        for column in self.columns:
            for text in (column.header, *column.aliases):
                headers[normalise_header(text)] = column
        object.__setattr__(self, "by_header", headers)

    def match(self, header: Any) -> Column | None:
        if is_blank(header):
            return None
        return self.by_header.get(normalise_header(cell_text(header)))

    def label(self, field_name: str) -> str:
        return self.by_field[field_name].header


_ANNOTATION = re.compile(r"[(\[【<].*?[)\]】>]$")


def normalise_header(text: str) -> str:
    """Headers compare without whitespace, required-markers or a trailing note in brackets,
    so 「* 信息资源名称（必填）」 and 「信息资源名称」 are the same column."""
    clean = compact(text).strip("*※★")
    while True:
        shorter = _ANNOTATION.sub("", clean)
        if shorter == clean or not shorter:
            return clean
        clean = shorter


def _choices(enum_cls: type[StrEnum]) -> tuple[str, ...]:
    return tuple(m.value for m in enum_cls)


YES_NO = ("是", "否")

CLASSIFICATION_ALIASES = CLASSIFICATION_VALUES
SHARE_TYPE_ALIASES = SHARE_TYPE_VALUES
SHARE_METHOD_ALIASES = SHARE_METHOD_VALUES
UPDATE_CYCLE_ALIASES = UPDATE_CYCLE_VALUES

RESOURCES = SheetSpec(
    key="resources",
    name="信息资源",
    aliases=("信息资源目录", "政务信息资源目录", "资源目录", "resources"),
    columns=(
        Column(
            "信息资源分类",
            "classification",
            enum_parser(ResourceClass, "信息资源分类", CLASSIFICATION_ALIASES),
            required=True,
            standard=True,
            choices=_choices(ResourceClass),
            width=12,
            note="基础、主题或部门（也可写 基础信息资源 等）",
        ),
        Column(
            "信息资源名称",
            "name",
            required=True,
            standard=True,
            width=28,
        ),
        Column(
            "信息资源代码",
            "code",
            parse_code,
            required=True,
            standard=True,
            width=20,
            text_format=True,
            note="前段码/后段码：分类码/顺序号，宽度按本省规定",
        ),
        Column(
            "信息资源提供方",
            "provider_name",
            standard=True,
            width=26,
            note="提供部门名称；提供方代码为空时按名称查找已登记部门",
        ),
        Column(
            "提供方代码",
            "provider_code",
            parse_upper_code,
            standard=True,
            width=22,
            text_format=True,
            note="提供部门的统一社会信用代码（18 位）",
        ),
        Column("信息资源摘要", "summary", standard=True, width=40),
        Column(
            "信息资源格式",
            "format",
            standard=True,
            width=12,
            note="为空时记为 数据库",
        ),
        Column(
            "共享类型",
            "share_type",
            enum_parser(ShareType, "共享类型", SHARE_TYPE_ALIASES),
            required=True,
            standard=True,
            choices=_choices(ShareType),
            width=12,
        ),
        Column(
            "共享条件",
            "share_condition",
            standard=True,
            width=28,
            note="有条件共享时必填",
        ),
        Column(
            "共享方式",
            "share_method",
            enum_parser(ShareMethod, "共享方式", SHARE_METHOD_ALIASES),
            standard=True,
            choices=_choices(ShareMethod),
            width=10,
            note="库表、接口、文件或线下；为空时记为 接口",
        ),
        Column(
            "是否向社会开放",
            "open_to_public",
            parse_bool,
            standard=True,
            choices=YES_NO,
            width=10,
        ),
        Column("开放条件", "open_condition", standard=True, width=20),
        Column(
            "更新周期",
            "update_cycle",
            enum_parser(UpdateCycle, "更新周期", UPDATE_CYCLE_ALIASES),
            required=True,
            standard=True,
            choices=_choices(UpdateCycle),
            width=10,
        ),
        Column(
            "发布日期",
            "publish_date",
            parse_date,
            standard=True,
            width=12,
            note="如 2024-03-05、2024/3/5 或 2024年3月5日",
        ),
        Column(
            "关联资源代码",
            "related_codes",
            parse_codes,
            standard=True,
            width=20,
            text_format=True,
            note="多个以 、 或 ; 分隔",
        ),
        Column("类目", "category", width=12),
        Column(
            "不予共享依据",
            "not_shared_basis",
            width=28,
            note="不予共享时必填：法律、行政法规或政策依据",
        ),
        Column(
            "所属职责",
            "duty_code",
            parse_code,
            width=12,
            text_format=True,
            note="职责编码，须属于提供方",
        ),
        Column("业务事项", "business_matter", width=16),
        Column("应用场景", "scenario", width=16),
        Column(
            "数据分级",
            "data_level",
            enum_parser(DataLevel, "数据分级"),
            choices=_choices(DataLevel),
            width=10,
            note="核心、重要或一般；为空时记为 一般",
        ),
        Column(
            "目录状态",
            "state",
            enum_parser(ResourceState, "目录状态"),
            choices=_choices(ResourceState),
            width=10,
            note="为空时记为 待提交",
        ),
    ),
)

ITEMS = SheetSpec(
    key="items",
    name="信息项",
    aliases=("信息项目录", "数据项", "items"),
    columns=(
        Column(
            "信息资源代码",
            "resource_code",
            parse_code,
            required=True,
            standard=True,
            width=20,
            text_format=True,
        ),
        Column(
            "信息项名称",
            "name",
            required=True,
            standard=True,
            width=20,
        ),
        Column(
            "数据类型",
            "data_type",
            parse_data_type,
            render_data_type,
            required=True,
            standard=True,
            choices=tuple(m.label for m in DataType),
            width=12,
            note="代码（C）或名称（字符型）",
        ),
        Column(
            "数据长度",
            "length",
            parse_positive_int,
            standard=True,
            width=10,
        ),
        Column("是否必填", "required", parse_bool, choices=YES_NO, width=10),
        Column("是否主键", "is_key", parse_bool, choices=YES_NO, width=10),
        Column(
            "敏感级别",
            "sensitivity",
            enum_parser(Sensitivity, "敏感级别"),
            choices=_choices(Sensitivity),
            width=14,
            note="为空时记为 一般",
        ),
        Column("脱敏方式", "mask_kind", parse_code, width=12, note="如 name、id_number、mobile"),
        Column(
            "是否权威来源",
            "authoritative",
            parse_bool,
            choices=YES_NO,
            width=12,
        ),
        Column("说明", "description", width=30),
    ),
)

DEPARTMENTS = SheetSpec(
    key="departments",
    name="部门",
    aliases=("部门清单", "departments"),
    columns=(
        Column("部门名称", "name", required=True, width=28),
        Column(
            "统一社会信用代码",
            "code",
            parse_upper_code,
            required=True,
            width=22,
            text_format=True,
        ),
        Column(
            "行政区划代码",
            "region_code",
            parse_upper_code,
            required=True,
            width=12,
            text_format=True,
        ),
        Column(
            "上级部门代码",
            "parent_code",
            parse_upper_code,
            width=22,
            text_format=True,
            note="上级部门的统一社会信用代码",
        ),
        Column("简称", "short_name", width=12),
        Column(
            "是否数据管理机构",
            "is_data_authority",
            parse_bool,
            choices=YES_NO,
            width=12,
        ),
    ),
)

DUTIES = SheetSpec(
    key="duties",
    name="职责",
    aliases=("职责清单", "duties"),
    columns=(
        Column("职责编码", "code", parse_code, required=True, width=14, text_format=True),
        Column(
            "部门代码",
            "department_code",
            parse_upper_code,
            required=True,
            width=22,
            text_format=True,
        ),
        Column("职责名称", "name", required=True, width=28),
        Column("职责描述", "description", width=30),
        Column(
            "信息项",
            "data_items",
            parse_names,
            width=40,
            note="多个以 、 或 ; 分隔",
        ),
    ),
)

# ---- themes and 核验事项 (catalogue data that reads the resources above) -------------------

_KEY_KINDS = {"uscc": "uscc", "ric": "ric", "统一社会信用代码": "uscc", "身份证号": "ric",
              "公民身份号码": "ric"}  # fmt: skip


def parse_key_kind(raw: Any) -> KeyKind:
    if isinstance(raw, KeyKind):
        return raw
    found = _KEY_KINDS.get(compact(cell_text(raw)).lower()) or _KEY_KINDS.get(
        compact(cell_text(raw))
    )
    if found is None:
        raise CellError(
            f"「{_shown(cell_text(raw))}」不是有效的主键类型，可选：统一社会信用代码、身份证号"
        )
    return KeyKind(found)


def render_key_kind(value: Any) -> Any:
    return KeyKind(value).label if value else None


def parse_pairs(raw: Any) -> dict[str, Any]:
    """``名=值`` pairs separated by ；or ; or line breaks; a value list uses , or 、."""
    if isinstance(raw, dict):
        return dict(raw)
    out: dict[str, Any] = {}
    for part in _split(raw, r"[;；\n]+"):
        name, sep, value = part.partition("=")
        if not sep or not name.strip():
            raise CellError(f"「{_shown(part)}」应写作 名=值 (expected NAME=VALUE)")
        values = [v.strip() for v in re.split(r"[,，、]", value) if v.strip()]
        out[name.strip()] = values if len(values) > 1 else value.strip()
    return out


def render_pairs(value: Any) -> Any:
    if not value:
        return None
    return "；".join(
        f"{k}={'、'.join(v) if isinstance(v, list | tuple) else v}" for k, v in value.items()
    )


THEMES = SheetSpec(
    key="themes",
    name="主题",
    aliases=("主题库", "themes"),
    columns=(
        Column("主题代码", "code", required=True, width=14,
               note="网址中使用的小写英文代码，如 enterprise"),
        Column("主题名称", "name", required=True, width=20),
        Column("主题资源代码", "resource_code", parse_code, required=True, width=20,
               text_format=True, note="分类为「主题」的信息资源，其信息项即主题字段"),
        Column("主键类型", "key_kind", parse_key_kind, render_key_kind, required=True,
               choices=("统一社会信用代码", "身份证号"), width=16),
        Column("主体范围资源代码", "population_code", parse_code, width=20, text_format=True,
               note="缺省：主键的权威来源"),
        Column("说明", "description", width=30),
    ),
)  # fmt: skip

THEME_DERIVED = SheetSpec(
    key="theme_derived",
    name="主题派生字段",
    aliases=("派生字段", "theme_derived"),
    columns=(
        Column("主题代码", "theme_code", required=True, width=14),
        Column("派生字段", "field", required=True, width=16, note="主题资源的信息项"),
        Column("规则", "rule", required=True, width=22,
               note="规则登记表中的规则名，见 govshare themes rules"),
        Column("来源资源代码", "sources", parse_codes, width=24, text_format=True,
               note="多个以 、 或 ; 分隔"),
        Column("连接列", "links", parse_names, width=24, note="来源中存放主体代码的列"),
        Column("参数", "params", parse_pairs, render_pairs, width=30,
               note="名=值，多个以 ； 分隔，取值列表以 、 分隔"),
    ),
)  # fmt: skip

CHECKS = SheetSpec(
    key="verifications",
    name="核验事项",
    aliases=("核验", "verifications"),
    columns=(
        Column("核验事项", "check", required=True, width=14,
               note="identity、licence，或其他人员状态核验名如 alive"),
        Column("名称", "name", required=True, width=16),
        Column("主题代码", "theme_code", width=14, note="与信息资源代码二选一"),
        Column("信息资源代码", "resource_code", parse_code, width=20, text_format=True),
        Column("字段", "fields", parse_pairs, render_pairs, required=True, width=36,
               note="角色=信息项：identity 用 name；licence 用 holder、type、valid_until、"
               "state；状态核验用 value"),
        Column("表示是的取值", "yes_values", parse_names, width=20,
               note="证照核验为有效状态；多个以 、 分隔"),
    ),
)  # fmt: skip

# In the order a workbook lists them and an import writes them: who, what for, what, fields.
SHEETS: tuple[SheetSpec, ...] = (
    RESOURCES, ITEMS, DEPARTMENTS, DUTIES, THEMES, THEME_DERIVED, CHECKS,
)  # fmt: skip
WRITE_ORDER: tuple[SheetSpec, ...] = (DEPARTMENTS, DUTIES, RESOURCES, ITEMS)


def sheet_for_name(name: str) -> SheetSpec | None:
    """The template sheet a workbook sheet (or a CSV file stem) stands for, by its name."""
    wanted = compact(name).lower()
    for spec in SHEETS:
        if wanted in {compact(n).lower() for n in (spec.name, spec.key, *spec.aliases)}:
            return spec
    return None


def header_matches(spec: SheetSpec, cells: Iterable[Any]) -> int:
    """How many distinct template columns a row of cells names: the header-row test."""
    return len({c.field for c in map(spec.match, cells) if c is not None})
