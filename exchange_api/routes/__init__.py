"""The ``/api/v1`` router: every route under it requires a credential (deny by default)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from exchange_api.deps import current_actor
from exchange_api.routes import (
    access,
    data,
    demands,
    directory,
    grants,
    mounts,
    open_data,
    resources,
    themes,
)
from exchange_api.routes import quality as quality_routes

API_PREFIX = "/api/v1"

api_router = APIRouter(prefix=API_PREFIX, dependencies=[Depends(current_actor)])
api_router.include_router(resources.router)
api_router.include_router(mounts.router)
api_router.include_router(demands.router)
api_router.include_router(grants.router)
api_router.include_router(directory.router)
api_router.include_router(access.audit_router)
api_router.include_router(quality_routes.router)
api_router.include_router(open_data.router)
api_router.include_router(themes.router)

# Data calls authenticate with access tokens (their own dependency); the token endpoint
# with an API key only.
data_router = APIRouter(prefix=API_PREFIX)
data_router.include_router(access.token_router)
data_router.include_router(data.router)
# The public open-data feed needs no credential (it lists only what is open to society).
data_router.include_router(open_data.public_router)
