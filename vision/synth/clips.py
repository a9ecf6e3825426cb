"""What clips share: passers-by who come and go, rendering one frame, and per-frame truth lines."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO

import numpy as np

from vision.detections import Detections
from vision.synth import objects_scenery as scenery
from vision.synth.camera import Camera
from vision.synth.conditions import Conditions
from vision.synth.effects import apply_camera
from vision.synth.motion import Mover
from vision.synth.primitives import Image, SceneObject
from vision.synth.render import LabelRules, render
from vision.synth.scene import Scene, side_pose
from vision.synth.shapes import Pose
from vision.synth.views import clear_of_camera

_FIRST_MOVER_ID = 1_000_000  # movers get ids apart from the scene's


@dataclass(frozen=True)
class Traffic:
    """How busy the street is.

    Attributes:
        people_per_min: People entering the stretch per minute, per sidewalk.
        cars_per_min: Cars entering per minute, per direction (roads of 9 m and more).
        scooters_per_min: Riders entering per minute.
        people_present: People already on each sidewalk per 10 m at the start.
    """

    people_per_min: float = 10.0
    cars_per_min: float = 4.0
    scooters_per_min: float = 3.0
    people_present: float = 1.5


class _Ids:
    def __init__(self) -> None:
        self.next = _FIRST_MOVER_ID

    def stamp(self, obj: SceneObject) -> SceneObject:
        obj.object_id = self.next
        self.next += 1
        return obj


def street_movers(
    rng: np.random.Generator, scene: Scene, span_x: tuple[float, float], duration: float, traffic: Traffic | None = None
) -> list[Mover]:
    """People walking both sidewalks and traffic on the road over ``span_x`` (world x) for ``duration`` seconds."""
    traffic = traffic or Traffic()
    layout, ids = scene.layout, _Ids()
    lo, hi = span_x[0] - 15.0, span_x[1] + 15.0
    movers: list[Mover] = []
    for side in ("A", "B"):
        pose = side_pose(layout, side)
        width = layout.sidewalk_a if side == "A" else layout.sidewalk_b
        present = int(rng.poisson(traffic.people_present * (hi - lo) / 10))
        starts = [(float(rng.uniform(lo, hi)), 0.0, 1 if rng.random() < 0.5 else -1) for _ in range(present)]
        for t in _arrivals(rng, traffic.people_per_min, duration):
            starts.append((lo, t, 1) if rng.random() < 0.5 else (hi, t, -1))
        for x, t, direction in starts:
            speed = float(rng.uniform(0.9, 1.6)) * direction
            base = pose.point(0, float(rng.uniform(0.3, width - 0.3)), 0)
            base[0] = x
            movers.append(Mover(ids.stamp(scenery.person(rng, base)), (speed, 0.0), t, t + (hi - lo) / abs(speed)))
    road = (layout.sidewalk_a, layout.facade_b - layout.sidewalk_b)
    world = Pose.identity()
    for direction, lane in ((1, road[0] + 0.3 * (road[1] - road[0])), (-1, road[1] - 0.3 * (road[1] - road[0]))):
        if layout.road < 9:
            break
        for t in _arrivals(rng, traffic.cars_per_min, duration):
            speed = float(rng.uniform(6, 12)) * direction
            x = lo if direction > 0 else hi
            car = ids.stamp(
                scenery.car(rng, world.at(x, lane + float(rng.normal(0, 0.3)), 0 if direction > 0 else 180))
            )
            movers.append(Mover(car, (speed, 0.0), t, t + (hi - lo) / abs(speed)))
    for t in _arrivals(rng, traffic.scooters_per_min, duration):
        direction = 1 if rng.random() < 0.5 else -1
        y = road[0] + 0.8 if direction > 0 else road[1] - 0.8
        speed = float(rng.uniform(3, 7)) * direction
        base = np.array([lo if direction > 0 else hi, y + float(rng.normal(0, 0.3)), 0.0])
        for obj in scenery.two_wheeler(rng, base, True, True):
            movers.append(Mover(ids.stamp(obj), (speed, 0.0), t, t + (hi - lo) / abs(speed)))
    return movers


def _arrivals(rng: np.random.Generator, per_min: float, duration: float) -> list[float]:
    """Arrival times of a Poisson stream over ``[0, duration)``."""
    count = int(rng.poisson(per_min * duration / 60.0))
    return sorted(float(t) for t in rng.uniform(0, duration, count))


def objects_at(static: Sequence[SceneObject], movers: Sequence[Mover], t: float) -> list[SceneObject]:
    """The static objects and the movers present at time ``t``."""
    out = list(static)
    for mover in movers:
        obj = mover.at(t)
        if obj is not None:
            out.append(obj)
    return out


def render_frame(
    objects: list[SceneObject], camera: Camera, conditions: Conditions, rng: np.random.Generator, rules: LabelRules
) -> tuple[Image, Detections]:
    """One finished frame (camera effects applied) and its labelled boxes."""
    rendered = render(clear_of_camera(objects, camera), camera, conditions, rules)
    return apply_camera(rendered.image, conditions, rng), rendered.truth


def write_frame_truth(stream: IO[str], frame: int, t: float, truth: Detections) -> None:
    """One JSON line: the frame number, its time, and its boxes with class and object ids."""
    tracks = [] if truth.track_id is None else truth.track_id.tolist()
    line = {
        "frame": frame,
        "t": round(t, 3),
        "boxes": [[round(v, 1) for v in box] for box in truth.xyxy.tolist()],
        "class_id": truth.class_id.tolist(),
        "object_id": tracks,
    }
    stream.write(json.dumps(line) + "\n")
