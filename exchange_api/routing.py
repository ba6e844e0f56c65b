"""Routers included into an app from routes made once per process.

``FastAPI.include_router`` analyses every endpoint's signature and builds the validators of
its parameters and responses: 0.15 CPU s for this API each time an app is built. Processes
build apps more than once (every API test builds one; a reloading worker rebuilds), so the
routes are made from each router once and shared. They hold no app: endpoints and
dependencies reach the catalogue through ``request.app.state``. One consequence: an app's
``dependency_overrides`` do not reach these routes (nothing here overrides dependencies).
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from starlette.routing import BaseRoute

# id(router) -> (router, its routes); the router is kept so its id is never reused.
_made: dict[int, tuple[APIRouter, tuple[BaseRoute, ...]]] = {}


def include(app: FastAPI, router: APIRouter) -> None:
    """What ``app.include_router(router)`` does for routers without a prefix or lifespan."""
    if id(router) not in _made:
        scratch = APIRouter()
        scratch.include_router(router)
        _made[id(router)] = (router, tuple(scratch.routes))
    app.router.routes.extend(_made[id(router)][1])
