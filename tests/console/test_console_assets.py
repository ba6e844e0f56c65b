"""The console's vendored front-end files are the npm releases its README names."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import exchange_api.console

STATIC = Path(exchange_api.console.__file__).parent / "static"
AXE = Path(__file__).parent / "vendor" / "axe-core-4.14.1"

VENDORED = {
    STATIC / "htmx.org-2.0.8" / "htmx.min.js": (
        "22283ef68cb7545914f0a88a1bdedc7256a703d1d580c1d255217d0a50d31313"
    ),
    STATIC / "echarts-6.1.0" / "echarts.min.js": (
        "b66b25aeb4df84e33199dc21694014d336d222cbd9deb0e5a7c14bd6aa0d0fd0"
    ),
    AXE / "axe.min.js": "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c",
}


def test_vendored_files_match_their_checksums() -> None:
    for path, digest in VENDORED.items():
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, path


def test_readmes_list_every_vendored_file_with_its_checksum() -> None:
    readmes = (STATIC / "README.md").read_text() + (AXE.parent / "README.md").read_text()
    for digest in VENDORED.values():
        assert digest in readmes


def test_templates_have_no_inline_script_or_style() -> None:
    for template in (STATIC.parent / "templates").glob("*.html"):
        html = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), template.name
        assert "<style" not in html and " style=" not in html, template.name
        assert not re.search(r"\son[a-z]+=", html), template.name  # no onclick= handlers
