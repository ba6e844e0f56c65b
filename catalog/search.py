"""Catalogue search that works for Chinese without word segmentation.

Chinese has no spaces between words, so a word index finds nothing and ``LIKE '%…%'`` scans
every row. Each resource gets one search document: a token for every substring of two to four
characters of its name, of each data item name, of its summary and of its code, marked with the
field it comes from (name, item, summary, code), plus tokens for the values search filters on
(provider, classification, share type, state). The database's own full-text index holds the
documents: an FTS5 table on SQLite, a GIN-indexed ``tsvector`` on PostgreSQL. A term of two to
four characters is then one token, so matches and their exact count come from the index alone,
and so does ranking: "in the name" is a different token from "in a data item".

What matches is unchanged: a term matches when it occurs, as ``LIKE`` sees it, in the lower-cased
name, summary or a data item name, or in the code. The indexed text is lower-cased by the
database itself, so both sides agree on what lower case means. Terms longer than four characters
are looked up by their four-character pieces and then checked on those candidates: on SQLite
by their stored text (``search_docs``: what ``LIKE`` reads, lower-cased by the same database),
on PostgreSQL with ``LIKE`` (the stored text is toasted there); one-character terms scan with
``LIKE``, as before.

The first page of a big match need not come from the index: the stored documents
(``search_docs``) hold the texts the tokens were made from, so a token is also a condition on
a row ("the name contains this gram"), and walking codes in order testing rows finds a dense
match's first page after a few hundred rows, where gathering it from the index would touch
every match. Matches cluster in code order, so the walk is bounded and the index answers
when it finds too few.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from itertools import product
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    Select,
    TextClause,
    bindparam,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Session, selectinload

from catalog import repository
from catalog.domain import ResourceClass, ResourceState, ShareType
from catalog.models import DataItem, Resource

# Substrings of at most this many characters are tokens; longer terms are looked up by pieces.
GRAM_MAX = 4
# Above this many terms the 3^n score tiers are not worth enumerating in the index.
MAX_TIERED_TERMS = 3
# A score tier with more matches than this is counted first, to choose how to page it (SQLite).
DENSE_FROM = 1000
# ... and gathered whole and walked in code order when it holds 1/DENSE_SHARE of the documents.
DENSE_SHARE = 6
# PostgreSQL first looks for a big match's page among this many codes in order.
PREFIX_ROWS = 400
# SQLite looks for a big match's page among at most this many codes in order, testing each
# document's stored text (about 1.5 µs a row), when the match is big enough that spread
# evenly it would fill the page within a quarter of them.
WALK_ROWS = 2_000
# Fields in rank order: a term in the name scores 3, in a data item 2, in the summary or code 1.
NAME, ITEM, SUMMARY, CODE = "n", "i", "s", "c"
_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"
_INDEX_BATCH = 500


def normalise(text: str) -> str:
    """Full-width to half-width (NFKC), lower case, no whitespace: how both sides compare."""
    return "".join(unicodedata.normalize("NFKC", text).lower().split())


def bigrams(text: str) -> set[str]:
    clean = normalise(text)
    return {clean[i : i + 2] for i in range(len(clean) - 1)}


# ---- documents ---------------------------------------------------------------------------


@lru_cache(maxsize=1 << 16)
def _char(c: str) -> str:
    """One character as four base-36 digits (36**4 > 0x10FFFF).

    Tokens are plain lower-case ASCII so that neither FTS5's tokenizer nor PostgreSQL's
    tsquery parser folds, splits or stems them: a token means exactly these characters.
    Cached: a catalogue's text is drawn from a few thousand distinct characters.
    """
    n = ord(c)
    return "".join(_BASE36[(n // 36**k) % 36] for k in (3, 2, 1, 0))


def _token(field: str, gram: str) -> str:
    return field + "".join(map(_char, gram))


def _gram_tokens(field: str, text: str) -> set[str]:
    """The tokens of every substring of 2..GRAM_MAX characters of ``text`` in ``field``.

    No substring spans whitespace, which no term holds. Indexing a resource is mostly this:
    a word of n characters has about 3n such grams, and encoding each gram's characters anew
    made indexing four times slower, so each word is encoded once and a gram's code is a
    slice of it (four digits a character).
    """
    found: set[str] = set()
    for word in re.split(r"\s+", text):
        code = "".join(map(_char, word))
        for size in range(2, GRAM_MAX + 1):
            width = 4 * size
            found.update(field + code[4 * i : 4 * i + width] for i in range(len(word) - size + 1))
    return found


def _filter_token(kind: str, value: object) -> str:
    return "z" + kind + "".join(map(_char, str(value)))


def _decoded(token: str) -> tuple[str, str]:
    """(field, text) of a token: the field letter (``z`` plus the filter's letter for filter
    tokens) and the characters it stands for."""
    field = token[:2] if token.startswith("z") else token[:1]
    digits = token[len(field) :]
    chars = (int(digits[i : i + 4], 36) for i in range(0, len(digits), 4))
    return field, "".join(map(chr, chars))


@dataclass(frozen=True)
class SearchDoc:
    """What one resource's search document is made of, as the database lower-cased it.

    Kept in ``search_docs`` so that the SQLite index, which stores no text, can take the
    old tokens out again when the resource changes.
    """

    resource_id: int
    code: str  # as stored: the order of results
    code_text: str  # as LIKE compares it (SQLite's LIKE ignores ASCII case, PostgreSQL's not)
    name: str
    items: tuple[str, ...]
    summary: str
    state: str
    share_type: str
    classification: str
    provider_id: int

    def tokens(self) -> list[str]:
        found = _gram_tokens(NAME, self.name)
        for item in self.items:
            found |= _gram_tokens(ITEM, item)
        found |= _gram_tokens(SUMMARY, self.summary)
        found |= _gram_tokens(CODE, self.code_text)
        found |= {
            _filter_token("t", self.state),
            _filter_token("s", self.share_type),
            _filter_token("c", self.classification),
            _filter_token("p", self.provider_id),
        }
        return sorted(found)

    def row(self) -> dict[str, Any]:
        return {
            "resource_id": self.resource_id,
            "code": self.code,
            "code_text": self.code_text,
            "name": self.name,
            "items": json.dumps(list(self.items), ensure_ascii=False),
            "summary": self.summary,
            "state": self.state,
            "share_type": self.share_type,
            "classification": self.classification,
            "provider_id": self.provider_id,
        }

    @classmethod
    def from_row(cls, row: Any) -> SearchDoc:
        m = row._mapping
        return cls(
            resource_id=m["resource_id"],
            code=m["code"],
            code_text=m["code_text"],
            name=m["name"],
            items=tuple(json.loads(m["items"])),
            summary=m["summary"],
            state=m["state"],
            share_type=m["share_type"],
            classification=m["classification"],
            provider_id=m["provider_id"],
        )


_DOC_COLUMNS = (
    "resource_id, code, code_text, name, items, summary, state, share_type, classification,"
    " provider_id"
)


def _chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), _INDEX_BATCH):
        yield list(ids[start : start + _INDEX_BATCH])


def _current_docs(conn: Connection, ids: list[int]) -> list[SearchDoc]:
    """The documents of these resources as they stand, texts lower-cased by the database."""
    code_text = "lower(r.code)" if conn.dialect.name == "sqlite" else "r.code"
    ids_param: BindParameter[Any] = bindparam("ids", expanding=True)
    rows = conn.execute(
        text(
            f"SELECT r.id, r.code, {code_text}, lower(r.name), lower(r.summary), r.state,"
            " r.share_type, r.classification, r.provider_id FROM resources r WHERE r.id IN :ids"
        ).bindparams(ids_param),
        {"ids": ids},
    ).all()
    items: dict[int, list[str]] = {}
    for resource_id, name in conn.execute(
        text(
            "SELECT resource_id, lower(name) FROM data_items WHERE resource_id IN :ids"
            " ORDER BY resource_id, position"
        ).bindparams(ids_param),
        {"ids": ids},
    ):
        items.setdefault(resource_id, []).append(name)
    return [
        SearchDoc(
            resource_id=r[0],
            code=r[1],
            code_text=r[2],
            name=r[3],
            items=tuple(items.get(r[0], ())),
            summary=r[4] or "",
            state=r[5],
            share_type=r[6],
            classification=r[7],
            provider_id=r[8],
        )
        for r in rows
    ]


def index_resources(conn: Connection, resource_ids: Iterable[int]) -> None:
    """Bring the search documents of these resources in line with their rows.

    Called in the transaction that changed them (``Catalog.unit`` does it for every resource
    or data item the unit touched), so a search never sees a half-applied change.
    """
    ids = sorted(set(resource_ids))
    sqlite = conn.dialect.name == "sqlite"
    for chunk in _chunks(ids):
        ids_param: BindParameter[Any] = bindparam("ids", expanding=True)
        if sqlite:
            # The FTS5 table keeps no text: removing a document means handing it the old one.
            stored = text(f"SELECT {_DOC_COLUMNS} FROM search_docs WHERE resource_id IN :ids")
            old = conn.execute(stored.bindparams(ids_param), {"ids": chunk}).all()
            if old:
                conn.execute(
                    text(
                        "INSERT INTO search_fts(search_fts, rowid, doc)"
                        " VALUES ('delete', :id, :doc)"
                    ),
                    [
                        {"id": d.resource_id, "doc": " ".join(d.tokens())}
                        for d in map(SearchDoc.from_row, old)
                    ],
                )
        conn.execute(
            text("DELETE FROM search_docs WHERE resource_id IN :ids").bindparams(ids_param),
            {"ids": chunk},
        )
        docs = _current_docs(conn, chunk)
        if not docs:
            continue
        if sqlite:
            conn.execute(
                text(f"INSERT INTO search_docs ({_DOC_COLUMNS}) VALUES ({_placeholders()})"),
                [d.row() for d in docs],
            )
            conn.execute(
                text("INSERT INTO search_fts(rowid, doc) VALUES (:id, :doc)"),
                [{"id": d.resource_id, "doc": " ".join(d.tokens())} for d in docs],
            )
        else:
            conn.execute(
                text(
                    f"INSERT INTO search_docs ({_DOC_COLUMNS}, doc) VALUES ({_placeholders()},"
                    " array_to_tsvector(CAST(:tokens AS text[])))"
                ),
                [d.row() | {"tokens": d.tokens()} for d in docs],
            )


def _placeholders() -> str:
    return ", ".join(f":{c.strip()}" for c in _DOC_COLUMNS.split(","))


def rebuild_index(conn: Connection) -> None:
    """Index every resource from scratch (after the migration that adds the index)."""
    if conn.dialect.name == "sqlite":
        conn.execute(text("INSERT INTO search_fts(search_fts) VALUES ('delete-all')"))
    conn.execute(text("DELETE FROM search_docs"))
    ids = list(conn.execute(text("SELECT id FROM resources ORDER BY id")).scalars())
    index_resources(conn, ids)


# ---- queries over the index --------------------------------------------------------------

# An index query: ("tok", token) | ("and", parts) | ("or", parts) | ("not", keep, drop).
Expr = tuple[Any, ...]


def _and(*parts: Expr) -> Expr:
    return parts[0] if len(parts) == 1 else ("and", parts)


def _or(*parts: Expr) -> Expr:
    return parts[0] if len(parts) == 1 else ("or", parts)


def _fts5(e: Expr) -> str:
    kind = e[0]
    if kind == "tok":
        return f'"{e[1]}"'
    if kind == "not":
        return f"({_fts5(e[1])} NOT {_fts5(e[2])})"
    return "(" + f" {kind.upper()} ".join(_fts5(p) for p in e[1]) + ")"


def _tsquery(e: Expr) -> str:
    kind = e[0]
    if kind == "tok":
        return f"'{e[1]}'"
    if kind == "not":
        return f"({_tsquery(e[1])} & !{_tsquery(e[2])})"
    joiner = " & " if kind == "and" else " | "
    return "(" + joiner.join(_tsquery(p) for p in e[1]) + ")"


# What a token says about the stored document (``search_docs``), column by column: a gram
# token holds when the column's text contains the gram (a gram never spans whitespace and a
# term holds none, so "is one of the column's grams" and "occurs in the column" agree).
_TEXT_COLUMNS = {NAME: "name", SUMMARY: "summary", CODE: "code_text"}
_FILTER_COLUMNS = {"zt": "state", "zs": "share_type", "zc": "classification", "zp": "provider_id"}
# Characters JSON writes escaped: a gram holding one is not found verbatim in the items' JSON.
_JSON_ESCAPED = re.compile(r'["\\\x00-\x1f]')


class _StoredCondition:
    """An index query as a condition on the stored documents' columns, with its parameters.

    It selects exactly the documents the index would, token by token, so a page can be read
    by walking codes in order and testing each row, and stop as soon as it is full.
    """

    def __init__(self, e: Expr | None, *, sqlite: bool) -> None:
        self.sqlite = sqlite
        self.params: dict[str, Any] = {}
        self.sql = "" if e is None else self._render(e)

    def render(self, e: Expr) -> str:
        """Another condition with its parameters in the same statement."""
        return self._render(e)

    def _param(self, value: object) -> str:
        name = f"w{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    def _contains(self, column: str, gram: str) -> str:
        fn = "instr" if self.sqlite else "strpos"
        return f"{fn}({column}, {self._param(gram)}) > 0"

    def _render(self, e: Expr) -> str:
        kind = e[0]
        if kind == "not":
            return f"({self._render(e[1])} AND NOT {self._render(e[2])})"
        if kind in ("and", "or"):
            return "(" + f" {kind.upper()} ".join(self._render(p) for p in e[1]) + ")"
        field, value = _decoded(e[1])
        if field in _FILTER_COLUMNS:
            column = _FILTER_COLUMNS[field]
            return f"d.{column} = {self._param(int(value) if field == 'zp' else value)}"
        if field in _TEXT_COLUMNS:
            return self._contains(f"d.{_TEXT_COLUMNS[field]}", value)
        # A data item: one of the JSON list's strings must contain the gram. In the JSON
        # text (["…", "…"]) only quotes, ", " and brackets lie between strings, so a gram
        # without quote or whitespace occurs in the text exactly when in one of them, unless
        # JSON escaped something in it (quote, backslash, control character).
        if not _JSON_ESCAPED.search(value):
            return self._contains("d.items", value)
        if self.sqlite:
            return (
                "EXISTS (SELECT 1 FROM json_each(d.items) AS j"
                f" WHERE {self._contains('j.value', value)})"
            )
        return (
            "EXISTS (SELECT 1 FROM json_array_elements_text(CAST(d.items AS json)) AS j(v)"
            f" WHERE {self._contains('j.v', value)})"
        )


@dataclass(frozen=True)
class _Term:
    """One whitespace-separated term and the strings it may match as (normalised, as typed)."""

    typed: str
    patterns: tuple[str, ...]

    @classmethod
    def of(cls, typed: str) -> _Term:
        return cls(typed, tuple(sorted({normalise(typed), typed.lower()})))

    @property
    def indexable(self) -> bool:
        return all(len(p) >= 2 for p in self.patterns)

    @property
    def exact(self) -> bool:
        """Whether the index alone decides: every pattern is a single token."""
        return all(2 <= len(p) <= GRAM_MAX for p in self.patterns)

    def in_field(self, field: str) -> Expr:
        """Candidates with the term in ``field``: exact for short patterns, a superset for
        long ones (all their four-character pieces, in any order)."""
        options = []
        for p in self.patterns:
            pieces = {p} if len(p) <= GRAM_MAX else _pieces(p)
            options.append(_and(*(("tok", _token(field, g)) for g in sorted(pieces))))
        return _or(*options)

    def anywhere(self) -> Expr:
        return _or(*(self.in_field(f) for f in (NAME, ITEM, SUMMARY, CODE)))

    def scored(self, score: int) -> Expr:
        """Resources where this term scores exactly ``score`` (3 name, 2 item, 1 otherwise)."""
        name, item = self.in_field(NAME), self.in_field(ITEM)
        if score == 3:
            return name
        if score == 2:
            return ("not", item, name)
        return ("not", _or(self.in_field(SUMMARY), self.in_field(CODE)), _or(name, item))


def _pieces(p: str) -> set[str]:
    return {p[i : i + GRAM_MAX] for i in range(len(p) - GRAM_MAX + 1)}


@dataclass(frozen=True)
class SearchFilters:
    provider_code: str | None = None
    classification: ResourceClass | None = None
    share_type: ShareType | None = None
    states: tuple[ResourceState, ...] | None = None
    # Set for a department: resources in other states are shown only when it provides them.
    visible_states: tuple[ResourceState, ...] | None = None
    viewer_provider_id: int | None = None


def _filter_expr(session: Session, filters: SearchFilters) -> list[Expr]:
    parts: list[Expr] = []
    if filters.provider_code:
        provider = repository.department(session, filters.provider_code)
        parts.append(("tok", _filter_token("p", provider.id)))
    if filters.classification:
        parts.append(("tok", _filter_token("c", filters.classification)))
    if filters.share_type:
        parts.append(("tok", _filter_token("s", filters.share_type)))
    if filters.states:
        parts.append(_or(*(("tok", _filter_token("t", s)) for s in filters.states)))
    if filters.visible_states is not None:
        # A department sees other providers' resources only in these states, its own in any.
        visible: list[Expr] = [("tok", _filter_token("t", s)) for s in filters.visible_states]
        if filters.viewer_provider_id is not None:
            visible.append(("tok", _filter_token("p", filters.viewer_provider_id)))
        parts.append(_or(*visible))
    return parts


class _Index:
    """The dialect's full-text index behind one interface: ids, counts, pages in code order."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.sqlite = session.get_bind().dialect.name == "sqlite"

    @contextmanager
    def planned(self) -> Iterator[None]:
        """PostgreSQL prices ``@@`` on a toasted tsvector like a cheap filter and, the heap
        being small, picks a sequential scan that de-toasts every document (half a second
        at 30,000). The GIN index is always the better road here: say so for these
        statements only, then put the setting back for the rest of the unit."""
        if self.sqlite:
            yield
            return
        before = self.session.execute(text("SELECT current_setting('enable_seqscan')")).scalar()
        self.session.execute(text("SELECT set_config('enable_seqscan', 'off', true)"))
        try:
            yield
        finally:
            self.session.execute(
                text("SELECT set_config('enable_seqscan', :v, true)"), {"v": before}
            )

    def render(self, e: Expr) -> str:
        return _fts5(e) if self.sqlite else _tsquery(e)

    def judged(
        self, e: Expr, terms: Sequence[_Term], restrict: list[Expr], *, limit: int, offset: int
    ) -> tuple[list[int], int]:
        """Total and page of ``terms`` (some too long to be one token) among the index's
        candidates for ``e``, judged on the stored documents' text rather than by ``LIKE``
        on resources and their data items (a data item subquery per candidate and term:
        120 ms for 8,700 candidates at a million). The stored text is what ``LIKE`` reads,
        lower-cased by the same database, so a term occurs in one exactly when in the other.
        """
        stored = _StoredCondition(None, sqlite=self.sqlite)
        conditions, scores = [], []
        for term in terms:
            name, item, summary, code = (
                stored.render(_or(*(("tok", _token(field, p)) for p in term.patterns)))
                for field in (NAME, ITEM, SUMMARY, CODE)
            )
            conditions.append(f"({name} OR {item} OR {summary} OR {code})")
            scores.append(f"(CASE WHEN {name} THEN 3 WHEN {item} THEN 2 ELSE 1 END)")
        conditions += [stored.render(f) for f in restrict]
        if self.sqlite:
            candidates = "d.resource_id IN (SELECT rowid FROM search_fts WHERE search_fts MATCH :q)"
        else:
            candidates = "d.doc @@ CAST(:q AS tsquery)"
        matches = (
            f"SELECT d.resource_id, d.code, {' + '.join(scores)} AS score FROM search_docs AS d"
            f" WHERE {candidates} AND {' AND '.join(conditions)}"
        )
        params = stored.params | {"q": self.render(e)}
        # Ranked and counted in one pass by the database: sorting thousands of rows in
        # Python took longer than judging them.
        rows = self.session.execute(
            text(
                f"SELECT resource_id, count(*) OVER () FROM ({matches}) AS m"
                " ORDER BY score DESC, code LIMIT :limit OFFSET :offset"
            ),
            params | {"limit": limit, "offset": offset},
        ).all()
        if rows:
            return [row[0] for row in rows], int(rows[0][1])
        if not offset:
            return [], 0
        total = self.session.execute(text(f"SELECT count(*) FROM ({matches}) AS m"), params)
        return [], int(total.scalar_one())

    def ids(self, e: Expr) -> TextClause:
        """A subquery of the resource ids matching ``e``."""
        if self.sqlite:
            sql = "SELECT rowid FROM search_fts WHERE search_fts MATCH :q"
        else:
            sql = "SELECT resource_id FROM search_docs WHERE doc @@ CAST(:q AS tsquery)"
        return text(sql).bindparams(q=self.render(e))

    def count(self, e: Expr) -> int:
        if self.sqlite:
            sql = "SELECT count(*) FROM search_fts WHERE search_fts MATCH :q"
        else:
            sql = "SELECT count(*) FROM search_docs WHERE doc @@ CAST(:q AS tsquery)"
        return int(self.session.execute(text(sql), {"q": self.render(e)}).scalar_one())

    def walk(self, e: Expr, *, limit: int, offset: int) -> list[int] | None:
        """Ids matching ``e`` in code order, found by testing the stored documents of the
        first ``WALK_ROWS`` codes; None when those hold fewer than ``offset + limit``.

        Testing a row's text is cheap next to gathering and sorting a match of tens of
        thousands, and a big match spread over the catalogue fills its first page within a
        few hundred codes. Matches clustered in a range of codes (one department's, one
        topic's) may not: the cap bounds what trying costs.
        """
        condition = _StoredCondition(e, sqlite=True)
        stop = self.session.execute(
            text("SELECT code FROM search_docs ORDER BY code LIMIT 1 OFFSET :n"),
            {"n": WALK_ROWS},
        ).scalar()
        bound = "" if stop is None else "d.code <= :stop AND "
        sql = (
            "SELECT d.resource_id FROM search_docs AS d INDEXED BY ix_search_docs_code"
            f" WHERE {bound}{condition.sql} ORDER BY d.code LIMIT :limit OFFSET :offset"
        )
        params = condition.params | {"stop": stop, "limit": limit, "offset": offset}
        found = list(self.session.execute(text(sql), params).scalars())
        # Without a bound every document was tested: fewer than asked is then the answer.
        return found if len(found) == limit or stop is None else None

    def documents(self) -> int:
        """About how many documents there are (ids are given in order; a few may be gone)."""
        return int(
            self.session.execute(text("SELECT max(resource_id) FROM search_docs")).scalar() or 0
        )

    def page(self, e: Expr, *, limit: int, offset: int, size: int | None, big: bool) -> list[int]:
        """Ids matching ``e`` in code order.

        ``size`` is the number of matches when it was counted (only big ones are). On
        SQLite a match big enough to fill the page early in code order if spread evenly is
        first looked for by walking codes (``walk``). Otherwise, or if that finds too few
        (matches cluster: one topic's resources share their data items and sit together
        in code order), a match of at least ``1/DENSE_SHARE`` of the documents is gathered
        from the index (about 0.15 µs a match at a million) and the codes are walked in
        order keeping those in it (0.05 µs a code, at most 50 ms at a million, however the
        matches lie); a smaller one is read out of the index and sorted (0.2-0.4 µs a
        match: walking the codes for one department's few thousand matches near the end
        took 90 ms at a million). PostgreSQL tries a big match (``big``) on the first codes
        before sorting.
        """
        dense = False
        if self.sqlite and size is not None and size > DENSE_FROM:
            documents = self.documents()
            if (offset + limit) * documents / size <= WALK_ROWS / 4:
                walked = self.walk(e, limit=limit, offset=offset)
                if walked is not None:
                    return walked
            dense = size * DENSE_SHARE >= documents
        if dense:
            sql = (
                "SELECT resource_id FROM search_docs INDEXED BY ix_search_docs_code"
                " WHERE resource_id IN (SELECT rowid FROM search_fts WHERE search_fts MATCH :q)"
                " ORDER BY code LIMIT :limit OFFSET :offset"
            )
        elif self.sqlite:
            sql = (
                "SELECT d.resource_id FROM search_fts JOIN search_docs d"
                " ON d.resource_id = search_fts.rowid WHERE search_fts MATCH :q"
                " ORDER BY d.code LIMIT :limit OFFSET :offset"
            )
        else:
            if big:
                # A big match is often dense: the first few hundred codes may hold the page.
                # They are tested on their stored text, as SQLite's walk does, rather than
                # by de-toasting each document (~8 µs); if they hold too few matches, the
                # sorted read below answers.
                condition = _StoredCondition(e, sqlite=False)
                prefix = (
                    f"SELECT d.resource_id FROM (SELECT {_DOC_COLUMNS} FROM search_docs"
                    f" ORDER BY code LIMIT :prefix) d WHERE {condition.sql}"
                    " ORDER BY d.code LIMIT :limit OFFSET :offset"
                )
                params = condition.params | {"limit": limit, "offset": offset}
                found = list(
                    self.session.execute(text(prefix), params | {"prefix": PREFIX_ROWS}).scalars()
                )
                if len(found) == limit:  # the prefix held offset + limit matches
                    return found
            # PostgreSQL reads the matches off the GIN index and sorts them (under a
            # microsecond each: the heap holds codes, the documents are toasted). Walking
            # all codes would de-toast every document it passes.
            sql = (
                "WITH m AS MATERIALIZED (SELECT resource_id, code FROM search_docs"
                " WHERE doc @@ CAST(:q AS tsquery))"
                " SELECT resource_id FROM m ORDER BY code LIMIT :limit OFFSET :offset"
            )
        params = {"q": self.render(e), "limit": limit, "offset": offset}
        return list(self.session.execute(text(sql), params).scalars())


def _tiers(terms: Sequence[_Term], filters: list[Expr]) -> Iterable[Expr]:
    """Index queries for each total score, best first; within one, results go in code order."""
    n = len(terms)
    for total in range(3 * n, n - 1, -1):
        combos = [c for c in product((3, 2, 1), repeat=n) if sum(c) == total]
        yield _and(
            _or(*(_and(*(t.scored(s) for t, s in zip(terms, c, strict=True))) for c in combos)),
            *filters,
        )


def _tiered_page(
    index: _Index, tiers: Iterable[Expr], *, total: int, limit: int, offset: int
) -> list[int]:
    ids: list[int] = []
    skip = offset
    for tier in tiers:
        if len(ids) >= limit or offset + len(ids) >= total:
            break  # the page is full, or every match is on it: later tiers are empty
        size = None
        if skip or (index.sqlite and total > DENSE_FROM):
            # Sizes cost a pass over the index: only a later page needs them, or SQLite to
            # choose how to page a big match (PostgreSQL always pages the same way).
            size = index.count(tier)
            if size <= skip:
                skip -= size
                continue
        ids += index.page(
            tier, limit=limit - len(ids), offset=skip, size=size, big=total > DENSE_FROM
        )
        skip = 0
    return ids


# ---- the LIKE side: the judge for long and one-character terms ---------------------------


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _term_condition(term: _Term) -> tuple[Any, Any]:
    """(match condition, score) for one term: name 3, data item 2, summary 1.

    Stored text is not normalised, so the term also counts as typed (lower-cased): a
    full-width "（" or "，" copied from a summary must find that summary.
    """
    patterns = [_like(p) for p in term.patterns]

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
        visible: ColumnElement[bool] = Resource.state.in_(filters.visible_states)
        if filters.viewer_provider_id is not None:
            visible = or_(visible, Resource.provider_id == filters.viewer_provider_id)
        query = query.where(visible)
    return query


def _checked(
    session: Session,
    terms: Sequence[_Term],
    filters: SearchFilters,
    candidates: TextClause | None,
    *,
    limit: int,
    offset: int,
) -> tuple[list[int], int]:
    """Total and page by ``LIKE``, over the index's candidates or (None) every resource."""
    statement = select(Resource.id)
    if candidates is not None:
        statement = statement.where(Resource.id.in_(candidates))
    score_total: Any = None
    for term in terms:
        condition, score = _term_condition(term)
        statement = statement.where(condition)
        score_total = score if score_total is None else score_total + score
    statement = _filtered(statement, session, filters)
    if candidates is not None:
        # Candidates are few next to the catalogue: judge each once and rank them here,
        # rather than running the LIKEs once for the count and again for the page.
        rows = sorted(
            session.execute(statement.add_columns(Resource.code, score_total)).all(),
            key=lambda row: (-row[2], row[1]),  # score, then code as ORDER BY code has it
        )
        return [row[0] for row in rows[offset : offset + limit]], len(rows)
    total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    ids = list(
        session.scalars(
            statement.order_by(score_total.desc(), Resource.code).offset(offset).limit(limit)
        )
    )
    return ids, total


# ---- search ------------------------------------------------------------------------------


def _all_in_code_order(
    session: Session, filters: SearchFilters, *, limit: int, offset: int
) -> tuple[list[int], int]:
    statement = _filtered(select(Resource.id), session, filters)
    total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    ids = list(session.scalars(statement.order_by(Resource.code).offset(offset).limit(limit)))
    return ids, total


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
    terms = [_Term.of(t) for t in query.split() if normalise(t)]
    if not terms:
        ids, total = _all_in_code_order(session, filters, limit=limit, offset=offset)
    elif not all(t.indexable for t in terms):
        # A one-character term has no token: scan, as a LIKE would.
        ids, total = _checked(session, terms, filters, None, limit=limit, offset=offset)
    else:
        index = _Index(session)
        restrict = _filter_expr(session, filters)
        matching = _and(*(t.anywhere() for t in terms), *restrict)
        with index.planned():
            if all(t.exact for t in terms) and len(terms) <= MAX_TIERED_TERMS:
                total = index.count(matching)
                ids = (
                    _tiered_page(
                        index, _tiers(terms, restrict), total=total, limit=limit, offset=offset
                    )
                    if total > offset
                    else []
                )
            else:
                ids, total = (
                    index.judged(matching, terms, restrict, limit=limit, offset=offset)
                    if index.sqlite
                    else _checked(
                        session, terms, filters, index.ids(matching), limit=limit, offset=offset
                    )
                )
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
