"""Reference images on disk: the evidence store's atomic JPEG writes and safe lookups, in their own folder."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from service.evidence.store import EvidenceStore, StoredEvidence

REFERENCE_KIND = "reference"


class ReferenceStore(EvidenceStore):
    """Reference JPEGs under ``root/YYYY/MM/DD/`` (default root: ``references/`` in the data folder).

    Everything else is :class:`~service.evidence.store.EvidenceStore`: atomic writes, SHA-256, and
    :meth:`resolve` that never leaves the root. A ``Reference`` row's ``image_path`` is relative to this root.
    """

    kinds: ClassVar[tuple[str, ...]] = (REFERENCE_KIND,)
    default_folder: ClassVar[str] = "references"

    def save_reference(
        self, image: npt.NDArray[np.uint8], *, taken_at: datetime, name_hint: str = ""
    ) -> StoredEvidence:
        """Write one reference image as JPEG (see :meth:`EvidenceStore.save`)."""
        return self.save(image, kind=REFERENCE_KIND, taken_at=taken_at, name_hint=name_hint)
