"""A synthetic 杭州市 catalogue for benchmarks: realistic Chinese resources, loaded in bulk.

Names, summaries and data items are drawn from word pools with a seeded ``random.Random``, so
the same seed always yields the same catalogue. Going through ``services.create_resource``
costs several milliseconds per resource (validation, history, a version snapshot, one flush
per resource); the loader here writes, with SQLAlchemy Core ``executemany``, the same
``resources`` and ``data_items`` rows the service would write, and indexes each batch with
``search.index_resources`` as a committing unit does, so that search sees exactly what it sees
in production. The audit rows (``resource_versions``, ``history``)
are left out: search never reads them.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Engine, func, insert, select, text
from stdnum.cn import uscc

from catalog import search
from catalog.domain import (
    ResourceClass,
    ResourceState,
    ShareMethod,
    ShareType,
    UpdateCycle,
)
from catalog.models import DataItem, Department, Resource
from catalog.safeguards import effective_sensitivity
from catalog.schemas import DataItemIn, DepartmentIn, ResourceIn
from catalog.services import CONTENT_FIELDS
from demo.catalog import DEPARTMENTS as DEMO_DEPARTMENTS
from demo.catalog import parse_item

# Every timestamp of the synthetic catalogue: fixed, so two runs write identical rows.
LOADED_AT = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)

# (行政区划代码, district name); "" is the city itself. Only codes python-stdnum knows, because
# department codes are validated against GB/T 2260.
REGIONS = (
    ("330100", ""),
    ("330102", "上城区"),
    ("330105", "拱墅区"),
    ("330106", "西湖区"),
    ("330108", "滨江区"),
    ("330109", "萧山区"),
    ("330110", "余杭区"),
    ("330111", "富阳区"),
    ("330112", "临安区"),
    ("330122", "桐庐县"),
    ("330127", "淳安县"),
    ("330182", "建德市"),
)


@dataclass(frozen=True)
class Bureau:
    """A kind of department, its business topics ('话题:E|P|X' = enterprise, person, thing)
    and the data items specific to it ('名称:类型:长度:flags', flags K key, P personal,
    S sensitive personal)."""

    name: str
    short: str
    demo_key: str | None
    classification: ResourceClass
    topics: tuple[str, ...]
    items: tuple[str, ...]


BUREAUS = (
    Bureau(
        "市场监督管理局",
        "市场监管",
        "scjg",
        ResourceClass.BASE,
        (
            "企业登记:E",
            "个体工商户登记:E",
            "营业执照:E",
            "食品经营许可:E",
            "行政处罚:E",
            "经营异常名录:E",
            "特种设备检验:X",
            "商标质押登记:E",
            "农民专业合作社登记:E",
            "计量器具检定:X",
        ),
        (
            "许可证编号:C:30",
            "处罚决定书文号:C:50",
            "处罚事由:M",
            "处罚金额:Y:18",
            "列入日期:D",
            "列入原因:C:200",
            "设备类别:C:50",
            "检验结论:C:20",
            "经营项目:C:200",
        ),
    ),
    Bureau(
        "税务局",
        "税务",
        "sw",
        ResourceClass.DEPARTMENT,
        (
            "纳税信用等级:E",
            "企业纳税:E",
            "欠税公告:E",
            "发票开具:E",
            "出口退税:E",
            "个人所得税缴纳:P",
            "税收减免:E",
            "社会保险费征收:E",
        ),
        (
            "评价年度:I:4",
            "纳税信用等级:C:1",
            "所属期:C:6",
            "纳税总额:Y:18",
            "欠税税种:C:50",
            "欠税余额:Y:18",
            "发票代码:C:12",
            "发票金额:Y:18",
            "减免税额:Y:18",
        ),
    ),
    Bureau(
        "人力资源和社会保障局",
        "人社",
        "rs",
        ResourceClass.DEPARTMENT,
        (
            "企业参保:E",
            "个人社保缴纳:P",
            "就业登记:P",
            "职业资格证书:P",
            "失业保险金发放:P",
            "工伤认定:P",
            "劳动合同备案:P",
            "人才引进:P",
        ),
        (
            "险种:C:20",
            "缴费月份:C:6",
            "缴费基数:Y:18:S",
            "参保状态:C:10",
            "参保人数:I:8",
            "证书编号:C:30",
            "职业名称:C:50",
            "技能等级:C:10",
            "发放金额:Y:18",
            "认定结论:C:50",
        ),
    ),
    Bureau(
        "公安局",
        "公安",
        "ga",
        ResourceClass.BASE,
        (
            "人口基本:P",
            "户籍迁移:P",
            "机动车驾驶证:P",
            "机动车登记:X",
            "居住证办理:P",
            "出入境证件:P",
            "道路交通违法:P",
            "流动人口登记:P",
        ),
        (
            "准驾车型:C:10",
            "驾驶证档案编号:C:20",
            "号牌号码:C:10",
            "车辆类型:C:20",
            "居住证编号:C:30",
            "居住地址:C:200:P",
            "证件类型:C:20",
            "违法行为:C:200",
            "记分:I:2",
            "迁入地址:C:200:P",
        ),
    ),
    Bureau(
        "民政局",
        "民政",
        "mz",
        ResourceClass.DEPARTMENT,
        (
            "婚姻登记:P",
            "社会组织登记:E",
            "最低生活保障:P",
            "特困人员供养:P",
            "养老机构备案:E",
            "殡葬服务:P",
            "残疾人两项补贴:P",
            "地名管理:X",
        ),
        (
            "登记证号:C:30",
            "登记类型:C:4",
            "男方身份证号:C:18:S",
            "女方身份证号:C:18:S",
            "保障人数:I:4",
            "保障金额:Y:18",
            "床位数:I:6",
            "补贴金额:Y:18",
            "地名代码:C:20",
            "标准名称:C:100",
        ),
    ),
    Bureau(
        "卫生健康委员会",
        "卫健",
        "wj",
        ResourceClass.DEPARTMENT,
        (
            "出生医学证明:P",
            "死亡医学证明:P",
            "医疗机构执业许可:E",
            "医师执业注册:P",
            "预防接种:P",
            "母婴保健:P",
            "健康体检:P",
        ),
        (
            "出生医学证明编号:C:20",
            "新生儿姓名:C:50:P",
            "出生时间:T",
            "死亡原因:C:200:S",
            "执业许可证号:C:30",
            "诊疗科目:C:200",
            "执业类别:C:50",
            "疫苗名称:C:100",
            "接种日期:D",
            "体检结论:M::S",
        ),
    ),
    Bureau(
        "住房和城乡建设局",
        "住建",
        "zj",
        ResourceClass.DEPARTMENT,
        (
            "建筑业企业资质:E",
            "商品房网签备案:X",
            "住房保障资格:P",
            "建设工程施工许可:E",
            "物业服务企业:E",
            "房屋安全鉴定:X",
        ),
        (
            "资质证书编号:C:30",
            "资质等级:C:20",
            "合同编号:C:30",
            "房屋坐落:C:200",
            "建筑面积:N:10",
            "成交价格:Y:18",
            "施工许可证编号:C:30",
            "项目名称:C:200",
            "鉴定等级:C:4",
        ),
    ),
    Bureau(
        "数据资源管理局",
        "数据局",
        "sjj",
        ResourceClass.THEME,
        ("电子证照:X", "一企一档:E", "一人一档:P", "政务服务办件:X", "公共数据目录:X"),
        (
            "证照标识:C:64",
            "证照类型:C:50",
            "持证主体名称:C:200:P",
            "办件编号:C:40",
            "事项名称:C:200",
            "办结时限:I:4",
            "目录编码:C:40",
        ),
    ),
    Bureau(
        "教育局",
        "教育",
        None,
        ResourceClass.DEPARTMENT,
        ("学籍:P", "教师资格证书:P", "民办学校办学许可:E", "学生资助:P", "义务教育入学报名:P"),
        (
            "学籍号:C:30",
            "学校名称:C:200",
            "年级:C:10",
            "资格种类:C:50",
            "任教学科:C:50",
            "资助金额:Y:18",
            "办学许可证号:C:30",
        ),
    ),
    Bureau(
        "交通运输局",
        "交通",
        None,
        ResourceClass.DEPARTMENT,
        ("道路运输经营许可:E", "营运车辆:X", "网约车驾驶员证:P", "出租汽车:X", "超限运输许可:E"),
        (
            "道路运输证号:C:30",
            "许可经营范围:C:200",
            "车辆识别代号:C:17",
            "核定载客:I:3",
            "从业资格证号:C:30",
        ),
    ),
    Bureau(
        "规划和自然资源局",
        "规划资源",
        None,
        ResourceClass.BASE,
        (
            "不动产登记:X",
            "国有土地使用权出让:X",
            "建设用地规划许可:E",
            "测绘资质:E",
            "地质灾害隐患点:X",
        ),
        (
            "不动产单元号:C:28",
            "不动产权证号:C:50",
            "权利人:C:200:P",
            "宗地面积:N:12",
            "土地用途:C:50",
            "出让金额:Y:18",
            "隐患等级:C:10",
        ),
    ),
    Bureau(
        "生态环境局",
        "生态环境",
        None,
        ResourceClass.DEPARTMENT,
        (
            "排污许可证:E",
            "环境行政处罚:E",
            "建设项目环评审批:E",
            "重点排污单位:E",
            "空气质量监测:X",
        ),
        (
            "排污许可证编号:C:30",
            "排放口编号:C:20",
            "污染物种类:C:100",
            "环评文号:C:50",
            "监测点位:C:100",
            "监测时间:T",
            "PM2.5浓度:N:8",
        ),
    ),
    Bureau(
        "医疗保障局",
        "医保",
        None,
        ResourceClass.DEPARTMENT,
        ("医保参保:P", "医保费用结算:P", "定点医药机构:E", "医保药品目录:X", "大病保险:P"),
        (
            "医保编码:C:30",
            "结算金额:Y:18",
            "统筹支付:Y:18",
            "个人自付:Y:18:S",
            "就诊日期:D",
            "药品名称:C:200",
            "机构等级:C:10",
        ),
    ),
    Bureau(
        "住房公积金管理中心",
        "公积金",
        None,
        ResourceClass.DEPARTMENT,
        ("公积金缴存:P", "公积金贷款:P", "公积金提取:P", "单位公积金开户:E"),
        (
            "公积金账号:C:20",
            "缴存基数:Y:18:S",
            "月缴存额:Y:18",
            "贷款金额:Y:18",
            "提取原因:C:50",
            "账户状态:C:10",
        ),
    ),
    Bureau(
        "农业农村局",
        "农业农村",
        None,
        ResourceClass.DEPARTMENT,
        ("家庭农场名录:E", "农药经营许可:E", "动物防疫:X", "农机购置补贴:P", "土地承包经营权:P"),
        (
            "农场名称:C:200",
            "种植面积:N:10",
            "农药许可证编号:C:30",
            "免疫数量:I:8",
            "购置补贴金额:Y:18",
            "承包地块编码:C:30",
        ),
    ),
    Bureau(
        "应急管理局",
        "应急",
        None,
        ResourceClass.DEPARTMENT,
        ("安全生产许可证:E", "危险化学品经营许可:E", "应急救援物资:X", "安全生产行政处罚:E"),
        (
            "安全生产许可证编号:C:30",
            "许可范围:C:200",
            "物资名称:C:100",
            "储备数量:I:10",
            "行政处罚决定书文号:C:50",
            "罚款金额:Y:18",
        ),
    ),
)

# Items every resource about an enterprise (E) or a person (P) may carry; the first is the key.
SUBJECT_ITEMS = {
    "E": (
        "统一社会信用代码:C:18:K",
        "企业名称:C:200",
        "法定代表人:C:50:P",
        "注册资本:Y:18",
        "成立日期:D",
        "住所:C:200",
        "经营范围:M",
        "登记机关:C:100",
        "企业状态:C:10",
        "行业代码:C:4",
        "行政区划代码:C:6",
        "联系电话:C:20:P",
    ),
    "P": (
        "身份证号:C:18:KS",
        "姓名:C:50:P",
        "性别:C:1",
        "出生日期:D",
        "民族:C:20",
        "户籍地址:C:200:P",
        "手机号:C:11:P",
        "婚姻状况:C:10:S",
        "工作单位:C:200",
        "学历:C:20",
    ),
    "X": ("业务编号:C:40:K", "名称:C:200", "所在地址:C:200", "行政区划代码:C:6", "负责人:C:50:P"),
}
GENERIC_ITEMS = (
    "办理状态:C:10",
    "办结日期:D",
    "审批部门:C:100",
    "有效期至:D",
    "发证日期:D",
    "证照编号:C:50",
    "数据来源:C:50",
    "更新时间:T",
    "备注:M",
    "业务流水号:C:32",
    "受理日期:D",
    "经办人:C:50:P",
)

QUALIFIERS = ("", "", "", "", "", "变更", "注销", "年度", "历史", "汇总", "核验", "统计", "明细")
SUFFIXES = ("信息", "信息", "信息", "信息", "信息", "信息", "数据", "台账", "名录", "清单")
KINDS = ("数据", "记录", "信息", "台账")
SCENARIOS = (
    "政策兑现",
    "信用监管",
    "一网通办",
    "跨部门协同审批",
    "基层社会治理",
    "统计分析",
    "联合惩戒",
    "惠企政策直达",
    "社会救助家庭经济状况核对",
    "营商环境评价",
    "城市大脑",
    "市场主体准入准营",
    "公共服务精准供给",
)
SUMMARY_TEMPLATES = (
    "{region}{short}部门归集的{topic}{kind}，包括{items}等信息项，{cycle}更新。",
    "记录{region}{topic}业务办理情况，含{items}，主要用于{scenario}。",
    "{topic}业务系统产生的{kind}，{cycle}汇聚至市公共数据平台，支撑{scenario}。",
    "依法履行{topic}职责形成的{kind}，提供{items}，可用于{scenario}等场景。",
)
SUMMARY_PADDING = ("数据由{short}部门负责维护。", "按国家标准规范编目。", "已完成数据质量核查。")
SHARE_CONDITIONS = tuple(f"仅限{s}使用，不得向第三方提供" for s in SCENARIOS)
NOT_SHARED_BASIS = (
    "依据《中华人民共和国个人信息保护法》第二十八条，敏感个人信息不予共享",
    "依据《中华人民共和国保守国家秘密法》，涉密数据不予共享",
)
_SHARE_WEIGHTS = (
    (ShareType.UNCONDITIONAL, 6),
    (ShareType.CONDITIONAL, 3),
    (ShareType.NOT_SHARED, 1),
)
_STATE_WEIGHTS = (
    (ResourceState.PUBLISHED, 85),
    (ResourceState.PENDING, 5),
    (ResourceState.DRAFT, 5),
    (ResourceState.RETIRED, 5),
)
_CYCLE_WEIGHTS = (
    (UpdateCycle.REALTIME, 2),
    (UpdateCycle.DAILY, 5),
    (UpdateCycle.MONTHLY, 3),
    (UpdateCycle.YEARLY, 1),
    (UpdateCycle.IRREGULAR, 1),
)
MAX_RESOURCES = 999_999  # the 后段码 is six digits

T = TypeVar("T")


@dataclass(frozen=True)
class GeneratedDepartment:
    spec: DepartmentIn
    bureau: Bureau
    district: str  # "" for the city level


@dataclass(frozen=True)
class GeneratedResource:
    """One synthetic catalogue entry: what a provider would submit, and where it stands."""

    spec: ResourceIn
    state: ResourceState
    department: GeneratedDepartment
    topic: str


def _weighted(rng: random.Random, pairs: Sequence[tuple[T, int]]) -> T:
    return rng.choices([v for v, _ in pairs], weights=[w for _, w in pairs])[0]


def _uscc(region: str, n: int) -> str:
    base = f"11{region}{n:09d}"
    return base + uscc.calc_check_digit(base)


def departments() -> list[GeneratedDepartment]:
    """Every bureau in the city and in each district; the city's demo ones keep their codes."""
    demo = {key: (name, short, code) for key, name, short, code in DEMO_DEPARTMENTS}
    found: list[GeneratedDepartment] = []
    for b_no, bureau in enumerate(BUREAUS, start=1):
        for r_no, (region, district) in enumerate(REGIONS):
            if not district and bureau.demo_key in demo:
                name, short, code = demo[bureau.demo_key]
            else:
                # 杭州市西湖区…局, but 建德市…局: a county or county-level city stands alone.
                place = f"杭州市{district}" if not district or district.endswith("区") else district
                if bureau.demo_key == "sw":
                    place = f"国家税务总局{place}"
                name, short = f"{place}{bureau.name}", bureau.short
                code = _uscc(region, b_no * 100 + r_no)
            spec = DepartmentIn(
                code=code,
                name=name,
                short_name=short,
                region_code=region,
                is_data_authority=bureau.demo_key == "sjj" and not district,
            )
            found.append(GeneratedDepartment(spec=spec, bureau=bureau, district=district))
    return found


_ITEM_CACHE: dict[str, DataItemIn] = {}


def _cached_item(spec: str) -> DataItemIn:
    """Item specs repeat endlessly; validate each once (the models are immutable in use)."""
    if spec not in _ITEM_CACHE:
        _ITEM_CACHE[spec] = parse_item(spec)
    return _ITEM_CACHE[spec]


def _summary(rng: random.Random, fields: dict[str, str], item_names: list[str]) -> str:
    """A 30-80 character summary in one of the templates, naming a few of the items."""
    template = rng.choice(SUMMARY_TEMPLATES)
    shown = rng.sample(item_names, k=min(len(item_names), rng.randint(2, 4)))
    while True:
        text = template.format(items="、".join(shown), **fields)
        if len(text) <= 80 or len(shown) == 1:
            break
        shown.pop()
    while len(text) < 30:
        text += rng.choice(SUMMARY_PADDING).format(**fields)
    return text[:79] + "。" if len(text) > 80 else text


def resources(
    n: int, depts: Sequence[GeneratedDepartment], *, seed: int
) -> Iterator[GeneratedResource]:
    """``n`` resources spread over ``depts`` (city-level ones three times as often)."""
    if not 0 < n <= MAX_RESOURCES:
        raise ValueError(f"between 1 and {MAX_RESOURCES} resources, not {n}")
    rng = random.Random(seed)
    weights = [1 if d.district else 3 for d in depts]
    for seq in range(1, n + 1):
        dept = rng.choices(depts, weights=weights)[0]
        bureau = dept.bureau
        t_no = rng.randrange(len(bureau.topics))
        topic, subject = bureau.topics[t_no].split(":")
        name = f"{dept.spec.name}{topic}{rng.choice(QUALIFIERS)}{rng.choice(SUFFIXES)}"
        if rng.random() < 0.08:
            name += f"（{rng.randint(2015, 2025)}年度）"
        pool = SUBJECT_ITEMS[subject]
        wanted = rng.randint(5, 12)
        own = rng.sample(bureau.items, k=min(len(bureau.items), rng.randint(2, 5)))
        rest = [s for s in (*pool[1:], *GENERIC_ITEMS) if s not in own]
        chosen = [pool[0], *own, *rng.sample(rest, k=max(0, wanted - 1 - len(own)))]
        items = [_cached_item(s) for s in chosen[:wanted]]
        cycle = _weighted(rng, _CYCLE_WEIGHTS)
        fields = {
            "region": dept.district or "全市",
            "short": bureau.short,
            "topic": topic,
            "kind": rng.choice(KINDS),
            "cycle": cycle.value,
            "scenario": rng.choice(SCENARIOS),
        }
        share = _weighted(rng, _SHARE_WEIGHTS)
        state = _weighted(rng, _STATE_WEIGHTS)
        region_no = next(i for i, (code, _) in enumerate(REGIONS) if code == dept.spec.region_code)
        b_no = BUREAUS.index(bureau) + 1
        spec = ResourceIn(
            code=f"{b_no:03d}{t_no + 1:03d}{region_no:03d}/{seq:06d}",
            name=name,
            classification=bureau.classification,
            category=topic,
            provider_code=dept.spec.code,
            summary=_summary(rng, fields, [i.name for i in items]),
            share_type=share,
            share_condition=rng.choice(SHARE_CONDITIONS) if share is ShareType.CONDITIONAL else "",
            not_shared_basis=rng.choice(NOT_SHARED_BASIS) if share is ShareType.NOT_SHARED else "",
            share_method=rng.choice(list(ShareMethod)),
            update_cycle=cycle,
            publish_date=(
                date(2019, 1, 1) + timedelta(days=rng.randrange(2600))
                if state is ResourceState.PUBLISHED
                else None
            ),
            scenario=fields["scenario"],
            items=items,
        )
        yield GeneratedResource(spec=spec, state=state, department=dept, topic=topic)


# ---- loading ---------------------------------------------------------------------------


def resource_row(
    resource: GeneratedResource, *, resource_id: int, provider_id: int
) -> dict[str, Any]:
    """The ``resources`` row ``services.create_resource`` writes for this spec."""
    row: dict[str, Any] = {name: getattr(resource.spec, name) for name in CONTENT_FIELDS}
    row.update(
        id=resource_id,
        provider_id=provider_id,
        duty_id=None,
        related_codes=list(resource.spec.related_codes),
        state=resource.state,
        state_changed_at=LOADED_AT,
        version=1,
        created_at=LOADED_AT,
        updated_at=LOADED_AT,
    )
    return row


def item_rows(spec: ResourceIn, *, resource_id: int, first_id: int) -> list[dict[str, Any]]:
    """The ``data_items`` rows, positioned as ``services._items`` positions them."""
    return [
        {"id": first_id + position, "resource_id": resource_id, "position": position}
        | item.model_dump()
        | dict(
            zip(
                ("sensitivity", "mask_kind"),
                effective_sensitivity(item.name, item.sensitivity, item.mask_kind),
                strict=True,
            )
        )
        for position, item in enumerate(spec.items)
    ]


@dataclass
class LoadStats:
    departments: int = 0
    resources: int = 0
    items: int = 0
    documents: int = 0
    seconds: float = 0.0


def load(
    engine: Engine,
    depts: Sequence[GeneratedDepartment],
    generated: Iterable[GeneratedResource],
    *,
    batch_size: int = 2000,
    on_batch: Callable[[int], None] | None = None,
) -> LoadStats:
    """Bulk-insert into an empty, migrated catalogue in one transaction; ``on_batch`` gets
    the number of resources written after each batch (for progress display)."""
    stats = LoadStats(departments=len(depts))
    with engine.begin() as conn:
        if conn.scalar(select(func.count()).select_from(Resource)):
            raise RuntimeError("the benchmark loads into an empty catalogue only")
        dept_rows = [
            {"id": n, **d.spec.model_dump(exclude={"parent_code"}), "parent_id": None}
            for n, d in enumerate(depts, start=1)
        ]
        conn.execute(insert(Department), dept_rows)
        dept_ids = {row["code"]: row["id"] for row in dept_rows}
        resources_: list[dict[str, Any]] = []
        items: list[dict[str, Any]] = []

        def flush() -> None:
            conn.execute(insert(Resource), resources_)
            conn.execute(insert(DataItem), items)
            search.index_resources(conn, [row["id"] for row in resources_])
            stats.resources += len(resources_)
            stats.items += len(items)
            stats.documents += len(resources_)
            resources_.clear()
            items.clear()
            if on_batch is not None:
                on_batch(stats.resources)

        for resource_id, resource in enumerate(generated, start=1):
            spec = resource.spec
            resources_.append(
                resource_row(
                    resource, resource_id=resource_id, provider_id=dept_ids[spec.provider_code]
                )
            )
            items.extend(
                item_rows(spec, resource_id=resource_id, first_id=stats.items + len(items) + 1)
            )
            if len(resources_) >= batch_size:
                flush()
        if resources_:
            flush()
        if conn.dialect.name == "postgresql":
            # Ids were given explicitly; later inserts must continue after them.
            for table in ("departments", "resources", "data_items"):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
    return stats
