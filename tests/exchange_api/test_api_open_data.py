"""The open-data feed over HTTP: public without a credential, the full one for stewards."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from catalog import repository
from catalog.domain import ResourceState
from catalog.store import Catalog
from tests.exchange_api.api_helpers import Api


def test_public_feed_needs_no_key_and_lists_only_open_resources(
    demo_api: Api, demo_catalog: Catalog
) -> None:
    response = demo_api.client.get("/api/v1/open-data/dcat")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/ld+json")
    feed = response.json()
    with demo_catalog.unit() as ctx:
        published = repository.resources(ctx.session, states=[ResourceState.PUBLISHED])
        tables = {m.target for r in published for m in r.mounts}
    listed = {d["dct:identifier"] for d in feed["dcat:dataset"]}
    assert listed == {"000001001/000001", "000001002/000001", "000002001/000003"}
    text = json.dumps(feed, ensure_ascii=False)
    assert not [r.code for r in published if r.code not in listed and r.code in text]
    assert not [t for t in tables if t in text]

    # Access URLs are real routes of this API, at the configured public address.
    base = demo_catalog.settings.public_base_url
    urls = [
        d["dcat:accessURL"]["@id"]
        for ds in feed["dcat:dataset"]
        for d in ds.get("dcat:distribution", [])
    ]
    assert urls and all(u.startswith(f"{base}/api/v1/extracts/") for u in urls)
    parts = urlsplit(urls[0])
    reached = demo_api.client.get(f"{parts.path}?{parts.query}")
    assert reached.status_code == 401  # the route exists; it wants an access token


def test_full_feed_takes_a_steward_key(demo_api: Api) -> None:
    assert demo_api.client.get("/api/v1/open-data/dcat/full").status_code == 401
    refused = demo_api.get("ga", "/open-data/dcat/full")
    assert refused.status_code == 403 and "审核员" in refused.json()["message"]
    full = demo_api.get("steward", "/open-data/dcat/full")
    assert full.status_code == 200
    assert len(full.json()["dcat:dataset"]) == 24
