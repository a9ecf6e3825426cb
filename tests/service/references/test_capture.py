"""Capturing references from photos, videos and arrays: the picture chosen, when and where, stored, and refused."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import cv2
import numpy as np
import pytest
from factories.evidence import textured_image
from factories.media import make_photo, make_video
from factories.references import NOW, STREET, blurred, make_cameras, textured_photo, textured_video
from sqlalchemy.orm import Session

from service.errors import Conflict, Invalid, NotFound
from service.references import ReferenceStore, capture_reference, current_reference, list_references, sharpness
from vision.frame import GeoPoint

BEIJING = timezone(timedelta(hours=8))


def stored_files(store: ReferenceStore) -> list[Path]:
    return sorted(path for path in store.root.rglob("*") if path.is_file()) if store.root.exists() else []


def test_a_photo_becomes_a_stored_jpeg_taken_when_its_exif_says(
    sqlite_session: Session, store: ReferenceStore, tmp_path: Path
) -> None:
    make_cameras(sqlite_session)
    photo = textured_photo(tmp_path / "gate.jpg", taken="2024:06:11 14:03:22", offset="+08:00")

    new = capture_reference(sqlite_session, store=store, camera_key="ptz-1", source=photo, preset="gate", now=NOW)
    sqlite_session.commit()

    reference = new.reference
    assert new.replaced == ()
    assert reference.taken_at == datetime(2024, 6, 11, 14, 3, 22, tzinfo=BEIJING)
    assert (reference.preset, reference.lat, reference.replaced_at) == ("gate", None, None)
    assert reference.image_path.startswith("2024/06/11/060322-ptz-1-gate-reference-")
    path = store.resolve(reference.image_path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == reference.sha256
    saved = cv2.imread(str(path))
    original = cv2.imread(str(photo))
    assert saved is not None and original is not None and saved.shape == original.shape == (120, 160, 3)
    assert np.abs(saved.astype(int) - original.astype(int)).mean() < 12
    assert current_reference(sqlite_session, camera_key="ptz-1", preset="gate") is reference


def test_a_patrol_photo_takes_its_position_and_heading_from_exif_gps(
    sqlite_session: Session, store: ReferenceStore, tmp_path: Path
) -> None:
    make_cameras(sqlite_session)
    photo = textured_photo(tmp_path / "street.jpg", gps=STREET, heading=87.5)

    reference = capture_reference(sqlite_session, store=store, camera_key="patrol-1", source=photo, now=NOW).reference

    assert reference.lat == pytest.approx(STREET[0], abs=1e-6)
    assert reference.lon == pytest.approx(STREET[1], abs=1e-6)
    assert reference.heading_deg == pytest.approx(87.5)
    assert reference.taken_at == NOW  # no capture time in the photo


def test_a_patrol_photo_without_a_position_is_refused_before_anything_is_written(
    sqlite_session: Session, store: ReferenceStore, tmp_path: Path
) -> None:
    make_cameras(sqlite_session)
    photo = textured_photo(tmp_path / "street.jpg")

    with pytest.raises(Invalid, match=r"patrol-1.*patrol camera.*position") as caught:
        capture_reference(sqlite_session, store=store, camera_key="patrol-1", source=photo)

    assert caught.value.field == "position"
    assert stored_files(store) == []


def test_a_given_position_overrides_exif_and_time_is_explicit(
    sqlite_session: Session, store: ReferenceStore, tmp_path: Path
) -> None:
    make_cameras(sqlite_session)
    photo = textured_photo(tmp_path / "street.jpg", gps=(0.5, 0.5), heading=10.0, taken="2020:01:01 00:00:00")
    taken = datetime(2026, 4, 30, 9, 0, tzinfo=BEIJING)

    reference = capture_reference(
        sqlite_session,
        store=store,
        camera_key="patrol-1",
        source=photo,
        position=GeoPoint(*STREET, heading_deg=-20.0),
        taken_at=taken,
    ).reference

    assert (reference.lat, reference.lon, reference.heading_deg) == (*STREET, 340.0)
    assert reference.taken_at == taken


def test_a_photo_time_without_offset_is_read_in_the_given_zone(
    sqlite_session: Session, store: ReferenceStore, tmp_path: Path
) -> None:
    make_cameras(sqlite_session)
    photo = textured_photo(tmp_path / "view.jpg", taken="2024:06:11 14:03:22")

    reference = capture_reference(
        sqlite_session, store=store, camera_key="fixed-1", source=photo, default_tz=BEIJING
    ).reference

    assert reference.taken_at == datetime(2024, 6, 11, 6, 3, 22, tzinfo=UTC)


def test_a_video_gives_its_sharpest_early_frame_taken_at_creation_time_plus_timestamp(
    sqlite_session: Session, store: ReferenceStore, tmp_path: Path
) -> None:
    make_cameras(sqlite_session)
    video = textured_video(
        tmp_path / "clip.mp4",
        blur_sigmas=[3.0, 2.0, 0.0, 2.5, 3.0, 0.0],
        metadata={"creation_time": "2024-05-01T08:00:00.000000Z"},
    )

    first = capture_reference(sqlite_session, store=store, camera_key="fixed-1", source=video, frames=1).reference
    best = capture_reference(
        sqlite_session, store=store, camera_key="fixed-1", source=video, frames=4, replace=True
    ).reference

    start = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
    assert first.taken_at == start
    assert best.taken_at == start + timedelta(milliseconds=80)  # frame 2 of 25 fps: the sharp one of the first 4
    first_image = cv2.imread(str(store.resolve(first.image_path)))
    best_image = cv2.imread(str(store.resolve(best.image_path)))
    assert first_image is not None and best_image is not None
    assert sharpness(np.asarray(best_image, np.uint8)) > 3 * sharpness(np.asarray(first_image, np.uint8))
    assert first.replaced_at is not None and best.replaced_at is None


def test_an_image_array_can_be_captured_directly(sqlite_session: Session, store: ReferenceStore) -> None:
    make_cameras(sqlite_session)
    picture = blurred(textured_image(96, 128, seed=3), 0)

    reference = capture_reference(sqlite_session, store=store, camera_key="fixed-1", image=picture, now=NOW).reference

    assert reference.taken_at == NOW
    assert store.verify(reference.image_path, reference.sha256)


def test_replacing_keeps_the_old_file_and_row(sqlite_session: Session, store: ReferenceStore, tmp_path: Path) -> None:
    make_cameras(sqlite_session)
    before = textured_photo(tmp_path / "before.png", seed=1)
    after = textured_photo(tmp_path / "after.png", seed=2)
    old = capture_reference(sqlite_session, store=store, camera_key="fixed-1", source=before, now=NOW).reference

    later = NOW + timedelta(days=30)
    with pytest.raises(Conflict, match="--replace"):
        capture_reference(sqlite_session, store=store, camera_key="fixed-1", source=after, now=later)
    assert len(stored_files(store)) == 1
    new = capture_reference(sqlite_session, store=store, camera_key="fixed-1", source=after, now=later, replace=True)

    assert new.replaced == (old,)
    assert old.replaced_at == later
    assert store.verify(old.image_path, old.sha256) and store.verify(new.reference.image_path, new.reference.sha256)
    assert list_references(sqlite_session, camera_key="fixed-1", include_replaced=True) == [new.reference, old]


@pytest.mark.parametrize(
    ("make_source", "message"),
    [
        (lambda folder: make_photo(folder / "flat.jpg", size=(160, 120)), r"flat\.jpg: the picture is blank"),
        (lambda folder: make_video(folder / "grey.mp4"), r"grey\.mp4: the picture is blank"),
        (lambda folder: textured_photo(folder / "tiny.png", size=(20, 12)), r"tiny\.png: 20x12 pixels is too small"),
        (lambda folder: _text_file(folder / "notes.jpg"), r"notes\.jpg: not a readable image"),
        (lambda folder: _text_file(folder / "broken.mp4"), r"broken\.mp4"),
        (lambda folder: folder / "missing.png", r"missing\.png: does not exist"),
    ],
)
def test_unusable_sources_are_refused_naming_the_file(
    sqlite_session: Session, store: ReferenceStore, tmp_path: Path, make_source: object, message: str
) -> None:
    make_cameras(sqlite_session)
    source = make_source(tmp_path)  # type: ignore[operator]

    with pytest.raises(Invalid, match=message) as caught:
        capture_reference(sqlite_session, store=store, camera_key="fixed-1", source=source)

    assert caught.value.field == "source"
    assert stored_files(store) == []
    assert list_references(sqlite_session, include_replaced=True) == []


def test_an_unknown_camera_is_refused_before_reading_the_source(
    sqlite_session: Session, store: ReferenceStore, tmp_path: Path
) -> None:
    with pytest.raises(NotFound, match="no camera 'cam-404'"):
        capture_reference(sqlite_session, store=store, camera_key="cam-404", source=tmp_path / "missing.jpg")


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({}, "source"),
        ({"source": "a.jpg", "image": textured_image(64, 64)}, "source"),
        ({"image": textured_image(64, 64), "taken_at": datetime(2024, 1, 1)}, "taken_at"),
        ({"image": textured_image(64, 64).astype(np.float32)}, "source"),
        ({"source": "a.jpg", "frames": 0}, "frames"),
    ],
)
def test_bad_arguments_are_refused(
    sqlite_session: Session, store: ReferenceStore, arguments: dict[str, object], field: str
) -> None:
    make_cameras(sqlite_session)

    with pytest.raises(Invalid) as caught:
        capture_reference(sqlite_session, store=store, camera_key="fixed-1", **arguments)  # type: ignore[arg-type]

    assert caught.value.field == field


def _text_file(path: Path) -> Path:
    path.write_text("this is not a picture\n" * 20, encoding="utf-8")
    return path
