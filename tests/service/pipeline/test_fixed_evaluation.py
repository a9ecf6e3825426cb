"""Scoring a fixed-camera clip: which vendors count as staying, whatever the generator writes for them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from factories.media import make_video

from service.pipeline.evaluate import evaluate_fixed
from vision.detections import Detections
from vision.frame import Frame


class NothingDetector:
    """Finds nothing: only the truth file's vendors matter here."""

    def detect_frames(self, frames: Sequence[Frame]) -> list[Detections]:
        return [Detections.empty() for _ in frames]


def test_a_vendor_who_never_leaves_counts_as_staying(tmp_path: Path) -> None:
    # `xiuhua synth fixed` writes no stationary time (null) for a vendor still there at the clip's end.
    make_video(tmp_path / "clip.mp4", frames=8, fps=2)
    vendors = [
        {"object_id": 1, "class": "vendor_stall", "stationary_s": None},
        {"object_id": 2, "class": "vendor_stall", "stationary_s": 23.7},
    ]
    truth = {"camera": {"lat": 31.23, "lon": 121.47}, "video": "clip.mp4", "vendors": vendors}
    (tmp_path / "truth.json").write_text(json.dumps(truth))
    report = evaluate_fixed(tmp_path, lambda video: NothingDetector(), workdir=tmp_path / "work")
    assert report.staying == 1
    assert report.candidates == ()
