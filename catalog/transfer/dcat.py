"""The published catalogue as DCAT in JSON-LD, for open-data portals of the CKAN kind.

Harvesters (ckanext-dcat and the like) understand W3C DCAT with the EU controlled vocabularies
for update frequency and access rights, so our Chinese terms are mapped onto those URIs. Only
published resources are listed: drafts and retired entries are not the catalogue's public face,
and only usable (mounted) assets are offered as distributions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from catalog.domain import MountKind, MountState, ResourceState, ShareType, UpdateCycle
from catalog.schemas import DepartmentOut, MountOut, ResourceOut
from catalog.transfer.document import CatalogDocument

DEFAULT_BASE_URI = "urn:govshare:"

CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}

EU_FREQUENCY = "http://publications.europa.eu/resource/authority/frequency/"
EU_ACCESS_RIGHT = "http://publications.europa.eu/resource/authority/access-right/"

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

_KIND_WORD = {MountKind.TABLE: "table", MountKind.API: "api", MountKind.FILE: "file"}
_KIND_FORMAT = {MountKind.TABLE: "数据库表", MountKind.API: "API", MountKind.FILE: "文件"}
_USABLE = (MountState.MOUNTED, MountState.CHANGE_PENDING)


def iri(base: str, kind: str, key: str) -> str:
    """A stable identifier: ``urn:govshare:dataset:000001001/000001`` under the default base,
    ``https://portal/…/dataset/000001001%2F000001`` under an http one."""
    if base.startswith("urn:"):
        return f"{base}{kind}:{quote(key, safe='/')}"
    return f"{base.rstrip('/')}/{kind}/{quote(key, safe='')}"


def _zh(text: str) -> dict[str, str]:
    return {"@value": text, "@language": "zh"}


def access_right(resource: ResourceOut) -> str:
    """不予共享 is never public, even if also marked open; open data is public; the rest is
    shared between departments only."""
    if resource.share_type is ShareType.NOT_SHARED:
        return EU_ACCESS_RIGHT + "NON_PUBLIC"
    if resource.open_to_public:
        return EU_ACCESS_RIGHT + "PUBLIC"
    return EU_ACCESS_RIGHT + "RESTRICTED"


def _organization(base: str, code: str, name: str) -> dict[str, Any]:
    return {
        "@id": iri(base, "organization", code),
        "@type": "foaf:Organization",
        "foaf:name": _zh(name),
        "dct:identifier": code,
    }


def _distribution(base: str, resource: ResourceOut, mount: MountOut) -> dict[str, Any]:
    target = mount.target
    if target.startswith(("http://", "https://")):
        access = target
    else:
        access = f"urn:govshare:mount:{_KIND_WORD[mount.kind]}:{quote(target, safe='/')}"
    distribution: dict[str, Any] = {
        "@id": iri(base, "distribution", f"{resource.code}/{mount.id}"),
        "@type": "dcat:Distribution",
        "dct:title": _zh(f"{resource.name}（{mount.kind.value}）"),
        "dct:format": str(mount.config.get("format") or _KIND_FORMAT[mount.kind]),
        "dcat:accessURL": {"@id": access},
    }
    if mount.kind is MountKind.API:
        distribution["dcat:accessService"] = {
            "@type": "dcat:DataService",
            "dct:title": _zh(f"{resource.name}接口"),
            "dcat:endpointURL": {"@id": access},
        }
    return distribution


def dataset(base: str, resource: ResourceOut) -> dict[str, Any]:
    """One published resource as a dcat:Dataset."""
    classification = f"{resource.classification.value}信息资源"
    entry: dict[str, Any] = {
        "@id": iri(base, "dataset", resource.code),
        "@type": "dcat:Dataset",
        "dct:identifier": resource.code,
        "dct:title": _zh(resource.name),
        "dct:publisher": _organization(base, resource.provider_code, resource.provider_name),
        "dcat:contactPoint": {"@type": "vcard:Organization", "vcard:fn": resource.provider_name},
        "dct:accrualPeriodicity": {"@id": EU_FREQUENCY + FREQUENCY[resource.update_cycle]},
        "dct:accessRights": {"@id": access_right(resource)},
        "dcat:theme": [{"@id": iri(base, "theme", resource.classification.value)}],
        "dcat:keyword": [_zh(k) for k in dict.fromkeys([classification, resource.category]) if k],
    }
    if resource.category:
        entry["dcat:theme"].append({"@id": iri(base, "category", resource.category)})
    if resource.summary:
        entry["dct:description"] = _zh(resource.summary)
    if resource.publish_date is not None:
        entry["dct:issued"] = {"@value": resource.publish_date.isoformat(), "@type": "xsd:date"}
    if resource.related_codes:
        entry["dct:relation"] = [{"@id": iri(base, "dataset", c)} for c in resource.related_codes]
    usable = [m for m in resource.mounts if m.state in _USABLE]
    distributions = [_distribution(base, resource, m) for m in usable]
    if distributions:
        entry["dcat:distribution"] = distributions
    return entry


def dcat_document(
    document: CatalogDocument, *, base_uri: str = DEFAULT_BASE_URI, now: datetime
) -> dict[str, Any]:
    """A JSON-LD dcat:Catalog listing the published resources of ``document``."""
    authority: DepartmentOut | None = next(
        (d for d in document.departments if d.is_data_authority), None
    )
    graph: dict[str, Any] = {
        "@context": CONTEXT,
        "@id": f"{base_uri}catalog" if base_uri.startswith("urn:") else base_uri,
        "@type": "dcat:Catalog",
        "dct:title": _zh("政务数据目录"),
        "dct:description": _zh("政务信息资源目录中已发布的信息资源 (published catalogue entries)"),
        "dct:modified": {"@value": now.isoformat(timespec="seconds"), "@type": "xsd:dateTime"},
        "dcat:dataset": [
            dataset(base_uri, r) for r in document.resources if r.state is ResourceState.PUBLISHED
        ],
    }
    if authority is not None:
        graph["dct:publisher"] = _organization(base_uri, authority.code, authority.name)
    return graph
