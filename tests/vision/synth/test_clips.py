"""Patrol and fixed-camera clips: videos that decode, GPX that parses, truth that matches the frames."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import av
import numpy as np
import pytest

from vision.synth.fixed import write_fixed
from vision.synth.geo import StreetGeo
from vision.synth.motion import Mover, translated
from vision.synth.objects_scenery import person
from vision.synth.patrol import write_patrol

SIZE = (320, 180)
GPX = "{http://www.topografix.com/GPX/1/1}"


def _frames(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def test_street_metres_map_to_the_bearing() -> None:
    east = StreetGeo(30.0, 120.0, 90.0)
    lat, lon = east.to_latlon(100.0, 0.0)
    assert lat == pytest.approx(30.0) and lon > 120.0
    lat, lon = east.to_latlon(0.0, 100.0)  # +y is left of +x: north when the street runs east
    assert lat > 30.0 and lon == pytest.approx(120.0)
    assert east.heading(0.0) == pytest.approx(90.0)


def test_movers_move_stop_and_leave() -> None:
    walker = person(np.random.default_rng(0), np.array([0.0, 1.0, 0.0]))
    mover = Mover(walker, (1.0, 0.0), start=2.0, end=10.0, stop=(4.0, 6.0))
    assert mover.at(1.0) is None and mover.at(10.0) is None
    assert mover.at(2.0) is walker
    x_at = {t: float(mover.at(t).anchor[0]) for t in (3.0, 4.0, 5.0, 6.0, 7.0)}  # type: ignore[union-attr]
    assert x_at[3.0] == pytest.approx(1.0) and x_at[4.0] == x_at[5.0] == x_at[6.0] == pytest.approx(2.0)
    assert x_at[7.0] == pytest.approx(3.0)
    moved = translated(walker, np.array([0.0, 0.0, 5.0]))
    assert moved.object_id == walker.object_id
    assert moved.bounds()[0][2] == pytest.approx(walker.bounds()[0][2] + 5.0)


def test_patrol_writes_passes_tracks_and_truth(tmp_path: Path) -> None:
    summary = write_patrol(tmp_path, seed=4, passes=2, fps=1.0, size=SIZE)
    truth = json.loads((tmp_path / "truth.json").read_text())
    assert len(truth["passes"]) == 2 and summary.passes == 2
    for info in truth["passes"]:
        assert _frames(tmp_path / info["video"]) == info["frame_count"]
        lines = (tmp_path / info["frames"]).read_text().splitlines()
        assert len(lines) == info["frame_count"]
        points = ET.parse(tmp_path / info["gpx"]).getroot().findall(f".//{GPX}trkpt")
        assert len(points) >= 2
        assert all(p.find(f"{GPX}time") is not None for p in points)
    assert truth["violations"], "a patrol past a street of shops sees violations"
    seen_ids = set()
    for info in truth["passes"]:
        for line in (tmp_path / info["frames"]).read_text().splitlines():
            seen_ids.update(json.loads(line)["object_id"])
    for violation in truth["violations"]:
        assert violation["object_id"] in seen_ids
        assert len(violation["present"]) == len(violation["seen"]) == 2
        assert abs(violation["lat"] - truth["street"]["origin"]["lat"]) < 0.01


def test_fixed_clip_has_a_vendor_who_stays_and_one_who_stops_briefly(tmp_path: Path) -> None:
    summary = write_fixed(tmp_path, seed=2, minutes=1.0, fps=0.5, size=SIZE)
    truth = json.loads((tmp_path / "truth.json").read_text())
    assert _frames(tmp_path / "clip.mp4") == truth["frame_count"] == summary.frames == 30
    behaviours = {v["behaviour"]: v for v in truth["vendors"]}
    assert set(behaviours) == {"stays", "brief_stop"}
    assert behaviours["brief_stop"]["stationary_s"] < 60
    stays = behaviours["stays"]
    assert stays["class"] == "vendor_stall"
    assert stays["arrive_s"] < 0.3 * truth["duration_s"] + 1e-6
