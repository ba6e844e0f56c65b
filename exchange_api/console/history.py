"""变更历史 as pages show it: who, when, what, and each changed field before → after.

The entries are the catalogue's one history (``catalog.history``), fetched by the services
that authorise them (``resource_history``, ``mount_history``, ``demand_history``,
``grant_history``). Here they are only put into words: field names become their Chinese
labels and values short text; the template escapes every value like any other user string.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from catalog.schemas import HistoryOut
from exchange_api.console.forms import LABELS
from exchange_api.console.web import render

# Snapshot keys of mounts, demands and grants that the form labels do not name.
FIELD_LABELS = {
    **LABELS,
    "state": "状态",
    "version": "版本",
    "provider": "提供部门",
    "resource": "信息资源",
    "due_date": "应答复日期",
    "reason": "意见或理由",
    "config": "挂接配置",
    "pending_target": "变更后的挂接目标",
    "pending_config": "变更后的挂接配置",
    "last_refreshed_at": "最近更新",
    "department": "持有部门",
    "demand": "需求",
    "fields": "授权信息项",
    "expires_at": "有效至",
    "revoked_at": "撤销时间",
    "requester_code": "需求部门",
}
MAX_TEXT = 300


@dataclass(frozen=True)
class Change:
    label: str
    before: str | None  # None: the field did not exist before (the object was created)
    after: str


@dataclass(frozen=True)
class HistoryRow:
    at: datetime
    action: str
    actor: str
    changes: list[Change]


def _short(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def shown(value: Any) -> str:
    """A snapshot value as short text: lists joined with 、, items by name, the rest as JSON."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        if all(isinstance(v, dict) and "name" in v for v in value):
            return _short("、".join(str(v["name"]) for v in value))
        if all(isinstance(v, str | int | float) for v in value):
            return _short("、".join(str(v) for v in value))
        return _short(_compact(value))
    if isinstance(value, dict):
        return _short("；".join(f"{k}：{shown(v)}" for k, v in value.items()))
    return _short(str(value))


def changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[Change]:
    """The fields that differ, in the snapshot's order; all given fields for a creation."""
    old, new = before or {}, after or {}
    out = []
    for key in [*new, *(k for k in old if k not in new)]:
        if before is not None and old.get(key) == new.get(key):
            continue
        if before is None and new.get(key) in (None, "", [], {}):
            continue
        was, now = shown(old.get(key)), shown(new.get(key))
        if before is not None and was == now:  # e.g. an item's type changed, not its name
            was, now = _short(_compact(old.get(key))), _short(_compact(new.get(key)))
        out.append(
            Change(
                label=FIELD_LABELS.get(key, key), before=None if before is None else was, after=now
            )
        )
    return out


def actor_label(actor: str, names: dict[str, str]) -> str:
    """Who, as a clerk reads it: a department by name, a steward's key as 审核员."""
    if actor.startswith("dept:"):
        return names.get(actor.removeprefix("dept:"), actor)
    if actor.startswith("steward:"):
        return f"审核员（{actor}）"
    return actor


def history_rows(entries: Iterable[HistoryOut], names: dict[str, str]) -> list[HistoryRow]:
    """The entries for a page; ``names`` maps department codes to names."""
    return [
        HistoryRow(
            at=e.at,
            action=e.action,
            actor=actor_label(e.actor, names),
            changes=changes(e.before, e.after),
        )
        for e in entries
    ]


def render_history(
    request: Request, rows: list[HistoryRow], *, title: str, back_url: str, back_label: str
) -> HTMLResponse:
    """The history as a fragment for a page that loads it (htmx), else as a page of its own."""
    if request.headers.get("HX-Request") == "true":
        return render(request, "_history.html", history=rows)
    return render(
        request,
        "history.html",
        history=rows,
        title=title,
        back_url=back_url,
        back_label=back_label,
    )
