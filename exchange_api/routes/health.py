"""Operations routes outside ``/api/v1``: liveness, readiness and Prometheus metrics.

They carry no department data and take no department credential: a load balancer or an
orchestrator probes ``/healthz`` (the process answers) and ``/readyz`` (it can serve: the
catalogue database answers and the lake can be read; 503 with the reason otherwise), and
Prometheus scrapes ``/metrics``. ``/metrics`` takes a bearer token when
``GOVSHARE_EXCHANGE_METRICS_TOKEN`` is set; the reverse proxy in front of the API forwards
only ``/api/`` and ``/delta-sharing/`` (docs/deploy.md), so these stay on the internal network.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response
from fastapi.responses import JSONResponse

from exchange_api import metrics
from exchange_api.exceptions import InvalidToken

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is alive and its event loop answers; nothing else is checked."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    state = request.app.state
    status, body = metrics.readiness_body(
        metrics.readiness(state.catalog, state.settings.lake_path)
    )
    return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


@router.get("/metrics")
def prometheus_metrics(
    request: Request, authorization: Annotated[str | None, Header()] = None
) -> Response:
    config = request.app.state.exchange.config
    if config.metrics_token is not None:
        expected = f"Bearer {config.metrics_token.get_secret_value()}".encode()
        if not hmac.compare_digest((authorization or "").encode(), expected):
            raise InvalidToken("监控指标需要令牌 (metrics token required)")
    body = metrics.exposition(request.app.state.catalog, multiprocess_dir=config.metrics_dir)
    return Response(body, media_type=metrics.CONTENT_TYPE)
