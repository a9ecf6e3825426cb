"""What a scan is asked to do, and the key that makes the same command the same (resumable) job."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from vision.sources import Sampling

CAMERA_KINDS = ("fixed", "ptz", "patrol")
DETECTORS = ("model", "truth")
# Patrol tracking needs 4-5 sampled frames per second (a roadside object sweeps through the view in a few seconds;
# see TrackerSettings.patrol); fixed and PTZ cameras watch for minutes and 2 fps is plenty (their keyframes, when
# those are close enough, are taken instead: see service.scan.probe).
DEFAULT_FPS = {"patrol": 5.0, "fixed": 2.0, "ptz": 2.0}
# Nominal rate given to the tracker for keyframe-only sampling (cameras write a keyframe every 1-2 s).
KEYFRAME_FPS = 1.0


@dataclass(frozen=True)
class ScanOptions:
    """The options of one scan that decide its results (the rest, like worker counts, only its speed).

    Attributes:
        camera: Key of a registered camera every input belongs to (its kind, position, calibration, reference).
        kind: ``fixed``, ``ptz`` or ``patrol``, overriding the camera's kind and what a sidecar GPS track implies.
        sample: Sampling for every video (``2fps``, ``all``, ``keyframes``), overriding the per-kind default.
        skim: Keyframes only: the fastest pass (non-key frames are not even decoded).
        start: Start time for videos whose container has no ``creation_time`` and that have no GPS track.
        gps_offset_s: Seconds added to video time to look up the GPS track (camera clock behind GPS: positive).
        gate: Skip unchanged frames of fixed and PTZ cameras (the motion gate).
        model: Model file or folder; ``None`` for the shipped model.
        runtime: Force a runtime (``openvino``, ``onnxruntime``, ``ultralytics``); ``None`` picks the fastest.
        conf: Operating confidence (tracks start at it, detections down to 0.4 of it continue them; see
            ``service.pipeline.source``); ``None`` for the model card's.
        detector: ``model``, or ``truth`` (the ground truth written next to synthetic clips; for tests).
        rules: Rules folder or ``rules.yaml``; ``None`` for the default rules.
        rect: Letterbox frames into a smaller input than the square one when the model takes any size (512x320
            for 16:9 at 512; the shipped OpenVINO model does): about a third less inference. Detections differ a
            little: mAP50 0.1861 against 0.1877 square on held-out synthetic street scenes, 0.2135 against 0.2145
            on the facade val photos (xiuhua-n stage 3). ``False``: the square input of ``xiuhua detect``.
    """

    camera: str | None = None
    kind: str | None = None
    sample: str | None = None
    skim: bool = False
    start: datetime | None = None
    gps_offset_s: float = 0.0
    gate: bool = True
    model: str | None = None
    runtime: str | None = None
    conf: float | None = None
    detector: str = "model"
    rules: str | None = None
    rect: bool = True

    def __post_init__(self) -> None:
        if self.kind is not None and self.kind not in CAMERA_KINDS:
            raise ValueError(f"kind must be one of {', '.join(CAMERA_KINDS)}, got {self.kind!r}")
        if self.detector not in DETECTORS:
            raise ValueError(f"detector must be one of {', '.join(DETECTORS)}, got {self.detector!r}")
        if self.sample is not None:
            Sampling.parse(self.sample)  # raises ValueError naming the spelling
        if self.start is not None and self.start.tzinfo is None:
            raise ValueError(f"start {self.start.isoformat()} has no time zone; add Z or an offset such as +08:00")
        if not math.isfinite(self.gps_offset_s):
            raise ValueError(f"gps offset must be a finite number of seconds, got {self.gps_offset_s}")
        if self.conf is not None and not 0.0 <= self.conf <= 1.0:
            raise ValueError(f"conf must be in [0, 1], got {self.conf}")

    def sampling_for(self, kind: str | None) -> Sampling:
        """The sampling of a video from a camera of ``kind``: ``--skim``, else ``--sample``, else the kind's rate."""
        if self.skim:
            return Sampling.keyframes()
        if self.sample is not None:
            return Sampling.parse(self.sample)
        return Sampling.per_second(DEFAULT_FPS.get(kind or "fixed", 2.0))

    def as_json(self) -> dict[str, Any]:
        """The options as JSON values (times as ISO-8601)."""
        values = asdict(self)
        values["start"] = self.start.isoformat() if self.start is not None else None
        return values


def tracker_fps(sampling: Sampling) -> float:
    """The nominal rate of the frames a sampling hands to the tracker."""
    return sampling.fps if sampling.mode == "fps" else KEYFRAME_FPS if sampling.mode == "keyframes" else 25.0


def job_key(inputs: Sequence[str], options: ScanOptions) -> str:
    """SHA-256 of the inputs (absolute paths, sorted) and the options: the same command gives the same job.

    Paths are resolved so ``./clips`` and ``/data/clips`` name one job. Speed settings (workers, batch, threads,
    backend) are not part of it: a scan resumed with more workers is the same scan.
    """
    resolved = sorted({str(Path(path).expanduser().resolve()) for path in inputs})
    text = json.dumps({"inputs": resolved, "options": options.as_json()}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
