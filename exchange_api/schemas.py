"""Request and response shapes that exist only at the HTTP edge.

The catalogue's own shapes live in ``catalog.schemas``; these wrap the few operations whose
service functions take plain arguments (a reason, a yes/no, a department code), so each
request still has a strict JSON body that rejects ``"1"`` for a boolean and unknown fields.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from catalog.domain import Role
from catalog.schemas import USCC


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OfflineIn(_In):
    """A provider's request to take a published resource offline (申请下线)."""

    reason: Annotated[str, Field(min_length=1, max_length=1000)]


class OfflineDecisionIn(_In):
    """A steward confirms (确认下线) or cancels (撤销下线) a pending offline request."""

    confirm: StrictBool


class AssignIn(_In):
    """The department the data authority names as responsible for an unowned demand."""

    provider_code: USCC


class MeOut(BaseModel):
    """Who the presented credential speaks for."""

    role: Role
    department_code: str | None
    name: str


class ResourceVersionOut(BaseModel):
    """One immutable snapshot of a resource's metadata (no data, no personal information)."""

    model_config = ConfigDict(from_attributes=True)

    version: int
    actor: str
    created_at: datetime
    snapshot: dict[str, Any]
