"""The catalogue as a DCAT-AP 3.0 feed in JSON-LD, for open-data portals of the CKAN kind.

Two feeds come from here. The **public** one is what open-data portals harvest: it lists only
published resources whose open attribute (是否向社会开放) allows it, and never a 不予共享 one, so
nothing the public may not see leaves the platform through it. The **full** one lists every
published resource, for stewards only. Neither names the provider's internal tables: access
goes through the exchange API, at the configured public address.

Harvesters (ckanext-dcat and the like) understand DCAT-AP with the EU controlled vocabularies
for update frequency, access rights, languages and file types, so our Chinese terms are mapped
onto those URIs, and every node carries the class the DCAT-AP 3.0.0 SHACL shapes expect.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from catalog import auth, batches, repository
from catalog.context import Actor, CatalogContext
from catalog.domain import DataType, ResourceState, ShareType, UpdateCycle
from catalog.errors import NotAuthorized
from catalog.identifiers import region_name
from catalog.models import Department, Resource
from catalog.mounts import capability
from catalog.schemas import ResourceOut
from catalog.views import resource_out
from infra.settings import Settings

DEFAULT_BASE_URI = "urn:govshare:"
API_PATH = "/api/v1"

CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "csvw": "http://www.w3.org/ns/csvw#",
}

EU_FREQUENCY = "http://publications.europa.eu/resource/authority/frequency/"
EU_ACCESS_RIGHT = "http://publications.europa.eu/resource/authority/access-right/"
EU_FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
EU_LANGUAGE_ZH = "http://publications.europa.eu/resource/authority/language/ZHO"
IANA = "http://www.iana.org/assignments/media-types/"
ADMS_PUBLISHER_TYPE = "http://purl.org/adms/publishertype/"

FREQUENCY = {
    UpdateCycle.REALTIME: "UPDATE_CONT",
    UpdateCycle.DAILY: "DAILY",
    UpdateCycle.WEEKLY: "WEEKLY",
    UpdateCycle.MONTHLY: "MONTHLY",
    UpdateCycle.QUARTERLY: "QUARTERLY",
    UpdateCycle.HALF_YEARLY: "ANNUAL_2",
    UpdateCycle.YEARLY: "ANNUAL",
    UpdateCycle.IRREGULAR: "IRREG",
}

# 数据类型 of the guideline as CSVW built-in datatypes (the XSD names CSVW uses).
CSVW_DATATYPE = {
    DataType.CHAR: "string",
    DataType.NUMBER: "decimal",
    DataType.MONEY: "decimal",
    DataType.DATE: "date",
    DataType.DATETIME: "dateTime",
    DataType.LOGICAL: "boolean",
    DataType.MEMO: "string",
    DataType.GENERAL: "string",
    DataType.DOUBLE: "double",
    DataType.INTEGER: "integer",
    DataType.FLOAT: "double",
}


@dataclass(frozen=True)
class ServedFormat:
    """A format the exchange API serves a resource in (``/extracts/{code}?format=…``)."""

    key: str
    label: str
    media_type: str
    file_type: str


CSV = ServedFormat("csv", "CSV", "text/csv", "CSV")
PARQUET = ServedFormat("parquet", "Parquet", "application/vnd.apache.parquet", "PARQUET")
JSON = ServedFormat("json", "JSON", "application/json", "JSON")


@dataclass(frozen=True)
class FeedOptions:
    """What a deployment decides about its feed (from the settings)."""

    base_uri: str
    public_base_url: str
    license_url: str
    license_title: str
    contact_email: str | None
    platform_name: str

    @classmethod
    def from_settings(cls, settings: Settings, *, base_uri: str | None = None) -> FeedOptions:
        return cls(
            base_uri=base_uri or DEFAULT_BASE_URI,
            public_base_url=settings.public_base_url.rstrip("/"),
            license_url=settings.open_data_license_url,
            license_title=settings.open_data_license_title,
            contact_email=settings.open_data_contact_email,
            platform_name=settings.open_data_publisher_name,
        )

    @property
    def api(self) -> str:
        return self.public_base_url + API_PATH


@dataclass(frozen=True)
class DatasetFacts:
    """One resource and what the feed says about it beyond the resource's own metadata."""

    resource: ResourceOut
    region_code: str
    modified: datetime
    usable: bool  # has a mounted capability: the API can serve it
    data_dates: tuple[date, date] | None  # first and last data date of published batches


@dataclass(frozen=True)
class AgentFacts:
    code: str
    name: str
    region_code: str | None


def iri(base: str, kind: str, key: str) -> str:
    """A stable identifier: ``urn:govshare:dataset:<前段码>/<后段码>`` under the default base,
    ``https://portal/…/dataset/<前段码>%2F<后段码>`` under an http one."""
    if base.startswith("urn:"):
        return f"{base}{kind}:{quote(key, safe='/')}"
    return f"{base.rstrip('/')}/{kind}/{quote(key, safe='')}"


def _zh(text: str) -> dict[str, str]:
    return {"@value": text, "@language": "zh"}


def _url(address: str) -> dict[str, str]:
    """A web address as a node; typed so the shapes' ``sh:class rdfs:Resource`` holds without
    RDFS inference (harvesters validate without it)."""
    return {"@id": address, "@type": "rdfs:Resource"}


def _date(value: date) -> dict[str, str]:
    return {"@value": value.isoformat(), "@type": "xsd:date"}


def _datetime(value: datetime) -> dict[str, str]:
    return {"@value": value.isoformat(timespec="seconds"), "@type": "xsd:dateTime"}


def is_open(resource: ResourceOut | Resource) -> bool:
    """Whether the public may see the resource: open to society and not 不予共享."""
    return resource.open_to_public and resource.share_type is not ShareType.NOT_SHARED


def access_right(resource: ResourceOut) -> str:
    """不予共享 is never public, even if also marked open; open data is public; the rest is
    shared between departments only."""
    if resource.share_type is ShareType.NOT_SHARED:
        return EU_ACCESS_RIGHT + "NON_PUBLIC"
    if resource.open_to_public:
        return EU_ACCESS_RIGHT + "PUBLIC"
    return EU_ACCESS_RIGHT + "RESTRICTED"


def publisher_type(region_code: str | None) -> str | None:
    """ADMS publisher type from the level of the department's 行政区划 (GB/T 2260)."""
    if region_code is None:
        return None
    if region_code == "100000":
        return "NationalAuthority"
    if region_code.endswith("0000"):
        return "RegionalAuthority"  # a province
    return "LocalAuthority"  # a city or a county


def _agent(base: str, agent: AgentFacts) -> dict[str, Any]:
    found: dict[str, Any] = {
        "@id": iri(base, "organization", agent.code),
        "@type": ["foaf:Agent", "foaf:Organization"],
        "foaf:name": _zh(agent.name),
        "dct:identifier": agent.code,
    }
    kind = publisher_type(agent.region_code)
    if kind is not None:
        found["dct:type"] = {
            "@id": ADMS_PUBLISHER_TYPE + kind,
            "@type": "skos:Concept",
            "skos:prefLabel": {"@value": kind, "@language": "en"},
        }
    return found


def _language() -> dict[str, Any]:
    return {"@id": EU_LANGUAGE_ZH, "@type": "dct:LinguisticSystem"}


def _license(options: FeedOptions) -> dict[str, Any]:
    # ckanext-dcat matches the licence by URI, then by dct:title, against CKAN's register.
    return {
        "@id": options.license_url,
        "@type": "dct:LicenseDocument",
        "dct:title": options.license_title,
    }


def _contact(resource: ResourceOut, options: FeedOptions) -> dict[str, Any]:
    contact: dict[str, Any] = {
        "@type": ["vcard:Kind", "vcard:Organization"],
        "vcard:fn": _zh(resource.provider_name),
    }
    if options.contact_email:
        contact["vcard:hasEmail"] = {"@id": f"mailto:{options.contact_email}"}
    return contact


def _spatial(base: str, code: str) -> dict[str, Any]:
    """The provider's 行政区划 (GB/T 2260) as a dct:Location with its name."""
    location: dict[str, Any] = {
        "@id": iri(base, "region", code),
        "@type": "dct:Location",
        "dct:identifier": code,
    }
    name = region_name(code)
    if name:
        location["skos:prefLabel"] = _zh(name)
    return location


def _schema(base: str, resource: ResourceOut) -> dict[str, Any]:
    """The data items (信息项) as a CSVW table schema, also the standard the data conforms to."""
    columns = []
    for item in resource.items:
        datatype: dict[str, Any] = {"csvw:base": CSVW_DATATYPE[item.data_type]}
        if item.length and item.data_type in (DataType.CHAR, DataType.MEMO):
            datatype["csvw:maxLength"] = item.length
        column: dict[str, Any] = {
            "@type": "csvw:Column",
            "csvw:name": item.name,
            "csvw:titles": _zh(item.name),
            "csvw:datatype": datatype,
            "csvw:required": item.required or item.is_key,
        }
        if item.description:
            column["dct:description"] = _zh(item.description)
        columns.append(column)
    schema: dict[str, Any] = {
        "@id": iri(base, "schema", resource.code),
        "@type": ["csvw:Schema", "dct:Standard"],
        "dct:title": _zh(f"{resource.name} 信息项"),
        "csvw:column": {"@list": columns},
    }
    keys = [item.name for item in resource.items if item.is_key]
    if keys:
        schema["csvw:primaryKey"] = keys
    return schema


def _service_ref(options: FeedOptions) -> dict[str, Any]:
    return {"@id": options.api}


def data_service(options: FeedOptions) -> dict[str, Any]:
    """The exchange API itself, through which every distribution is reached."""
    return {
        "@id": options.api,
        "@type": "dcat:DataService",
        "dct:title": _zh("政务数据共享交换接口 (govshare exchange API)"),
        "dcat:endpointURL": _url(options.api),
        "dcat:endpointDescription": _url(f"{options.api}/openapi.json"),
        "dct:license": _license(options),
    }


def _distribution(
    base: str, facts: DatasetFacts, fmt: ServedFormat, options: FeedOptions
) -> dict[str, Any]:
    resource = facts.resource
    code = quote(resource.code, safe="/")
    if fmt is JSON:
        access = f"{options.api}/resources/{code}"
    else:
        access = f"{options.api}/extracts/{code}?format={fmt.key}"
    distribution: dict[str, Any] = {
        "@id": iri(base, "distribution", f"{resource.code}/{fmt.key}"),
        "@type": "dcat:Distribution",
        "dct:title": _zh(f"{resource.name}（{fmt.label}）"),
        "dct:format": {"@id": EU_FILE_TYPE + fmt.file_type, "@type": "dct:MediaTypeOrExtent"},
        "dcat:mediaType": {
            "@id": IANA + fmt.media_type,
            "@type": "dct:MediaType",
            "rdfs:label": fmt.media_type,
        },
        "dct:license": _license(options),
        "dcat:accessURL": _url(access),
        "dcat:accessService": _service_ref(options),
        "dct:language": _language(),
        "dct:modified": _datetime(facts.modified),
    }
    if fmt is CSV:
        distribution["dct:conformsTo"] = {"@id": iri(base, "schema", resource.code)}
        distribution["csvw:tableSchema"] = {"@id": iri(base, "schema", resource.code)}
    return distribution


def served_formats(resource: ResourceOut) -> tuple[ServedFormat, ...]:
    """无条件共享 data is served as extracts; anything else is requested through the API."""
    if resource.share_type is ShareType.UNCONDITIONAL:
        return (CSV, PARQUET)
    return (JSON,)


def dataset(
    base: str, facts: DatasetFacts, options: FeedOptions, *, listed: set[str]
) -> dict[str, Any]:
    """One published resource as a dcat:Dataset; relations only to datasets also ``listed``
    (a public feed must not name a resource it leaves out)."""
    resource = facts.resource
    classification = f"{resource.classification.value}信息资源"
    themes = [
        {
            "@id": iri(base, "theme", resource.classification.value),
            "@type": "skos:Concept",
            "skos:prefLabel": _zh(classification),
        }
    ]
    if resource.category:
        themes.append(
            {
                "@id": iri(base, "category", resource.category),
                "@type": "skos:Concept",
                "skos:prefLabel": _zh(resource.category),
            }
        )
    entry: dict[str, Any] = {
        "@id": iri(base, "dataset", resource.code),
        "@type": "dcat:Dataset",
        "dct:identifier": resource.code,
        "dct:title": _zh(resource.name),
        # DCAT-AP makes a description mandatory; a resource without 摘要 says what it is.
        "dct:description": _zh(
            resource.summary or f"{resource.provider_name}提供的{classification}：{resource.name}"
        ),
        "dct:publisher": _agent(
            base, AgentFacts(resource.provider_code, resource.provider_name, facts.region_code)
        ),
        "dcat:contactPoint": _contact(resource, options),
        "dct:accrualPeriodicity": {
            "@id": EU_FREQUENCY + FREQUENCY[resource.update_cycle],
            "@type": "dct:Frequency",
        },
        "dct:accessRights": {"@id": access_right(resource), "@type": "dct:RightsStatement"},
        "dcat:theme": themes,
        "dcat:keyword": [_zh(k) for k in dict.fromkeys([classification, resource.category]) if k],
        "dct:language": _language(),
        "dct:modified": _datetime(facts.modified),
        "dct:spatial": _spatial(base, facts.region_code),
        "dct:conformsTo": _schema(base, resource),
    }
    if resource.publish_date is not None:
        entry["dct:issued"] = _date(resource.publish_date)
    if facts.data_dates is not None:
        first, last = facts.data_dates
        entry["dct:temporal"] = {
            "@type": "dct:PeriodOfTime",
            "dcat:startDate": _date(first),
            "dcat:endDate": _date(last),
        }
    related = [c for c in resource.related_codes if c in listed]
    if related:
        entry["dct:relation"] = [{"@id": iri(base, "dataset", c)} for c in related]
    if facts.usable:
        entry["dcat:distribution"] = [
            _distribution(base, facts, fmt, options) for fmt in served_formats(resource)
        ]
    return entry


def _catalog_publisher(
    authority: AgentFacts | None, datasets: Sequence[DatasetFacts], options: FeedOptions
) -> AgentFacts:
    """The data authority; without one, the sole provider; else the platform itself."""
    if authority is not None:
        return authority
    providers = {
        AgentFacts(f.resource.provider_code, f.resource.provider_name, f.region_code)
        for f in datasets
    }
    if len(providers) == 1:
        return providers.pop()
    return AgentFacts("platform", options.platform_name, None)


def dcat_document(
    datasets: Sequence[DatasetFacts],
    *,
    authority: AgentFacts | None,
    options: FeedOptions,
    now: datetime,
    full: bool,
) -> dict[str, Any]:
    """A JSON-LD dcat:Catalog of ``datasets`` (already filtered by the caller)."""
    base = options.base_uri
    listed = {facts.resource.code for facts in datasets}
    scope = "全部已发布信息资源，仅供审核员" if full else "向社会开放的已发布信息资源"
    return {
        "@context": CONTEXT,
        "@id": f"{base}catalog" if base.startswith("urn:") else base,
        "@type": "dcat:Catalog",
        "dct:title": _zh("政务数据目录" if not full else "政务数据目录（完整）"),
        "dct:description": _zh(f"政务信息资源目录：{scope} (DCAT-AP 3.0)"),
        "dct:publisher": _agent(base, _catalog_publisher(authority, datasets, options)),
        "dct:modified": _datetime(now),
        "dct:language": _language(),
        "dct:license": _license(options),
        "dcat:service": [data_service(options)],
        "dcat:dataset": [dataset(base, facts, options, listed=listed) for facts in datasets],
    }


# ---- reading the catalogue -------------------------------------------------------------


def _data_dates(ctx: CatalogContext, resource_ids: Iterable[int]) -> dict[int, tuple[date, date]]:
    """First and last data date (数据日期) of each resource's published ingest batches."""
    wanted = set(resource_ids)
    found: dict[int, tuple[date, date]] = {}
    for resource_id, details in repository.batch_details(ctx.session, status=batches.PUBLISHED):
        text = (details or {}).get("data_date")
        if resource_id not in wanted or not isinstance(text, str):
            continue
        try:
            day = date.fromisoformat(text)
        except ValueError:
            continue
        first, last = found.get(resource_id, (day, day))
        found[resource_id] = (min(first, day), max(last, day))
    return found


def _facts(resource: Resource, data_dates: dict[int, tuple[date, date]]) -> DatasetFacts:
    usable = capability(resource)
    refreshed = [m.last_refreshed_at for m in resource.mounts if m.last_refreshed_at is not None]
    return DatasetFacts(
        resource=resource_out(resource, with_mounts=False),
        region_code=resource.provider.region_code,
        modified=max([resource.updated_at, *refreshed]),
        usable=usable is not None,
        data_dates=data_dates.get(resource.id),
    )


def _authority(departments: Sequence[Department]) -> AgentFacts | None:
    found = next((d for d in departments if d.is_data_authority), None)
    return None if found is None else AgentFacts(found.code, found.name, found.region_code)


def dcat_feed(
    ctx: CatalogContext,
    *,
    full: bool = False,
    actor: Actor | None = None,
    base_uri: str | None = None,
) -> dict[str, Any]:
    """The public feed (anyone: open resources only) or the full one (stewards only).

    The public feed needs no credential by design: open-data portals harvest it, and it holds
    nothing the public may not see. The full feed is checked like a catalogue export.
    """
    if full:
        if actor is None:
            raise NotAuthorized("完整目录仅供数据管理机构审核员 (steward role required)")
        auth.export_catalog(actor)
    published = repository.resources(ctx.session, states=[ResourceState.PUBLISHED])
    chosen = [r for r in published if full or is_open(r)]
    data_dates = _data_dates(ctx, (r.id for r in chosen))
    return dcat_document(
        [_facts(r, data_dates) for r in chosen],
        authority=_authority(repository.departments(ctx.session)),
        options=FeedOptions.from_settings(ctx.settings, base_uri=base_uri),
        now=ctx.now(),
        full=full,
    )
