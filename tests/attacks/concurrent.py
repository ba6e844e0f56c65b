"""Firing aggregate calls at once: threads in this process and in a second, spawned process.

Each process runs its own app (its own engine, thread pool and caches) on the same catalogue
database and lake, as two API workers of one deployment do. Both processes get ready first
(app started, token issued), then an event releases the threads of both together.
"""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any
from urllib.parse import quote

from fastapi.testclient import TestClient

from exchange_api.app import create_app
from exchange_api.configuration import ExchangeSettings
from infra.settings import Settings

Outcome = tuple[int, dict[str, Any]]


def headers_for(client: TestClient, api_key: str, purpose: str) -> dict[str, str]:
    response = client.post("/api/v1/token", headers={"X-API-Key": api_key})
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    return {"Authorization": f"Bearer {token}", "X-Purpose": quote(purpose)}


def fire(
    client: TestClient, headers: dict[str, str], bodies: list[dict[str, Any]]
) -> list[Outcome]:
    """POST every body to /aggregates from its own thread, all released at once."""
    barrier = threading.Barrier(len(bodies))

    def call(body: dict[str, Any]) -> Outcome:
        barrier.wait(timeout=30)
        response = client.post("/api/v1/aggregates", json=body, headers=headers, timeout=60)
        return response.status_code, response.json()

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(call, bodies))


def _child(
    settings: dict[str, Any], config: dict[str, Any], now: str, api_key: str, purpose: str,
    bodies: list[dict[str, Any]], ready: Any, go: Any, results: Any,
) -> None:  # fmt: skip
    moment = datetime.fromisoformat(now)
    app = create_app(
        Settings(**settings), clock=lambda: moment, exchange_settings=ExchangeSettings(**config)
    )
    with TestClient(app) as client:
        headers = headers_for(client, api_key, purpose)
        ready.set()
        go.wait(timeout=60)
        results.put(fire(client, headers, bodies))


def fire_in_two_processes(
    client: TestClient, settings: Settings, config: ExchangeSettings, now: datetime,
    api_key: str, purpose: str, bodies: list[dict[str, Any]],
) -> list[Outcome]:  # fmt: skip
    """Half of ``bodies`` from a spawned process's app, half from ``client``'s, at once."""
    theirs, ours = bodies[::2], bodies[1::2]
    context = multiprocessing.get_context("spawn")
    ready, go, results = context.Event(), context.Event(), context.Queue()
    child = context.Process(
        target=_child,
        args=(
            {"home": str(settings.home), "database_url": settings.database_url,
             "lake_root": settings.lake_root},
            config.model_dump(mode="json"), now.isoformat(), api_key, purpose, theirs,
            ready, go, results,
        ),
        daemon=True,
    )  # fmt: skip
    child.start()
    try:
        headers = headers_for(client, api_key, purpose)
        assert ready.wait(timeout=90), "the second API process did not start"
        go.set()
        mine = fire(client, headers, ours)
        return mine + results.get(timeout=120)
    finally:
        child.join(timeout=30)
        if child.is_alive():
            child.kill()
