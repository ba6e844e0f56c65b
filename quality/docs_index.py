"""The Data Docs index: one row per checked batch, read from the catalogue.

GE's own pages are named by suite and batch hash only; a steward opening the folder needs to
know which resource, when (Beijing time), how good, and what the gate decided, including a
later release or rejection. So the index is rendered from the quality results in the
catalogue, after every gate verdict and every steward decision.
"""

from __future__ import annotations

import html
import os
import tempfile
from pathlib import Path

from catalog.context import CatalogContext
from checks.gate import LABELS, percent_floor
from infra.beijing_time import beijing
from quality import repository as repo
from quality.docs_assets import docs_root
from quality.page_style import BASE_CSS

DECISION_COLOURS = {"held": "#b00", "rejected": "#b00", "released": "#a60", "published": "#070"}


def refresh(ctx: CatalogContext) -> Path | None:
    """Rewrite ``index.html`` of the Data Docs folder; None when no page was written yet."""
    root = docs_root(ctx.settings)
    if not root.is_dir():
        return None
    ctx.session.flush()
    rows = []
    for result in reversed(repo.results(ctx.session)):
        if not result.docs_path:
            continue
        page = Path(result.docs_path)
        if not page.is_relative_to(root):
            continue
        decision = LABELS.get(result.decision, result.decision)
        if result.decided_by:
            decision += f"（{html.escape(result.decided_by)}，{beijing(result.decided_at)}）"
        colour = DECISION_COLOURS.get(result.decision, "inherit")
        rows.append(
            "<tr>"
            f"<td>{beijing(result.created_at)}</td>"
            f"<td><code>{html.escape(result.resource.code)}</code> "
            f"{html.escape(result.resource.name)}</td>"
            f"<td>{html.escape(result.department.name)}</td>"
            f'<td><a href="{html.escape(page.relative_to(root).as_posix())}">'
            f"<code>{html.escape(result.batch_id)}</code></a></td>"
            f"<td>{html.escape(result.run_kind)}</td>"
            f"<td class='num'>{result.rows_read}</td>"
            f"<td class='num'>{percent_floor(result.pass_rate)}</td>"
            f"<td class='num'>{result.threshold:.2%}</td>"
            f"<td style='color:{colour}'>{decision}</td>"
            "</tr>"
        )
    body = (
        "<table><thead><tr><th>时间（北京时间）</th><th>信息资源</th><th>提供部门</th>"
        "<th>批次（质检页面）</th><th>类型</th><th>读取行数</th><th>合格率</th><th>阈值</th>"
        f"<th>结论</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        if rows
        else "<p>暂无质检记录 (no checked batches yet)</p>"
    )
    text = (
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>"
        f"<title>质检报告 Data Docs</title><style>{BASE_CSS}</style></head><body>"
        f"<h1>质检报告 (Data Docs)</h1><p>共 {len(rows)} 个批次，新的在前 (newest first)。</p>"
        f"{body}</body></html>"
    )
    index = root / "index.html"
    _replace(index, text)
    return index


def _replace(path: Path, text: str) -> None:
    """Write beside, then rename: a browser or a second writer never sees half a page."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".index.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
