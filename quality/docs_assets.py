"""Data Docs that open without network access.

GE's page templates load Bootstrap, jQuery, Font Awesome, Vega and friends from CDNs and
its logo from a web bucket; government deployments run offline, so those pages would show
unstyled. The same files, taken from the npm packages of the exact versions GE names (see
``quality/static/data_docs/README.md``), ship with this package. :func:`localise` copies them
into the Data Docs folder and points every page at its local copy, with paths relative to each
page so the folder can be moved or opened straight from disk.
"""

from __future__ import annotations

import html
import logging
import os
import re
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote, urlsplit

if TYPE_CHECKING:
    from infra.settings import Settings

log = logging.getLogger("govshare.quality")

VENDORED = Path(__file__).parent / "static" / "data_docs"
# Where the vendored files go, under the Data Docs root.
VENDOR_DIR = Path("static") / "vendor"
# GE's own images (favicon, logo), from its wheel; its pages link them site-relative.
GE_IMAGES = "great_expectations-1.24.1/render/view/static/images"

# CDN address as GE 1.x writes it (query string dropped) -> file under ``VENDORED``.
ASSETS: dict[str, str] = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": (
        "bootstrap-4.3.1/dist/css/bootstrap.min.css"
    ),
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": (
        "bootstrap-4.3.1/dist/js/bootstrap.min.js"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": (
        "bootstrap-table-1.19.1/dist/bootstrap-table.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": (
        "bootstrap-table-1.19.1/dist/bootstrap-table.min.js"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.js": (
        "bootstrap-table-1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js"
    ),
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.css": (
        "bootstrap-table-1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/"
    "bootstrap-datepicker.min.css": (
        "bootstrap-datepicker-1.9.0/dist/css/bootstrap-datepicker.min.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/"
    "bootstrap-datepicker.min.js": (
        "bootstrap-datepicker-1.9.0/dist/js/bootstrap-datepicker.min.js"
    ),
    # GE links the unminified stylesheet; the package's own minified build of it is shipped.
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/"
    "bootstrap-prefers-dark.css": (
        "forevolve-bootstrap-dark-1.1.0/dist/css/bootstrap-prefers-dark.min.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": (
        "fortawesome-fontawesome-free-6.6.0/css/all.min.css"
    ),
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery-3.7.1/dist/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": (
        "popper.js-1.12.9/dist/umd/popper.min.js"
    ),
    # GE names only the major versions; these are the newest of each when vendored.
    "https://cdn.jsdelivr.net/npm/vega@5": "vega-5.33.1/build/vega.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "vega-lite-5.23.0/build/vega-lite.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "vega-embed-6.29.0/build/vega-embed.min.js",
    "https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/logo-long.png": (
        f"{GE_IMAGES}/logo-long.png"
    ),
}

# Marks a page already rewritten, so later runs leave it alone.
MARKER = '<meta name="govshare-data-docs-assets" content="local">'

_URL_ATTR = re.compile(
    r"""(?P<lead>\s(?P<name>href|src)\s*=\s*)(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[^\s>]+))""",
    re.IGNORECASE,
)
_SRI_ATTR = re.compile(
    r"""\s+(?:integrity|crossorigin)(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+))?""", re.IGNORECASE
)
_CSS_URL = re.compile(r"""url\(\s*(['"]?)(https?://[^'")\s]+)\1\s*\)""", re.IGNORECASE)
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def docs_root(settings: Settings) -> Path:
    """Where Data Docs are written (here, not beside the GE renderer, so the index can be
    refreshed by the API process without importing GE or Spark)."""
    return (settings.home / "quality" / "gx" / "data_docs").resolve()


def localise(root: Path) -> int:
    """Copy the vendored assets under ``root`` and rewrite its pages to use them.

    Every ``*.html`` below ``root`` not yet rewritten gets: CDN ``src``/``href`` addresses
    replaced by paths to the local copies (``integrity``/``crossorigin`` dropped, as a page
    opened from disk cannot make CORS requests), GE's site-relative links that point nowhere in
    this layout (home, favicon, expectation suite) repaired, and CSS images from the web set to
    ``none``. Returns how many references were rewritten.
    """
    root = Path(root)
    vendor = root / VENDOR_DIR
    _copy_tree(VENDORED, vendor)
    changed = 0
    for page in sorted(root.rglob("*.html")):
        if vendor in page.parents:
            continue
        text = page.read_text(encoding="utf-8")
        if MARKER in text:
            continue
        new, count = _rewrite(text, page=page, root=root, vendor=vendor)
        if "</head>" in new:
            new = new.replace("</head>", MARKER + "\n</head>", 1)
        if new != text:
            _replace(page, new.encode("utf-8"))
        changed += count
    return changed


def _copy_tree(source: Path, target: Path) -> None:
    for item in source.rglob("*"):
        if not item.is_file():
            continue
        dest = target / item.relative_to(source)
        if dest.is_file() and dest.stat().st_size == item.stat().st_size:
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        _replace(dest, item.read_bytes())


def _replace(path: Path, data: bytes) -> None:
    """Write beside, then rename: two gate runs localising at once never see half a file."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(temporary, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class _StartTags(HTMLParser):
    """Where each start tag sits in the text (script and style bodies are not tags)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[int, int, str, str]] = []  # (line, column, tag, raw text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raw = self.get_starttag_text()
        if raw is not None:
            line, column = self.getpos()
            self.tags.append((line, column, tag, raw))

    handle_startendtag = handle_starttag


def _rewrite(text: str, *, page: Path, root: Path, vendor: Path) -> tuple[str, int]:
    parser = _StartTags()
    parser.feed(text)
    parser.close()
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
    count = 0
    edits: list[tuple[int, int, str]] = []
    for line, column, tag, raw in parser.tags:
        start = line_starts[line - 1] + column
        if text[start : start + len(raw)] != raw:  # pragma: no cover - parser disagreement
            continue
        new_raw, n = _rewrite_tag(tag, raw, page=page, root=root, vendor=vendor)
        if n:
            edits.append((start, start + len(raw), new_raw))
            count += n
    for start, end, new_raw in reversed(edits):
        text = text[:start] + new_raw + text[end:]

    def css_url(match: re.Match[str]) -> str:
        nonlocal count
        count += 1
        local = ASSETS.get(_strip_query(match.group(2)))
        if local is None:
            return "none"  # a web image cannot load offline: show nothing instead
        return f"url('{_relative(vendor / local, page)}')"

    text = _CSS_URL.sub(css_url, text)
    return text, count


def _rewrite_tag(tag: str, raw: str, *, page: Path, root: Path, vendor: Path) -> tuple[str, int]:
    count = 0
    from_cdn = False

    def attr(match: re.Match[str]) -> str:
        nonlocal count, from_cdn
        value = html.unescape(next(v for v in match.group("dq", "sq", "bare") if v is not None))
        target: Path | None
        if value.lower().startswith(("http://", "https://")):
            local = ASSETS.get(_strip_query(value))
            if local is None:
                if tag in ("script", "link", "img"):
                    log.warning("Data Docs page %s loads %s, which is not vendored", page, value)
                return match.group(0)
            from_cdn = True
            target = vendor / local
        else:
            target = _repair(value, page=page, root=root, vendor=vendor)
            if target is None:
                return match.group(0)
        count += 1
        return f'{match.group("lead")}"{html.escape(_relative(target, page))}"'

    new = _URL_ATTR.sub(attr, raw)
    if from_cdn:
        new = _SRI_ATTR.sub("", new)
    return new, count


def _repair(value: str, *, page: Path, root: Path, vendor: Path) -> Path | None:
    """The file a broken site-relative GE link means in this layout; None: leave it be."""
    if not value or value.startswith(("#", "/")) or _SCHEME.match(value):
        return None
    path = unquote(urlsplit(value).path)
    if not path or (page.parent / path).exists():
        return None
    name = Path(path).name
    parts = Path(path).parts
    if name == "index.html":
        return root / "index.html"
    if parts[-3:-1] == ("static", "images") and (VENDORED / GE_IMAGES / name).is_file():
        return vendor / GE_IMAGES / name
    if len(parts) >= 2 and parts[-2] == "expectations" and name.endswith(".html"):
        suite = root.parent / "expectations" / (name.removesuffix(".html") + ".json")
        if suite.is_file():
            return suite
    return None


def _strip_query(url: str) -> str:
    parts = urlsplit(url)
    return parts._replace(query="", fragment="").geturl()


def _relative(target: Path, page: Path) -> str:
    return quote(Path(os.path.relpath(target, page.parent)).as_posix())
