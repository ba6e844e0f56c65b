"""The look every HTML page govshare writes shares (pass-rate chart, Data Docs index).

Chinese text needs a font that has the glyphs. The pages are opened in a browser on a
steward's machine, not on the server, so naming the usual CJK fonts of each system is
enough: macOS (PingFang SC), Windows (Microsoft YaHei), Linux desktops (Noto Sans CJK SC /
Source Han Sans SC, WenQuanYi Micro Hei), then the browser's own sans-serif, which falls back
per glyph. No font file ships (a CJK font is 10-20 MB); the chart is inline SVG, whose text
inherits this stack from the page.
"""

from __future__ import annotations

FONT_FAMILY = (
    '"PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", '
    '"Source Han Sans SC", "WenQuanYi Micro Hei", system-ui, sans-serif'
)

BASE_CSS = (
    f"body{{font-family:{FONT_FAMILY};margin:2em}}"
    "table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:4px 8px;text-align:left}"
    "td.num{text-align:right}code{font-size:90%}"
)
