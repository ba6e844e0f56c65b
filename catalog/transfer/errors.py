"""Errors of catalogue import and export, rooted in the project's error hierarchy.

Both are terminal: reading the same file again gives the same answer, so nothing should retry.
"""

from __future__ import annotations

from typing import Any

from catalog.errors import ValidationError


class UnreadableSource(ValidationError):
    """The file cannot be read at all: missing, corrupt, or in an encoding we refuse to guess."""

    error_code = "UNREADABLE_FILE"


class ImportRejected(ValidationError):
    """The file was read but some rows are wrong; ``details`` lists every problem, nothing was
    written. Each detail is ``{"sheet", "row", "column", "message"}``."""

    error_code = "IMPORT_REJECTED"

    def __init__(self, issues: list[dict[str, Any]]) -> None:
        super().__init__(
            f"导入被拒绝：共 {len(issues)} 处错误，未写入任何数据 "
            f"(import rejected: {len(issues)} problems, nothing written)",
            details=issues,
        )
