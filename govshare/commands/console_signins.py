"""The web console's demo sign-ins: one API key per role, kept in the demo's home.

``govshare demo`` ends by printing where the console is and a key to sign in with for each
role a newcomer wants to try (a steward of the data authority, a provider, a requesting
department). A key's plaintext is otherwise shown once and never stored; for the demo home
only, the three are written to ``$GOVSHARE_HOME/console-demo-keys.json`` (mode 0600) so that
``govshare serve`` can print them again. A revoked or rotated key is replaced on the next demo.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from catalog import keys
from catalog.context import Actor, CatalogContext
from catalog.domain import Role
from infra.errors import GovshareError

FILE = "console-demo-keys.json"


@dataclass(frozen=True)
class SignIn:
    role: str  # what the person tries: 审核员 / 提供部门 / 需求部门
    department_code: str
    department_name: str
    key: str


def signins_path(home: Path) -> Path:
    return home / FILE


def read_signins(ctx: CatalogContext, home: Path) -> list[SignIn]:
    """The demo sign-ins of this home whose keys still authenticate (none without a demo)."""
    path = signins_path(home)
    if not path.exists():
        return []
    try:
        stored = [SignIn(**entry) for entry in json.loads(path.read_text(encoding="utf-8"))]
    except (ValueError, TypeError):
        return []
    live = []
    for signin in stored:
        try:
            keys.authenticate(ctx.session, signin.key)
        except GovshareError:
            continue
        live.append(signin)
    return live


def ensure_signins(
    ctx: CatalogContext, home: Path, wanted: list[tuple[str, str, Role]]
) -> list[SignIn]:
    """A live key for each (role label, department code, role); existing ones are kept."""
    have = {s.role: s for s in read_signins(ctx, home)}
    actor = Actor.steward("demo")
    out = []
    for label, code, role in wanted:
        if label in have and have[label].department_code == code:
            out.append(have[label])
            continue
        key, plaintext = keys.create_key(
            ctx, department_code=code, role=role, label=f"门户演示 {label}", actor=actor
        )
        out.append(SignIn(label, code, key.department.name, plaintext))
    path = signins_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump([s.__dict__ for s in out], handle, ensure_ascii=False, indent=1)
    return out
