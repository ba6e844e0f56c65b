"""The file response of Delta Sharing downloads, served by a real uvicorn.

Reads of 1 MiB, so bodies and ranges crossing chunk boundaries are checked byte for byte on a
file of several chunks; and a GET the client drops after the headers (what fsspec does to ask
whether a URL exists) stops reading the file instead of reading it to the end for nobody.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from exchange_api.file_response import CHUNK_BYTES, SharedFileResponse
from tests.exchange_api.servers import uvicorn_thread


class _Counted(SharedFileResponse):
    """Counts the body bytes handed to the server; ``done`` once the response returned."""

    sent: int = 0
    done = threading.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def counting(message: Message) -> None:
            if message["type"] == "http.response.body":
                type(self).sent += len(message.get("body", b""))
            await send(message)

        try:
            await super().__call__(scope, receive, counting)
        finally:
            type(self).done.set()


def _app(path: Path) -> Starlette:
    async def serve(request: Request) -> SharedFileResponse:
        return _Counted(path, media_type="application/octet-stream")

    return Starlette(routes=[Route("/f", serve, methods=["GET", "HEAD"])])


def test_bodies_and_ranges_across_chunks_are_the_file_bytes(tmp_path: Path) -> None:
    data = os.urandom(3 * CHUNK_BYTES + 12_345)
    path = tmp_path / "part.parquet"
    path.write_bytes(data)
    with uvicorn_thread(_app(path)) as url, httpx.Client(base_url=url) as http:
        head = http.head("/f")
        assert head.status_code == 200 and head.content == b""
        assert int(head.headers["content-length"]) == len(data)
        assert head.headers["accept-ranges"] == "bytes"
        assert http.get("/f").content == data
        for first, last in [(0, 0), (5, CHUNK_BYTES + 7), (CHUNK_BYTES - 1, 3 * CHUNK_BYTES)]:
            part = http.get("/f", headers={"Range": f"bytes={first}-{last}"})
            assert part.status_code == 206 and part.content == data[first : last + 1]
            assert part.headers["content-range"] == f"bytes {first}-{last}/{len(data)}"
        assert http.get("/f", headers={"Range": "bytes=-10"}).content == data[-10:]
        beyond = http.get("/f", headers={"Range": f"bytes={len(data)}-"})
        assert beyond.status_code == 416


def test_a_get_dropped_after_the_headers_stops_reading(tmp_path: Path) -> None:
    data = os.urandom(64 * CHUNK_BYTES)
    path = tmp_path / "part.parquet"
    path.write_bytes(data)
    _Counted.sent, _Counted.done = 0, threading.Event()
    with uvicorn_thread(_app(path)) as url:
        with httpx.Client(base_url=url) as http, http.stream("GET", "/f") as response:
            assert response.status_code == 200
        # The client closed the connection without reading the body.
        assert _Counted.done.wait(timeout=60)
    assert _Counted.sent < len(data) // 2
