"""A sighting's evidence, rendered and stored: the annotated frame and the crop, as files with their SHA-256."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import PurePath

import numpy.typing as npt

from service.evidence.store import EvidenceStore, StoredEvidence
from vision.evidence import BlurSettings, EvidenceRenderer, EvidenceStyle, FaceBlurrer
from vision.frame import GeoPoint
from vision.sighting import Sighting
from vision.taxonomy import Taxonomy


def save_sighting_evidence(
    store: EvidenceStore,
    sighting: Sighting,
    *,
    camera_name: str | None = None,
    location: GeoPoint | None = None,
    blur: BlurSettings | FaceBlurrer | None = None,
    person_boxes: npt.ArrayLike | None = None,
    style: EvidenceStyle | None = None,
    taxonomy: Taxonomy | None = None,
) -> list[StoredEvidence]:
    """Render a sighting's annotated frame and crop and store both.

    Both images are rendered before anything is written, so a bad box leaves no files behind.

    Args:
        store: Where the files go.
        sighting: The sighting; its best frame and best box are used.
        camera_name: Written in the caption and used in the file names.
        location: Written in the caption; ``None`` uses ``sighting.location``.
        blur: Blur faces (and ``person_boxes``) first, for evidence that leaves the department: settings, or a
            ready :class:`FaceBlurrer` to reuse its loaded face detector across sightings; ``None`` blurs nothing.
        person_boxes: ``(M, 4)`` boxes in the best frame to blur whole; needs ``blur``.
        style: Look of the images; ``None`` uses the defaults.
        taxonomy: Class names for the caption; ``None`` reads the shipped taxonomy.

    Returns:
        ``[frame, crop]`` as stored, with ``taken_at`` the best frame's wall time (now, when it has none).

    Raises:
        ValueError: The best box is empty, not finite or outside the frame, or ``person_boxes`` without ``blur``.
        vision.errors.ModelError: Faces are to be blurred and no face detector is available.
        OSError: A file could not be written.
    """
    blurrer = FaceBlurrer(blur) if isinstance(blur, BlurSettings) else blur
    renderer = EvidenceRenderer(style, blurrer=blurrer, taxonomy=taxonomy)
    evidence = renderer.render(sighting, camera_name=camera_name, location=location, person_boxes=person_boxes)
    taken_at = sighting.best_frame.wall_time or datetime.now(UTC)
    hint = f"{camera_name or PurePath(sighting.source_id).stem}-t{sighting.track_id}"
    return [
        store.save(evidence.frame, kind="frame", taken_at=taken_at, name_hint=hint),
        store.save(evidence.crop, kind="crop", taken_at=taken_at, name_hint=hint),
    ]
