"""How often a video has a keyframe, read from its first packets (nothing is decoded).

A fixed camera's stall has to stay for minutes to count, so its video does not need 2 frames a second: its keyframes
(one every 1-4 s in camera recordings) are enough, and decoding keyframes only is 5-20 times cheaper than decoding
every frame to pick 2 a second. Cameras with long GOPs ("smart codecs" writing a keyframe every 10 s or more) would
leave the tracker too few frames; for them, and for intra-only video (every frame a keyframe), the scan keeps 2 fps.
"""

from __future__ import annotations

import itertools
import statistics
from pathlib import Path

import av
import av.error

# Keyframes at most this far apart are dense enough for a fixed camera (the track buffer is 30 s, the gate forces a
# look every 5 s); at least this far apart, decoding only them saves most of the decoding.
MAX_KEYFRAME_GAP_S = 4.0
MIN_KEYFRAME_GAP_S = 0.5


def keyframe_interval(path: Path, *, within_s: float = 20.0, keyframes: int = 4) -> float | None:
    """Median seconds between the first ``keyframes`` keyframes, from packet flags only.

    Args:
        path: The video file.
        within_s: Read packets up to this far into the video.
        keyframes: Stop after this many keyframes.

    Returns:
        The interval, or ``None`` when fewer than two keyframes start within ``within_s`` or the file cannot be read.
    """
    times: list[float] = []
    try:
        with av.open(str(path), metadata_errors="replace") as container:
            if not container.streams.video:
                return None
            stream = container.streams.video[0]
            if stream.time_base is None:
                return None
            start = stream.start_time or 0
            for packet in container.demux(stream):
                if packet.pts is None:
                    continue
                seconds = float((packet.pts - start) * stream.time_base)
                if seconds > within_s:
                    break
                if packet.is_keyframe:
                    times.append(seconds)
                    if len(times) >= keyframes:
                        break
    except (av.error.FFmpegError, OSError):
        return None
    if len(times) < 2:
        return None
    times.sort()
    return statistics.median(b - a for a, b in itertools.pairwise(times))


def keyframes_suffice(interval: float | None) -> bool:
    """Whether keyframes this far apart are a good sampling for a fixed camera (see the module docstring)."""
    return interval is not None and MIN_KEYFRAME_GAP_S <= interval <= MAX_KEYFRAME_GAP_S
