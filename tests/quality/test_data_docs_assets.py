"""Data Docs open offline: pages load no script, stylesheet or image from the web.

GE's templates point at CDNs; ``quality.docs_assets.localise`` (run by ``write_data_docs``)
copies the vendored files beside the pages and rewrites the addresses. No browser here: the
pages are parsed and every local reference is checked on disk.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from catalog.domain import DataType
from checks.plan import ItemSpec
from checks.rules import RuleSet, build_ruleset
from infra.settings import Settings
from quality.docs_assets import ASSETS, MARKER, VENDOR_DIR, VENDORED, localise
from quality.expectations import validation_result, write_data_docs

WEB = re.compile(r"^(?:https?:)?//", re.IGNORECASE)
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+?)['"]?\s*\)""")


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.refs: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_style = tag == "style"
        for name, value in attrs:
            if name in ("href", "src") and value is not None:
                self.refs.append((tag, name, value))
            if name == "style" and value:
                self.styles.append(value)

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)


def _refs(page: Path) -> _Refs:
    parser = _Refs()
    parser.feed(page.read_text(encoding="utf-8"))
    parser.close()
    return parser


def _local_target(page: Path, value: str) -> Path | None:
    """The file a relative reference names; None for anchors, web and other schemes."""
    if not value or value.startswith("#") or re.match(r"^[a-zA-Z][\w+.-]*:|^//", value):
        return None
    return (page.parent / unquote(urlsplit(value).path)).resolve()


def _ruleset() -> RuleSet:
    items = [
        ItemSpec("统一社会信用代码", DataType.CHAR, 18, True, True, "uscc"),
        ItemSpec("企业名称", DataType.CHAR, 100, True, False, None),
        ItemSpec("成立日期", DataType.DATE, None, False, False, None),
        ItemSpec("注册资本", DataType.MONEY, None, False, False, None),
    ]
    return build_ruleset(
        resource_code="000001001/000001",
        resource_name="企业登记信息",
        provider_code="000001001",
        table="scjg_enterprise_registration",
        items=items,
        keys=["统一社会信用代码"],
        today=date(2026, 3, 3),
    )


def _result(ruleset: RuleSet, batch_id: str, failed: int):  # type: ignore[no-untyped-def]
    counts = {r.id: 0 for r in ruleset.rules}
    first = ruleset.rules[0].id
    counts[first] = failed
    return validation_result(
        ruleset,
        batch_id=batch_id,
        rows_read=1000,
        counts=counts,
        samples={first: ["91330106***"]} if failed else None,
        run_time=datetime(2026, 3, 3, 10, 0),
    )


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two batches written the way the gate writes them; the Data Docs root."""
    settings = Settings(home=tmp_path_factory.mktemp("home"))
    ruleset = _ruleset()
    write_data_docs(settings, ruleset, _result(ruleset, "batch-1", 5))
    page = write_data_docs(settings, ruleset, _result(ruleset, "batch-2", 0))
    return page.parent.parent


def _pages(root: Path) -> list[Path]:
    return [p for p in sorted(root.rglob("*.html")) if (root / VENDOR_DIR) not in p.parents]


def test_pages_load_nothing_from_the_web(docs: Path) -> None:
    pages = _pages(docs)
    assert {p.relative_to(docs).as_posix() for p in pages} == {
        "index.html",
        "govshare_000001001_000001/batch-1.html",
        "govshare_000001001_000001/batch-2.html",
    }
    for page in pages:
        refs = _refs(page)
        loaded = [(t, v) for t, _, v in refs.refs if t in ("script", "link", "img")]
        assert not [v for _, v in loaded if WEB.match(v)], page
        for style in refs.styles:
            assert not [u for u in CSS_URL.findall(style) if WEB.match(u)], page
    page = docs / "govshare_000001001_000001" / "batch-1.html"
    text = page.read_text(encoding="utf-8")
    assert "integrity=" not in text and "crossorigin=" not in text
    assert text.count(MARKER) == 1
    # The GE content is still there, styled by the local Bootstrap.
    assert "5 unexpected values found" in text
    assert 'href="../static/vendor/bootstrap-4.3.1/dist/css/bootstrap.min.css"' in text


def test_every_local_reference_exists(docs: Path) -> None:
    checked = 0
    for page in _pages(docs):
        for tag, attr, value in _refs(page).refs:
            target = _local_target(page, value)
            if target is None:
                continue
            assert target.is_file(), f"{page.name}: <{tag} {attr}={value!r}> is missing"
            checked += 1
    assert checked >= 2 * 20  # two GE pages with ~20 local assets and links each


def test_stylesheets_find_their_fonts(docs: Path) -> None:
    """Font Awesome's CSS names its fonts by relative path; the woff2 each rule prefers exists."""
    vendor = docs / VENDOR_DIR
    for sheet in vendor.rglob("*.css"):
        for url in CSS_URL.findall(sheet.read_text(encoding="utf-8")):
            if url.startswith("data:") or not url.endswith(".woff2"):
                continue
            assert (sheet.parent / url).resolve().is_file(), f"{sheet.name}: {url}"


def test_every_vendored_asset_ships_and_is_copied(docs: Path) -> None:
    for local in ASSETS.values():
        assert (VENDORED / local).is_file(), local
        assert (docs / VENDOR_DIR / local).is_file(), local
    assert (VENDORED / "README.md").is_file()


def test_pages_in_subfolders_get_paths_for_their_depth(tmp_path: Path) -> None:
    """A raw GE page at any depth: relative paths climb to the root, and a rerun changes nothing."""
    from great_expectations.render.renderer import ValidationResultsPageRenderer
    from great_expectations.render.view import DefaultJinjaPageView

    ruleset = _ruleset()
    raw = DefaultJinjaPageView().render(
        ValidationResultsPageRenderer().render(_result(ruleset, "deep", 1))
    )
    assert "https://maxcdn.bootstrapcdn.com/" in raw  # GE still writes CDN addresses
    root = tmp_path / "data_docs"
    root.mkdir()
    (tmp_path / "expectations").mkdir()
    (tmp_path / "expectations" / "govshare_000001001_000001.json").write_text("{}")
    (root / "index.html").write_text("<html><head></head><body></body></html>", encoding="utf-8")
    deep = root / "validations" / "suite" / "run" / "deep.html"
    top = root / "top.html"
    for page in (deep, top):
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(raw, encoding="utf-8")

    assert localise(root) > 0
    for page, up in ((deep, "../../../"), (top, "")):
        text = page.read_text(encoding="utf-8")
        assert f'src="{up}static/vendor/jquery-3.7.1/dist/jquery.min.js"' in text
        assert f'href="{up}index.html"' in text
        for tag, _, value in _refs(page).refs:
            if tag in ("script", "link", "img"):
                assert not WEB.match(value), value
        for _, _, value in _refs(page).refs:
            target = _local_target(page, value)
            assert target is None or target.is_file(), f"{page.name}: {value}"
    before = deep.read_text(encoding="utf-8")
    assert localise(root) == 0
    assert deep.read_text(encoding="utf-8") == before
