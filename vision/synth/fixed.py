"""Fixed-camera clips: a vendor sets up and stays for minutes while passers-by come and go; another stops
briefly and moves on. The truth says who stayed how long, the test of a 3-5 minute persistence rule."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from vision.synth import objects_street as street
from vision.synth.camera import Camera
from vision.synth.classes import CLASS_NAMES
from vision.synth.clips import objects_at, render_frame, street_movers, write_frame_truth
from vision.synth.conditions import Conditions, sample_conditions
from vision.synth.geo import StreetGeo
from vision.synth.ground import StreetLayout
from vision.synth.motion import Mover
from vision.synth.primitives import LAYER_STREET, SceneObject
from vision.synth.render import LabelRules
from vision.synth.scene import Scene, generate_scene, side_pose
from vision.synth.shapes import Pose
from vision.synth.video import Mp4Writer
from vision.synth.views import ViewSpec, sample_view, visible_spans

RULES = LabelRules(min_box_px=8.0, min_visible=0.3, min_in_image=0.25)
_VENDOR_IDS = 900_000  # object ids of the clip's vendors


@dataclass(frozen=True)
class FixedSummary:
    """What ``write_fixed`` wrote."""

    out: Path
    frames: int
    vendors: int
    seconds: float


@dataclass(frozen=True)
class _Vendor:
    mover: Mover
    behaviour: str  # stays | brief_stop | passing
    spot: tuple[float, float]  # world x, y where it stands (or crosses the view)


def _spot(rng: np.random.Generator, scene: Scene, camera: Camera, side: str) -> tuple[float, float] | None:
    """A sidewalk place (side ``u``, ``v``) well inside the picture, 4-30 m from the camera."""
    layout = scene.layout
    pose = side_pose(layout, side)
    width = layout.sidewalk_a if side == "A" else layout.sidewalk_b
    for _ in range(60):
        u, v = float(rng.uniform(-10, layout.length + 10)), float(rng.uniform(0.8, max(width - 0.8, 0.9)))
        pixel, depth = camera.project(pose.point(u, v, 0)[None])
        x, y = pixel[0]
        if (
            4 < depth[0] < 22
            and 0.15 * camera.width < x < 0.85 * camera.width
            and 0.35 * camera.height < y < camera.height
        ):
            return u, v
    return None


_STAYERS = (street.umbrella_stall, street.cart, street.canopy_tent, street.tricycle)  # set-ups seen from afar


def _vendor(
    rng: np.random.Generator, scene: Scene, side: str, spot: tuple[float, float], heading: float
) -> SceneObject:
    builder = _STAYERS[int(rng.integers(len(_STAYERS)))]
    obj, _ = builder(rng, side_pose(scene.layout, side).at(spot[0], spot[1], heading))
    obj.side, obj.position = side, spot
    return obj


def _vendors(
    rng: np.random.Generator, scene: Scene, camera: Camera, side: str, duration: float
) -> list[_Vendor] | None:
    """The vendor who stays (arrives early, leaves late or never) and one who only stops briefly."""
    stay, stop = _spot(rng, scene, camera, side), _spot(rng, scene, camera, side)
    if stay is None or stop is None:
        return None
    pose = side_pose(scene.layout, side)
    stayer = _vendor(rng, scene, side, stay, float(rng.normal(0, 6)))
    stayer.object_id = _VENDOR_IDS
    arrive, leave = float(rng.uniform(0.05, 0.3)) * duration, float(rng.uniform(0.75, 1.3)) * duration
    out = [
        _Vendor(Mover(stayer, (0.0, 0.0), arrive, leave if leave < duration else math.inf), "stays", _xy(pose, stay))
    ]
    speed = float(rng.uniform(0.8, 1.5)) * (1 if rng.random() < 0.5 else -1)
    lead = float(rng.uniform(10, 20))  # metres walked before the stop
    start_u = stop[0] - math.copysign(lead, speed)
    tricycle = street.tricycle(rng, pose.at(start_u, stop[1], 0.0 if speed > 0 else 180.0))[0]
    tricycle.object_id, tricycle.side, tricycle.position = _VENDOR_IDS + 1, side, (start_u, stop[1])
    velocity = pose.vector(speed, 0, 0)
    t0 = float(rng.uniform(0.1, 0.6)) * duration
    halt = (t0 + lead / abs(speed), t0 + lead / abs(speed) + float(rng.uniform(20, 60)))
    end = halt[1] + 40.0 / abs(speed)
    mover = Mover(tricycle, (float(velocity[0]), float(velocity[1])), t0, end, halt)
    out.append(_Vendor(mover, "brief_stop", _xy(pose, stop)))
    return out


def _xy(pose: Pose, spot: tuple[float, float]) -> tuple[float, float]:
    p = pose.point(spot[0], spot[1], 0)
    return float(p[0]), float(p[1])


def _make_room(objects: list[SceneObject], spots: list[tuple[float, float]], radius: float) -> list[SceneObject]:
    """Leave out street things standing where a vendor will stand."""
    out = []
    for obj in objects:
        if obj.layer == LAYER_STREET:
            center, size = obj.bounds()
            if any(math.hypot(center[0] - x, center[1] - y) < radius + min(size, 2.0) for x, y in spots):
                continue
        out.append(obj)
    return out


def _setting(rng: np.random.Generator, size: tuple[int, int], duration: float) -> tuple[ViewSpec, Scene, list[_Vendor]]:
    """A camera on a pole or across the street, its street, and vendors placed where it sees them."""
    for _ in range(20):
        layout = StreetLayout.sample(rng)
        view = sample_view(rng, layout, str(rng.choice(["pole", "across", "pole"])))
        camera = view.camera(size)
        scene = generate_scene(rng, layout, visible_spans(camera, layout), passers=False)
        vendors = _vendors(rng, scene, camera, view.facing or "A", duration)
        if vendors is not None:
            return view, scene, vendors
    raise RuntimeError("no camera placement with a sidewalk in view after 20 tries")


def _events(
    vendors: list[_Vendor], geo: StreetGeo, first: dict[int, float], last: dict[int, float], duration: float
) -> list[dict[str, object]]:
    out = []
    for vendor in vendors:
        mover, obj = vendor.mover, vendor.mover.obj
        lat, lon = geo.to_latlon(*vendor.spot)
        dwell = (mover.stop[1] - mover.stop[0]) if mover.stop else (min(mover.end, math.inf) - mover.start)
        out.append(
            {
                "object_id": obj.object_id,
                "class": CLASS_NAMES[obj.class_id or 0],
                "kind": obj.kind,
                "behaviour": vendor.behaviour,
                "arrive_s": round(mover.start, 2),
                "leave_s": None if mover.end >= duration else round(mover.end, 2),
                "stationary_s": None if math.isinf(dwell) else round(dwell, 2),
                "first_seen_s": first.get(obj.object_id),
                "last_seen_s": last.get(obj.object_id),
                "x_m": round(vendor.spot[0], 2),
                "y_m": round(vendor.spot[1], 2),
                "lat": round(lat, 7),
                "lon": round(lon, 7),
            }
        )
    return out


def _camera_truth(view: ViewSpec, geo: StreetGeo) -> dict[str, object]:
    lat, lon = geo.to_latlon(view.position[0], view.position[1])
    return {
        "kind": view.kind,
        "lat": round(lat, 7),
        "lon": round(lon, 7),
        "height_m": round(view.position[2], 2),
        "heading_deg": round(geo.heading(view.yaw_deg), 2),
        "pitch_deg": round(view.pitch_deg, 2),
        "hfov_deg": round(view.hfov_deg, 2),
    }


def _render_clip(
    out: Path,
    static: list[SceneObject],
    movers: list[Mover],
    camera: Camera,
    conditions: Conditions,
    rng: np.random.Generator,
    fps: float,
    count: int,
    progress: Callable[[int], None] | None,
) -> tuple[dict[int, float], dict[int, float]]:
    """Write ``clip.mp4`` and ``frames.jsonl``; return when each labelled object was first and last boxed."""
    first: dict[int, float] = {}
    last: dict[int, float] = {}
    size = (camera.width, camera.height)
    with Mp4Writer(out / "clip.mp4", fps, size) as video, (out / "frames.jsonl").open("w") as lines:
        for frame in range(count):
            t = frame / fps
            image, truth = render_frame(objects_at(static, movers, t), camera, conditions, rng, RULES)
            video.write(image)
            write_frame_truth(lines, frame, t, truth)
            for object_id in [] if truth.track_id is None else truth.track_id.tolist():
                first.setdefault(object_id, round(t, 3))
                last[object_id] = round(t, 3)
            if progress is not None:
                progress(1)
    return first, last


def write_fixed(
    out: Path,
    seed: int,
    minutes: float = 5.0,
    fps: float = 2.0,
    size: tuple[int, int] = (960, 540),
    progress: Callable[[int], None] | None = None,
) -> FixedSummary:
    """Render a fixed-camera clip: ``clip.mp4``, ``frames.jsonl`` (boxes per frame) and ``truth.json``.

    One vendor arrives early and stays for minutes (or to the end); a tricycle vendor stops for under a minute
    and moves on; people and traffic pass all the time. ``truth.json`` has the camera's map position and each
    vendor's arrival, departure and time standing still.
    """
    if minutes <= 0 or fps <= 0:
        raise ValueError(f"minutes and fps must be positive, got {minutes} and {fps}")
    started = time.perf_counter()
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0, 6]))
    duration = minutes * 60.0
    view, scene, vendors = _setting(rng, size, duration)
    geo = StreetGeo.sample(rng)
    conditions = replace(sample_conditions(rng), motion_blur_px=0.0)
    camera = view.camera(size)
    xs = [v.spot[0] for v in vendors]
    movers = street_movers(rng, scene, (min(xs) - 40.0, max(xs) + 40.0), duration)
    movers += [v.mover for v in vendors]
    static = _make_room(scene.objects, [v.spot for v in vendors], 1.5)
    out.mkdir(parents=True, exist_ok=True)
    count = max(int(duration * fps), 1)
    first, last = _render_clip(out, static, movers, camera, conditions, rng, fps, count, progress)
    truth_json = {
        "camera": _camera_truth(view, geo),
        "video": "clip.mp4",
        "frames": "frames.jsonl",
        "fps": fps,
        "frame_count": count,
        "duration_s": duration,
        "weather": conditions.weather,
        "vendors": _events(vendors, geo, first, last, duration),
    }
    (out / "truth.json").write_text(json.dumps(truth_json, indent=1) + "\n")
    return FixedSummary(out, count, len(vendors), time.perf_counter() - started)
