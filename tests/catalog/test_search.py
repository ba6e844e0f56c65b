"""Chinese search without word segmentation, with filters, on both databases."""

from __future__ import annotations

import pytest

from catalog import services
from catalog.demo import DEPT
from catalog.domain import ResourceClass, ShareType
from catalog.schemas import ResourceIn
from catalog.search import SearchFilters, bigrams, normalise, search
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
