"""The whole catalogue in its public shapes: what every export format is written from."""

from __future__ import annotations

from pydantic import BaseModel

from catalog import auth, repository, themes
from catalog.context import Actor, CatalogContext
from catalog.schemas import DepartmentOut, DutyOut, ResourceOut, ThemeOut, VerificationOut
from catalog.views import department_out, duty_out, resource_out


class CatalogDocument(BaseModel):
    """Departments, duties, resources, themes and 核验事项; dumped as JSON it is the JSON
    export, which imports again."""

    departments: list[DepartmentOut]
    duties: list[DutyOut]
    resources: list[ResourceOut]
    themes: list[ThemeOut] = []
    verifications: list[VerificationOut] = []


def catalog_document(ctx: CatalogContext, *, actor: Actor) -> CatalogDocument:
    """Everything a catalogue export carries, read in one transaction."""
    auth.export_catalog(actor)
    session = ctx.session
    return CatalogDocument(
        departments=[department_out(d) for d in repository.departments(session)],
        duties=[duty_out(d) for d in repository.duties(session)],
        resources=[resource_out(r) for r in repository.resources(session)],
        themes=themes.list_themes(session),
        verifications=themes.list_verifications(session),
    )
