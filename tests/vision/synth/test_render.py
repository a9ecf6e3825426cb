"""Rendering a hand-built scene: labels come from what is visible."""

from __future__ import annotations

import numpy as np
import pytest

from vision.synth.camera import Camera
from vision.synth.classes import SHED, SIGNBOARD
from vision.synth.conditions import Conditions
from vision.synth.primitives import SceneObject
from vision.synth.render import LabelRules, render
from vision.synth.shapes import Pose, box

SIZE = (640, 360)
CAMERA = Camera.look((0.0, 0.0, 1.5), yaw_deg=0.0, pitch_deg=0.0, hfov_deg=60.0, size=SIZE)


def _box_object(x: float, y: float, size: float, class_id: int | None, object_id: int) -> SceneObject:
    parts = box(Pose.identity(), (x, y, 1.5), (size, size, size), (60, 60, 200))
    obj = SceneObject("test_box", class_id, parts, anchor=np.array([x, y, 1.5]))
    obj.object_id = object_id
    return obj


def test_a_visible_object_gets_its_projected_box() -> None:
    target = _box_object(10.0, 0.0, 2.0, SHED, 0)
    result = render([target], CAMERA, Conditions(fog_density=0.0))
    assert len(result.truth) == 1
    assert result.truth.class_id.tolist() == [SHED]
    assert result.truth.track_id is not None and result.truth.track_id.tolist() == [0]
    # The box's near face (x = 9) spans 2 m: focal * 2 / 9 pixels, centred.
    focal = CAMERA.focal_px
    x0, y0, x1, y1 = result.truth.xyxy[0]
    assert x1 - x0 == pytest.approx(focal * 2 / 9, abs=3)
    assert (x0 + x1) / 2 == pytest.approx(320, abs=2)
    assert (y0 + y1) / 2 == pytest.approx(180, abs=2)


def test_an_object_hidden_behind_another_gets_no_label() -> None:
    hidden = _box_object(20.0, 0.0, 1.0, SIGNBOARD, 0)
    wall = _box_object(8.0, 0.0, 3.0, None, 1)
    result = render([hidden, wall], CAMERA, Conditions())
    assert len(result.truth) == 0
    assert result.visible_fraction[0] == pytest.approx(0.0)


def test_a_half_hidden_object_is_labelled_by_its_visible_part() -> None:
    target = _box_object(20.0, 0.0, 2.0, SIGNBOARD, 0)
    cover = _box_object(10.0, 0.8, 1.0, None, 1)  # hides the left part of the target
    alone = render([target], CAMERA, Conditions())
    both = render([target, cover], CAMERA, Conditions())
    assert len(both.truth) == 1
    assert both.visible_fraction[0] < 1.0
    assert both.truth.xyxy[0, 0] > alone.truth.xyxy[0, 0] + 5


def test_tiny_objects_are_dropped() -> None:
    far = _box_object(400.0, 0.0, 1.0, SHED, 0)
    result = render([far], CAMERA, Conditions(), LabelRules(min_box_px=8))
    assert len(result.truth) == 0


def test_objects_behind_the_camera_are_not_drawn() -> None:
    behind = _box_object(-10.0, 0.0, 2.0, SHED, 0)
    result = render([behind], CAMERA, Conditions())
    assert len(result.truth) == 0
    assert not result.ids.any()


def test_a_big_object_running_out_of_the_frame_is_labelled_by_its_visible_part() -> None:
    # A sign 80 m long starting straight ahead: less than 25 % of its projected box is in the image, yet it
    # fills half the frame.
    long_sign = _box_object(10.0, 40.0, 1.0, SIGNBOARD, 0)
    long_sign.parts = box(Pose.identity(), (10.0, 40.0, 1.5), (1.0, 80.0, 2.0), (60, 60, 200))
    result = render([long_sign], CAMERA, Conditions(fog_density=0.0))
    assert len(result.truth) == 1
    x0, _, x1, _ = result.truth.xyxy[0]
    assert x0 == 0 or x1 == SIZE[0]
    assert x1 - x0 > SIZE[0] * 0.4


def test_a_big_object_mostly_hidden_keeps_a_label_a_small_one_does_not() -> None:
    wide = _box_object(20.0, 0.0, 1.0, SHED, 0)
    wide.parts = box(Pose.identity(), (20.0, 0.0, 1.5), (1.0, 8.0, 3.0), (60, 60, 200))
    cover = _box_object(10.0, -0.4, 1.0, None, 1)
    cover.parts = box(Pose.identity(), (10.0, -0.4, 1.5), (1.0, 3.1, 3.0), (200, 200, 200))
    result = render([wide, cover], CAMERA, Conditions(fog_density=0.0))
    assert result.visible_fraction[0] < LabelRules().min_visible
    assert len(result.truth) == 1
    x0, y0, x1, y1 = result.truth.xyxy[0]
    assert min(x1 - x0, y1 - y0) >= LabelRules().big_side_px
    strict = render([wide, cover], CAMERA, Conditions(fog_density=0.0), LabelRules(big_visible_px=float("inf")))
    assert len(strict.truth) == 0


def test_an_object_faded_into_thick_fog_gets_no_label() -> None:
    far = _box_object(60.0, 0.0, 4.0, SHED, 0)
    clear = render([far], CAMERA, Conditions(fog_density=0.0))
    foggy = render([far], CAMERA, Conditions(fog_density=0.05))  # 95 % fog at 60 m
    assert len(clear.truth) == 1
    assert len(foggy.truth) == 0
    assert foggy.visible_fraction[0] == pytest.approx(1.0)
