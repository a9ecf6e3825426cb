"""GPS tracks of patrol vehicles: where the vehicle was, and which way it faced, at any moment of a drive.

    >>> track = GpsTrack.load("pass_1.gpx")
    >>> alignment = TrackAlignment(video_start, offset_s=0.0)
    >>> track.at(alignment.wall_time(frame.timestamp))  # GeoPoint with heading and accuracy, or None

Positions are interpolated linearly between fixes. Outside the track's time range, ``at`` extrapolates along the
end segment for at most ``TrackSettings.max_extrapolation_s`` seconds (a video often runs a little past the last
1 Hz fix) and returns None beyond that: a frame with no GPS is not placed rather than placed wrongly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path

import numpy as np

from vision.frame import GeoPoint
from vision.geo.errors import TrackError
from vision.geo.local import Array, LocalFrame
from vision.geo.track_io import FORMATS, GpsFix, NumberedFix, detect_format, read_csv, read_gpx, read_nmea

_LOOK_FIXES = 600  # how many fixes a heading search looks back or ahead (10 minutes at 1 Hz)


@dataclass(frozen=True)
class TrackSettings:
    """How a track is checked and read.

    Attributes:
        default_accuracy_m: One-sigma error of a fix whose file states none.
        drift_mps: How fast the uncertainty grows with the time to the nearest fix (gaps, extrapolation).
        heading_window_m: Heading is the direction between points this far apart along the drive, so GPS jitter
            does not swing it and a stopped vehicle keeps the heading it arrived with.
        stopped_speed_mps: Slower than this across the heading window, the vehicle counts as stopped and keeps the
            heading it arrived with.
        max_extrapolation_s: How far past the first or last fix ``at`` still answers.
        max_speed_mps: Consecutive fixes implying a faster speed are a broken or mixed-up file.
    """

    default_accuracy_m: float = 5.0
    drift_mps: float = 1.0
    heading_window_m: float = 10.0
    stopped_speed_mps: float = 0.5
    max_extrapolation_s: float = 2.0
    max_speed_mps: float = 70.0


@dataclass(frozen=True)
class TrackAlignment:
    """Maps a video frame's source timestamp to wall-clock (GPS) time.

    ``wall time = video_start + timestamp + offset_s``: use a positive ``offset_s`` when the camera's clock runs
    behind the GPS clock (the GPS says the drive started later than the video's start time claims).

    Attributes:
        video_start: Wall time of the video's first frame (timestamp 0), timezone-aware.
        offset_s: Correction added to every frame's time, in seconds.
    """

    video_start: datetime
    offset_s: float = 0.0

    def __post_init__(self) -> None:
        if self.video_start.tzinfo is None or self.video_start.utcoffset() is None:
            raise ValueError(f"video_start {self.video_start.isoformat()} has no timezone; give one (UTC if unsure)")
        if not math.isfinite(self.offset_s):
            raise ValueError(f"offset_s must be a finite number of seconds, got {self.offset_s}")

    def wall_time(self, timestamp: float) -> datetime:
        """Wall time of the frame ``timestamp`` seconds into the video."""
        return self.video_start + timedelta(seconds=float(timestamp) + self.offset_s)


@dataclass(frozen=True, eq=False)
class GpsTrack:
    """A time-ordered series of GPS fixes from one file.

    Build it with ``load`` (a file) or ``from_fixes``; both check the fixes (see ``from_fixes``).

    Attributes:
        fixes: The fixes, strictly increasing in time.
        source: The file (or name) they came from, for messages.
        settings: How positions, headings and accuracies are derived.
    """

    fixes: tuple[GpsFix, ...]
    source: str = "<track>"
    settings: TrackSettings = field(default_factory=TrackSettings)
    _times: Array = field(init=False, repr=False)
    _xy: Array = field(init=False, repr=False)
    _accuracy: Array = field(init=False, repr=False)
    _frame: LocalFrame = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if len(self.fixes) < 2:
            raise TrackError(self.source, f"a track needs at least two fixes, found {len(self.fixes)}")
        lats = np.array([f.lat for f in self.fixes])
        lons = np.array([f.lon for f in self.fixes])
        frame = LocalFrame(float(lats.mean()), float(lons[0]))
        object.__setattr__(self, "_frame", frame)
        object.__setattr__(self, "_times", np.array([f.time.timestamp() for f in self.fixes]))
        object.__setattr__(self, "_xy", frame.to_local_array(np.stack([lats, lons], axis=1)))
        accuracy = [f.accuracy_m if f.accuracy_m is not None else self.settings.default_accuracy_m for f in self.fixes]
        object.__setattr__(self, "_accuracy", np.array(accuracy, np.float64))

    @classmethod
    def load(
        cls,
        path: str | Path,
        *,
        format: str | None = None,
        settings: TrackSettings | None = None,
        naive_tz: tzinfo = UTC,
        nmea_date: date | None = None,
    ) -> GpsTrack:
        """Read a GPX, NMEA or CSV track file.

        Args:
            path: The file.
            format: ``"gpx"``, ``"nmea"`` or ``"csv"``; None tells them apart by content.
            settings: Checks and interpolation settings.
            naive_tz: Zone of CSV times written without one.
            nmea_date: Date of the first fix of an NMEA log with GGA sentences only (they carry no date).

        Raises:
            TrackError: The file is missing or unreadable, malformed (with its line), has fewer than two fixes,
                times out of order or positions off the planet or jumping faster than a vehicle drives.
        """
        path = Path(path)
        source = str(path)
        try:
            data = path.read_bytes()
        except OSError as error:
            raise TrackError(source, f"cannot read the file ({error.strerror or error})") from None
        if b"\x00" in data[:4096]:
            raise TrackError(source, "a binary file, not a GPX, NMEA or CSV track")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise TrackError(source, f"not UTF-8 text (byte {error.start})") from None
        kind = format or detect_format(text, path)
        if kind not in FORMATS:
            raise ValueError(f"format must be one of {FORMATS}, got {format!r}")
        if kind == "gpx":
            numbered = read_gpx(text, source)
        elif kind == "nmea":
            numbered = read_nmea(text, source, nmea_date)
        else:
            numbered = read_csv(text, source, naive_tz)
        return cls.from_fixes(numbered, source=source, settings=settings)

    @classmethod
    def from_fixes(
        cls,
        fixes: Sequence[GpsFix | NumberedFix],
        *,
        source: str = "<track>",
        settings: TrackSettings | None = None,
    ) -> GpsTrack:
        """Check fixes and build a track.

        A fix repeating the previous fix's time is dropped (loggers repeat fixes); a fix earlier than the one
        before it, a position outside [-90, 90] × [-180, 180], a naive time or a jump faster than
        ``max_speed_mps`` is an error naming the fix's line (or index).

        Raises:
            TrackError: As above, or fewer than two fixes.
        """
        settings = settings or TrackSettings()
        kept: list[tuple[int, NumberedFix]] = []
        for index, item in enumerate(fixes):
            numbered = item if isinstance(item, NumberedFix) else NumberedFix(item, None)
            _check_fix(numbered, index, source)
            if kept and not _later(kept[-1][1], numbered, index, source):
                continue
            kept.append((index, numbered))
        if not kept:
            raise TrackError(source, "no GPS fixes in the file")
        _check_jumps(kept, source, settings.max_speed_mps)
        return cls(tuple(numbered.fix for _, numbered in kept), source, settings)

    @property
    def start(self) -> datetime:
        """Time of the first fix."""
        return self.fixes[0].time

    @property
    def end(self) -> datetime:
        """Time of the last fix."""
        return self.fixes[-1].time

    def __len__(self) -> int:
        return len(self.fixes)

    def at(self, when: datetime) -> GeoPoint | None:
        """Where the vehicle was at ``when``, interpolated between fixes.

        Returns:
            Position with ``heading_deg`` (from the motion over ``heading_window_m``; the file's own course
            when the vehicle never moved that far; None without either) and ``accuracy_m`` (the fixes' accuracy
            plus ``drift_mps`` per second to the nearest fix). None more than ``max_extrapolation_s`` before the
            first or after the last fix.

        Raises:
            ValueError: ``when`` is naive.
        """
        if when.tzinfo is None or when.utcoffset() is None:
            raise ValueError(f"{when.isoformat()} has no timezone; track times are absolute")
        t = when.timestamp()
        times = self._times
        limit = self.settings.max_extrapolation_s
        if t < times[0] - limit or t > times[-1] + limit:
            return None
        i = int(np.clip(np.searchsorted(times, t, side="right") - 1, 0, len(times) - 2))
        span = times[i + 1] - times[i]
        share = (t - times[i]) / span
        position = self._xy[i] + share * (self._xy[i + 1] - self._xy[i])
        inside = min(max(share, 0.0), 1.0)
        accuracy = float(self._accuracy[i] * (1 - inside) + self._accuracy[i + 1] * inside)
        accuracy += self.settings.drift_mps * float(min(abs(t - times[i]), abs(t - times[i + 1])))
        lat, lon = self._frame.to_geo(float(position[0]), float(position[1]))
        last_before = int(np.searchsorted(times, t, side="right")) - 1  # -1 before the first fix
        heading = self._heading(position, last_before)
        if heading is None:
            heading = self._stated_heading(t)
        return GeoPoint(lat, lon, accuracy_m=accuracy, heading_deg=heading)

    def _heading(self, position: Array, last_before: int) -> float | None:
        """Direction of travel over ``heading_window_m`` around ``position``.

        From the last fix half a window behind to the first fix half a window ahead; when the vehicle took too
        long between the two to count as moving (it stopped, and GPS jitter is not motion), from the fix behind to
        the position: the heading it arrived with. ``last_before`` is the index of the last fix at or before the
        moment (-1 before the first fix).
        """
        half = self.settings.heading_window_m / 2.0
        behind = self._reach(position, range(last_before, max(last_before - _LOOK_FIXES, -1), -1), half)
        ahead = self._reach(position, range(last_before + 1, min(last_before + 1 + _LOOK_FIXES, len(self._xy))), half)
        if behind is not None and ahead is not None:
            travelled = float(np.linalg.norm(self._xy[ahead] - self._xy[behind]))
            if travelled < self.settings.stopped_speed_mps * (self._times[ahead] - self._times[behind]):
                ahead = None  # stopped in between: keep the heading it arrived with
        if behind is not None and ahead is not None:
            start, stop = self._xy[behind], self._xy[ahead]
        elif behind is not None:
            start, stop = self._xy[behind], position
        elif ahead is not None:
            start, stop = position, self._xy[ahead]
        else:
            return None
        east, north = stop - start
        return math.degrees(math.atan2(float(east), float(north))) % 360.0

    def _reach(self, position: Array, indices: range, distance: float) -> int | None:
        """The first fix in ``indices`` at least ``distance`` metres from ``position``."""
        for limit in (16, len(indices)):  # usually a few fixes away: look near first
            order = np.arange(indices.start, indices.start + indices.step * min(limit, len(indices)), indices.step)
            if order.size == 0:
                return None
            far = np.flatnonzero(np.linalg.norm(self._xy[order] - position, axis=1) >= distance)
            if far.size:
                return int(order[far[0]])
        return None

    def _stated_heading(self, t: float) -> float | None:
        """The course the file states at the fix nearest ``t``, if any."""
        nearest = int(np.argmin(np.abs(self._times - t)))
        return self.fixes[nearest].heading_deg


def _check_fix(numbered: NumberedFix, index: int, source: str) -> None:
    fix, line, where = numbered.fix, numbered.line, _where(numbered, index)
    if fix.time.tzinfo is None or fix.time.utcoffset() is None:
        raise TrackError(source, f"{where}time {fix.time.isoformat()} has no timezone", line)
    if not (math.isfinite(fix.lat) and math.isfinite(fix.lon)):
        raise TrackError(source, f"{where}position ({fix.lat}, {fix.lon}) is not a number", line)
    if not (-90.0 <= fix.lat <= 90.0 and -180.0 <= fix.lon <= 180.0):
        raise TrackError(
            source, f"{where}position ({fix.lat}, {fix.lon}) is off the planet: not a GPS track of this drive?", line
        )


def _where(numbered: NumberedFix, index: int) -> str:
    """Message prefix naming the fix when no line number will (fixes built in memory)."""
    return "" if numbered.line is not None else f"fix {index + 1}: "


def _later(previous: NumberedFix, current: NumberedFix, index: int, source: str) -> bool:
    """Whether ``current`` comes after ``previous`` (False: a repeat of its time, to drop); backwards is an error."""
    elapsed = (current.fix.time - previous.fix.time).total_seconds()
    if elapsed < 0:
        raise TrackError(
            source,
            f"{_where(current, index)}time {current.fix.time.isoformat()} is before the previous fix's "
            f"{previous.fix.time.isoformat()}: times must increase",
            current.line,
        )
    return elapsed > 0


def _check_jumps(kept: list[tuple[int, NumberedFix]], source: str, max_speed_mps: float) -> None:
    """Consecutive fixes further apart than a vehicle drives in the time between them: a broken or mixed file."""
    if len(kept) < 2:
        return
    latlon = np.array([[n.fix.lat, n.fix.lon] for _, n in kept])
    xy = LocalFrame(float(latlon[:, 0].mean()), float(latlon[0, 1])).to_local_array(latlon)
    jumps = np.linalg.norm(np.diff(xy, axis=0), axis=1)
    elapsed = np.diff([n.fix.time.timestamp() for _, n in kept])
    too_fast = np.flatnonzero(jumps > max_speed_mps * elapsed)
    if too_fast.size:
        step = int(too_fast[0])
        index, numbered = kept[step + 1]
        jump, seconds = float(jumps[step]), float(elapsed[step])
        raise TrackError(
            source,
            f"{_where(numbered, index)}jumps {jump:.0f} m in {seconds:g} s ({jump / seconds * 3.6:.0f} km/h) from "
            "the previous fix: not one vehicle's drive",
            numbered.line,
        )
