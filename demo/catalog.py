"""The demo catalogue of a prefecture-level city (杭州市 codes, invented departments' codes).

Eight departments, their duties, about thirty resources that the later pipelines ingest and
combine into 一企一档 and 一人一档, mounts, and demands in every state, so that the gap report
has real gaps to show: uncatalogued duties, unmounted resources, an unowned demand, a provider
without capability, an overdue review and a 一数一源 conflict.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from catalog import demands, repository, services, themes
from catalog.context import Actor, CatalogContext
from catalog.domain import (
    DataLevel,
    DataType,
    DemandState,
    KeyKind,
    MountKind,
    ResourceClass,
    ResourceState,
    Sensitivity,
    ShareMethod,
    ShareType,
    UpdateCycle,
)
from catalog.schemas import (
    DataItemIn,
    DemandDecisionIn,
    DemandIn,
    DepartmentIn,
    DerivedFieldIn,
    DutyIn,
    MountIn,
    ResourceIn,
    ReviewIn,
    ThemeIn,
    VerificationIn,
)

REGION = "330100"

# (key, name, short name, USCC)
DEPARTMENTS = [
    ("sjj", "杭州市数据资源管理局", "数据局", "11330100AB867A7E0F"),
    ("scjg", "杭州市市场监督管理局", "市场监管", "1133010067FD41C717"),
    ("sw", "国家税务总局杭州市税务局", "税务", "113301000CE0E34929"),
    ("rs", "杭州市人力资源和社会保障局", "人社", "11330100D9DD84E03D"),
    ("ga", "杭州市公安局", "公安", "11330100449159D74N"),
    ("mz", "杭州市民政局", "民政", "11330100CCADFF725U"),
    ("wj", "杭州市卫生健康委员会", "卫健", "11330100C2FE29BA6T"),
    ("zj", "杭州市住房和城乡建设局", "住建", "11330100253EB85C7N"),
]
DEPT = {key: code for key, _n, _s, code in DEPARTMENTS}

# Masking conventions of DOMAIN.md, chosen by what an item holds.
_MASKS = {
    "姓名": "name",
    "法定代表人": "name",
    "身份证号": "id_number",
    "手机号": "mobile",
    "联系电话": "mobile",
    "地址": "address",
    "住所": "address",
    "银行账号": "bank_card",
}


def mask_for(name: str) -> str | None:
    return next((kind for word, kind in _MASKS.items() if word in name), None)


def parse_item(spec: str) -> DataItemIn:
    """'名称:类型:长度:flags' with flags K key, R required, A authoritative, P personal,
    S sensitive personal, L public."""
    name, dtype, length, flags = [*spec.split(":"), "", "", ""][:4]
    sensitivity = Sensitivity.GENERAL
    if "P" in flags:
        sensitivity = Sensitivity.PERSONAL
    if "S" in flags:
        sensitivity = Sensitivity.SENSITIVE_PERSONAL
    if "L" in flags:
        sensitivity = Sensitivity.PUBLIC
    return DataItemIn(
        name=name,
        data_type=DataType(dtype),
        length=int(length) if length else None,
        required="R" in flags or "K" in flags,
        is_key="K" in flags,
        sensitivity=sensitivity,
        mask_kind=mask_for(name) if sensitivity.is_personal else None,
        authoritative="A" in flags,
    )


@dataclass(frozen=True)
class DemoResource:
    """One catalogue entry of the demo, with where it stands and what is behind it."""

    code: str
    name: str
    dept: str
    cls: ResourceClass
    category: str
    share: ShareType
    cycle: UpdateCycle
    items: tuple[str, ...]
    summary: str
    duty: str | None = None
    state: ResourceState = ResourceState.PUBLISHED
    mount: str | None = None  # lake table the ingest jobs fill
    mount_state: str = "mounted"  # mounted | pending | returned
    condition: str = ""
    basis: str = ""
    level: DataLevel = DataLevel.GENERAL
    open_to_public: bool = False
    load: str = "merge"  # merge (table-like) | append (event-like)


USCC = "统一社会信用代码:C:18:KR"
RIC = "身份证号:C:18:KRS"

RESOURCES = [
    # 市场监管: the 法人 base library's source
    DemoResource(
        "000001001/000001",
        "企业登记信息",
        "scjg",
        ResourceClass.BASE,
        "法人",
        ShareType.UNCONDITIONAL,
        UpdateCycle.DAILY,
        (
            "统一社会信用代码:C:18:KRA",
            "企业名称:C:200:RA",
            "法定代表人:C:50:PA",
            "注册资本:Y:18:A",
            "成立日期:D::A",
            "住所:C:200:A",
            "行政区划代码:C:6:A",
            "企业状态:C:10:A",
            "行业代码:C:4:A",
        ),
        "市场主体登记的企业基本信息，包括名称、法定代表人、注册资本、成立日期、住所和经营状态。",
        duty="SCJG-01",
        mount="scjg_enterprise_registration",
        open_to_public=True,
    ),
    DemoResource(
        "000001001/000002",
        "个体工商户登记信息",
        "scjg",
        ResourceClass.BASE,
        "法人",
        ShareType.UNCONDITIONAL,
        UpdateCycle.DAILY,
        (
            "统一社会信用代码:C:18:KR",
            "个体工商户名称:C:200:R",
            "经营者姓名:C:50:P",
            "经营场所:C:200",
            "登记日期:D",
        ),
        "个体工商户登记的基本信息。",
        duty="SCJG-01",
        mount=None,
    ),
    DemoResource(
        "000001002/000001",
        "市场监管行政处罚信息",
        "scjg",
        ResourceClass.DEPARTMENT,
        "行政处罚",
        ShareType.UNCONDITIONAL,
        UpdateCycle.DAILY,
        (
            "处罚决定书文号:C:50:KR",
            USCC,
            "处罚事由:M",
            "处罚金额:Y:18",
            "处罚日期:D:8:R",
            "处罚机关:C:100",
        ),
        "市场监管部门作出的行政处罚决定，按决定书文号逐条报送。",
        duty="SCJG-02",
        mount="scjg_penalties",
        load="append",
        open_to_public=True,
    ),
    DemoResource(
        "000001002/000002",
        "经营异常名录信息",
        "scjg",
        ResourceClass.DEPARTMENT,
        "信用监管",
        ShareType.UNCONDITIONAL,
        UpdateCycle.DAILY,
        (USCC, "列入日期:D:8:R", "列入原因:C:200", "移出日期:D"),
        "被列入经营异常名录的企业及列入、移出情况。",
        duty="SCJG-02",
        mount="scjg_abnormal",
    ),
    DemoResource(
        "000001003/000001",
        "食品经营许可证信息",
        "scjg",
        ResourceClass.BASE,
        "电子证照",
        ShareType.UNCONDITIONAL,
        UpdateCycle.DAILY,
        ("许可证编号:C:30:KR", USCC, "经营项目:C:200", "发证日期:D", "有效期至:D"),
        "食品经营许可证照面信息。",
        duty="SCJG-03",
        state=ResourceState.PENDING,
    ),
    # 税务
    DemoResource(
        "000002001/000001",
        "纳税信用等级信息",
        "sw",
        ResourceClass.DEPARTMENT,
        "社会信用",
        ShareType.CONDITIONAL,
        UpdateCycle.YEARLY,
        (USCC, "评价年度:I:4:KR", "纳税信用等级:C:1:RA"),
        "税务机关评定的企业纳税信用等级（A、B、M、C、D）。",
        duty="SW-01",
        mount="sw_tax_credit",
        condition="用于信用监管、评优评先等法定职责",
    ),
    DemoResource(
        "000002001/000002",
        "企业纳税信息",
        "sw",
        ResourceClass.DEPARTMENT,
        "税收",
        ShareType.CONDITIONAL,
        UpdateCycle.MONTHLY,
        (USCC, "所属期:C:6:KR", "纳税总额:Y:18:RA", "企业名称:C:200"),
        "企业按所属期汇总的纳税额。",
        duty="SW-01",
        mount="sw_tax_paid",
        condition="仅限政策兑现、财政补助审核使用",
        level=DataLevel.IMPORTANT,
    ),
    DemoResource(
        "000002001/000003",
        "欠税公告信息",
        "sw",
        ResourceClass.DEPARTMENT,
        "税收",
        ShareType.UNCONDITIONAL,
        UpdateCycle.QUARTERLY,
        (USCC, "欠税税种:C:50:K", "欠税余额:Y:18"),
        "依法公告的欠税企业信息。",
        duty="SW-02",
        mount=None,
        open_to_public=True,
    ),
    # 人社
    DemoResource(
        "000003001/000001",
        "企业参保信息",
        "rs",
        ResourceClass.DEPARTMENT,
        "社会保障",
        ShareType.UNCONDITIONAL,
        UpdateCycle.MONTHLY,
        (USCC, "参保人数:I:8:RA", "缴费状态:C:10", "统计月份:C:6:R"),
        "用人单位参加社会保险的人数与缴费状态。",
        duty="RS-01",
        mount="rs_enterprise_insurance",
    ),
    DemoResource(
        "000003001/000002",
        "个人社保缴纳信息",
        "rs",
        ResourceClass.DEPARTMENT,
        "社会保障",
        ShareType.CONDITIONAL,
        UpdateCycle.MONTHLY,
        (
            RIC,
            "姓名:C:50:P",
            "参保单位统一社会信用代码:C:18",
            "险种:C:20:K",
            "缴费月份:C:6:K",
            "缴费基数:Y:18:S",
            "参保状态:C:10:A",
        ),
        "个人按月缴纳社会保险的记录。",
        duty="RS-01",
        mount="rs_person_contributions",
        condition="经本人授权或法定职责需要",
        level=DataLevel.IMPORTANT,
        load="append",
    ),
    DemoResource(
        "000003002/000001",
        "就业登记信息",
        "rs",
        ResourceClass.DEPARTMENT,
        "就业",
        ShareType.CONDITIONAL,
        UpdateCycle.DAILY,
        (RIC, "姓名:C:50:P", "用工单位统一社会信用代码:C:18", "就业登记日期:D"),
        "劳动者就业登记与失业登记信息。",
        duty="RS-02",
        mount=None,
        condition="法定职责需要",
    ),
    DemoResource(
        "000003003/000001",
        "职业资格证书信息",
        "rs",
        ResourceClass.BASE,
        "电子证照",
        ShareType.UNCONDITIONAL,
        UpdateCycle.DAILY,
        ("证书编号:C:30:KR", RIC, "姓名:C:50:P", "职业名称:C:100", "等级:C:10", "发证日期:D"),
        "职业资格证书与职业技能等级证书。",
        duty="RS-02",
        state=ResourceState.RETURNED,
    ),
    # 公安: the 人口 base library's source
    DemoResource(
        "000004001/000001",
        "人口基本信息",
        "ga",
        ResourceClass.BASE,
        "人口",
        ShareType.CONDITIONAL,
        UpdateCycle.DAILY,
        (
            "身份证号:C:18:KRSA",
            "姓名:C:50:RPA",
            "性别:C:1:A",
            "出生日期:D::A",
            "民族:C:20:A",
            "户籍地址:C:200:PA",
            "行政区划代码:C:6",
        ),
        "户籍人口的基本信息。",
        duty="GA-01",
        mount="ga_population",
        condition="依法履职需要，经公安机关审核",
        level=DataLevel.IMPORTANT,
    ),
    DemoResource(
        "000004001/000002",
        "户籍注销信息",
        "ga",
        ResourceClass.BASE,
        "人口",
        ShareType.CONDITIONAL,
        UpdateCycle.DAILY,
        (RIC, "注销日期:D:8:R", "注销原因:C:20:R", "死亡日期:D::A"),
        "因死亡、迁出等原因注销户籍的记录。",
        duty="GA-01",
        mount="ga_deregistration",
        condition="依法履职需要",
        load="append",
    ),
    DemoResource(
        "000004002/000001",
        "机动车驾驶证信息",
        "ga",
        ResourceClass.BASE,
        "电子证照",
        ShareType.CONDITIONAL,
        UpdateCycle.DAILY,
        ("驾驶证号:C:18:KR", "姓名:C:50:P", "准驾车型:C:10", "有效期至:D"),
        "机动车驾驶证照面信息。",
        duty="GA-02",
        mount="ga_driving_licence",
        condition="经持证人授权",
    ),
    DemoResource(
        "000004003/000001",
        "在逃人员信息",
        "ga",
        ResourceClass.DEPARTMENT,
        "治安",
        ShareType.NOT_SHARED,
        UpdateCycle.REALTIME,
        (RIC, "姓名:C:50:P", "立案单位:C:100"),
        "公安机关网上追逃信息。",
        duty="GA-03",
        mount="ga_fugitives",
        basis="《中华人民共和国人民警察法》及公安部相关规定，涉及侦查秘密",
        level=DataLevel.CORE,
    ),
    # 民政
    DemoResource(
        "000005001/000001",
        "婚姻登记信息",
        "mz",
        ResourceClass.DEPARTMENT,
        "人口",
        ShareType.CONDITIONAL,
        UpdateCycle.DAILY,
        (
            "登记证号:C:30:KR",
            "男方身份证号:C:18:RS",
            "女方身份证号:C:18:RS",
            "登记类型:C:4:RA",
            "登记日期:D:8:R",
            "登记机关:C:100",
        ),
        "结婚、离婚登记记录。",
        duty="MZ-01",
        mount="mz_marriage",
        condition="办理与婚姻状况相关的政务服务",
        load="append",
    ),
    DemoResource(
        "000005002/000001",
        "社会组织登记信息",
        "mz",
        ResourceClass.BASE,
        "法人",
        ShareType.UNCONDITIONAL,
        UpdateCycle.DAILY,
        (USCC, "社会组织名称:C:200:R", "登记日期:D", "业务主管单位:C:100"),
        "社会团体、民办非企业单位和基金会的登记信息。",
        duty="MZ-02",
        mount="mz_social_orgs",
        mount_state="pending",
    ),
    DemoResource(
        "000005003/000001",
        "最低生活保障信息",
        "mz",
        ResourceClass.DEPARTMENT,
        "社会救助",
        ShareType.CONDITIONAL,
        UpdateCycle.MONTHLY,
        (RIC, "姓名:C:50:P", "保障金额:Y:18:S", "保障起始月份:C:6"),
        "城乡最低生活保障对象及保障金额。",
        duty="MZ-03",
        mount="mz_dibao",
        condition="仅限社会救助核对使用",
        state=ResourceState.RETIRING,
    ),
    # 卫健
    DemoResource(
        "000006001/000001",
        "出生医学证明信息",
        "wj",
        ResourceClass.BASE,
        "电子证照",
        ShareType.CONDITIONAL,
        UpdateCycle.DAILY,
        ("出生医学证明编号:C:20:KR", "新生儿姓名:C:50:P", "母亲身份证号:C:18:S", "出生日期:D:8:R"),
        "新生儿出生医学证明。",
        duty="WJ-01",
        mount="wj_birth_certificates",
        condition="办理出生一件事",
        mount_state="returned",
    ),
    DemoResource(
        "000006001/000002",
        "死亡医学证明信息",
        "wj",
        ResourceClass.DEPARTMENT,
        "人口",
        ShareType.CONDITIONAL,
        UpdateCycle.DAILY,
        (RIC, "死亡日期:D::A", "死亡地点:C:100"),
        "医疗卫生机构出具的死亡医学证明。",
        duty="WJ-01",
        mount="wj_death_certificates",
        condition="办理身后一件事",
        load="append",
    ),
    DemoResource(
        "000006002/000001",
        "医疗机构执业许可证信息",
        "wj",
        ResourceClass.BASE,
        "电子证照",
        ShareType.UNCONDITIONAL,
        UpdateCycle.WEEKLY,
        ("许可证编号:C:30:KR", USCC, "机构名称:C:200", "诊疗科目:M", "有效期至:D"),
        "医疗机构执业许可证照面信息。",
        duty="WJ-02",
        mount="wj_medical_licences",
    ),
    # 住建
    DemoResource(
        "000007001/000001",
        "建筑业企业资质证书信息",
        "zj",
        ResourceClass.BASE,
        "电子证照",
        ShareType.UNCONDITIONAL,
        UpdateCycle.DAILY,
        ("证书编号:C:30:KR", USCC, "资质类别及等级:C:200", "发证日期:D", "有效期至:D"),
        "建筑业企业资质证书。",
        duty="ZJ-01",
        mount="zj_construction_licences",
    ),
    DemoResource(
        "000007002/000001",
        "商品房网签备案信息",
        "zj",
        ResourceClass.DEPARTMENT,
        "住房",
        ShareType.CONDITIONAL,
        UpdateCycle.REALTIME,
        ("合同备案号:C:30:KR", "买受人身份证号:C:18:S", "房屋坐落:C:200:P", "成交金额:Y:18"),
        "新建商品房买卖合同网签备案。",
        duty="ZJ-02",
        mount="zj_housing_contracts",
        condition="办理购房、落户、公积金提取等事项",
        load="append",
    ),
    DemoResource(
        "000007002/000002",
        "住房保障资格信息",
        "zj",
        ResourceClass.DEPARTMENT,
        "住房",
        ShareType.CONDITIONAL,
        UpdateCycle.MONTHLY,
        (RIC, "保障类型:C:20", "资格有效期:D"),
        "公共租赁住房等保障资格。",
        duty="ZJ-02",
        state=ResourceState.DRAFT,
        condition="住房保障审核",
    ),
    # 数据局: the 电子证照 base library and the two themes
    DemoResource(
        "000008001/000001",
        "电子证照信息",
        "sjj",
        ResourceClass.BASE,
        "电子证照",
        ShareType.UNCONDITIONAL,
        UpdateCycle.REALTIME,
        (
            "证照标识:C:64:KR",
            "证照类型:C:50:R",
            "持证主体代码:C:18:R",
            "持证主体名称:C:200:P",
            "证照编号:C:50:R",
            "发证机关:C:100",
            "发证日期:D",
            "有效期至:D",
            "证照状态:C:10",
        ),
        "全市电子证照库汇聚的证照照面信息，一证一接口。",
        duty="SJJ-01",
        mount="sjj_e_licences",
    ),
    DemoResource(
        "000008002/000001",
        "一企一档",
        "sjj",
        ResourceClass.THEME,
        "法人综合",
        ShareType.CONDITIONAL,
        UpdateCycle.DAILY,
        (
            USCC,
            "企业名称:C:200",
            "法定代表人:C:50:P",
            "注册资本:Y:18",
            "企业状态:C:10",
            "纳税信用等级:C:1",
            "参保人数:I:8",
            "行政处罚次数:I:8",
            "有效证照数:I:8",
        ),
        "按统一社会信用代码汇聚的企业主题档案，每个字段标注权威来源和更新时间。",
        duty="SJJ-02",
        mount="theme_enterprise",
        condition="按需授权，字段级审批",
    ),
    DemoResource(
        "000008002/000002",
        "一人一档",
        "sjj",
        ResourceClass.THEME,
        "人口综合",
        ShareType.CONDITIONAL,
        UpdateCycle.DAILY,
        (
            RIC,
            "姓名:C:50:P",
            "性别:C:1",
            "出生日期:D",
            "户籍地址:C:200:P",
            "婚姻状况:C:4:S",
            "参保状态:C:10",
            "死亡日期:D",
            "是否在世:L:1",
        ),
        "按身份证号汇聚的个人主题档案，默认脱敏。",
        duty="SJJ-02",
        mount="theme_person",
        condition="按需授权，默认脱敏",
        level=DataLevel.IMPORTANT,
    ),
    DemoResource(
        "000008003/000001",
        "政务服务事项办件信息",
        "sjj",
        ResourceClass.DEPARTMENT,
        "政务服务",
        ShareType.UNCONDITIONAL,
        UpdateCycle.DAILY,
        ("办件编号:C:40:KR", "事项名称:C:200", "申请人名称:C:200:P", "受理日期:D", "办结日期:D"),
        "一网通办平台的办件过程信息。",
        duty="SJJ-01",
        state=ResourceState.RETIRED,
    ),
]

# (code, dept, name, data items it obliges the department to produce)
DUTIES = [
    (
        "SCJG-01",
        "scjg",
        "市场主体登记注册",
        [
            "统一社会信用代码",
            "企业名称",
            "法定代表人",
            "注册资本",
            "成立日期",
            "住所",
            "企业状态",
            "行业代码",
            "个体工商户名称",
        ],
    ),
    (
        "SCJG-02",
        "scjg",
        "市场监管行政处罚与信用监管",
        ["处罚决定书文号", "处罚事由", "处罚金额", "列入日期", "列入原因"],
    ),
    ("SCJG-03", "scjg", "食品经营许可", ["许可证编号", "经营项目"]),
    ("SCJG-04", "scjg", "产品质量监督抽查", ["抽查批次号", "抽查结果", "产品名称"]),
    ("SW-01", "sw", "税收征管与纳税信用评价", ["纳税信用等级", "评价年度", "纳税总额", "所属期"]),
    ("SW-02", "sw", "欠税公告", ["欠税税种", "欠税余额"]),
    (
        "RS-01",
        "rs",
        "社会保险登记与征缴",
        ["参保人数", "缴费状态", "缴费基数", "缴费月份", "险种", "参保状态"],
    ),
    ("RS-02", "rs", "就业登记与职业资格", ["就业登记日期", "证书编号", "职业名称"]),
    ("RS-03", "rs", "劳动保障监察", ["案件编号", "欠薪金额"]),
    (
        "GA-01",
        "ga",
        "户籍管理",
        ["身份证号", "姓名", "性别", "出生日期", "民族", "户籍地址", "注销日期", "注销原因"],
    ),
    ("GA-02", "ga", "机动车驾驶人管理", ["驾驶证号", "准驾车型"]),
    ("GA-03", "ga", "网上追逃", ["立案单位"]),
    (
        "MZ-01",
        "mz",
        "婚姻登记",
        ["登记证号", "男方身份证号", "女方身份证号", "登记类型", "登记日期"],
    ),
    ("MZ-02", "mz", "社会组织登记", ["社会组织名称", "业务主管单位"]),
    ("MZ-03", "mz", "最低生活保障", ["保障金额", "保障起始月份"]),
    (
        "WJ-01",
        "wj",
        "出生和死亡医学证明管理",
        ["出生医学证明编号", "新生儿姓名", "母亲身份证号", "死亡日期", "死亡地点"],
    ),
    ("WJ-02", "wj", "医疗机构执业登记", ["机构名称", "诊疗科目"]),
    ("WJ-03", "wj", "预防接种管理", ["接种记录编号", "疫苗名称", "接种日期"]),
    ("ZJ-01", "zj", "建筑业企业资质管理", ["资质类别及等级"]),
    ("ZJ-02", "zj", "房地产市场与住房保障", ["合同备案号", "房屋坐落", "成交金额", "保障类型"]),
    ("ZJ-03", "zj", "物业管理", ["物业项目编号", "物业服务企业"]),
    (
        "SJJ-01",
        "sjj",
        "公共数据归集与电子证照库建设",
        ["证照标识", "证照类型", "持证主体代码", "证照编号"],
    ),
    ("SJJ-02", "sjj", "主题库与专题库建设", ["行政处罚次数", "有效证照数", "婚姻状况", "是否在世"]),
]


# The demo's two themes, declared as a steward would (govshare themes define / the 主题 sheet).
ENTERPRISE_THEME = "000008002/000001"
PERSON_THEME = "000008002/000002"
E_LICENCES = "000008001/000001"
THEMES = [
    ThemeIn(
        code="enterprise",
        name="一企一档",
        resource_code=ENTERPRISE_THEME,
        key_kind=KeyKind.USCC,
        description="按统一社会信用代码汇聚的企业档案",
        derived=[
            DerivedFieldIn(
                field="行政处罚次数", rule="count_rows", sources=["000001002/000001"],
                links=["统一社会信用代码"],
            ),
            DerivedFieldIn(
                field="有效证照数", rule="count_valid_licences", sources=[E_LICENCES],
                links=["持证主体代码"],
            ),
        ],
    ),
    ThemeIn(
        code="person",
        name="一人一档",
        resource_code=PERSON_THEME,
        key_kind=KeyKind.RIC,
        description="按身份证号汇聚的个人档案",
        derived=[
            DerivedFieldIn(
                field="婚姻状况", rule="marriage_status", sources=["000005001/000001"],
                links=["男方身份证号", "女方身份证号"],
            ),
            DerivedFieldIn(field="是否在世", rule="alive", params={"death_field": "死亡日期"}),
        ],
    ),
]  # fmt: skip
VERIFICATIONS = [
    VerificationIn(check="identity", name="身份核验", theme_code="person",
                   fields={"name": "姓名"}),
    VerificationIn(check="alive", name="是否在世", theme_code="person",
                   fields={"value": "是否在世"}, yes_values=["true"]),
    VerificationIn(check="married", name="是否已婚", theme_code="person",
                   fields={"value": "婚姻状况"}, yes_values=["已婚"]),
    VerificationIn(check="insured", name="是否参保", theme_code="person",
                   fields={"value": "参保状态"}, yes_values=["参保缴费", "正常参保", "参保"]),
    VerificationIn(
        check="licence", name="证照核验", resource_code=E_LICENCES,
        fields={"holder": "持证主体代码", "type": "证照类型", "valid_until": "有效期至",
                "state": "证照状态"},
        yes_values=["有效", "正常"],
    ),
]  # fmt: skip


def _resource_in(r: DemoResource) -> ResourceIn:
    return ResourceIn(
        code=r.code,
        name=r.name,
        classification=r.cls,
        category=r.category,
        provider_code=DEPT[r.dept],
        summary=r.summary,
        format="数据库",
        share_type=r.share,
        share_condition=r.condition,
        not_shared_basis=r.basis,
        share_method=ShareMethod.API if r.mount else ShareMethod.TABLE,
        open_to_public=r.open_to_public,
        open_condition="依法向社会公开" if r.open_to_public else "",
        update_cycle=r.cycle,
        duty_code=r.duty,
        data_level=r.level,
        business_matter="",
        scenario="",
        items=[parse_item(spec) for spec in r.items],
    )


# Departments that send CSV in GB18030 declare it on the mount; the others send UTF-8.
GB18030_MOUNTS = {"sw_tax_credit", "sw_tax_paid", "rs_person_contributions", "wj_medical_licences"}


def mount_config(r: DemoResource) -> dict[str, object]:
    """How the ingest job reads this resource's extracts."""
    keys = [item.name for item in map(parse_item, r.items) if item.is_key]
    encoding = "gb18030" if r.mount in GB18030_MOUNTS else "utf-8"
    return {"layer": "validated", "key": keys, "load": r.load, "encoding": encoding}


def _walk_to(ctx: CatalogContext, r: DemoResource, steward: Actor) -> None:
    owner = Actor.department(DEPT[r.dept])
    if r.state is ResourceState.DRAFT:
        return
    services.submit_resource(ctx, code=r.code, actor=owner)
    if r.state is ResourceState.PENDING:
        return
    if r.state is ResourceState.RETURNED:
        services.review_resource(
            ctx,
            code=r.code,
            review=ReviewIn(approve=False, reason="信息项缺少数据长度，请补充"),
            actor=steward,
        )
        return
    services.review_resource(ctx, code=r.code, review=ReviewIn(approve=True), actor=steward)
    if r.mount:
        mount = services.add_mount(
            ctx,
            resource_code=r.code,
            spec=MountIn(kind=MountKind.TABLE, target=r.mount, config=mount_config(r)),
            actor=owner,
        )
        if r.mount_state == "mounted":
            services.review_mount(
                ctx, mount_id=mount.id, review=ReviewIn(approve=True), actor=steward
            )
        elif r.mount_state == "returned":
            services.review_mount(
                ctx,
                mount_id=mount.id,
                review=ReviewIn(approve=False, reason="库表字段与目录信息项不一致"),
                actor=steward,
            )
    if r.state in (ResourceState.RETIRING, ResourceState.RETIRED):
        services.request_offline(ctx, code=r.code, reason="业务调整，资源停止更新", actor=owner)
    if r.state is ResourceState.RETIRED:
        services.decide_offline(ctx, code=r.code, confirm=True, actor=steward)


def _demand(
    ctx: CatalogContext,
    requester: str,
    items: list[str],
    purpose: str,
    *,
    resource: str | None = None,
    raw: list[str] | None = None,
    matter: str = "",
) -> str:
    spec = DemandIn(
        resource_code=resource,
        wanted_items=items,
        raw_requested=raw or [],
        purpose=purpose,
        legal_basis="《政务信息资源共享管理暂行办法》（国发〔2016〕51号）",
        business_matter=matter,
        scenario="高效办成一件事",
    )
    demand = demands.submit_demand(
        ctx, requester_code=DEPT[requester], spec=spec, actor=Actor.department(DEPT[requester])
    )
    return demand.code


def seed_demo(ctx: CatalogContext) -> dict[str, int]:
    """Load the demo catalogue into an empty catalogue; refuses to run twice."""
    steward = Actor.steward("demo-steward", DEPT["sjj"])
    if repository.department_or_none(ctx.session, DEPT["sjj"]):
        from catalog.errors import Conflict

        raise Conflict("演示目录已加载 (the demo catalogue is already loaded)")
    for key, name, short, code in DEPARTMENTS:
        services.register_department(
            ctx,
            spec=DepartmentIn(
                code=code,
                name=name,
                short_name=short,
                region_code=REGION,
                is_data_authority=key == "sjj",
            ),
            actor=steward,
        )
    for code, dept, name, items in DUTIES:
        services.add_duty(
            ctx,
            spec=DutyIn(code=code, department_code=DEPT[dept], name=name, data_items=items),
            actor=Actor.department(DEPT[dept]),
        )
    for r in RESOURCES:
        services.create_resource(ctx, spec=_resource_in(r), actor=Actor.department(DEPT[r.dept]))
        _walk_to(ctx, r, steward)
    for theme in THEMES:
        themes.define_theme(ctx, spec=theme, actor=steward)
    for check in VERIFICATIONS:
        themes.define_verification(ctx, spec=check, actor=steward)

    # Demands in every state. One was filed 30 days ago and never answered: overdue.
    past = replace(ctx, clock=lambda: ctx.now() - timedelta(days=30))
    past.calendar = ctx.calendar
    _demand(
        past,
        "zj",
        ["身份证号", "姓名", "户籍地址"],
        "住房保障资格审核",
        resource="000004001/000001",
        matter="公租房申请",
    )
    _demand(
        ctx,
        "sw",
        ["统一社会信用代码", "企业名称", "法定代表人", "注册资本"],
        "税务登记信息确认",
        resource="000001001/000001",
        matter="新办纳税人套餐",
    )
    _demand(
        ctx,
        "mz",
        ["身份证号", "姓名", "出生日期"],
        "低保对象身份核验",
        resource="000004001/000001",
        matter="社会救助申请",
    )
    approved = _demand(
        ctx,
        "rs",
        ["统一社会信用代码", "纳税信用等级"],
        "就业补贴企业资格审核",
        resource="000002001/000001",
        matter="企业吸纳就业补贴",
    )
    refused = _demand(
        ctx,
        "zj",
        ["统一社会信用代码", "纳税总额", "所属期"],
        "建筑企业信用评价",
        resource="000002001/000002",
    )
    _demand(ctx, "wj", ["身份证号", "姓名"], "医疗救助对象核查", resource="000004003/000001")
    _demand(ctx, "rs", ["不动产权证号", "不动产坐落"], "人才安居资格审核", matter="人才落户")
    _demand(ctx, "rs", ["接种记录编号", "疫苗名称", "接种日期"], "入学入职健康核验")
    withdrawn = _demand(
        ctx,
        "wj",
        ["登记证号", "登记类型"],
        "出生一件事婚姻状况确认",
        resource="000005001/000001",
        raw=["登记类型"],
    )
    sw = Actor.department(DEPT["sw"])
    demands.decide_demand(
        ctx,
        code=approved,
        decision=DemandDecisionIn(approve=True, reason="符合法定职责", raw_fields=[]),
        actor=sw,
    )
    demands.decide_demand(
        ctx,
        code=refused,
        decision=DemandDecisionIn(
            approve=False, reason="用途超出共享条件，纳税额仅限政策兑现审核使用"
        ),
        actor=sw,
    )
    demands.withdraw_demand(ctx, code=withdrawn, actor=Actor.department(DEPT["wj"]))
    states = [d.state for d in repository.demands(ctx.session)]
    return {
        "departments": len(DEPARTMENTS),
        "duties": len(DUTIES),
        "resources": len(RESOURCES),
        "demands": len(states),
        "demand_states": len(set(states)),
        "pending": sum(s is DemandState.PENDING for s in states),
    }
