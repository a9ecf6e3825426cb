"""Patrol clips: a vehicle camera driving along a street on several days, with GPX tracks and the truth of
which violations stood where on which day."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from vision.synth.classes import CLASS_NAMES
from vision.synth.clips import objects_at, render_frame, street_movers, write_frame_truth
from vision.synth.conditions import sample_conditions
from vision.synth.geo import StreetGeo, TrackPoint, write_gpx
from vision.synth.ground import StreetLayout
from vision.synth.render import LabelRules
from vision.synth.scene import Scene, generate_scene
from vision.synth.video import Mp4Writer
from vision.synth.views import ViewSpec

RULES = LabelRules(min_box_px=8.0, min_visible=0.3, min_in_image=0.25)
# Chance that a violation of each class is there on a given day (the rest stay all the time).
_DAILY = {"vendor_stall": 0.5, "goods_outside_shop": 0.7, "ad_board": 0.7, "banner": 0.6, "poster": 0.8}
_BUILT = ("shed", "rooftop_addition", "material_pile")  # appear on some day and stay (or are cleared)


@dataclass(frozen=True)
class PatrolSummary:
    """What ``write_patrol`` wrote."""

    out: Path
    passes: int
    frames: int
    violations: int
    seconds: float


def _presence(rng: np.random.Generator, scene: Scene, passes: int) -> dict[int, list[bool]]:
    """For each labelled object, whether it is there on each pass."""
    out: dict[int, list[bool]] = {}
    for obj in scene.labelled():
        name = CLASS_NAMES[obj.class_id or 0]
        if name in _DAILY:
            days = [bool(rng.random() < _DAILY[name]) for _ in range(passes)]
        elif name in _BUILT and passes > 1 and rng.random() < 0.5:
            day = int(rng.integers(1, passes))  # built on day ``day`` (or cleared then)
            built = rng.random() < 0.7
            days = [(k >= day) == built for k in range(passes)]
        else:
            days = [True] * passes
        out[obj.object_id] = days
    return out


def _pass_views(rng: np.random.Generator, layout: StreetLayout, fps: float) -> tuple[list[ViewSpec], float]:
    """Camera views of one drive along side A (right-hand traffic, camera turned to the kerb side)."""
    speed = float(rng.uniform(12, 30)) / 3.6
    lane = layout.sidewalk_a + float(rng.uniform(1.5, max(min(layout.road / 2 - 0.5, 4.0), 1.6)))
    height, turn = float(rng.uniform(1.6, 2.5)), float(rng.uniform(25, 70))
    pitch, hfov = float(rng.uniform(0, 8)), float(rng.uniform(60, 90))
    start, stop = -5.0, layout.length + 5.0
    count = max(int((stop - start) / speed * fps), 2)
    wobble = rng.normal(0, 0.02, count).cumsum()
    views = []
    for i in range(count):
        x = start + speed * i / fps
        yaw = -turn + float(np.clip(wobble[i] * 10, -3, 3))
        views.append(ViewSpec("patrol", (x, lane + float(wobble[i]), height), yaw, pitch, 0.0, hfov, "A"))
    return views, speed


def _violations(
    scene: Scene, geo: StreetGeo, presence: dict[int, list[bool]], seen: list[set[int]]
) -> list[dict[str, object]]:
    """Every labelled object boxed in at least one frame: where it is, and on which passes it was there / seen."""
    out = []
    for obj in scene.labelled():
        days = presence[obj.object_id]
        seen_on = [obj.object_id in ids for ids in seen]
        if not any(seen_on):
            continue
        x, y = float(obj.anchor[0]), float(obj.anchor[1])
        lat, lon = geo.to_latlon(x, y)
        out.append(
            {
                "object_id": obj.object_id,
                "class": CLASS_NAMES[obj.class_id or 0],
                "kind": obj.kind,
                "side": obj.side,
                "along_m": round(obj.position[0], 2),
                "from_facade_m": round(obj.position[1], 2),
                "x_m": round(x, 2),
                "y_m": round(y, 2),
                "lat": round(lat, 7),
                "lon": round(lon, 7),
                "present": days,
                "seen": seen_on,
            }
        )
    return out


@dataclass(frozen=True)
class _Pass:
    index: int
    seed: int
    start: datetime


def _write_pass(
    out: Path,
    drive: _Pass,
    scene: Scene,
    presence: dict[int, list[bool]],
    geo: StreetGeo,
    fps: float,
    size: tuple[int, int],
    progress: Callable[[int], None] | None,
    seen: set[int],
) -> dict[str, object]:
    rng = np.random.default_rng(drive.seed)
    conditions = sample_conditions(rng)
    views, speed = _pass_views(rng, scene.layout, fps)
    conditions = replace(conditions, motion_blur_px=float(rng.uniform(0.0, 1.0)) * speed)
    duration = len(views) / fps
    movers = street_movers(rng, scene, (-5.0, scene.layout.length + 5.0), duration)
    static = [o for o in scene.objects if presence.get(o.object_id, [True] * (drive.index + 1))[drive.index]]
    stem = f"pass_{drive.index + 1}"
    with Mp4Writer(out / f"{stem}.mp4", fps, size) as video, (out / f"{stem}_frames.jsonl").open("w") as lines:
        for frame, view in enumerate(views):
            t = frame / fps
            image, truth = render_frame(objects_at(static, movers, t), view.camera(size), conditions, rng, RULES)
            video.write(image)
            write_frame_truth(lines, frame, t, truth)
            if truth.track_id is not None:
                seen.update(truth.track_id.tolist())
            if progress is not None:
                progress(1)
    _write_track(out / f"{stem}.gpx", views, fps, geo, drive.start)
    return {
        "pass": drive.index + 1,
        "video": f"{stem}.mp4",
        "gpx": f"{stem}.gpx",
        "frames": f"{stem}_frames.jsonl",
        "start_time": drive.start.isoformat().replace("+00:00", "Z"),
        "fps": fps,
        "frame_count": len(views),
        "speed_mps": round(speed, 2),
        "weather": conditions.weather,
        "heading_deg": round(geo.heading(0.0), 2),
        "camera": {
            "height_m": round(views[0].position[2], 2),
            "pitch_deg": round(views[0].pitch_deg, 2),
            "yaw_deg": round(views[0].yaw_deg, 2),
            "hfov_deg": round(views[0].hfov_deg, 2),
            "note": "yaw relative to the street +x; negative looks right (towards side A)",
        },
    }


def _write_track(path: Path, views: list[ViewSpec], fps: float, geo: StreetGeo, start: datetime) -> None:
    """The drive's GPS track at 1 Hz, as a GPX file."""
    points = []
    for second in np.arange(0.0, len(views) / fps, 1.0):
        x, y, _ = views[min(int(second * fps), len(views) - 1)].position
        lat, lon = geo.to_latlon(x, y)
        points.append(TrackPoint(start + timedelta(seconds=float(second)), lat, lon))
    write_gpx(path, points, f"synthetic patrol {path.stem}")


def patrol_frame_count(seed: int, passes: int, fps: float) -> int:
    """How many frames ``write_patrol`` will render (for progress bars); cheap, renders nothing."""
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0, 3]))
    layout = StreetLayout.sample(rng)
    return passes * int((layout.length + 10.0) / (12 / 3.6) * fps)  # an upper bound: the slowest drive


def write_patrol(
    out: Path,
    seed: int,
    passes: int = 3,
    fps: float = 10.0,
    size: tuple[int, int] = (960, 540),
    progress: Callable[[int], None] | None = None,
) -> PatrolSummary:
    """Drive a patrol camera down one synthetic street ``passes`` times, on different days.

    Writes ``pass_K.mp4``, ``pass_K.gpx`` and ``pass_K_frames.jsonl`` (boxes per frame) for each pass and
    ``truth.json``: the street's map placement and every violation with its map position and the passes it
    was there on. Deterministic by seed (the MP4 bytes may depend on the encoder build).
    """
    if passes < 1:
        raise ValueError(f"passes must be at least 1, got {passes}")
    started = time.perf_counter()
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0, 3]))
    layout = StreetLayout.sample(rng)
    geo = StreetGeo.sample(rng)
    spans = {side: (-12.0, layout.length + 12.0) for side in ("A", "B")}
    scene = generate_scene(rng, layout, spans, passers=False)
    presence = _presence(rng, scene, passes)
    out.mkdir(parents=True, exist_ok=True)
    day = datetime(2024, 5, 6, 1, 0, tzinfo=UTC) + timedelta(days=int(rng.integers(0, 300)))
    infos: list[dict[str, object]] = []
    seen: list[set[int]] = []
    for index in range(passes):
        start = day + timedelta(seconds=int(rng.integers(0, 9 * 3600)))  # 09:00-18:00 Beijing time
        drive = _Pass(index, int(rng.integers(0, 2**62)), start)
        seen.append(set())
        infos.append(_write_pass(out, drive, scene, presence, geo, fps, size, progress, seen[-1]))
        day += timedelta(days=int(rng.integers(1, 8)))
    violations = _violations(scene, geo, presence, seen)
    truth = {
        "street": {
            "origin": {"lat": geo.lat, "lon": geo.lon},
            "bearing_deg": round(geo.bearing_deg, 3),
            "length_m": round(layout.length, 2),
            "sidewalk_a_m": round(layout.sidewalk_a, 2),
            "road_m": layout.road,
            "sidewalk_b_m": round(layout.sidewalk_b, 2),
            "note": "x along the street (bearing), y to its left; side A is the facade at y=0",
        },
        "passes": infos,
        "violations": violations,
    }
    (out / "truth.json").write_text(json.dumps(truth, indent=1, ensure_ascii=False) + "\n")
    frames = sum(int(str(info["frame_count"])) for info in infos)
    return PatrolSummary(out, passes, frames, len(violations), time.perf_counter() - started)
