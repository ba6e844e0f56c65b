"""Synthetic departmental extracts for the demo catalogue (合成部门数据).

``synthesise(SynthOptions(out=..., scale=..., seed=...))`` writes, for each mounted resource,
one file the way its department really sends it (CSV in UTF-8 or GB18030, XLSX, JSON lines,
Parquet) with headers equal to the catalogue's data item names, realistic and mutually
consistent values, and a controlled share of the defects real extracts carry; manifest.json
records what was planted so the ingest can be tested against it.
"""

from __future__ import annotations

from demo.synth.defects import REJECTABLE, STANDARDISABLE
from demo.synth.errors import InvalidSynthOption, SynthError, SynthOutputError
from demo.synth.generate import (
    DEFAULT_BATCH_DATE,
    MAX_SCALE,
    MIN_SCALE,
    SynthOptions,
    SynthResult,
    synthesise,
)
from demo.synth.manifest import read_manifest
from demo.synth.tables import DEFAULT_MOUNTS, DELIVERY, FORMATS

__all__ = [
    "DEFAULT_BATCH_DATE",
    "DEFAULT_MOUNTS",
    "DELIVERY",
    "FORMATS",
    "MAX_SCALE",
    "MIN_SCALE",
    "REJECTABLE",
    "STANDARDISABLE",
    "InvalidSynthOption",
    "SynthError",
    "SynthOptions",
    "SynthOutputError",
    "SynthResult",
    "read_manifest",
    "synthesise",
]
