"""The one-way layers hold, and the contract really catches a planted violation.

import-linter reads the contracts from ``pyproject.toml``; the second test copies the source
tree, plants an upward import in a low layer and expects the check to fail naming it, so a
contract that silently stopped checking (a renamed package, a typo in a layer) fails here.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"][
    "root_packages"
]


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("lint-imports")
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run(
        [str(exe), "--config", str(cwd / "pyproject.toml"), "--no-cache"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _copy_tree(target: Path) -> None:
    shutil.copy(ROOT / "pyproject.toml", target / "pyproject.toml")
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, target / package, ignore=shutil.ignore_patterns("__pycache__")
        )


def test_the_tree_keeps_its_layers(tmp_path: Path) -> None:
    _copy_tree(tmp_path)
    result = _lint_imports(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_planted_upward_import_fails_the_contract(tmp_path: Path) -> None:
    _copy_tree(tmp_path)
    target = tmp_path / "lake" / "delta.py"
    target.write_text(target.read_text() + "\n\ndef _planted() -> None:\n    import jobs.batch\n")
    api = tmp_path / "exchange_api" / "app.py"
    api.write_text(api.read_text() + "\n\ndef _planted() -> None:\n    import pipelines.spark\n")
    result = _lint_imports(tmp_path)
    assert result.returncode != 0
    assert "One-way layers BROKEN" in result.stdout
    assert re.search(r"lake\.delta -> jobs\.batch", result.stdout), result.stdout
    assert "The API starts no Spark and no ingest job BROKEN" in result.stdout


def test_no_production_package_imports_the_demo() -> None:
    """The demo city is data for the CLI, tests and benchmarks, never for the platform."""
    offenders = [
        f"{path.relative_to(ROOT)}:{n}"
        for package in PACKAGES
        if package not in ("demo", "govshare")
        for path in (ROOT / package).rglob("*.py")
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if re.match(r"\s*(from demo\b|import demo\b)", line)
    ]
    assert offenders == []


def _cycles(package: str) -> list[str]:
    """Pairs of modules of ``package`` that import each other, directly or through others."""
    import grimp

    graph = grimp.build_graph(package)
    modules = {m for m in graph.modules if ".migrations" not in m}
    found = []
    for module in sorted(modules):
        for imported in graph.find_modules_directly_imported_by(module):
            if imported in modules and imported != module:
                back = graph.find_shortest_chain(importer=imported, imported=module)
                if back:
                    found.append(f"{module} -> {' -> '.join(back)}")
    return found


def test_no_package_below_the_cli_has_import_cycles() -> None:
    """One history module, one place for live mounts, the snapshot written by the store's
    after-commit hook, the API's resource views apart from its runtime: nothing inside these
    packages imports back into its importer."""
    for package in (
        "infra", "privacy", "catalog", "lake", "checks", "pipelines", "quality", "jobs",
        "exchange_api", "dags",
    ):  # fmt: skip
        assert _cycles(package) == [], package


def test_test_modules_have_unique_names() -> None:
    """The test folders have no ``__init__.py``: two modules of one name stop collection."""
    names: dict[str, list[str]] = {}
    for path in (ROOT / "tests").rglob("test_*.py"):
        names.setdefault(path.name, []).append(str(path.relative_to(ROOT)))
    assert {n: p for n, p in names.items() if len(p) > 1} == {}
