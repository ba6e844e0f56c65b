"""What data serving knows of a catalogue resource once its session is gone.

Apart from :mod:`exchange_api.runtime`, which builds these views, so that the access rules
(:mod:`exchange_api.access`) can read them without importing the runtime that uses them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from catalog.domain import FieldAccess, ResourceState, Sensitivity, ShareType
from infra.errors import GovshareError
from lake.delta import TableRef
from lake.errors import DataUnavailable
from privacy.disclosure import ServedField
from privacy.masking import MaskKind


@dataclass(frozen=True)
class ItemView:
    name: str
    sensitivity: Sensitivity
    mask_kind: MaskKind
    # Personal by its name although declared otherwise (a row older than the catalogue's
    # check): a grant's "raw" for it was never a decision about personal data.
    forced: bool = False


@dataclass(frozen=True)
class ResourceView:
    """What data serving needs to know of a catalogue resource, detached from the session."""

    code: str
    resource_id: int
    state: ResourceState
    share_type: ShareType
    provider_code: str
    serving_table: TableRef | None  # None: nothing may be served; ``problem`` says why
    key: str | None
    key_kind: str | None
    items: dict[str, ItemView]
    problem: GovshareError | None = None

    @property
    def table(self) -> TableRef:
        """The lake table to serve, asked for only after the grant check: a caller without a
        grant learns nothing of the mount (missing, refused) from the answer."""
        if self.serving_table is None:
            raise self.problem or DataUnavailable(f"信息资源 {self.code} 尚未挂接数据")
        return self.serving_table

    @property
    def personal_rows(self) -> bool:
        """Rows describe people (keyed by ID number): every aggregate over them is noised."""
        return self.key_kind == "ric"

    def mask_kind(
        self, name: str, access: str, detected: Mapping[str, MaskKind] | None = None
    ) -> MaskKind | None:
        """How a granted field is shown: None when raw, else its item's convention.

        ``detected`` are the columns whose sampled values are personal identifiers
        (:meth:`lake.readers.Snapshot.identifier_columns`): an item declared not personal
        that holds them is masked whatever the grant says, since its raw access was given for
        data the provider called non-personal.
        """
        item = self.items.get(name)
        if item is not None and item.forced:
            return item.mask_kind
        if item is not None and not item.sensitivity.is_personal and detected and name in detected:
            return detected[name]
        if access == FieldAccess.RAW:
            return None
        return item.mask_kind if item is not None else MaskKind.GENERIC

    def served_fields(
        self, access: Mapping[str, str], detected: Mapping[str, MaskKind] | None = None
    ) -> list[ServedField]:
        """Granted fields as ``privacy.disclosure`` weighs them: their mask, and whether raw
        access was a decision about personal data (an item declared non-personal is granted
        raw by default, which says nothing about, say, the birth date it holds)."""
        served = []
        for name, how in access.items():
            kind = self.mask_kind(name, how, detected)
            item = self.items.get(name)
            personal = item is not None and item.sensitivity.is_personal
            served.append(ServedField(name, kind, raw_granted=kind is None and personal))
        return served
