"""The pinhole camera and the geometry helpers the renderer relies on."""

from __future__ import annotations

import numpy as np
import pytest

from vision.synth.camera import Camera, clip_near
from vision.synth.ground import StreetLayout
from vision.synth.views import ViewSpec, sample_view, visible_spans

SIZE = (640, 360)


def test_point_straight_ahead_projects_to_image_centre() -> None:
    camera = Camera.look((0.0, 0.0, 1.5), yaw_deg=0.0, pitch_deg=0.0, hfov_deg=60.0, size=SIZE)
    pixels, depth = camera.project(np.array([[10.0, 0.0, 1.5]]))
    assert pixels[0] == pytest.approx([320.0, 180.0])
    assert depth[0] == pytest.approx(10.0)


@pytest.mark.parametrize(
    ("point", "expect"),
    [((10.0, -1.0, 1.5), "right"), ((10.0, 1.0, 1.5), "left"), ((10.0, 0.0, 3.0), "up")],
)
def test_image_axes_follow_the_world(point: tuple[float, float, float], expect: str) -> None:
    # Looking along +x with z up, -y is to the right.
    camera = Camera.look((0.0, 0.0, 1.5), 0.0, 0.0, 60.0, SIZE)
    (x, y), _ = camera.project(np.array([point]))[0][0], None
    if expect == "right":
        assert x > 320
    elif expect == "left":
        assert x < 320
    else:
        assert y < 180


def test_field_of_view_edge_lands_on_image_edge() -> None:
    camera = Camera.look((0.0, 0.0, 0.0), 0.0, 0.0, 90.0, SIZE)
    pixels, _ = camera.project(np.array([[10.0, -10.0, 0.0]]))  # 45 degrees right
    assert pixels[0, 0] == pytest.approx(640.0)


def test_plane_homography_maps_texture_corners_like_projection() -> None:
    camera = Camera.look((0.0, 5.0, 1.6), -80.0, 5.0, 70.0, SIZE)
    origin, axis_s, axis_t = np.array([2.0, 0.0, 3.0]), np.array([0.01, 0, 0]), np.array([0, 0, -0.01])
    homography = camera.plane_homography(origin, axis_s, axis_t)
    for s, t in [(0, 0), (100, 0), (100, 100), (37, 81)]:
        mapped = homography @ np.array([s, t, 1.0])
        expected, _ = camera.project((origin + s * axis_s + t * axis_t)[None])
        assert mapped[:2] / mapped[2] == pytest.approx(expected[0], abs=1e-6)


def test_clip_near_keeps_the_part_in_front() -> None:
    square = np.array([[-1.0, 0, -1.0], [1.0, 0, -1.0], [1.0, 0, 1.0], [-1.0, 0, 1.0]])
    clipped = clip_near(square, near=0.5)
    assert clipped[:, 2].min() == pytest.approx(0.5)
    assert len(clipped) == 4
    assert len(clip_near(square - np.array([0, 0, 5.0]), near=0.5)) == 0
    assert clip_near(square + np.array([0, 0, 5.0]), near=0.5) is not None


def test_views_look_at_the_street_and_see_a_facade() -> None:
    layout = StreetLayout(length=60.0, sidewalk_a=5.0, road=10.0, sidewalk_b=5.0, curb=0.15)
    rng = np.random.default_rng(3)
    for _ in range(40):
        view = sample_view(rng, layout)
        spans = visible_spans(view.camera(SIZE), layout)
        assert spans, f"{view} sees no facade"
        assert 0.0 <= view.position[1] <= layout.facade_b
        if view.facing:
            assert view.facing in spans


def test_view_moved_keeps_the_rest() -> None:
    view = ViewSpec("patrol", (1.0, 2.0, 3.0), -90.0, 5.0, 0.0, 70.0, "A")
    moved = view.moved(dx=0.5, dyaw=2.0)
    assert moved.position == (1.5, 2.0, 3.0)
    assert moved.yaw_deg == -88.0
    assert moved.hfov_deg == view.hfov_deg
