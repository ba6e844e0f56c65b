"""Errors of the data path (lake, checks, pipelines, jobs): each says if a retry could help.

They live in the lowest layer that raises one, so every layer above can catch them.
"""

from __future__ import annotations

from infra.errors import GovshareError


class PipelineError(GovshareError):
    """Base of pipeline failures."""

    status_code = 422
    error_code = "PIPELINE_ERROR"


class SourceUnreadable(PipelineError):
    """The file cannot be read as declared (format, encoding): fix the file or the mount."""

    error_code = "SOURCE_UNREADABLE"


class EncodingMismatch(SourceUnreadable):
    error_code = "ENCODING_MISMATCH"


class SchemaDrift(PipelineError):
    """The file's columns differ from the catalogue's data items; never absorbed silently."""

    error_code = "SCHEMA_DRIFT"


class NotIngestable(PipelineError):
    """The resource or mount is not in a state that accepts data."""

    status_code = 409
    error_code = "NOT_INGESTABLE"


class EngineUnavailable(PipelineError):
    """A required engine (Java for Spark) is missing on this machine."""

    status_code = 500
    error_code = "ENGINE_UNAVAILABLE"


class TransientLakeError(PipelineError):
    """A concurrent commit or a storage hiccup: retrying the same batch is safe."""

    status_code = 503
    error_code = "LAKE_BUSY"
    transient = True


class ConcurrentCommit(TransientLakeError):
    """Another writer committed to the table after this one read it: redo on the new version."""

    error_code = "LAKE_CONCURRENT_COMMIT"

    def __init__(self, table: str) -> None:
        super().__init__(
            f"表 {table} 在读取后已被其他作业提交，需基于新版本重做 "
            "(another job committed after this one read the table)"
        )
        self.table = table


class DataUnavailable(GovshareError):
    """The lake table behind a resource has not been built yet (transient for the caller)."""

    status_code = 503
    error_code = "DATA_UNAVAILABLE"
    transient = True


class MountRefused(GovshareError):
    """The resource's mount does not name the provider's own table: nothing is served."""

    status_code = 409
    error_code = "MOUNT_REFUSED"
