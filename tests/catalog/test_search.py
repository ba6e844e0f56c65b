"""Chinese search without word segmentation, with filters, on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, select, text

from bench import catalog_data
from catalog import search as search_module
from catalog import services
from catalog.domain import ResourceClass, ResourceState, ShareType
from catalog.models import DataItem, Department, Resource
from catalog.schemas import ResourceIn, ReviewIn
from catalog.search import SearchFilters, bigrams, normalise, search
from catalog.store import Catalog
from catalog.transfer import ExportFormat, export_catalog, import_catalog, read_source
from demo.catalog import DEPT
from infra import db
from infra.settings import Settings
from tests import factories
from tests.factories import STEWARD


def _codes(catalog, query: str, **filters: object) -> list[str]:  # type: ignore[no-untyped-def]
    with catalog.unit() as ctx:
        found, total = search(ctx.session, query, filters=SearchFilters(**filters), limit=100)
    assert total == len(found)
    return [r.code for r in found]


def test_two_character_word_inside_a_name_or_item_is_found(demo_catalog) -> None:
    # 婚姻登记信息 by its name, 一人一档 by its item 婚姻状况.
    assert _codes(demo_catalog, "婚姻") == ["000005001/000001", "000008002/000002"]


def test_name_matches_rank_before_item_and_summary_matches(demo_catalog) -> None:
    codes = _codes(demo_catalog, "纳税信用")
    # 纳税信用等级信息 has it in the name; 一企一档 only has the item 纳税信用等级.
    assert codes[0] == "000002001/000001"
    assert "000008002/000001" in codes


def test_data_item_names_and_summaries_are_searched(demo_catalog) -> None:
    assert _codes(demo_catalog, "准驾车型") == ["000004002/000001"]  # item only
    assert "000006001/000001" in _codes(demo_catalog, "新生儿")  # summary and item


def test_all_terms_must_match(demo_catalog) -> None:
    both = _codes(demo_catalog, "企业 参保")
    assert both == ["000003001/000001"] or set(both) >= {"000003001/000001"}
    for code in both:
        assert code in _codes(demo_catalog, "企业") and code in _codes(demo_catalog, "参保")


def test_full_width_and_case_are_normalised(demo_catalog) -> None:
    assert normalise("ＡＢｃ　１２") == "abc12"
    assert _codes(demo_catalog, "０００００４００１／０００００２") == ["000004001/000002"]
    # A full-width space separates terms like an ASCII one.
    assert _codes(demo_catalog, "婚姻　登记") == _codes(demo_catalog, "婚姻 登记")
    assert _codes(demo_catalog, "婚姻登记") == ["000005001/000001"]


def test_single_character_query_scans_but_still_answers(demo_catalog) -> None:
    assert "000005001/000001" in _codes(demo_catalog, "婚")


def test_filters_by_department_classification_and_share_type(demo_catalog) -> None:
    assert _codes(demo_catalog, "信息", provider_code=DEPT["sw"]) == [
        "000002001/000001", "000002001/000002", "000002001/000003",
    ]  # fmt: skip
    base = _codes(demo_catalog, "登记", classification=ResourceClass.BASE)
    assert "000001001/000001" in base and "000005001/000001" not in base
    shared = _codes(demo_catalog, "企业", share_type=ShareType.CONDITIONAL)
    assert "000001001/000001" not in shared and "000002001/000002" in shared


def test_code_search_and_like_metacharacters(demo_catalog) -> None:
    assert _codes(demo_catalog, "000004001/000001") == ["000004001/000001"]
    assert _codes(demo_catalog, "100%") == []
    assert _codes(demo_catalog, "_") == []


def test_no_false_positives_from_bigrams_alone(catalog) -> None:
    # "数据" and "据共" both occur but "数据共享" does not: the substring check must reject it.
    with catalog.unit() as ctx:
        dept = factories.department(ctx)
        spec: ResourceIn = factories.resource_spec(dept, name="数据目录", summary="依据共建要求")
        services.create_resource(ctx, spec=spec, actor=STEWARD)
        assert {"数据", "据共"} <= bigrams("数据目录") | bigrams("依据共建要求")
    assert _codes(catalog, "数据共享") == []
    assert _codes(catalog, "数据目录") == [spec.code]


def test_index_follows_edits(catalog) -> None:
    with catalog.unit() as ctx:
        dept = factories.department(ctx)
        spec = factories.resource_spec(dept, name="旧名称资源")
        services.create_resource(ctx, spec=spec, actor=STEWARD)
        services.update_resource(
            ctx, code=spec.code, spec=spec.model_copy(update={"name": "新名称资源"}), actor=STEWARD
        )
    assert _codes(catalog, "旧名称") == []
    assert _codes(catalog, "新名称") == [spec.code]


@pytest.mark.parametrize("limit", [1, 2])
def test_paging_keeps_the_total(demo_catalog, limit: int) -> None:
    with demo_catalog.unit() as ctx:
        page, total = search(ctx.session, "信息", limit=limit, offset=1)
    assert len(page) == limit and total > limit


def test_full_width_punctuation_typed_as_stored_is_found(demo_catalog) -> None:
    # The summary of 纳税信用等级信息 holds "（A、B、M、C、D）" with full-width brackets.
    assert "000002001/000001" in _codes(demo_catalog, "信用等级（A")


# ---- the index follows the catalogue -----------------------------------------------------


def _total(catalog, query: str, **filters: object) -> int:  # type: ignore[no-untyped-def]
    with catalog.unit() as ctx:
        return search(ctx.session, query, filters=SearchFilters(**filters), limit=1)[1]


def test_edited_name_and_items_replace_the_old_ones_in_the_index(catalog) -> None:
    with catalog.unit() as ctx:
        dept = factories.department(ctx)
        spec = factories.resource_spec(dept, name="旧名称资源", items=[factories.item("旧信息项")])
        services.create_resource(ctx, spec=spec, actor=STEWARD)
    with catalog.unit() as ctx:
        edited = spec.model_copy(
            update={"name": "新名称资源", "items": [factories.item("新信息项")]}
        )
        services.update_resource(ctx, code=spec.code, spec=edited, actor=STEWARD)
    for old in ("旧名称", "旧名", "旧信息项", "旧信息"):
        assert _codes(catalog, old) == [], old
        assert _total(catalog, old) == 0, old
    for new in ("新名称", "新名", "新信息项", "名称资源"):
        assert _codes(catalog, new) == [spec.code], new


def test_state_changes_move_a_resource_between_state_filters(catalog) -> None:
    """Search itself shows every state (as before); a state filter follows each move."""
    with catalog.unit() as ctx:
        dept = factories.department(ctx)
        spec = factories.resource_spec(dept, name="婚姻登记信息")
        services.create_resource(ctx, spec=spec, actor=STEWARD)
    published = (ResourceState.PUBLISHED,)
    assert _codes(catalog, "婚姻", states=(ResourceState.DRAFT,)) == [spec.code]
    assert _codes(catalog, "婚姻", states=published) == []
    with catalog.unit() as ctx:
        services.submit_resource(ctx, code=spec.code, actor=STEWARD)
        services.review_resource(ctx, code=spec.code, review=ReviewIn(approve=True), actor=STEWARD)
    assert _codes(catalog, "婚姻", states=published) == [spec.code]
    assert _codes(catalog, "婚姻", states=(ResourceState.DRAFT,)) == []
    with catalog.unit() as ctx:
        services.request_offline(ctx, code=spec.code, reason="业务调整", actor=STEWARD)
        services.decide_offline(ctx, code=spec.code, confirm=True, actor=STEWARD)
    assert _codes(catalog, "婚姻", states=published) == []
    assert _total(catalog, "婚姻登记", states=published) == 0
    assert _codes(catalog, "婚姻", states=(ResourceState.RETIRED,)) == [spec.code]
    assert _codes(catalog, "婚姻") == [spec.code]


def test_a_unit_that_fails_leaves_the_index_as_it_was(catalog) -> None:
    with catalog.unit() as ctx:
        dept = factories.department(ctx)
        spec = factories.resource_spec(dept, name="企业登记信息")
        services.create_resource(ctx, spec=spec, actor=STEWARD)
    with pytest.raises(RuntimeError), catalog.unit() as ctx:
        services.update_resource(
            ctx, code=spec.code, spec=spec.model_copy(update={"name": "个体户信息"}), actor=STEWARD
        )
        ctx.session.flush()
        raise RuntimeError("the unit fails after the edit")
    assert _codes(catalog, "企业登记") == [spec.code]
    assert _codes(catalog, "个体户") == []


def test_imported_resources_are_found(catalog, tmp_path) -> None:  # type: ignore[no-untyped-def]
    source = Catalog(Settings(home=tmp_path, database_url=f"sqlite:///{tmp_path / 'source.db'}"))
    source.migrate()
    with source.unit() as ctx:
        dept = factories.department(ctx)
        for seq, name in enumerate(("不动产登记信息", "不动产权证书", "房屋登记信息"), start=1):
            services.create_resource(
                ctx, spec=factories.resource_spec(dept, seq, name=name), actor=STEWARD
            )
        out = tmp_path / "catalogue.json"
        export_catalog(ctx, fmt=ExportFormat.JSON, out=out, actor=STEWARD)
    source.dispose()
    with catalog.unit() as ctx:
        import_catalog(ctx, read_source(out), actor=STEWARD)
    assert _codes(catalog, "不动产") == ["000009001/000001", "000009001/000002"]
    assert _total(catalog, "登记信息") == 2


# ---- exact counts and ranking --------------------------------------------------------------


def _like_total(catalog, term: str) -> int:  # type: ignore[no-untyped-def]
    """The plain answer, row by row in Python: the term in a name, summary, item or code."""
    with catalog.unit() as ctx:
        return sum(
            any(term in t.lower() for t in (r.name, r.summary, r.code, *(i.name for i in r.items)))
            for r in ctx.session.scalars(select(Resource))
        )


def test_totals_are_exact_for_short_long_and_multi_term_queries(catalog) -> None:
    names = ["数据共享交换平台", "共享平数据共享平", "政务数据目录", "数据共享目录", "交换平台"]
    with catalog.unit() as ctx:
        dept = factories.department(ctx)
        for seq, name in enumerate(names, start=1):
            spec = factories.resource_spec(
                dept, seq, name=name, summary=f"第{seq}号摘要", items=[factories.item("共享方式")]
            )
            services.create_resource(ctx, spec=spec, actor=STEWARD)
    for term in ("数据", "共享", "交换平台", "共享交换平", "数据共享平数据", "第3号", "目录", "式"):
        assert _total(catalog, term) == _like_total(catalog, term), term
    # Every four-character piece of 数据共享平数据 is in 共享平数据共享平, the whole is not.
    assert _codes(catalog, "数据共享平数据") == []
    assert _total(catalog, "数据 目录") == 2
    assert _total(catalog, "共享 平台 交换") == 2
    # Long terms, or more than three terms, are judged on the candidates in one ranked,
    # counted statement: a page past the end is empty and still has the total, and pages
    # follow one another in score order, ties in code order.
    many = "共享 方式 享方 共享方式"  # every item is 共享方式; 共享 is in three names
    with catalog.unit() as ctx:
        assert search(ctx.session, "共享交换平", offset=5) == ([], 1)
        everything = [r.code for r in search(ctx.session, many, limit=10)[0]]
        paged = [
            r.code
            for offset in range(6)
            for r in search(ctx.session, many, limit=1, offset=offset)[0]
        ]
    assert paged == everything and len(everything) == 5
    assert everything[:3] == sorted(everything[:3]) and everything[3:] == sorted(everything[3:])


def test_scores_add_up_over_terms_and_ties_go_in_code_order(catalog) -> None:
    rows = [
        ("企业年报信息", "用于测试", ["统一社会信用代码"]),  # 年报 name, 信用 item: 5
        ("企业信用年报", "用于测试", ["办件状态"]),  # both in the name: 6
        ("法人名录", "年报与信用", ["办件状态"]),  # both in the summary: 2
        ("个体信用信息", "用于测试", ["年报年度"]),  # 信用 name, 年报 item: 5
        ("社会组织信息", "用于测试", ["年报年度", "信用等级"]),  # both items: 4
    ]
    with catalog.unit() as ctx:
        dept = factories.department(ctx)
        for seq, (name, summary, items) in enumerate(rows, start=1):
            spec = factories.resource_spec(
                dept, seq, name=name, summary=summary, items=[factories.item(i) for i in items]
            )
            services.create_resource(ctx, spec=spec, actor=STEWARD)
    expected = [f"000009001/{n:06d}" for n in (2, 1, 4, 5, 3)]
    assert _codes(catalog, "年报 信用") == expected
    with catalog.unit() as ctx:
        pages = [
            [r.code for r in search(ctx.session, "年报 信用", limit=2, offset=offset)[0]]
            for offset in (0, 2, 4, 6)
        ]
        assert [c for page in pages for c in page] == expected
        assert all(search(ctx.session, "年报 信用", limit=2, offset=o)[1] == 5 for o in (0, 4, 9))


def test_migration_indexes_what_was_catalogued_before_it(settings, clock) -> None:  # type: ignore[no-untyped-def]
    store = Catalog(settings, clock=clock)
    db.upgrade(store.engine, "0004")
    depts = catalog_data.departments()
    generated = list(catalog_data.resources(30, depts, seed=5))
    with store.engine.begin() as conn:
        conn.execute(
            insert(Department),
            [
                {"id": n, **d.spec.model_dump(exclude={"parent_code"}), "parent_id": None}
                for n, d in enumerate(depts, start=1)
            ],
        )
        dept_ids = {d.spec.code: n for n, d in enumerate(depts, start=1)}
        for rid, resource in enumerate(generated, start=1):
            provider = dept_ids[resource.spec.provider_code]
            conn.execute(
                insert(Resource),
                catalog_data.resource_row(resource, resource_id=rid, provider_id=provider),
            )
            items = catalog_data.item_rows(resource.spec, resource_id=rid, first_id=rid * 100)
            conn.execute(insert(DataItem), items)
    store.migrate()
    for resource in generated[:5]:
        assert resource.spec.code in _codes(store, resource.spec.name), resource.spec.name
    for term in ("信息", "登记", "统一社会信用代码", "数据"):
        assert _total(store, term) == _like_total(store, term), term
    db.downgrade(store.engine, "0004")
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM search_grams")).scalar_one() > 0
    store.dispose()


@pytest.mark.parametrize("prefix_rows", [2, 400], ids=["prefix-too-short", "prefix-holds-page"])
def test_big_match_paging_gives_the_same_pages(
    demo_catalog, monkeypatch: pytest.MonkeyPatch, prefix_rows: int
) -> None:
    """Big matches are paged another way (codes walked in order, or a prefix of them tried
    first, testing stored text instead of the index): with the threshold at zero, every page
    must be the one the sorted read gives, whether the walk's window holds it or not."""
    queries = ["信息", "登记", "企业 信息", "信用", "身份证号"]
    pages = [(1, 0), (3, 0), (3, 2), (5, 7)]

    def answers() -> list[tuple[list[str], int]]:
        with demo_catalog.unit() as ctx:
            return [
                ([r.code for r in found], total)
                for q in queries
                for limit, offset in pages
                for found, total in [search(ctx.session, q, limit=limit, offset=offset)]
            ]

    expected = answers()
    monkeypatch.setattr(search_module, "DENSE_FROM", 0)
    monkeypatch.setattr(search_module, "PREFIX_ROWS", prefix_rows)
    monkeypatch.setattr(search_module, "WALK_ROWS", 4 * prefix_rows)
    assert answers() == expected


def test_walked_pages_agree_with_the_index_on_text_json_escapes(
    catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first page of a big match is found by testing stored names, data items (a JSON
    list) and summaries: a quote, backslash or control character, which JSON escapes, must
    not make that test disagree with the index."""
    rows = [
        ("引号资料", 'a"b字段'),
        ("反斜杠资料", "c\\d字段"),
        ("控制符资料", "e\x01f字段"),
        ('名称含"b', "普通字段"),
        ("普通资料", "ab字段"),
    ]
    with catalog.unit() as ctx:
        dept = factories.department(ctx)
        for seq, (name, item) in enumerate(rows, start=1):
            spec = factories.resource_spec(dept, seq, name=name, items=[factories.item(item)])
            services.create_resource(ctx, spec=spec, actor=STEWARD)
    terms = ['a"b', '"b', "c\\d", "\\d", "ab", "字段", "资料 字段", "u000", "t", "b字"]

    def answers() -> list[tuple[list[str], int]]:
        with catalog.unit() as ctx:
            return [
                ([r.code for r in found], total)
                for term in terms
                for found, total in [search(ctx.session, term, limit=3)]
            ]

    expected = answers()
    for term, (_, total) in zip(terms, expected, strict=True):
        if " " not in term:
            assert total == _like_total(catalog, term), term
    monkeypatch.setattr(search_module, "DENSE_FROM", 0)
    assert answers() == expected
