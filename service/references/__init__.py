"""Reference images of places: a fixed camera's view, a PTZ preset, a position on a patrol route.

Image comparison starts from the reference of the place being looked at. This package captures references
(:func:`capture_reference`), keeps their history (a new one replaces the current one of the same place, which stays
for old evidence) and finds them (:func:`current_reference` for fixed and PTZ cameras, :func:`nearest_reference` for
patrol positions by distance and heading). Files live in a :class:`ReferenceStore` (``data/references/``); a
``Reference`` row's ``image_path`` is relative to its root.
"""

from service.references.capture import capture_reference
from service.references.frames import check_picture, grab_frame, sharpness
from service.references.queries import (
    PATROL_SAME_PLACE_M,
    SAME_VIEW_HEADING_DEG,
    NewReference,
    ReferenceMatch,
    add_reference,
    check_new_reference,
    check_place,
    current_reference,
    get_reference,
    list_references,
    nearest_reference,
    reference_history,
    references_at_place,
)
from service.references.store import REFERENCE_KIND, ReferenceStore

__all__ = [
    "PATROL_SAME_PLACE_M",
    "REFERENCE_KIND",
    "SAME_VIEW_HEADING_DEG",
    "NewReference",
    "ReferenceMatch",
    "ReferenceStore",
    "add_reference",
    "capture_reference",
    "check_new_reference",
    "check_picture",
    "check_place",
    "current_reference",
    "get_reference",
    "grab_frame",
    "list_references",
    "nearest_reference",
    "reference_history",
    "references_at_place",
    "sharpness",
]
