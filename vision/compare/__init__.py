"""Image comparison (影像对比): a reference image of a place against today's, changed regions out.

Illegal construction is rarely recognisable in one picture; it is something that was not there before.
The same comparison shows when a reported violation is gone (checking a fixed case).

    >>> from vision.compare import CompareSettings, ImageComparer
    >>> result = ImageComparer(CompareSettings()).compare(reference_image, current_image)
"""

from vision.compare.comparer import ImageComparer, check_pair_shapes
from vision.compare.masks import load_ignore_mask, read_image
from vision.compare.types import (
    ChangeKind,
    ChangeRegion,
    ChangeResult,
    CompareSettings,
    PairMismatchError,
)

__all__ = [
    "ChangeKind",
    "ChangeRegion",
    "ChangeResult",
    "CompareSettings",
    "ImageComparer",
    "PairMismatchError",
    "check_pair_shapes",
    "load_ignore_mask",
    "read_image",
]
