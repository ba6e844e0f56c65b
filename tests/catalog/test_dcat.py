"""The DCAT-AP feed: the public one publishes only what is open, both pass the official
DCAT-AP 3.0.0 SHACL shapes, and ckanext-dcat's RDF profile finds what it reads.

The shapes come from ``../shared/dcat-ap/`` beside the repository (CI puts shared/ there).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyshacl
import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, FOAF, RDF, RDFS, SKOS

from catalog import batches, repository
from catalog.context import Actor
from catalog.domain import ResourceState, ShareType
from catalog.errors import NotAuthorized
from catalog.store import Catalog
from catalog.transfer import ExportFormat, export_catalog
from catalog.transfer.dcat import dcat_feed
from infra.settings import Settings
from tests.factories import STEWARD

REPO = Path(__file__).resolve().parents[2]
SHAPES = REPO.parent / "shared" / "dcat-ap" / "dcat-ap-3.0.0-SHACL.ttl"
CSVW = Namespace("http://www.w3.org/ns/csvw#")
SH = Namespace("http://www.w3.org/ns/shacl#")
DCAT = Namespace("http://www.w3.org/ns/dcat#")  # open: pytest probes module attributes
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
EU = "http://publications.europa.eu/resource/authority/"
PUBLIC_BASE = "https://data.example.gov.cn"
CONTACT = "opendata@hz.example.gov.cn"
# CKAN's licence register entry that ckanext-dcat matches a distribution's licence against.
CKAN_CC_BY = ("http://www.opendefinition.org/licenses/cc-by", "Creative Commons Attribution")

OPEN_ENTERPRISES = "000001001/000001"  # 企业登记信息: open, unconditional, mounted
NOT_SHARED = "000004003/000001"  # 不予共享


@pytest.fixture
def feed_catalog(demo_catalog: Catalog) -> Catalog:
    """The demo city, configured as a deployment would be, with two published batches."""
    demo_catalog.settings = Settings(
        home=demo_catalog.settings.home,
        database_url=demo_catalog.settings.database_url,
        public_base_url=PUBLIC_BASE + "/",
        open_data_contact_email=CONTACT,
    )
    with demo_catalog.unit() as ctx:
        resource = repository.resource(ctx.session, OPEN_ENTERPRISES)
        mount = batches.ensure_table_mount(ctx, resource)
        for n, day in enumerate(("2026-02-27", "2026-03-02")):
            batch_id = f"b{n}"
            batches.start_batch(
                ctx, batch_id=batch_id, resource=resource, mount=mount,
                source_file=f"{day}.csv", file_sha256="0" * 64, file_bytes=10,
            )  # fmt: skip
            batches.finish_batch(
                ctx, batch_id=batch_id, status=batches.PUBLISHED, rows_read=1,
                rows_accepted=1, rows_quarantined=0, table_version=n,
                details={"data_date": day},
            )  # fmt: skip
    return demo_catalog


def _graph(feed: dict[str, Any]) -> Graph:
    return Graph().parse(data=json.dumps(feed), format="json-ld")


def _feeds(catalog: Catalog) -> tuple[dict[str, Any], dict[str, Any]]:
    with catalog.unit() as ctx:
        return dcat_feed(ctx), dcat_feed(ctx, full=True, actor=STEWARD)


def test_public_feed_lists_only_open_resources_and_names_no_table(feed_catalog: Catalog) -> None:
    with feed_catalog.unit() as ctx:
        # A steward's slip: a 不予共享 resource also marked open. It must stay out all the same.
        repository.resource(ctx.session, NOT_SHARED).open_to_public = True
    public, full = _feeds(feed_catalog)
    with feed_catalog.unit() as ctx:
        published = repository.resources(ctx.session, states=[ResourceState.PUBLISHED])
        tables = {m.target for r in repository.resources(ctx.session) for m in r.mounts}
        tables |= {m.pending_target for r in published for m in r.mounts if m.pending_target}
    open_codes = {
        r.code for r in published if r.open_to_public and r.share_type is not ShareType.NOT_SHARED
    }
    hidden = [r for r in published if r.code not in open_codes]

    assert {d["dct:identifier"] for d in public["dcat:dataset"]} == open_codes
    assert len(open_codes) == 3 and len(hidden) == 21
    text = json.dumps(public, ensure_ascii=False)
    for resource in hidden:
        assert resource.code not in text and resource.name not in text, resource.code
    assert tables and not [t for t in tables if t in text]  # no table name, not even a prefix
    assert "urn:govshare:mount" not in text
    # Stewards' full feed: every published resource, the 不予共享 one marked non-public.
    datasets = {d["dct:identifier"]: d for d in full["dcat:dataset"]}
    assert set(datasets) == {r.code for r in published}
    assert datasets[NOT_SHARED]["dct:accessRights"]["@id"] == EU + "access-right/NON_PUBLIC"
    assert not [t for t in tables if t in json.dumps(full, ensure_ascii=False)]


def test_full_feed_is_for_stewards_only(demo_catalog: Catalog) -> None:
    with demo_catalog.unit() as ctx:
        department = repository.departments(ctx.session)[1]
        with pytest.raises(NotAuthorized):
            dcat_feed(ctx, full=True, actor=Actor.department(department.code))
        with pytest.raises(NotAuthorized):
            dcat_feed(ctx, full=True)


def test_public_dataset_carries_the_recommended_properties(feed_catalog: Catalog) -> None:
    public, _ = _feeds(feed_catalog)
    g = _graph(public)
    ds = URIRef(f"urn:govshare:dataset:{OPEN_ENTERPRISES}")
    assert (ds, RDF.type, DCAT.Dataset) in g
    spatial = g.value(ds, DCTERMS.spatial)
    assert (spatial, RDF.type, DCTERMS.Location) in g
    assert str(g.value(spatial, SKOS.prefLabel)) == "浙江省杭州市"  # the provider's 330100
    temporal = g.value(ds, DCTERMS.temporal)
    assert g.value(temporal, DCAT.startDate).toPython() == date(2026, 2, 27)
    assert g.value(temporal, DCAT.endDate).toPython() == date(2026, 3, 2)
    assert g.value(ds, DCTERMS.modified) is not None
    assert g.value(ds, DCTERMS.language) == URIRef(EU + "language/ZHO")
    assert g.value(ds, DCTERMS.publisher) is not None
    catalog = URIRef("urn:govshare:catalog")
    assert str(g.value(g.value(catalog, DCTERMS.publisher), FOAF.name)) == "杭州市数据资源管理局"

    formats = {}
    for distribution in g.objects(ds, DCAT.distribution):
        media = str(g.value(g.value(distribution, DCAT.mediaType), RDFS.label))
        formats[media] = distribution
        access = str(g.value(distribution, DCAT.accessURL))
        assert access.startswith(f"{PUBLIC_BASE}/api/v1/extracts/{OPEN_ENTERPRISES}?format=")
        assert g.value(distribution, DCTERMS.license) == URIRef(CKAN_CC_BY[0])
    assert set(formats) == {"text/csv", "application/vnd.apache.parquet"}

    # The data items as a CSVW table schema, which the CSV distribution conforms to.
    schema = g.value(formats["text/csv"], CSVW.tableSchema)
    assert g.value(formats["text/csv"], DCTERMS.conformsTo) == schema
    assert g.value(ds, DCTERMS.conformsTo) == schema
    columns = list(g.items(g.value(schema, CSVW.column)))
    names = [str(g.value(c, CSVW.name)) for c in columns]
    assert names[:3] == ["统一社会信用代码", "企业名称", "法定代表人"]
    first = g.value(columns[0], CSVW.datatype)
    assert (str(g.value(first, CSVW.base)), g.value(first, CSVW.maxLength).toPython()) == (
        "string",
        18,
    )
    assert str(g.value(schema, CSVW.primaryKey)) == "统一社会信用代码"


def _validate(feed: dict[str, Any]) -> tuple[bool, Graph, str]:
    """pyshacl with the official shapes and no inference: the graph as harvesters get it."""
    shapes = Graph().parse(SHAPES)  # missing shapes fail the test: CI puts shared/ beside us
    conforms, report, text = pyshacl.validate(_graph(feed), shacl_graph=shapes, inference="none")
    return bool(conforms), report, text


def test_both_feeds_pass_the_dcat_ap_3_shacl_shapes(feed_catalog: Catalog) -> None:
    for feed in _feeds(feed_catalog):
        conforms, _report, text = _validate(feed)
        assert conforms, text[:4000]


def test_the_shapes_catch_a_feed_without_publisher_or_description(feed_catalog: Catalog) -> None:
    """The validation is not vacuous: what the old feed could lack is a violation."""
    public, _ = _feeds(feed_catalog)
    del public["dct:publisher"]
    del public["dcat:dataset"][0]["dct:description"]
    conforms, report, _text = _validate(public)
    assert not conforms
    paths = set(report.objects(None, SH.resultPath))
    assert {DCTERMS.publisher, DCTERMS.description} <= paths


def test_ckanext_dcat_reads_title_licence_format_and_contact(feed_catalog: Catalog) -> None:
    """What ckanext-dcat's DCAT-AP profile (profiles/euro_dcat_ap_base.py) reads, predicate by
    predicate: ``dct:title``; the first distribution's ``dct:license`` matched against CKAN's
    licence register by URI, then by its ``dct:title``; ``dcat:mediaType`` (its rdfs:label
    when the object is a node) and ``dct:format``; ``dcat:contactPoint`` with ``vcard:fn`` and
    ``vcard:hasEmail`` (a ``mailto:`` IRI whose prefix it strips)."""
    public, _ = _feeds(feed_catalog)
    g = _graph(public)
    datasets = list(g.subjects(RDF.type, DCAT.Dataset))
    assert len(datasets) == 3
    served = 0
    for ds in datasets:
        title = g.value(ds, DCTERMS.title)
        assert isinstance(title, Literal) and title.language == "zh" and str(title)
        contact = g.value(ds, DCAT.contactPoint)
        assert str(g.value(contact, VCARD.fn))
        email = g.value(contact, VCARD.hasEmail)
        assert isinstance(email, URIRef) and str(email) == f"mailto:{CONTACT}"
        publisher = g.value(ds, DCTERMS.publisher)
        assert str(g.value(publisher, FOAF.name))
        for distribution in g.objects(ds, DCAT.distribution):
            served += 1
            licence = g.value(distribution, DCTERMS.license)
            assert str(licence) == CKAN_CC_BY[0]
            assert str(g.value(licence, DCTERMS.title)) == CKAN_CC_BY[1]
            media = g.value(distribution, DCAT.mediaType)
            assert "/" in str(g.value(media, RDFS.label))  # an IANA media type like text/csv
            assert str(g.value(distribution, DCTERMS["format"])).startswith(EU + "file-type/")
            assert str(g.value(distribution, DCAT.accessURL)).startswith(PUBLIC_BASE)
    # 000002001/000003 has no mounted capability yet, hence no distribution to license.
    assert served == 4


def test_export_command_writes_the_public_feed_unless_full_is_asked(
    feed_catalog: Catalog, tmp_path: Path
) -> None:
    out = tmp_path / "catalogue.jsonld"
    with feed_catalog.unit() as ctx:
        public = export_catalog(ctx, fmt=ExportFormat.DCAT, out=out, actor=STEWARD)
        assert (public.datasets, public.full) == (3, False)
        full = export_catalog(ctx, fmt=ExportFormat.DCAT, out=out, actor=STEWARD, full=True)
        assert (full.datasets, full.full) == (24, True)
    graph = json.loads(out.read_text("utf-8"))
    assert graph["@type"] == "dcat:Catalog" and len(graph["dcat:dataset"]) == 24
    frequency = EU + "frequency/"
    datasets = {d["dct:identifier"]: d for d in graph["dcat:dataset"]}
    assert datasets[OPEN_ENTERPRISES]["dct:accrualPeriodicity"]["@id"] == frequency + "DAILY"
    assert datasets["000002001/000001"]["dct:accessRights"]["@id"] == (
        EU + "access-right/RESTRICTED"
    )
    # A mount still waiting for review is not a capability yet: no distribution.
    assert "dcat:distribution" not in datasets["000005002/000001"]
    assert datetime.fromisoformat(graph["dct:modified"]["@value"]) == datetime(
        2026, 3, 3, 2, 0, tzinfo=UTC
    )
