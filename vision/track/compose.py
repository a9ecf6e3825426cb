"""The tracker and the sighting builder composed over one source's frames."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from vision.detections import Detections
from vision.frame import Frame
from vision.sighting import Sighting
from vision.track.sightings import SightingBuilder
from vision.track.tracker import Tracker


def track_sightings(
    frames: Iterable[tuple[Frame, Detections]], tracker: Tracker, builder: SightingBuilder
) -> Iterator[Sighting]:
    """Tracks each frame's detections and yields sightings as their tracks end, then the rest when the frames end.

    Args:
        frames: One source's frames in time order, each with its detections.
        tracker: A fresh tracker for this source.
        builder: A fresh sighting builder for this source.

    Yields:
        Every sighting of the source, each once, ``ended=True``.
    """
    for frame, detections in frames:
        tracked = tracker.update(detections, frame)
        yield from builder.update(frame, tracked, tracker.first_detections)
    yield from builder.flush()
