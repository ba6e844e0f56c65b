"""Production code knows no catalogue: resource codes live in the catalogue (and in demo/).

A province's catalogue has its own codes; a code written into a production module would be a
theme, a check or a rule that only works for the demo city.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION = (
    "catalog", "pipelines", "quality", "exchange_api", "dags", "infra", "privacy", "govshare",
    "lake", "checks", "jobs",
)  # fmt: skip
# 前段码/后段码 as the demo (and the guideline's examples) write it: nine digits, six digits.
RESOURCE_CODE = re.compile(r"\d{9}/\d{6}")
TEXT = {".py", ".sql", ".toml", ".yaml", ".yml", ".json", ".md", ".txt", ".html", ".j2"}


def test_no_production_module_contains_a_resource_code() -> None:
    checked = 0
    found = []
    for package in PRODUCTION:
        for path in sorted((ROOT / package).rglob("*")):
            if not path.is_file() or path.suffix not in TEXT or "__pycache__" in path.parts:
                continue
            checked += 1
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if RESOURCE_CODE.search(line):
                    found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert checked > 100, "the packages moved: update PRODUCTION"
    assert not found, "resource codes in production code:\n" + "\n".join(found)
