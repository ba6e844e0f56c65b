"""Reference lists every department reads: departments, duties, the gap report, and "me".

The gap report is open to every authenticated department, not only stewards. Gaps are the
platform's shared work list (DOMAIN.md: make them visible and closable): a department finds
its own uncatalogued duties and unmounted resources there, and may recognise an unowned
demand it could answer. The report names departments, duties, resources and what demands
ask for, never a person.
"""

from __future__ import annotations

from fastapi import APIRouter

from catalog import repository
from catalog.gaps import GapReport, gap_report
from catalog.schemas import DepartmentOut, DutyOut, Page
from catalog.views import department_out, duty_out
from exchange_api.deps import Context, CurrentActor
from exchange_api.errors import responses
from exchange_api.schemas import MeOut

router = APIRouter(tags=["基础信息 directory"])


@router.get(
    "/departments",
    response_model=Page[DepartmentOut],
    responses=responses(401),
    summary="部门列表 (registered departments)",
)
def list_departments(ctx: Context) -> Page[DepartmentOut]:
    found = repository.departments(ctx.session)
    return Page[DepartmentOut](data=[department_out(d) for d in found], count=len(found))


@router.get(
    "/duties",
    response_model=Page[DutyOut],
    responses=responses(401),
    summary="职责清单 (every department's duties and the data items they oblige)",
)
def list_duties(ctx: Context) -> Page[DutyOut]:
    found = repository.duties(ctx.session)
    return Page[DutyOut](data=[duty_out(d) for d in found], count=len(found))


@router.get(
    "/gaps",
    response_model=GapReport,
    responses=responses(401),
    summary="缺口报告 (gap report: open to every department)",
)
def gaps(ctx: Context, actor: CurrentActor) -> GapReport:
    return gap_report(ctx, actor=actor)


@router.get(
    "/me",
    response_model=MeOut,
    responses=responses(401),
    summary="当前身份 (who the presented credential speaks for)",
)
def me(actor: CurrentActor) -> MeOut:
    return MeOut(role=actor.role, department_code=actor.department_code, name=actor.name)
