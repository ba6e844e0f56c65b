"""Fixtures of the browser tests: one served console per module, one Chromium per session."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.console.console_server import Served, Visit, browser, served

__all__ = ["browser", "served"]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Each phase's report on the test, so ``visit`` knows at teardown whether it failed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture
def visit(
    browser: Any, served: Served, request: pytest.FixtureRequest
) -> Iterator[Callable[[], Visit]]:
    """Open fresh browser contexts (each its own cookies) named after the test; at the end,
    none of them may have met a CSP violation or a script error."""
    opened: list[Visit] = []

    def open_one() -> Visit:
        one = Visit(browser, served, f"{request.node.name}-{len(opened) + 1}")
        opened.append(one)
        return one

    yield open_one
    call = getattr(request.node, "rep_call", None)
    if call is not None and call.failed:  # what the failing test's pages showed, for its report
        for v in opened:
            print(f"screenshot: {v.shot('failed', always=True)}")
    problems = [p for v in opened for p in v.problems]
    for v in opened:
        v.close()
    assert not problems, problems
