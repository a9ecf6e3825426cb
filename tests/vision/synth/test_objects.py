"""Labelled objects are drawn only where they can be seen, and placed where they can be."""

from __future__ import annotations

import math

import numpy as np
import pytest

from vision.synth.camera import Camera
from vision.synth.conditions import Conditions
from vision.synth.objects_facade import ShopFront, shop_posters
from vision.synth.objects_structures import pole_posters, utility_box
from vision.synth.primitives import Poly, SceneObject
from vision.synth.render import render
from vision.synth.shapes import Pose

SIZE = (640, 360)


def _posters(seed: int) -> list[SceneObject]:
    rng = np.random.default_rng(seed)
    pose = Pose.identity().at(0.0, 0.0, float(rng.uniform(0, 360)))
    found = pole_posters(rng, pose, 0.07)
    while len(found) < 3:
        found += [obj for obj in utility_box(rng, pose)[0] if obj.class_id is not None]
    return found


@pytest.mark.parametrize("seed", range(5))
def test_posters_seen_from_behind_their_pole_or_cabinet_are_not_drawn(seed: int) -> None:
    for poster in _posters(seed):
        face = poster.parts[0]
        assert isinstance(face, Poly)
        center = face.points.mean(axis=0)
        behind = center - 4.0 * np.array([face.normal[0], face.normal[1], 0.0])  # on its back side, 4 m away
        yaw = math.degrees(math.atan2(center[1] - behind[1], center[0] - behind[0]))
        camera = Camera.look(tuple(behind.tolist()), yaw_deg=yaw, pitch_deg=0.0, hfov_deg=60.0, size=SIZE)
        poster.object_id = 0
        result = render([poster], camera, Conditions(fog_density=0.0))
        assert not result.ids.any()
        assert len(result.truth) == 0
        front = center + 4.0 * np.array([face.normal[0], face.normal[1], 0.0])
        camera = Camera.look(tuple(front.tolist()), yaw_deg=yaw + 180, pitch_deg=0.0, hfov_deg=60.0, size=SIZE)
        assert len(render([poster], camera, Conditions(fog_density=0.0)).truth) == 1


@pytest.mark.parametrize("open_door", [True, False])
def test_shop_posters_do_not_hang_in_an_open_doorway(open_door: bool) -> None:
    shop = ShopFront(0.3, 5.7, (2.0, 3.6), ((0.35, 1.9, 0.6, 2.6), (3.7, 5.65, 0.6, 2.6)), (2.8, 3.9), open_door)
    side = Pose(np.diag([-1.0, 1.0, 1.0]), np.array([60.0, 0.0, 0.15]))
    in_door = 0
    for seed in range(300):
        for poster in shop_posters(np.random.default_rng(seed), side, shop):
            along = (poster.points() - side.offset) @ side.matrix[:, 0]
            in_door += int(along.min() < shop.door[1] and along.max() > shop.door[0])
    assert (in_door == 0) if open_door else (in_door > 0)
