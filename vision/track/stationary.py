"""A fixed camera's sightings of one static object, split by broken tracks, merged back into one sighting.

A fixed camera watches one place. A stall hidden by a bus for a minute, or one the detector loses while its
confidence dips, comes back as a new track in the same image place; each piece alone is too short for the dwell
rule, so the stall that stayed five minutes would never become a candidate. Persistence is a property of the object,
not of one track: sightings of the same class (or of classes the detector confuses for one another) whose boxes
overlap strongly and that follow each other within ``max_gap_s`` are one object, seen from the first piece's first
frame to the last piece's last one. A piece that comes back after a longer gap (up to ``long_gap_s``) still joins
when the object would then have been seen for at least ``min_coverage`` of the time from its first to its last
sighting: a stall the detector loses for three minutes, but sees before and after at the same spot for longer than
that, stayed; two short visits far apart did not. Only for cameras that do not move: on patrol video the same
image place is a different place on the street a second later.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from vision.detections import box_iou
from vision.sighting import Sighting
from vision.track.quality import ViewWeights, view_quality
from vision.track.sightings import track_score


@dataclass(frozen=True)
class StationarySettings:
    """When two sightings of a fixed camera are the same static object.

    Attributes:
        max_gap_s: The longest time (source seconds) between one piece's last frame and the next piece's first
            frame that always makes them one object: how long a static object may be hidden or missed.
        long_gap_s: A longer gap, up to this, still makes them one object when the object, with the new piece, was
            seen (the union of its pieces' spans) for at least ``min_coverage`` of the time from its first to its
            last sighting. At most ``max(max_gap_s, long_gap_s)`` is how long a piece is held waiting for another.
            The default is the longest minimum dwell cities ask of a stall (5 minutes); ``0`` turns the rule off.
        min_coverage: See ``long_gap_s``. At 0.5 a gap is bridged only when it is no longer than the time the
            object was seen, so the merged dwell is at most twice the time it was actually seen.
        min_iou: Overlap of the two pieces' best boxes (IoU, in the camera's fixed pixels) from which they are the
            same object; a second object beside the first overlaps it far less.
        same_object: Groups of class names the detector confuses for one another (e.g. ``("vendor_stall",
            "goods_outside_shop")``); pieces whose classes share a group may merge, and the merged sighting takes the
            class with the most evidence (frames times score). Other classes merge only with their own class.
        containers: Classes whose object can carry smaller objects that come and go with it: a sighting inside
            such an object's box (``part_fraction`` of its area, by its best or typical box) and within its time
            span (give or take ``part_slack_s``) is part of it (an ad on a stall, or the shop's goods the stall
            hides, taken for another class) and is folded into it without adding frames, confidences or class
            evidence. A part of the container's own class (the detector's second box on the stall, around its lower
            half) must also appear with it, within ``part_slack_s``: a stall set up in front of another that was
            there before is an object of its own.
        part_fraction: The share of a sighting's box area inside the container's box that makes it a part.
        part_slack_s: How much earlier or later than the container a part may be seen.
        top_k: How many of the merged pieces' highest confidences the score averages (`SightingSettings.top_k`).
        full_score_frames: Below this many frames the score is damped (`SightingSettings.full_score_frames`).
        view: How the best frame among the pieces' best frames is chosen (`SightingSettings.view`).
    """

    max_gap_s: float = 120.0
    long_gap_s: float = 300.0
    min_coverage: float = 0.5
    min_iou: float = 0.5
    same_object: tuple[tuple[str, ...], ...] = ()
    containers: tuple[str, ...] = ("vendor_stall",)
    part_fraction: float = 0.8
    part_slack_s: float = 10.0
    top_k: int = 5
    full_score_frames: int = 3
    view: ViewWeights = field(default_factory=ViewWeights)

    def __post_init__(self) -> None:
        object.__setattr__(self, "same_object", tuple(tuple(group) for group in self.same_object))
        object.__setattr__(self, "containers", tuple(self.containers))
        if not 0.0 < self.part_fraction <= 1.0:
            raise ValueError(f"StationarySettings.part_fraction must be in (0, 1], got {self.part_fraction!r}")
        if not (math.isfinite(self.part_slack_s) and self.part_slack_s >= 0):
            raise ValueError(f"StationarySettings.part_slack_s must be >= 0, got {self.part_slack_s!r}")
        if not (math.isfinite(self.max_gap_s) and self.max_gap_s >= 0):
            raise ValueError(f"StationarySettings.max_gap_s must be a non-negative number, got {self.max_gap_s!r}")
        if not (math.isfinite(self.long_gap_s) and self.long_gap_s >= 0):
            raise ValueError(f"StationarySettings.long_gap_s must be a non-negative number, got {self.long_gap_s!r}")
        if not 0.0 <= self.min_coverage <= 1.0:
            raise ValueError(f"StationarySettings.min_coverage must be in [0, 1], got {self.min_coverage!r}")
        if not 0.0 < self.min_iou <= 1.0:
            raise ValueError(f"StationarySettings.min_iou must be in (0, 1], got {self.min_iou!r}")
        if self.top_k < 1 or self.full_score_frames < 1:
            raise ValueError("StationarySettings.top_k and full_score_frames must be at least 1")
        seen: set[str] = set()
        for group in self.same_object:
            if seen & set(group):
                raise ValueError(
                    f"StationarySettings.same_object: a class is in two groups ({sorted(seen & set(group))})"
                )
            seen |= set(group)

    @property
    def reach_s(self) -> float:
        """The longest gap after which a later piece may still join an object."""
        return max(self.max_gap_s, self.long_gap_s)

    def class_key(self, class_name: str) -> str:
        """The name under which a class merges: its ``same_object`` group's first class, else itself."""
        for group in self.same_object:
            if class_name in group:
                return group[0]
        return class_name


@dataclass
class _Object:
    """Pieces gathered as one object so far."""

    key: str
    last_time: float
    pieces: list[Sighting]


class StationaryMerger:
    """Merges a fixed camera's sightings of one static object across broken tracks (see the module docstring).

    Example::

        merger = StationaryMerger(StationarySettings(max_gap_s=120.0))
        for sighting in merger.merge(builder.flush()):
            ...  # one sighting per object: dwell from first to last seen, frames summed, scored over all
    """

    def __init__(self, settings: StationarySettings | None = None) -> None:
        """Prepares the merger."""
        self.settings = settings or StationarySettings()

    def merge(self, sightings: Sequence[Sighting]) -> list[Sighting]:
        """Merges the sightings that are one static object; the others come back unchanged.

        Pieces are taken in order of first time; each joins the object of its class (group) whose latest piece
        ended at most ``max_gap_s`` before it started (or at most ``long_gap_s``, when the object is then seen for
        at least ``min_coverage`` of its span) and one of whose pieces' boxes (best or typical) it overlaps by at
        least ``min_iou`` (the most overlapping, when several), else it starts an object of its own.

        Args:
            sightings: One source's sightings (from one `SightingBuilder`).

        Returns:
            One sighting per object, ordered by first time. A merged one keeps its first piece's track id (its
            key when recorded), spans first to last seen (times and `frame_span`), sums the frames, scores the
            pieces' best confidences together (`track_score`), takes the best view among the best frames of the
            pieces whose best box lies where the object usually stands (the longest piece's typical box, which it
            also keeps), and is ``ended`` only when every piece is.
        """
        merged = [self._combine(pieces) for pieces in group_stationary(sightings, self.settings)]
        return sorted(merged, key=lambda s: (s.first_time, s.track_id))

    def _combine(self, pieces: list[Sighting]) -> Sighting:
        settings = self.settings
        key = settings.class_key(pieces[0].class_name)
        # Pieces of other classes are its parts; a part of its own class is a twin track of it and counts as one.
        own = [piece for piece in pieces if settings.class_key(piece.class_name) == key]
        if len(own) == 1:
            return own[0]
        frames = _frames_seen(sorted(own, key=lambda p: (p.first_time, p.track_id)))
        top = heapq.nlargest(settings.top_k, (c for piece in own for c in _confidences(piece, settings.top_k)))
        # The class with the most evidence names the object; a tie goes to the earlier piece's class.
        evidence: dict[str, float] = {}
        for piece in own:
            evidence[piece.class_name] = evidence.get(piece.class_name, 0.0) + piece.frames_seen * piece.score
        named = next(piece for piece in own if piece.class_name == max(evidence, key=lambda c: evidence[c]))
        longest = max(own, key=lambda p: p.frames_seen)  # its typical box stands for the object's
        # The view is taken among the pieces whose best box shows the object where it usually stands: a twin
        # track's best frame may have caught a passer-by or a neighbour instead.
        typical = longest.typical_box
        views = [p for p in own if typical is None or _iou(p.best_box, typical) >= settings.min_iou] or own
        shown = max(views, key=lambda p: view_quality(p.best_frame.image, p.best_box, p.score, settings.view))
        first = own[0]
        return Sighting(
            source_id=first.source_id,
            track_id=first.track_id,
            class_id=named.class_id,
            class_name=named.class_name,
            first_time=min(piece.first_time for piece in own),
            last_time=max(piece.last_time for piece in own),
            frames_seen=frames,
            score=track_score(top, frames, settings.full_score_frames),
            best_frame=shown.best_frame,
            best_box=shown.best_box.copy(),
            ended=all(piece.ended for piece in pieces),
            top_confidences=tuple(top),
            typical_box=None if longest.typical_box is None else longest.typical_box.copy(),
            frame_span=_frame_span(own),
        )


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float(box_iou(a[None, :], b[None, :])[0, 0])


def _frame_span(pieces: Sequence[Sighting]) -> tuple[int, int] | None:
    known = [piece.frame_span for piece in pieces if piece.frame_span is not None]
    if len(known) < len(pieces):
        return None  # a piece built elsewhere: how many frames the whole was tracked over is not known
    return min(first for first, _ in known), max(last for _, last in known)


def _frames_seen(pieces: list[Sighting]) -> int:
    # Pieces in order of first time. One that overlaps the time already covered is a twin track of the object
    # (two tracks on it at once): only its frames after that time count, pro rata, so frames are not counted twice.
    covered = pieces[0].last_time
    frames = pieces[0].frames_seen
    for piece in pieces[1:]:
        span = piece.last_time - piece.first_time
        if piece.first_time > covered:
            frames += piece.frames_seen
        elif span > 0 and piece.last_time > covered:
            frames += round(piece.frames_seen * (piece.last_time - covered) / span)
        covered = max(covered, piece.last_time)
    return max(frames, 1)


def _confidences(piece: Sighting, top_k: int) -> Sequence[float]:
    # A sighting built elsewhere carries no confidences: its score stands for its best frames.
    if piece.top_confidences:
        return piece.top_confidences
    return [piece.score] * min(piece.frames_seen, top_k)


def group_stationary(sightings: Sequence[Sighting], settings: StationarySettings) -> list[list[Sighting]]:
    """The pieces `StationaryMerger.merge` would merge, one list per object, each in order of first time.

    For a caller that holds ended sightings back while a later piece may still join them (a source being tracked).
    """
    objects: list[_Object] = []
    for sighting in sorted(sightings, key=lambda s: (s.first_time, s.track_id)):
        target = _object_for(sighting, objects, settings)
        if target is None:
            objects.append(_Object(settings.class_key(sighting.class_name), sighting.last_time, [sighting]))
        else:
            target.pieces.append(sighting)
            target.last_time = max(target.last_time, sighting.last_time)
    return _fold_parts(objects, settings)


def _fold_parts(objects: list[_Object], settings: StationarySettings) -> list[list[Sighting]]:
    # A container object's own pieces come first (the first names the object), its parts after them.
    containers = [found for found in objects if found.key in {settings.class_key(c) for c in settings.containers}]
    grouped = {id(found): list(found.pieces) for found in objects}
    for found in objects:
        container = next((c for c in containers if c is not found and _is_part(found, c, settings)), None)
        if container is not None and id(container) in grouped and id(found) in grouped:
            grouped[id(container)].extend(grouped.pop(id(found)))
    return [grouped[id(found)] for found in objects if id(found) in grouped]


def _is_part(found: _Object, container: _Object, settings: StationarySettings) -> bool:
    if id(found) == id(container):
        return False
    container_first = min(piece.first_time for piece in container.pieces)
    found_first = min(piece.first_time for piece in found.pieces)
    if found_first < container_first - settings.part_slack_s:
        return False
    if found.key == container.key and found_first > container_first + settings.part_slack_s:
        return False  # the same class must come with it: a twin box, not a second object set up later
    if found.last_time > container.last_time + settings.part_slack_s:
        return False
    boxes = np.concatenate([piece.place_boxes for piece in container.pieces])
    return all(
        max(_inside(box, boxes) for box in piece.place_boxes) >= settings.part_fraction for piece in found.pieces
    )


def _inside(box: np.ndarray, containers: np.ndarray) -> float:
    """The largest share of ``box``'s area that lies inside one of the ``containers`` boxes."""
    top_left = np.maximum(box[:2], containers[:, :2])
    bottom_right = np.minimum(box[2:], containers[:, 2:])
    inter = np.clip(bottom_right - top_left, 0, None).prod(axis=1)
    area = float(np.prod(np.clip(box[2:] - box[:2], 0, None)))
    return float(inter.max()) / area if area > 0 else 0.0


def _object_for(sighting: Sighting, objects: list[_Object], settings: StationarySettings) -> _Object | None:
    key = settings.class_key(sighting.class_name)
    best: _Object | None = None
    best_iou = settings.min_iou
    for candidate in objects:
        if candidate.key != key or not _within_reach(candidate, sighting, settings):
            continue
        boxes = np.concatenate([piece.place_boxes for piece in candidate.pieces])
        overlap = float(box_iou(sighting.place_boxes, boxes).max())
        if overlap >= best_iou:
            best, best_iou = candidate, overlap
    return best


def _within_reach(found: _Object, sighting: Sighting, settings: StationarySettings) -> bool:
    gap = sighting.first_time - found.last_time
    if gap <= settings.max_gap_s:
        return True
    if gap > settings.long_gap_s:
        return False
    return _coverage([*found.pieces, sighting]) >= settings.min_coverage


def _coverage(pieces: Sequence[Sighting]) -> float:
    """The share of the time from the first piece's first frame to the last one's last frame that some piece spans."""
    spans = sorted((piece.first_time, piece.last_time) for piece in pieces)
    total = max(last for _, last in spans) - spans[0][0]
    if total <= 0:
        return 1.0
    seen, start, end = 0.0, spans[0][0], spans[0][1]
    for first, last in spans[1:]:
        if first > end:
            seen, start = seen + end - start, first
        end = max(end, last)
    return (seen + end - start) / total
