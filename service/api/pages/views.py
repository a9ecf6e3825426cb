"""What the review pages show, built from rows: names from the taxonomy, evidence by kind, the little map."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from service.api.views import evidence_public
from service.db.models import Candidate, Evidence
from service.posting.payload import default_taxonomy
from service.review.access import claim_holder
from vision.geo import LocalFrame

# Evidence kinds in the order the item page shows them, with their captions.
EVIDENCE_KINDS: tuple[tuple[str, str, str], ...] = (
    ("frame", "标注画面", "Annotated frame"),
    ("crop", "目标特写", "Crop"),
    ("comparison", "参考 | 当前", "Reference | current"),
    ("source", "原始画面", "Clean frame"),
)
STATUS_NAMES = {
    "open": ("待审核", "open"),
    "confirmed": ("已确认", "confirmed"),
    "rejected": ("已驳回", "rejected"),
    "merged": ("已合并", "merged"),
    "closed": ("已结案", "closed"),
}
REJECT_REASONS_SHOWN: tuple[tuple[str, str, str, str], ...] = (
    # (reason, key, Chinese, English): the keys 1-4 on the item page
    ("false_detection", "1", "误检", "False detection"),
    ("permitted", "2", "合法/已许可", "Legal / permitted"),
    ("duplicate", "3", "重复", "Duplicate"),
    ("other", "4", "其他", "Other"),
)
MAP_SIZE_PX = 240
MAP_MARGIN_PX = 16


@dataclass(frozen=True)
class ClassLabel:
    """A detector class with its violation type and event code, named in Chinese and English."""

    name: str
    name_zh: str
    name_en: str
    violation_zh: str
    violation_en: str
    event_code: str
    event_zh: str
    event_en: str
    major_zh: str


def class_label(class_name: str, event_code: str = "") -> ClassLabel:
    """The names of ``class_name`` (and its event code) from the taxonomy; unknown classes show their raw name."""
    taxonomy = default_taxonomy()
    if class_name not in taxonomy:
        return ClassLabel(class_name, class_name, class_name, "", "", event_code, "", "", "")
    detector_class = taxonomy.get(class_name)
    event = taxonomy.event_codes.get(event_code) or detector_class.event
    return ClassLabel(
        name=class_name,
        name_zh=detector_class.name_zh,
        name_en=detector_class.name_en,
        violation_zh=detector_class.violation.name_zh,
        violation_en=detector_class.violation.name_en,
        event_code=event.code if event else event_code,
        event_zh=event.name_zh if event else "",
        event_en=event.name_en if event else "",
        major_zh=event.major.name_zh if event else "",
    )


def relabel_choices() -> list[ClassLabel]:
    """The classes a candidate can be relabelled to: those that can become a case."""
    return [class_label(item.name) for item in default_taxonomy().classes if item.event is not None]


@dataclass(frozen=True)
class EvidenceView:
    """One evidence picture: its kind, captions and the URL that serves it (``None``: not servable)."""

    kind: str
    caption_zh: str
    caption_en: str
    url: str | None
    taken_at: datetime


def evidence_views(evidence: Sequence[Evidence]) -> list[EvidenceView]:
    """Evidence in page order: by kind (frame, crop, comparison, source, others), newest first within a kind."""
    captions = {kind: (zh, en) for kind, zh, en in EVIDENCE_KINDS}
    rank = {kind: index for index, (kind, _, _) in enumerate(EVIDENCE_KINDS)}
    ordered = sorted(evidence, key=lambda item: (rank.get(item.kind, len(rank)), -item.taken_at.timestamp()))
    views = []
    for item in ordered:
        zh, en = captions.get(item.kind, (item.kind, item.kind))
        views.append(EvidenceView(item.kind, zh, en, evidence_public(item).url, item.taken_at))
    return views


def thumbnail(evidence: Sequence[Evidence]) -> str | None:
    """The URL of the picture the queue list shows: the newest crop, else the newest frame."""
    for kind in ("crop", "frame", "comparison", "source"):
        for view in evidence_views(evidence):
            if view.kind == kind and view.url:
                return view.url
    return None


@dataclass(frozen=True)
class Holder:
    """Who holds an item now: the user's name, until when, and whether it is the viewer."""

    name: str
    until: datetime
    mine: bool


def holder_of(candidate: Candidate, *, names: dict[int, str], viewer_id: int, now: datetime) -> Holder | None:
    """The live claim on ``candidate`` at ``now``, or ``None``."""
    user_id = claim_holder(candidate, now=now)
    if user_id is None or candidate.claim_expires_at is None:
        return None
    return Holder(names.get(user_id, f"user {user_id}"), candidate.claim_expires_at, user_id == viewer_id)


@dataclass(frozen=True)
class MapPoint:
    """A candidate on the little map: SVG coordinates, its id, status and a tooltip."""

    x: float
    y: float
    candidate_id: int
    status: str
    title: str
    current: bool


@dataclass(frozen=True)
class MapView:
    """An inline SVG plot of the candidate (centre) and its neighbours, north up, with a scale bar.

    Attributes:
        size: Width and height of the square plot, pixels.
        points: Neighbours first, the candidate itself last (drawn on top).
        radius_m: Metres from the centre to the plot's edge (less the margin).
        scale_m: Length of the scale bar, metres.
        scale_px: Length of the scale bar, pixels.
    """

    size: int
    points: tuple[MapPoint, ...]
    radius_m: float
    scale_m: int
    scale_px: float


def map_view(candidate: Candidate, neighbours: Sequence[Candidate], *, radius_m: float) -> MapView:
    """Project ``candidate`` and its ``neighbours`` to local metres and onto a square SVG."""
    frame = LocalFrame(candidate.lat, candidate.lon)
    half = MAP_SIZE_PX / 2 - MAP_MARGIN_PX
    pixels_per_m = half / radius_m
    points = []
    for item in (*neighbours, candidate):
        east, north = frame.to_local(item.lat, item.lon)
        label = class_label(item.class_name, item.event_code)
        status_zh, status_en = STATUS_NAMES.get(item.status, (item.status, item.status))
        points.append(
            MapPoint(
                x=round(MAP_SIZE_PX / 2 + max(-half, min(half, east * pixels_per_m)), 1),
                y=round(MAP_SIZE_PX / 2 - max(-half, min(half, north * pixels_per_m)), 1),
                candidate_id=item.id,
                status=item.status,
                title=f"#{item.id} {label.name_zh} {label.name_en} · {status_zh} {status_en} · "
                f"{math.hypot(east, north):.0f} m",
                current=item is candidate,
            )
        )
    scale_m = _nice_length(radius_m / 2)
    return MapView(MAP_SIZE_PX, tuple(points), radius_m, scale_m, round(scale_m * pixels_per_m, 1))


def _nice_length(metres: float) -> int:
    """The largest 1, 2 or 5 × 10^n metres not over ``metres`` (at least 1)."""
    best = 1
    for exponent in range(0, 6):
        for step in (1, 2, 5):
            if step * 10**exponent <= metres:
                best = step * 10**exponent
    return best


def osm_url(lat: float, lon: float) -> str:
    """An OpenStreetMap link centred on the point (a link only: the page loads nothing from it)."""
    return f"https://www.openstreetmap.org/?mlat={lat:.6f}&mlon={lon:.6f}#map=18/{lat:.6f}/{lon:.6f}"


NOTICES = ("confirm", "reject", "relabel", "merge", "undo", "release")


@dataclass(frozen=True)
class Notice:
    """What the previous action did, shown once at the top of the page its redirect leads to.

    Attributes:
        action: ``confirm``, ``reject``, ``relabel``, ``merge``, ``undo`` or ``release``.
        candidate_id: The item acted on.
        case_id: The case a confirmation made.
        into_id: The item a merge went into.
    """

    action: str
    candidate_id: int
    case_id: int | None = None
    into_id: int | None = None

    def params(self) -> dict[str, str | int]:
        """The notice as query parameters of the redirect."""
        params: dict[str, str | int] = {"done": self.action, "done_id": self.candidate_id}
        params.update({key: value for key, value in (("case_id", self.case_id), ("into_id", self.into_id)) if value})
        return params

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> Notice | None:
        """The notice in a page's query; anything malformed is ignored (it only decorates the page)."""
        action, done_id = params.get("done"), params.get("done_id", "")
        if action not in NOTICES or not done_id.isdigit() or len(done_id) > 12:
            return None
        case_id, into_id = (params.get(key, "") for key in ("case_id", "into_id"))
        return cls(
            action,
            int(done_id),
            case_id=int(case_id) if case_id.isdigit() and len(case_id) <= 12 else None,
            into_id=int(into_id) if into_id.isdigit() and len(into_id) <= 12 else None,
        )
