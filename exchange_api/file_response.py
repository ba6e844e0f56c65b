"""A file response for Delta Sharing downloads: large reads, and none once the client is gone.

Starlette's ``FileResponse`` reads 64 KiB a time, each read a hop to a worker thread (about
forty for a 2.6 MB masked file), and keeps reading to the end after the client hung up,
because uvicorn drops a closed connection's sends silently. The Python connector's fsspec
asks whether a signed URL exists with a plain GET and closes it after the headers, three times
a file: each of those read the whole file for nobody. Here a read is 1 MiB (``os.pread`` on one
descriptor, in a worker thread), and the body stops when the client disconnects. Ranges, HEAD,
ETag and Last-Modified stay Starlette's. (uvicorn offers no ``http.response.pathsend`` or
zero-copy extension; where a server does, Starlette's own path is used.)
"""

from __future__ import annotations

import os

import anyio
from starlette.responses import FileResponse
from starlette.types import Receive, Scope, Send

CHUNK_BYTES = 1024 * 1024


class SharedFileResponse(FileResponse):
    chunk_size = CHUNK_BYTES

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"].upper() == "HEAD":
            await super().__call__(scope, receive, send)
            return
        async with anyio.create_task_group() as group:

            async def respond() -> None:
                await super(SharedFileResponse, self).__call__(scope, receive, send)
                group.cancel_scope.cancel()

            group.start_soon(respond)
            while (await receive())["type"] != "http.disconnect":
                pass  # a GET has no body to read; wait for the end of the exchange
            group.cancel_scope.cancel()

    # Starlette's two body writers for one stretch of the file, with our reads.
    async def _handle_simple(self, send: Send, send_header_only: bool, send_pathsend: bool) -> None:
        if send_header_only or send_pathsend:
            await super()._handle_simple(send, send_header_only, send_pathsend)
            return
        start = {"type": "http.response.start", "status": self.status_code}
        await send({**start, "headers": self.raw_headers})
        await self._send_stretch(send, 0, int(self.headers["content-length"]))

    async def _handle_single_range(
        self, send: Send, start: int, end: int, file_size: int, send_header_only: bool
    ) -> None:
        if send_header_only:
            await super()._handle_single_range(send, start, end, file_size, send_header_only)
            return
        self.headers["content-range"] = f"bytes {start}-{end - 1}/{file_size}"
        self.headers["content-length"] = str(end - start)
        await send({"type": "http.response.start", "status": 206, "headers": self.raw_headers})
        await self._send_stretch(send, start, end)

    async def _send_stretch(self, send: Send, start: int, end: int) -> None:
        descriptor = os.open(self.path, os.O_RDONLY)
        try:
            more = True
            while more:
                size = min(self.chunk_size, end - start)
                chunk = await anyio.to_thread.run_sync(os.pread, descriptor, size, start)
                start += len(chunk)
                more = bool(chunk) and start < end
                await send({"type": "http.response.body", "body": chunk, "more_body": more})
        finally:
            os.close(descriptor)
