"""Reference data access on SQLite and PostgreSQL: places, replacement with history, lookups by preset and position."""

from __future__ import annotations

from datetime import timedelta

import pytest
from factories.references import NOW, STREET, make_cameras
from sqlalchemy.orm import Session

from service.cameras.queries import create_camera, get_camera
from service.db.models import Camera
from service.errors import Conflict, Invalid, NotFound
from service.references import (
    NewReference,
    add_reference,
    current_reference,
    list_references,
    nearest_reference,
    reference_history,
)
from vision.frame import GeoPoint

LAT, LON = STREET
METRE_LAT = 1.0 / 111_195.0  # degrees of latitude per metre


def north_of(metres: float, heading: float) -> GeoPoint:
    """A position ``metres`` north of the street point, looking along ``heading``."""
    return GeoPoint(LAT + metres * METRE_LAT, LON, heading_deg=heading)


def add(
    session: Session,
    camera: Camera,
    *,
    minutes: int = 0,
    preset: str | None = None,
    position: GeoPoint | None = None,
    replace: bool = False,
) -> NewReference:
    return add_reference(
        session,
        camera=camera,
        image_path=f"2026/05/01/ref-{camera.key}-{preset}-{minutes}.jpg",
        sha256=f"{minutes:064x}",
        taken_at=NOW + timedelta(minutes=minutes),
        preset=preset,
        position=position,
        replace=replace,
        now=NOW + timedelta(minutes=minutes, seconds=1),
    )


def test_a_new_reference_of_a_preset_replaces_the_current_one_and_keeps_it_in_the_history(session: Session) -> None:
    cameras = make_cameras(session)
    first = add(session, cameras["ptz-1"], preset="gate").reference
    other_preset = add(session, cameras["ptz-1"], preset="corner").reference
    home = add(session, cameras["ptz-1"]).reference

    second = add(session, cameras["ptz-1"], minutes=60, preset="gate", replace=True)
    session.commit()

    assert second.replaced == (first,)
    assert first.replaced_at == NOW + timedelta(minutes=60, seconds=1)
    assert other_preset.replaced_at is None and home.replaced_at is None
    assert current_reference(session, camera_key="ptz-1", preset="gate") is second.reference
    assert current_reference(session, camera_key="ptz-1") is home
    assert reference_history(session, camera_key="ptz-1", preset="gate") == [second.reference, first]
    assert current_reference(session, camera_key="ptz-1", preset="never-captured") is None


def test_a_place_with_a_reference_is_not_replaced_without_asking(session: Session) -> None:
    cameras = make_cameras(session)
    first = add(session, cameras["fixed-1"]).reference

    with pytest.raises(Conflict, match=rf"fixed-1.*current reference {first.id}.*--replace") as caught:
        add(session, cameras["fixed-1"], minutes=5)

    assert caught.value.field == "replace"
    assert current_reference(session, camera_key="fixed-1") is first


def test_two_references_of_one_place_taken_at_the_same_moment_conflict(session: Session) -> None:
    cameras = make_cameras(session)
    add(session, cameras["fixed-1"])

    with pytest.raises(Conflict, match="taken at 2026-05-01T12:00:00"):
        add(session, cameras["fixed-1"], replace=True)


@pytest.mark.parametrize(
    ("camera_key", "preset", "position", "field"),
    [
        ("fixed-1", "gate", None, "preset"),
        ("patrol-1", "gate", north_of(0, 90), "preset"),
        ("patrol-1", None, None, "position"),
        ("patrol-1", None, GeoPoint(LAT, LON), "heading"),
        ("ptz-1", "   ", None, "preset"),
    ],
)
def test_a_place_that_does_not_fit_the_camera_is_refused(
    session: Session, camera_key: str, preset: str | None, position: GeoPoint | None, field: str
) -> None:
    cameras = make_cameras(session)

    with pytest.raises(Invalid) as caught:
        add(session, cameras[camera_key], preset=preset, position=position)

    assert caught.value.field == field
    assert camera_key in str(caught.value) or field == "preset"


def test_patrol_references_replace_only_the_same_position_looking_the_same_way(session: Session) -> None:
    cameras = make_cameras(session)
    here_east = add(session, cameras["patrol-1"], position=north_of(0, 90)).reference
    here_west = add(session, cameras["patrol-1"], minutes=1, position=north_of(0, 270)).reference
    further = add(session, cameras["patrol-1"], minutes=2, position=north_of(25, 90)).reference

    newer = add(session, cameras["patrol-1"], minutes=60, position=north_of(4, 100), replace=True)

    assert newer.replaced == (here_east,)
    assert here_west.replaced_at is None and further.replaced_at is None
    history = reference_history(session, camera_key="patrol-1", position=north_of(1, 95))
    assert history == [newer.reference, here_east]


def test_nearest_reference_is_the_closest_one_looking_the_same_way(session: Session) -> None:
    cameras = make_cameras(session)
    near_but_opposite = add(session, cameras["patrol-1"], position=north_of(2, 270)).reference
    near_but_turned = add(session, cameras["patrol-1"], minutes=1, position=north_of(3, 150)).reference
    close = add(session, cameras["patrol-1"], minutes=2, position=north_of(12, 80)).reference
    add(session, cameras["patrol-1"], minutes=3, position=north_of(40, 90))

    match = nearest_reference(session, camera_key="patrol-1", position=north_of(0, 90))

    assert match is not None and match.reference is close
    assert match.distance_m == pytest.approx(12.0, abs=0.1)
    assert match.heading_difference_deg == pytest.approx(10.0)
    assert near_but_opposite.replaced_at is None and near_but_turned.replaced_at is None
    wider = nearest_reference(session, camera_key="patrol-1", position=north_of(0, 90), max_heading_diff_deg=70)
    assert wider is not None and wider.reference is near_but_turned
    assert nearest_reference(session, camera_key="patrol-1", position=north_of(0, 90), max_distance_m=10) is None


def test_nearest_reference_compares_headings_across_north(session: Session) -> None:
    cameras = make_cameras(session)
    looking_north = add(session, cameras["patrol-1"], position=north_of(5, 355)).reference

    match = nearest_reference(session, camera_key=None, position=north_of(0, 10))

    assert match is not None and match.reference is looking_north
    assert match.heading_difference_deg == pytest.approx(15.0)


def test_nearest_reference_without_a_camera_searches_every_patrol_camera_and_only_current_ones(
    session: Session,
) -> None:
    cameras = make_cameras(session)
    old = add(session, cameras["patrol-1"], position=north_of(1, 90)).reference
    newer = add(session, cameras["patrol-1"], minutes=10, position=north_of(6, 90), replace=True).reference
    other_vehicle = add(session, cameras["patrol-2"], minutes=20, position=north_of(3, 90)).reference
    # A fixed camera's reference with a position is not a patrol position.
    add(session, cameras["fixed-1"], position=north_of(0, 90))

    match = nearest_reference(session, camera_key=None, position=north_of(0, 90))
    own = nearest_reference(session, camera_key="patrol-1", position=north_of(0, 90))

    assert old.replaced_at is not None
    assert match is not None and match.reference is other_vehicle
    assert own is not None and own.reference is newer


def test_nearest_reference_needs_a_heading(session: Session) -> None:
    make_cameras(session)

    with pytest.raises(Invalid) as caught:
        nearest_reference(session, camera_key="patrol-1", position=GeoPoint(LAT, LON))

    assert caught.value.field == "heading"


def test_lookups_name_an_unknown_camera(session: Session) -> None:
    with pytest.raises(NotFound, match="no camera 'cam-404'") as caught:
        current_reference(session, camera_key="cam-404")
    assert caught.value.field == "camera"
    with pytest.raises(NotFound, match="cam-404"):
        nearest_reference(session, camera_key="cam-404", position=north_of(0, 0))
    with pytest.raises(NotFound, match="cam-404"):
        list_references(session, camera_key="cam-404")


def test_current_reference_of_a_patrol_camera_points_to_the_position_lookup(session: Session) -> None:
    make_cameras(session)

    with pytest.raises(Invalid, match="patrol camera: look its references up by position"):
        current_reference(session, camera_key="patrol-1")


def test_list_orders_by_camera_then_preset_then_newest_and_hides_replaced_ones(session: Session) -> None:
    cameras = make_cameras(session)
    gate_old = add(session, cameras["ptz-1"], preset="gate").reference
    gate = add(session, cameras["ptz-1"], minutes=5, preset="gate", replace=True).reference
    corner = add(session, cameras["ptz-1"], minutes=1, preset="corner").reference
    home = add(session, cameras["ptz-1"], minutes=2).reference
    fixed = add(session, cameras["fixed-1"], minutes=3).reference

    assert list_references(session) == [fixed, home, corner, gate]
    assert list_references(session, camera_key="ptz-1", include_replaced=True) == [home, corner, gate, gate_old]


def test_cameras_are_created_once_per_key_and_checked(session: Session) -> None:
    camera = create_camera(session, key="cam-012", kind="fixed", lat=LAT, lon=LON, heading_deg=-90)

    assert get_camera(session, key="cam-012") is camera
    assert camera.heading_deg == 270
    with pytest.raises(Conflict, match="cam-012"):
        create_camera(session, key="cam-012", kind="ptz")
    for arguments, field in (
        ({"key": "cam 1", "kind": "fixed"}, "key"),
        ({"key": "cam-2", "kind": "drone"}, "kind"),
        ({"key": "cam-3", "kind": "fixed", "lat": 91.0, "lon": 0.0}, "lat"),
        ({"key": "cam-4", "kind": "fixed", "lat": 30.0}, "lon"),
    ):
        with pytest.raises(Invalid) as caught:
            create_camera(session, **arguments)
        assert caught.value.field == field
