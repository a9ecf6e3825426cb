"""The city platform's JSON: codes and names from the taxonomy, places, photos as URLs or inline, datums."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
from factories.posting import FOUND_AT, add_candidate, add_evidence, confirm_cases
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service.db.models.cases import Case
from service.db.models.posting import OutboxMessage
from service.db.models.violations import Candidate
from service.posting.errors import PayloadError
from service.posting.geo import wgs84_to_gcj02
from service.posting.outbox import enqueue_case, posting_state
from service.posting.payload import case_key, render_payload
from service.posting.sender import OutboxSender, SendReport
from service.posting.settings import PostingSettings

Sessions = sessionmaker[Session]


def confirm_one(session: Session, class_name: str, violation_type: str, event_code: str) -> Case:
    candidate = add_candidate(session, class_name=class_name, violation_type=violation_type, event_code=event_code)
    case = Case(
        candidate_id=candidate.id,
        event_code=event_code,
        violation_type=violation_type,
        address="人民路 1 号",
        district="黄浦区",
        street="南京东路街道",
        grid="HP-0101-07",
        lat=candidate.lat,
        lon=candidate.lon,
    )
    session.add(case)
    return case


@pytest.mark.parametrize(
    ("class_name", "violation", "minor", "minor_name", "major", "major_name"),
    [
        ("vendor_stall", "street_occupation", "0501", "无照经营游商", "05", "街面秩序"),
        ("material_pile", "street_occupation", "0507", "乱堆物堆料", "05", "街面秩序"),
        ("banner", "illegal_advertising", "0202", "违章张贴悬挂广告牌匾", "02", "宣传广告"),
        ("poster", "illegal_advertising", "0201", "非法小广告", "02", "宣传广告"),
        ("shed", "illegal_construction", "0101", "私搭乱建", "01", "市容环境"),
    ],
)
def test_case_payload_has_the_codes_and_names_of_the_taxonomy(
    sessions: Sessions, class_name: str, violation: str, minor: str, minor_name: str, major: str, major_name: str
) -> None:
    with sessions() as session, session.begin():
        case = confirm_one(session, class_name, violation, minor)
        (row,) = enqueue_case(session, case=case)
        key = case_key(case)
    with sessions() as session:  # read back: the JSON column round-trips on both databases
        payload = session.scalars(select(OutboxMessage.payload).where(OutboxMessage.id == row.id)).one()
    assert row.idempotency_key == key and payload["external_id"] == key and payload["case_id"] == case.id
    assert (payload["event_source"], payload["event_source_name"]) == ("41", "智能分析")
    assert payload["event_source_name_en"] == "intelligent analysis"
    assert (payload["major_type_code"], payload["major_type_name"]) == (major, major_name)
    assert (payload["minor_type_code"], payload["minor_type_name"]) == (minor, minor_name)
    assert payload["violation_type"] == violation and payload["object_class"] == class_name
    assert payload["description"].startswith("智能分析发现" + minor_name)
    assert (payload["address"], payload["district"], payload["street"], payload["grid"]) == (
        "人民路 1 号",
        "黄浦区",
        "南京东路街道",
        "HP-0101-07",
    )
    assert (payload["latitude"], payload["longitude"], payload["coordinate_system"]) == (31.2304, 121.4737, "WGS-84")
    assert payload["found_at"] == FOUND_AT.isoformat() and payload["sightings_count"] == 3
    assert (payload["stage"], payload["stage_name"]) == ("accepted", "受理")


def test_enqueue_is_idempotent_and_part_of_the_callers_transaction(sqlite_sessions: Sessions) -> None:
    with sqlite_sessions() as session, session.begin():
        (case,) = confirm_cases(session, 1, targets=("http", "mqtt"))
        again = enqueue_case(session, case=case, targets=("mqtt", "http"))
        assert [row.target for row in again] == ["mqtt", "http"]
    with sqlite_sessions() as session:
        assert len(session.scalars(select(OutboxMessage)).all()) == 2
        assert posting_state(session, case_id=case.id).state == "pending"
        assert posting_state(session, case_id=case.id + 100).state == "none"
    with sqlite_sessions() as session:  # a confirmation rolled back leaves no message behind
        confirm_cases(session, 1)
        session.rollback()
        assert len(session.scalars(select(OutboxMessage)).all()) == 2


def test_unknown_codes_and_targets_are_refused(sqlite_sessions: Sessions) -> None:
    with sqlite_sessions() as session:
        case = confirm_one(session, "vendor_stall", "street_occupation", "9999")
        with pytest.raises(PayloadError, match="event_code '9999'"):
            enqueue_case(session, case=case)
        with pytest.raises(ValueError, match="targets"):
            enqueue_case(session, case=case, targets=("fax",))


def test_photos_as_urls_under_the_public_base(sqlite_sessions: Sessions, tmp_path: Path) -> None:
    with sqlite_sessions() as session, session.begin():
        (case,) = confirm_cases(session, 1)
        (row,) = enqueue_case(session, case=case)
    settings = PostingSettings(public_base_url="https://xiuhua.example/evidence/", evidence_dir=tmp_path)
    photos = render_payload(row.payload, settings=settings)["photos"]
    assert [photo["kind"] for photo in photos] == ["frame", "crop"]
    assert photos[0]["url"] == f"https://xiuhua.example/evidence/{case.candidate_id}/frame.jpg"
    assert all("path" not in photo and len(photo["sha256"]) == 64 for photo in photos)
    without_base = render_payload(row.payload, settings=PostingSettings(evidence_dir=tmp_path))["photos"]
    assert all("url" not in photo for photo in without_base)
    assert "url" not in row.payload["photos"][0], "the stored snapshot is not changed by rendering"


def test_inline_photos_carry_the_files_bytes(sqlite_sessions: Sessions, tmp_path: Path) -> None:
    with sqlite_sessions() as session, session.begin():
        (case,) = confirm_cases(session, 1, evidence_dir=tmp_path)
        (row,) = enqueue_case(session, case=case)
    rendered = render_payload(row.payload, settings=PostingSettings(photo_mode="inline", evidence_dir=tmp_path))
    for photo in rendered["photos"]:
        data = base64.b64decode(photo["data_base64"])
        assert data == (tmp_path / f"{case.candidate_id}/{photo['kind']}.jpg").read_bytes()
        assert hashlib.sha256(data).hexdigest() == photo["sha256"] and photo["media_type"] == "image/jpeg"
    json.dumps(rendered)


@pytest.mark.parametrize(
    ("damage", "message"),
    [("change", "SHA-256 differs"), ("remove", "cannot read"), ("escape", "outside the evidence folder")],
)
def test_a_bad_inline_photo_is_named(sqlite_sessions: Sessions, tmp_path: Path, damage: str, message: str) -> None:
    evidence_dir = tmp_path / "evidence"
    with sqlite_sessions() as session, session.begin():
        case = confirm_one(session, "vendor_stall", "street_occupation", "0501")
        candidate = session.get(Candidate, case.candidate_id)
        assert candidate is not None
        evidence = add_evidence(session, candidate=candidate, folder=evidence_dir)
        file = evidence_dir / evidence.path
        if damage == "change":
            file.write_bytes(b"someone edited it")
        elif damage == "remove":
            file.unlink()
        else:
            evidence.path = "../secret.jpg"
        (row,) = enqueue_case(session, case=case)
    with pytest.raises(PayloadError, match=message):
        render_payload(row.payload, settings=PostingSettings(photo_mode="inline", evidence_dir=evidence_dir))


def test_an_oversized_inline_photo_is_refused(sqlite_sessions: Sessions, tmp_path: Path) -> None:
    with sqlite_sessions() as session, session.begin():
        (case,) = confirm_cases(session, 1, evidence_dir=tmp_path)
        (row,) = enqueue_case(session, case=case)
    settings = PostingSettings(photo_mode="inline", evidence_dir=tmp_path, max_inline_bytes=4)
    with pytest.raises(PayloadError, match="max_inline_bytes=4"):
        render_payload(row.payload, settings=settings)


def test_a_payload_that_cannot_be_built_is_dead_without_a_request(sqlite_sessions: Sessions, tmp_path: Path) -> None:
    with sqlite_sessions() as session, session.begin():
        confirm_cases(session, 1)  # evidence rows, but no files
    requests: list[httpx.Request] = []

    def platform(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200)

    transport = httpx.MockTransport(platform)
    settings = PostingSettings(url="http://platform.test/cases", photo_mode="inline", evidence_dir=tmp_path)
    with httpx.Client(transport=transport) as client:
        report = OutboxSender(settings, client, sqlite_sessions).run_once()
    assert report == SendReport(claimed=1, dead=1) and requests == []
    with sqlite_sessions() as session:
        row = session.scalars(select(OutboxMessage)).one()
    assert row.state == "dead" and row.last_error is not None and row.last_error.startswith("payload: photo ")


@pytest.mark.parametrize(
    ("wgs", "gcj"),
    [
        # Published test vectors of two independent open implementations (Beijing, Shanghai).
        ((39.915, 116.404), (39.91640428150164, 116.41024449916938)),
        ((31.1774276, 121.5272106), (31.17530398364597, 121.531541859215)),
        ((48.8584, 2.2945), (48.8584, 2.2945)),  # outside China: unchanged
    ],
)
def test_gcj02_conversion(wgs: tuple[float, float], gcj: tuple[float, float]) -> None:
    assert wgs84_to_gcj02(*wgs) == pytest.approx(gcj, abs=1e-9)


@pytest.mark.parametrize(("system", "label", "shifted"), [("gcj02", "GCJ-02", True), ("cgcs2000", "CGCS2000", False)])
def test_coordinates_in_the_platforms_datum(
    sqlite_sessions: Sessions, tmp_path: Path, system: str, label: str, shifted: bool
) -> None:
    with sqlite_sessions() as session, session.begin():
        (case,) = confirm_cases(session, 1)
        (row,) = enqueue_case(session, case=case)
    rendered = render_payload(row.payload, settings=PostingSettings(coordinate_system=system, evidence_dir=tmp_path))
    assert rendered["coordinate_system"] == label
    moved = (rendered["latitude"], rendered["longitude"]) != (row.payload["latitude"], row.payload["longitude"])
    assert moved is shifted
    if shifted:
        assert (rendered["latitude"], rendered["longitude"]) == wgs84_to_gcj02(case.lat, case.lon)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("coordinate_system", "bd09", "coordinate_system"),
        ("photo_mode", "fax", "photo_mode"),
        ("max_attempts", 0, "max_attempts"),
        ("jitter", 1.0, "jitter"),
    ],
)
def test_bad_settings_are_named(field: str, value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PostingSettings(**{field: value})  # type: ignore[arg-type]


def test_settings_from_the_environment() -> None:
    environ = {"XIUHUA_POST_URL": "http://p/cases", "XIUHUA_POST_MAX_ATTEMPTS": "3", "XIUHUA_POST_CRS": "gcj02"}
    settings = PostingSettings.from_env(environ, mqtt_host="broker", url=None)
    assert (settings.url, settings.max_attempts, settings.coordinate_system) == ("http://p/cases", 3, "gcj02")
    assert settings.targets == ("http", "mqtt")
    with pytest.raises(ValueError, match="XIUHUA_POST_MAX_ATTEMPTS='many'"):
        PostingSettings.from_env({"XIUHUA_POST_MAX_ATTEMPTS": "many"})


def test_the_case_key_does_not_depend_on_the_zone_of_created_at(sqlite_sessions: Sessions) -> None:
    beijing = timezone(timedelta(hours=8))
    with sqlite_sessions() as session, session.begin():
        case = confirm_one(session, "vendor_stall", "street_occupation", "0501")
        case.created_at = datetime(2026, 5, 1, 20, 0, 0, 123456, tzinfo=beijing)
        (first,) = enqueue_case(session, case=case)
        key = first.idempotency_key
    assert key == f"xiuhua-case-{case.id}-20260501120000123456"
    with sqlite_sessions() as session, session.begin():  # read back as UTC: the same key, so no second message
        stored = session.get(Case, case.id)
        assert stored is not None
        (again,) = enqueue_case(session, case=stored)
    assert again.id == first.id and again.idempotency_key == key
