"""Deciding, before any frame is decoded, how each source is scanned: camera kind, sampling, start time, location.

Planning reads headers only (the container's metadata, the sidecar track, a photo's EXIF), so a scan knows its
total video length for the progress bar and reports bad tracks and unreadable files before the detector starts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from PIL import Image

from service.pipeline.record import utc_from_timestamp
from service.scan.inputs import Media, SourceFile
from service.scan.options import ScanOptions, tracker_fps
from service.scan.probe import keyframe_interval, keyframes_suffice
from vision.errors import VisionError
from vision.geo import GpsTrack
from vision.sources import Sampling, VideoSource, read_exif

# How the start (wall time of second 0) of a source was found; the report says which.
START_CONTAINER = "container creation_time"
START_TRACK = "GPS track start"
START_OPTION = "--start"
START_MTIME = "file modification time minus duration"
START_EXIF = "photo EXIF time"
START_PHOTO_MTIME = "file modification time"


@dataclass(frozen=True)
class CameraInfo:
    """A registered camera as a scan needs it (plain values: it travels to worker processes and Ray tasks).

    Attributes:
        key: The department's key (``cam-012``).
        name: A human name for captions.
        kind: ``fixed``, ``ptz`` or ``patrol``.
        lat: Latitude of a fixed or PTZ camera.
        lon: Longitude.
        calibration: Ground-plane calibration (``GroundCalibration.to_dict`` form), if calibrated.
        settings: Per-camera options: ``patrol`` (the mount, `PatrolSettings` fields), ``gate`` (`GateSettings`
            fields).
        reference_path: The current reference image (absolute path), if one was captured.
        reference_taken_at: When that reference was taken.
    """

    key: str
    name: str
    kind: str
    lat: float | None = None
    lon: float | None = None
    calibration: dict[str, Any] | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    reference_path: str | None = None
    reference_taken_at: datetime | None = None


@dataclass(frozen=True)
class SourcePlan:
    """How one source is scanned.

    Attributes:
        path: The file (absolute), also the source id its sightings are stored under.
        media: ``video`` or ``image``.
        kind: Camera kind the source is tracked and judged as; ``None`` for a photo (one picture cannot show how
            long something stayed: it is judged like an external detection, without a persistence rule).
        sampling: Which frames of a video are decoded and handed on. Fixed and PTZ cameras get their keyframes
            when those are 0.5-4 s apart (`service.scan.probe`), else the kind's rate, unless the options say.
        start: Wall time of the source's second 0 (aware).
        start_origin: Where ``start`` came from (``START_*``).
        duration_s: Video length from the header, if known (0 for a photo).
        track: The GPS track that places a patrol video's sightings.
        gate: Whether the motion gate skips unchanged frames.
        location: How sightings are placed, in words (``GPS track``, ``calibration``, ``camera position``, ...).
        camera: The registered camera, if the scan names one.
        keyframe_gap_s: Seconds between the video's keyframes, when probed (fixed and PTZ cameras).
        warnings: Things the user should know (no location: no candidates).
        problem: Why the source cannot be scanned at all (unreadable header, broken track), if so.
    """

    path: str
    media: Media
    kind: str | None
    sampling: Sampling
    start: datetime
    start_origin: str
    duration_s: float | None = None
    track: str | None = None
    gate: bool = False
    location: str = "none"
    camera: CameraInfo | None = None
    keyframe_gap_s: float | None = None
    warnings: tuple[str, ...] = ()
    problem: str | None = None

    @property
    def camera_key(self) -> str | None:
        """The registered camera's key, if any."""
        return self.camera.key if self.camera is not None else None

    @property
    def tracker_fps(self) -> float:
        """The nominal rate of the frames the tracker gets."""
        if self.sampling.mode == "keyframes" and self.keyframe_gap_s:
            return 1.0 / self.keyframe_gap_s
        return tracker_fps(self.sampling)

    def describe_sampling(self) -> str:
        """The sampling in words, with the keyframe spacing when known (``keyframes (every 2.0 s)``)."""
        gap = (
            f" (every {self.keyframe_gap_s:.1f} s)" if self.keyframe_gap_s and self.sampling.mode == "keyframes" else ""
        )
        return f"{self.sampling}{gap}{' + gate' if self.gate else ''}"


def plan_source(
    source: SourceFile, options: ScanOptions, camera: CameraInfo | None, *, photo_tz: tzinfo | None = None
) -> SourcePlan:
    """Plans one source; a source that cannot be planned gets a plan with ``problem`` set (never raises for it).

    Args:
        source: The file and its sidecar track.
        options: The scan's options.
        camera: The camera named by ``--camera``, if any.
        photo_tz: Zone of EXIF times written without an offset (the city's).
    """
    if source.media == "image":
        return _plan_photo(source, options, camera, photo_tz)
    kind = options.kind or (camera.kind if camera is not None else None) or ("patrol" if source.track else "fixed")
    sampling = options.sampling_for(kind)
    gap = None
    if kind in ("fixed", "ptz") and options.sample is None and not options.skim:
        gap = keyframe_interval(source.path)
        if keyframes_suffice(gap):
            sampling = Sampling.keyframes()
    base = SourcePlan(str(source.path), "video", kind, sampling, _mtime(source.path), START_MTIME, camera=camera)
    try:
        info = VideoSource(source.path, sampling=sampling).describe()
        track = GpsTrack.load(source.track) if source.track is not None and kind == "patrol" else None
    except VisionError as error:
        return _with(base, problem=str(error))
    start, origin = _video_start(source.path, info.creation_time, track, options.start, info.duration)
    location, warnings = _video_location(kind, camera, track)
    return _with(
        base,
        start=start,
        start_origin=origin,
        duration_s=info.duration,
        track=str(source.track) if track is not None else None,
        gate=options.gate and kind in ("fixed", "ptz"),
        location=location,
        keyframe_gap_s=gap,
        warnings=warnings,
    )


def _with(plan: SourcePlan, **changes: Any) -> SourcePlan:
    return replace(plan, **changes)


def _video_start(
    path: Path,
    creation_time: datetime | None,
    track: GpsTrack | None,
    start: datetime | None,
    duration: float | None,
) -> tuple[datetime, str]:
    """Second 0 of a video: the container's clock, else the GPS track's first fix, else --start, else the file's
    modification time (when recording ended) minus the video's length."""
    if creation_time is not None:
        return creation_time, START_CONTAINER
    if track is not None:
        return track.start, START_TRACK
    if start is not None:
        return start, START_OPTION
    length = duration if duration is not None and math.isfinite(duration) else 0.0
    return _mtime(path) - timedelta(seconds=length), START_MTIME


def _video_location(kind: str, camera: CameraInfo | None, track: GpsTrack | None) -> tuple[str, tuple[str, ...]]:
    if kind == "patrol":
        if track is not None:
            return "GPS track", ()
        return "none", ("patrol video without a GPS track next to it (clip.gpx, clip.nmea, clip.csv): not located",)
    if camera is not None and camera.calibration:
        return "calibration", ()
    if camera is not None and camera.lat is not None and camera.lon is not None:
        return "camera position", ()
    return "none", ("no camera position (register the camera and pass --camera): sightings are not located",)


def _plan_photo(
    source: SourceFile, options: ScanOptions, camera: CameraInfo | None, photo_tz: tzinfo | None
) -> SourcePlan:
    base = SourcePlan(str(source.path), "image", None, Sampling.every_frame(), _mtime(source.path), START_PHOTO_MTIME)
    try:
        with Image.open(source.path) as image:
            exif = read_exif(image, photo_tz)
    except (OSError, ValueError, SyntaxError) as error:
        return _with(base, camera=camera, problem=f"{source.path}: not a readable image ({error})")
    start, origin = base.start, START_PHOTO_MTIME
    if exif.wall_time is not None and exif.wall_time.tzinfo is not None:
        start, origin = exif.wall_time, START_EXIF
    elif options.start is not None:
        start, origin = options.start, START_OPTION
    warnings: tuple[str, ...] = ()
    if exif.gps is not None:
        location = "photo GPS (EXIF)"
    elif camera is not None and camera.calibration:
        location = "calibration"
    elif camera is not None and camera.lat is not None and camera.lon is not None:
        location = "camera position"
    else:
        location, warnings = "none", ("photo without GPS in its EXIF and no --camera: not located",)
    return _with(
        base, start=start, start_origin=origin, duration_s=0.0, location=location, camera=camera, warnings=warnings
    )


def _mtime(path: Path) -> datetime:
    try:
        return utc_from_timestamp(path.stat().st_mtime)
    except OSError:
        return utc_from_timestamp(0.0)
