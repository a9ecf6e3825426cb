"""A small review queue for the page tests: a camera, candidates with real evidence pictures, and a reviewer.

The pictures are drawn with numpy/OpenCV (a street-like scene with a coloured object), rendered into an
annotated frame and a crop by the real evidence renderer, and stored through :class:`EvidenceStore`, so the pages
serve them through ``/api/evidence/`` exactly as in production.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import cv2
import numpy as np
import numpy.typing as npt
from sqlalchemy.orm import Session

from service.db.models import Camera, Candidate, Evidence, Sighting, User
from service.evidence import EvidenceStore, save_sighting_evidence
from service.posting.payload import default_taxonomy
from vision.frame import Frame, GeoPoint
from vision.geo import LocalFrame
from vision.sighting import Sighting as VisionSighting

NOW = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
ORIGIN = GeoPoint(31.230416, 121.473701, accuracy_m=6.0)
# (class, object colour BGR, metres east, metres north of the origin)
ITEMS: tuple[tuple[str, tuple[int, int, int], float, float], ...] = (
    ("vendor_stall", (40, 90, 220), 0.0, 0.0),
    ("banner", (40, 160, 230), 35.0, 20.0),
    ("material_pile", (90, 110, 130), -40.0, 25.0),
    ("poster", (200, 90, 40), 20.0, -45.0),
)


@dataclass(frozen=True)
class SeededQueue:
    """What :func:`seed_queue` made.

    Attributes:
        camera_id: The fixed camera all candidates come from.
        candidate_ids: The open candidates, oldest first (the queue's default order).
        confirmed_id: A candidate already confirmed nearby (shown on the map, never in the queue).
    """

    camera_id: int
    candidate_ids: tuple[int, ...]
    confirmed_id: int


def street_scene(colour: tuple[int, int, int], seed: int, size: tuple[int, int] = (360, 480)) -> npt.NDArray[np.uint8]:
    """A street-like picture: sky, a building with windows, a pavement and a coloured object at the centre."""
    height, width = size
    rng = np.random.default_rng(seed)
    image = np.zeros((height, width, 3), np.uint8)
    image[: height // 3] = (225, 205, 180)
    image[height // 3 : height * 2 // 3] = (150, 160, 175)
    image[height * 2 // 3 :] = (120, 125, 130)
    for x in range(20, width - 40, 60):
        for y in range(height // 3 + 15, height * 2 // 3 - 30, 45):
            cv2.rectangle(image, (x, y), (x + 30, y + 25), (90, 80, 70), -1)
    cv2.rectangle(image, (width // 2 - 60, height // 2), (width // 2 + 60, height - 40), colour, -1)
    noise = rng.integers(0, 6, size=image.shape, dtype=np.uint8)
    return np.asarray(cv2.add(image, noise), np.uint8)


def object_box(size: tuple[int, int] = (360, 480)) -> tuple[float, float, float, float]:
    """The box of the object :func:`street_scene` draws."""
    height, width = size
    return (width / 2 - 60, height / 2, width / 2 + 60, height - 40)


def seed_queue(session: Session, store: EvidenceStore) -> SeededQueue:
    """A camera, four open candidates with frame, crop and reference | current, and one confirmed nearby."""
    camera = Camera(key="cam-012", name="南京东路 Nanjing Rd E", kind="fixed", lat=ORIGIN.lat, lon=ORIGIN.lon)
    session.add(camera)
    session.flush()
    ids = [
        _candidate(session, store, camera, index=index, class_name=name, colour=colour, east=east, north=north)
        for index, (name, colour, east, north) in enumerate(ITEMS)
    ]
    reference = street_scene((150, 160, 175), 99)
    for index, (candidate_id, (_, colour, _, _)) in enumerate(zip(ids, ITEMS, strict=True)):
        current = street_scene(colour, index)
        comparison = np.concatenate([reference, np.full((360, 6, 3), 255, np.uint8), current], axis=1)
        _store(session, store, candidate_id, comparison, kind="comparison", taken_at=NOW - timedelta(hours=1))
    confirmed = _candidate(session, store, camera, index=9, class_name="goods_outside_shop", colour=(60, 200, 60))
    session.get_one(Candidate, confirmed).status = "confirmed"
    session.flush()
    return SeededQueue(camera.id, tuple(ids), confirmed)


def _candidate(
    session: Session,
    store: EvidenceStore,
    camera: Camera,
    *,
    index: int,
    class_name: str,
    colour: tuple[int, int, int],
    east: float = 60.0,
    north: float = 60.0,
) -> int:
    taxonomy = default_taxonomy()
    detector_class = taxonomy.get(class_name)
    assert detector_class.event is not None
    first_seen = NOW - timedelta(hours=2) + timedelta(minutes=10 * index)
    lat, lon = _moved(east, north)
    candidate = Candidate(
        violation_type=detector_class.violation.key,
        event_code=detector_class.event.code,
        class_name=class_name,
        status="open",
        lat=lat,
        lon=lon,
        accuracy_m=ORIGIN.accuracy_m,
        camera_id=camera.id,
        first_seen=first_seen,
        last_seen=first_seen + timedelta(minutes=4),
        sightings_count=2 + index,
        score=round(0.9 - 0.05 * index, 2),
    )
    session.add(candidate)
    session.flush()
    frame = Frame(
        street_scene(colour, index), source_id="cam-012", index=100 + index, timestamp=12.0, wall_time=first_seen
    )
    sighting = VisionSighting(
        source_id="cam-012",
        track_id=index + 1,
        class_id=detector_class.class_id,
        class_name=class_name,
        first_time=0.0,
        last_time=240.0,
        frames_seen=30,
        score=candidate.score,
        best_frame=frame,
        best_box=np.asarray(object_box(), np.float32),
        location=GeoPoint(lat, lon, ORIGIN.accuracy_m),
    )
    row = Sighting(
        source="cam-012",
        track_key=f"t{index + 1}",
        camera_id=camera.id,
        class_name=class_name,
        first_seen=first_seen,
        last_seen=candidate.last_seen,
        score=candidate.score,
        lat=lat,
        lon=lon,
        box=list(object_box()),
        status="candidate",
        candidate_id=candidate.id,
    )
    session.add(row)
    session.flush()
    for stored in save_sighting_evidence(store, sighting, camera_name=camera.key, taxonomy=taxonomy):
        session.add(
            Evidence(
                candidate_id=candidate.id,
                sighting_id=row.id,
                kind=stored.kind,
                path=stored.relative_path,
                sha256=stored.sha256,
                taken_at=stored.taken_at,
            )
        )
    session.flush()
    return candidate.id


def _store(
    session: Session,
    store: EvidenceStore,
    candidate_id: int,
    image: npt.NDArray[np.uint8],
    *,
    kind: str,
    taken_at: datetime,
) -> None:
    stored = store.save(image, kind=kind, taken_at=taken_at, name_hint="cam-012")
    session.add(
        Evidence(
            candidate_id=candidate_id, kind=kind, path=stored.relative_path, sha256=stored.sha256, taken_at=taken_at
        )
    )
    session.flush()


def _moved(east: float, north: float) -> tuple[float, float]:
    return LocalFrame(ORIGIN.lat, ORIGIN.lon).to_geo(east, north)


def add_reviewer(session: Session, username: str, password_hash: str, role: str = "reviewer") -> int:
    """A user with the given password hash (committed by the caller)."""
    user = User(username=username, password_hash=password_hash, role=role)
    session.add(user)
    session.flush()
    return user.id
