"""The JSON a city platform receives: one case (``xiuhua.case/1``) or one stage event (``xiuhua.case-event/1``).

Two steps. At confirmation :func:`case_payload` takes a snapshot of the case from the database (what the reviewer
confirmed, whatever happens to the rows later) and the outbox stores it. When the sender posts it,
:func:`render_payload` applies the deployment's settings: coordinates in the platform's datum and photos as URLs or
inline base64. Retries of one message therefore send the same content under the same ``Idempotency-Key``.

A case, as posted (flat snake_case fields, the names city platforms commonly use; ``null`` when unknown)::

    {
      "format": "xiuhua.case/1",
      "external_id": "xiuhua-case-12-20260501123000123456",  # our stable id = the Idempotency-Key header
      "case_id": 12,                                          # our database id
      "event_source": "41", "event_source_name": "智能分析", "event_source_name_en": "intelligent analysis",
      "major_type_code": "05", "major_type_name": "街面秩序", "major_type_name_en": "Street order",
      "minor_type_code": "0501", "minor_type_name": "无照经营游商", "minor_type_name_en": "Unlicensed mobile vendor",
      "violation_type": "street_occupation", "violation_type_name": "违法占道",
      "object_class": "vendor_stall", "object_name": "流动摊贩",
      "description": "…", "address": "…", "district": "…", "street": "…", "community": null, "grid": "…",
      "longitude": 121.4737, "latitude": 31.2304, "coordinate_system": "WGS-84",   # or GCJ-02 / CGCS2000
      "accuracy_m": 8.0,
      "found_at": "2026-05-01T12:00:00+00:00", "last_seen_at": "…", "sightings_count": 3,
      "confirmed_at": "…", "stage": "accepted", "stage_name": "受理",
      "photos": [
        {"kind": "frame", "sha256": "…", "taken_at": "…", "url": "https://…/evidence/12/frame.jpg"},
        {"kind": "crop", "sha256": "…", "taken_at": "…", "media_type": "image/jpeg", "data_base64": "…"}
      ]
    }

Photos carry ``url`` (``photo_mode=url``: ``public_base_url`` + the evidence file's relative path; left out when no
base URL is set) or ``media_type`` + ``data_base64`` (``photo_mode=inline``); ``sha256`` is of the file's bytes
either way, so the platform can check what it downloaded. With ``blur_faces`` on, both point to the copy with faces
blurred (:mod:`service.posting.photos`) and ``sha256`` is of the copy's bytes. Times are ISO 8601 with offset, UTC.

A stage event (sent to MQTT subscribers, or to an HTTP URL that wants them)::

    {"format": "xiuhua.case-event/1", "external_id": "xiuhua-case-12-…-e7", "case_external_id": "xiuhua-case-12-…",
     "case_id": 12, "event_id": 7, "stage": "dispatched", "stage_name": "派遣", "at": "…",
     "platform_case_id": "…", "details": {…}}
"""

from __future__ import annotations

import base64
import copy
import mimetypes
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any
from urllib.parse import quote

from service.db.models.cases import STAGE_NAMES_ZH, Case, CaseEvent
from service.db.models.violations import Candidate, Evidence
from service.posting.errors import PayloadError
from service.posting.geo import wgs84_to_gcj02
from service.posting.photos import blurred_photo, face_blurrer, public_copy, read_evidence
from service.posting.settings import PostingSettings
from vision.evidence import FaceBlurrer
from vision.taxonomy import Taxonomy, load_taxonomy

CASE_FORMAT = "xiuhua.case/1"
EVENT_FORMAT = "xiuhua.case-event/1"
EVENT_SOURCE_CODE = "41"
EVENT_SOURCE_NAME_ZH = "智能分析"
EVENT_SOURCE_NAME_EN = "intelligent analysis"
CRS_LABELS = {"wgs84": "WGS-84", "gcj02": "GCJ-02", "cgcs2000": "CGCS2000"}


@cache
def default_taxonomy() -> Taxonomy:
    """The repository's taxonomy, read once per process."""
    return load_taxonomy()


def case_key(case: Case) -> str:
    """The stable external id of ``case``: its id plus its creation time, so a rebuilt database never reuses one.

    Raises:
        PayloadError: The case has not been flushed yet (no id or creation time).
    """
    if case.id is None or case.created_at is None:
        raise PayloadError("case: flush the case before posting it (it has no id or created_at yet)")
    created = case.created_at.astimezone(UTC)  # the same key whatever zone the time was given in
    return f"xiuhua-case-{case.id}-{created:%Y%m%d%H%M%S%f}"


def case_payload(
    *, case: Case, candidate: Candidate, evidence: Sequence[Evidence], taxonomy: Taxonomy | None = None
) -> dict[str, Any]:
    """The snapshot of ``case`` stored in the outbox (photos by relative path, coordinates WGS-84).

    Args:
        case: The flushed case.
        candidate: Its candidate (times, class, accuracy).
        evidence: The candidate's evidence files, in the order the platform should show them.
        taxonomy: Codes and names; the repository's taxonomy by default.

    Raises:
        PayloadError: The case's event code or violation type is not in the taxonomy.
    """
    taxonomy = taxonomy or default_taxonomy()
    event = taxonomy.event_codes.get(case.event_code)
    if event is None:
        raise PayloadError(f"case {case.id}: event_code {case.event_code!r} is not in {taxonomy.path}")
    violation = taxonomy.violation_types.get(case.violation_type)
    if violation is None:
        raise PayloadError(f"case {case.id}: violation_type {case.violation_type!r} is not in {taxonomy.path}")
    object_name = taxonomy.get(candidate.class_name).name_zh if candidate.class_name in taxonomy else None
    description = case.description or f"{EVENT_SOURCE_NAME_ZH}发现{event.name_zh}（{object_name or event.name_zh}）"
    return {
        "format": CASE_FORMAT,
        "external_id": case_key(case),
        "case_id": case.id,
        "event_source": EVENT_SOURCE_CODE,
        "event_source_name": EVENT_SOURCE_NAME_ZH,
        "event_source_name_en": EVENT_SOURCE_NAME_EN,
        "major_type_code": event.major.code,
        "major_type_name": event.major.name_zh,
        "major_type_name_en": event.major.name_en,
        "minor_type_code": event.code,
        "minor_type_name": event.name_zh,
        "minor_type_name_en": event.name_en,
        "violation_type": violation.key,
        "violation_type_name": violation.name_zh,
        "object_class": candidate.class_name,
        "object_name": object_name,
        "description": description,
        "address": case.address,
        "district": case.district,
        "street": case.street,
        "community": None,
        "grid": case.grid,
        "longitude": case.lon,
        "latitude": case.lat,
        "coordinate_system": CRS_LABELS["wgs84"],
        "accuracy_m": candidate.accuracy_m,
        "found_at": _iso(candidate.first_seen),
        "last_seen_at": _iso(candidate.last_seen),
        "sightings_count": candidate.sightings_count,
        "confirmed_at": _iso(case.created_at),
        "stage": case.stage,
        "stage_name": STAGE_NAMES_ZH.get(case.stage),
        "photos": [_photo(item) for item in evidence],
    }


def case_event_payload(*, event: CaseEvent, case: Case) -> dict[str, Any]:
    """The snapshot of one stage event of ``case`` (both flushed)."""
    if event.id is None:
        raise PayloadError("case event: flush the event before posting it (it has no id yet)")
    return {
        "format": EVENT_FORMAT,
        "external_id": event_key(event=event, case=case),
        "case_external_id": case_key(case),
        "case_id": case.id,
        "event_id": event.id,
        "stage": event.stage,
        "stage_name": STAGE_NAMES_ZH.get(event.stage),
        "at": _iso(event.at),
        "platform_case_id": case.platform_case_id,
        "details": event.payload,
    }


def event_key(*, event: CaseEvent, case: Case) -> str:
    """The stable external id of a stage event: the case's id plus ``-e<event id>``."""
    return f"{case_key(case)}-e{event.id}"


def render_payload(
    payload: dict[str, Any],
    *,
    settings: PostingSettings,
    inline_photos: bool | None = None,
    blurrer: FaceBlurrer | None = None,
) -> Any:
    """The JSON to send for a stored snapshot: coordinates in ``settings.coordinate_system``, photos resolved.

    Args:
        payload: A snapshot from :func:`case_payload` or :func:`case_event_payload` (left unchanged).
        settings: Datum, photo mode, public base URL, evidence folder, face blurring.
        inline_photos: Override ``settings.photo_mode`` (MQTT messages always use URLs).
        blurrer: Blurs faces when ``settings.blur_faces`` is on (a sender builds it once and passes it to every
            message); ``None`` builds one for this call when needed. Ignored when ``blur_faces`` is off.

    Raises:
        PayloadError: An inline photo is missing, too large, outside the evidence folder, or its bytes no longer
            match the stored SHA-256; or faces are to be blurred and no face detector can be built.
    """
    if payload.get("format") != CASE_FORMAT:
        return payload
    rendered = copy.deepcopy(payload)
    if settings.coordinate_system == "gcj02":
        rendered["latitude"], rendered["longitude"] = wgs84_to_gcj02(payload["latitude"], payload["longitude"])
    rendered["coordinate_system"] = CRS_LABELS[settings.coordinate_system]
    inline = settings.photo_mode == "inline" if inline_photos is None else inline_photos
    leaves = bool(payload["photos"]) and (inline or bool(settings.public_base_url))
    if not settings.blur_faces:
        blurrer = None
    elif blurrer is None and leaves:
        blurrer = face_blurrer(settings)
    rendered["photos"] = [
        _render_photo(photo, settings=settings, inline=inline, blurrer=blurrer) for photo in payload["photos"]
    ]
    return rendered


def _photo(item: Evidence) -> dict[str, Any]:
    return {"kind": item.kind, "path": item.path, "sha256": item.sha256, "taken_at": _iso(item.taken_at)}


def _render_photo(
    photo: dict[str, Any], *, settings: PostingSettings, inline: bool, blurrer: FaceBlurrer | None
) -> dict[str, Any]:
    rendered = {key: value for key, value in photo.items() if key != "path"}
    if inline:
        data = read_evidence(
            photo["path"], photo["sha256"], root=settings.evidence_dir, max_bytes=settings.max_inline_bytes
        )
        media_type = mimetypes.guess_type(photo["path"])[0] or "application/octet-stream"
        if blurrer is not None:
            public = blurred_photo(data, photo["path"], blurrer)
            if len(public.data) > settings.max_inline_bytes:
                raise PayloadError(
                    f"photo {photo['path']!r}: blurred copy is {len(public.data)} bytes, over "
                    f"max_inline_bytes={settings.max_inline_bytes}"
                )
            data, rendered["sha256"], media_type = public.data, public.sha256, public.media_type or media_type
        rendered["media_type"] = media_type
        rendered["data_base64"] = base64.b64encode(data).decode("ascii")
    elif settings.public_base_url:
        path = photo["path"]
        if blurrer is not None:
            public = public_copy(photo["path"], photo["sha256"], root=settings.evidence_dir, blurrer=blurrer)
            path, rendered["sha256"] = public.relative_path, public.sha256
        rendered["url"] = f"{settings.public_base_url.rstrip('/')}/{quote(path.lstrip('/'))}"
    return rendered


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
