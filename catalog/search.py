"""Catalogue search that works for Chinese without word segmentation.

Chinese has no spaces between words, so a word index finds nothing and ``LIKE '%…%'`` scans
every row. We index overlapping character bigrams of names, summaries and data item names:
a query's bigrams pick a small candidate set through the index, and an exact substring test on
those candidates removes false positives. The same tables and SQL work on SQLite and
PostgreSQL.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, case, exists, func, literal, or_, select
from sqlalchemy.orm import Session, selectinload

from catalog import repository
from catalog.domain import ResourceClass, ResourceState, ShareType
from catalog.models import DataItem, Resource

# A normalised 信息资源代码 (前段码/后段码) holds only these characters.
_CODE_CHARS = re.compile(r"[0-9a-z./\-]+")


def normalise(text: str) -> str:
    """Full-width to half-width (NFKC), lower case, no whitespace: how both sides compare."""
    return "".join(unicodedata.normalize("NFKC", text).lower().split())


def bigrams(text: str) -> set[str]:
    clean = normalise(text)
    return {clean[i : i + 2] for i in range(len(clean) - 1)}


def resource_text(resource: Resource) -> Iterable[str]:
    yield resource.name
    yield resource.summary
    yield from (item.name for item in resource.items)


def index_resource(session: Session, resource: Resource) -> None:
    """Refresh the postings of one resource; called whenever its text changes."""
    grams: set[str] = set()
    for text in resource_text(resource):
        grams |= bigrams(text)
    # Codes are searched too, but as text they are mostly digits: index them whole.
    repository.replace_grams(session, resource.id, grams | {normalise(resource.code)[:8]})


@dataclass(frozen=True)
class SearchFilters:
    provider_code: str | None = None
    classification: ResourceClass | None = None
    share_type: ShareType | None = None
    states: tuple[ResourceState, ...] | None = None
    # Set for a department: resources in other states are shown only when it provides them.
    visible_states: tuple[ResourceState, ...] | None = None
    viewer_provider_id: int | None = None


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _term_condition(term: str, typed: str) -> tuple[object, object]:
    """(match condition, score) for one term: name 3, data item 2, summary 1.

    Stored text is not normalised, so the term also counts as typed (lower-cased): a
    full-width "（" or "，" copied from a summary must find that summary.
    """
    patterns = sorted({_like(term), _like(typed)})

    def like(column: Any) -> Any:
        return or_(*(column.like(pattern, escape="\\") for pattern in patterns))

    in_name = like(func.lower(Resource.name))
    in_summary = like(func.lower(Resource.summary))
    in_item = exists(
        select(literal(1)).where(
            DataItem.resource_id == Resource.id,
            like(func.lower(DataItem.name)),
        )
    )
    in_code = like(Resource.code)
    score = case((in_name, 3), (in_item, 2), (in_summary, 1), else_=1)
    return or_(in_name, in_summary, in_item, in_code), score


def _filtered(query: Select, session: Session, filters: SearchFilters) -> Select:  # type: ignore[type-arg]
    if filters.provider_code:
        provider = repository.department(session, filters.provider_code)
        query = query.where(Resource.provider_id == provider.id)
    if filters.classification:
        query = query.where(Resource.classification == filters.classification)
    if filters.share_type:
        query = query.where(Resource.share_type == filters.share_type)
    if filters.states:
        query = query.where(Resource.state.in_(filters.states))
    if filters.visible_states is not None:
        visible = Resource.state.in_(filters.visible_states)
        if filters.viewer_provider_id is not None:
            visible = or_(visible, Resource.provider_id == filters.viewer_provider_id)
        query = query.where(visible)
    return query


def search(
    session: Session,
    query: str,
    *,
    filters: SearchFilters | None = None,
    limit: int = 20,
    offset: int = 0,
) -> tuple[list[Resource], int]:
    """Resources matching every whitespace-separated term, best first, and the total count."""
    filters = filters or SearchFilters()
    typed_terms = [t for t in query.split() if normalise(t)]
    statement = select(Resource.id)
    score_total = None
    for typed in typed_terms:
        term = normalise(typed)
        condition, score = _term_condition(term, typed.lower())
        statement = statement.where(condition)
        score_total = score if score_total is None else score_total + score
        grams = sorted(bigrams(term))
        if grams:
            # The index narrows to candidates; the substring test above stays the judge.
            if filters.provider_code:
                # A department holds a sliver of the catalogue: probe its resources' grams
                # by key instead of reading whole posting lists.
                indexed = and_(*(repository.resource_has_gram(g) for g in grams))
            else:
                # One semi-join per gram: the planner sizes each posting list from its own
                # statistics and drives from the candidates instead of scanning resources.
                indexed = and_(
                    *(Resource.id.in_(repository.resource_ids_with_gram_query(g)) for g in grams)
                )
            if _CODE_CHARS.fullmatch(term):
                # Only a term that could be part of a code needs the unindexed code test;
                # OR-ing it onto every term made each search a full scan.
                indexed = or_(indexed, Resource.code.like(_like(term), escape="\\"))
            statement = statement.where(indexed)
    statement = _filtered(statement, session, filters)
    total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    order = [Resource.code] if score_total is None else [score_total.desc(), Resource.code]
    ids = session.scalars(statement.order_by(*order).offset(offset).limit(limit)).all()
    if not ids:
        return [], total
    loaded = {
        r.id: r
        for r in session.scalars(
            select(Resource)
            .options(selectinload(Resource.items), selectinload(Resource.provider))
            .where(Resource.id.in_(ids))
        )
    }
    return [loaded[i] for i in ids], total
