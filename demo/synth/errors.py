"""Errors of the synthetic-extract generator.

All derive from one base so the CLI's single handler turns them into a red line; none is
transient, because generating again with the same arguments fails the same way.
"""

from __future__ import annotations

from infra.errors import GovshareError, ValidationError


class SynthError(GovshareError):
    """Base of the generator's expected failures (合成数据生成失败)."""

    error_code = "SYNTH_ERROR"


class InvalidSynthOption(SynthError, ValidationError):
    """An argument is out of range or unknown; the message names the option and the rule."""

    error_code = "INVALID_SYNTH_OPTION"


class SynthOutputError(SynthError):
    """The output folder cannot be used (it is a file, or cannot be created)."""

    status_code = 400
    error_code = "SYNTH_OUTPUT_ERROR"
