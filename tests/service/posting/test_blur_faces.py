"""Faces blurred in the photos that leave the department; the evidence files themselves never change."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import cv2
import httpx
import numpy as np
import numpy.typing as npt
import pytest
from factories.evidence import textured_image
from factories.posting import add_candidate, add_case, add_evidence
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service.db.models.cases import Case
from service.db.models.posting import OutboxMessage
from service.posting.errors import PayloadError
from service.posting.outbox import enqueue_case, retry_dead
from service.posting.payload import render_payload
from service.posting.sender import OutboxSender, SendReport
from service.posting.settings import PostingSettings
from vision.detections import box_iou
from vision.evidence import BlurSettings, FaceBlurrer, HaarFaceDetector

Sessions = sessionmaker[Session]
Image = npt.NDArray[np.uint8]
FRAME_SIZE, CROP_SIZE = (480, 640), (120, 160)
FACE = (400, 60, 460, 130)  # x1, y1, x2, y2 in the frame
POSTER_PHOTO = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "facade-ads" / "images" / "img_413.jpg"


class FacesInFrames:
    """A face detector that finds ``FACE`` in frame-sized images and nothing in any other."""

    def __init__(self) -> None:
        self.calls = 0

    def detect(self, image: Image) -> npt.NDArray[np.float32]:
        self.calls += 1
        boxes = [FACE] if image.shape[:2] == FRAME_SIZE else []
        return np.asarray(boxes, np.float32).reshape(-1, 4)


def jpeg(image: Image) -> bytes:
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return encoded.tobytes()


def decode(data: bytes) -> npt.NDArray[np.int64]:
    return np.asarray(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR), np.int64)


def detail(image: npt.NDArray[np.int64]) -> float:
    """Mean absolute Laplacian of the grey image: fine detail that blurring removes."""
    grey = cv2.cvtColor(image.astype(np.uint8), cv2.COLOR_BGR2GRAY)
    return float(np.abs(cv2.Laplacian(grey, cv2.CV_32F)).mean())


def confirm_with_photos(session: Session, folder: Path, frame: Image | None = None) -> Case:
    """A confirmed case whose frame (640x480 unless given) and crop (160x120) are real JPEGs in ``folder``."""
    candidate = add_candidate(session)
    frame = textured_image(*FRAME_SIZE) if frame is None else frame
    add_evidence(session, candidate=candidate, folder=folder, kind="frame", data=jpeg(frame))
    add_evidence(session, candidate=candidate, folder=folder, kind="crop", data=jpeg(textured_image(*CROP_SIZE, 1)))
    return add_case(session, candidate=candidate)


def stored_payload(
    sessions: Sessions, folder: Path, frame: Image | None = None, target: str = "http"
) -> dict[str, Any]:
    with sessions() as session, session.begin():
        case = confirm_with_photos(session, folder, frame)
        (row,) = enqueue_case(session, case=case, targets=(target,))
        return dict(row.payload)


def originals(folder: Path) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in sorted(folder.rglob("*.jpg"))}


def fake_blurrer() -> FaceBlurrer:
    return FaceBlurrer(BlurSettings(padding=0.0), detector=FacesInFrames())


def test_inline_photo_is_blurred_where_a_face_is_and_unchanged_without_one(
    sqlite_sessions: Sessions, tmp_path: Path
) -> None:
    payload = stored_payload(sqlite_sessions, tmp_path)
    before = originals(tmp_path)
    settings = PostingSettings(photo_mode="inline", evidence_dir=tmp_path, blur_faces=True)
    frame, crop = render_payload(payload, settings=settings, blurrer=fake_blurrer())["photos"]
    for photo in (frame, crop):
        sent = base64.b64decode(photo["data_base64"])
        assert hashlib.sha256(sent).hexdigest() == photo["sha256"] and photo["media_type"] == "image/jpeg"
    original_frame = decode(before[tmp_path / f"{payload['case_id']}/frame.jpg"])
    sent_frame = decode(base64.b64decode(frame["data_base64"]))
    change = np.abs(sent_frame - original_frame).mean(axis=2)
    x1, y1, x2, y2 = FACE
    assert detail(sent_frame[y1:y2, x1:x2]) < 0.2 * detail(original_frame[y1:y2, x1:x2]), "the face is blurred"
    outside = np.ones_like(change, bool)
    outside[y1:y2, x1:x2] = False
    assert change[outside].mean() < 2, "the rest is only re-encoded"
    assert base64.b64decode(crop["data_base64"]) == before[tmp_path / f"{payload['case_id']}/crop.jpg"]
    assert originals(tmp_path) == before, "the evidence files are untouched and nothing was written"


def test_url_photos_point_to_a_blurred_copy_beside_the_unchanged_original(
    sqlite_sessions: Sessions, tmp_path: Path
) -> None:
    payload = stored_payload(sqlite_sessions, tmp_path)
    folder = tmp_path / str(payload["case_id"])
    before = originals(tmp_path)
    settings = PostingSettings(public_base_url="https://x.example/ev", evidence_dir=tmp_path, blur_faces=True)
    frame, crop = render_payload(payload, settings=settings, blurrer=fake_blurrer())["photos"]
    assert frame["url"] == f"https://x.example/ev/{payload['case_id']}/frame.public.jpg"
    assert crop["url"] == f"https://x.example/ev/{payload['case_id']}/crop.public.jpg"
    public_frame = (folder / "frame.public.jpg").read_bytes()
    assert hashlib.sha256(public_frame).hexdigest() == frame["sha256"] != payload["photos"][0]["sha256"]
    assert (folder / "crop.public.jpg").read_bytes() == before[folder / "crop.jpg"], "no face: the same bytes"
    assert all(path.read_bytes() == data for path, data in before.items()), "originals are byte-identical"
    assert sorted(path.name for path in folder.iterdir()) == [
        "crop.jpg",
        "crop.public.jpg",
        "frame.jpg",
        "frame.public.jpg",
    ]


def test_an_existing_public_copy_is_reused_never_overwritten(sqlite_sessions: Sessions, tmp_path: Path) -> None:
    payload = stored_payload(sqlite_sessions, tmp_path)
    copy = tmp_path / f"{payload['case_id']}/frame.public.jpg"
    copy.write_bytes(b"blurred earlier")
    settings = PostingSettings(public_base_url="https://x.example", evidence_dir=tmp_path, blur_faces=True)
    frame = render_payload(payload, settings=settings, blurrer=fake_blurrer())["photos"][0]
    assert copy.read_bytes() == b"blurred earlier" and frame["sha256"] == hashlib.sha256(b"blurred earlier").hexdigest()


def test_without_blur_faces_the_originals_are_sent(sqlite_sessions: Sessions, tmp_path: Path) -> None:
    payload = stored_payload(sqlite_sessions, tmp_path)
    settings = PostingSettings(photo_mode="inline", evidence_dir=tmp_path)
    detector = FacesInFrames()
    photos = render_payload(payload, settings=settings, blurrer=FaceBlurrer(detector=detector))["photos"]
    assert [photo["sha256"] for photo in photos] == [photo["sha256"] for photo in payload["photos"]]
    assert detector.calls == 0


def test_one_blurrer_serves_every_message_of_a_sender(sqlite_sessions: Sessions, tmp_path: Path) -> None:
    for _ in range(2):
        stored_payload(sqlite_sessions, tmp_path)
    bodies: list[bytes] = []

    def platform(request: httpx.Request) -> httpx.Response:
        bodies.append(request.content)
        return httpx.Response(201)

    detector = FacesInFrames()
    settings = PostingSettings(url="http://p.test/cases", photo_mode="inline", evidence_dir=tmp_path, blur_faces=True)
    with httpx.Client(transport=httpx.MockTransport(platform)) as client:
        sender = OutboxSender(settings, client, sqlite_sessions, blurrer=FaceBlurrer(detector=detector))
        assert sender.run_once() == SendReport(claimed=2, sent=2)
    assert len(bodies) == 2 and detector.calls == 4  # two photos per case, one detector


class RecordingPublisher:
    """An MQTT publisher that keeps what it was given."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, Any]] = []

    def publish(self, topic: str, payload: bytes) -> None:
        self.messages.append((topic, json.loads(payload)))


def test_mqtt_messages_link_the_blurred_copies(sqlite_sessions: Sessions, tmp_path: Path) -> None:
    payload = stored_payload(sqlite_sessions, tmp_path, target="mqtt")
    publisher = RecordingPublisher()
    settings = PostingSettings(
        mqtt_host="broker", public_base_url="https://x.example", evidence_dir=tmp_path, blur_faces=True
    )
    with httpx.Client() as client:
        sender = OutboxSender(settings, client, sqlite_sessions, mqtt=publisher, blurrer=fake_blurrer())
        assert sender.run_once() == SendReport(claimed=1, sent=1)
    ((_, message),) = publisher.messages
    for photo in message["photos"]:
        relative = f"{payload['case_id']}/{photo['kind']}.public.jpg"
        assert photo["url"] == f"https://x.example/{relative}"
        assert photo["sha256"] == hashlib.sha256((tmp_path / relative).read_bytes()).hexdigest()


def test_blurring_without_a_face_detector_dead_letters_the_case_and_sends_nothing(
    sqlite_sessions: Sessions, tmp_path: Path
) -> None:
    payload = stored_payload(sqlite_sessions, tmp_path)
    requests: list[httpx.Request] = []
    settings = PostingSettings(
        url="http://p.test/cases",
        photo_mode="inline",
        evidence_dir=tmp_path,
        blur_faces=True,
        face_model=tmp_path / "missing-yunet.onnx",
    )
    with pytest.raises(PayloadError, match=r"XIUHUA_POST_BLUR_FACES.*face model file not found"):
        render_payload(payload, settings=settings)

    def platform(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(201)

    with httpx.Client(transport=httpx.MockTransport(platform)) as client:
        assert OutboxSender(settings, client, sqlite_sessions).run_once() == SendReport(claimed=1, dead=1)
    assert requests == []
    with sqlite_sessions() as session, session.begin():
        row = session.scalars(select(OutboxMessage)).one()
        assert row.state == "dead" and row.payload == payload, "the message is kept for an admin to retry"
        assert row.last_error is not None and "XIUHUA_POST_FACE_MODEL" in row.last_error
        retry_dead(session, message_id=row.id)  # once a detector is configured, the admin puts it back


def test_blur_settings_from_the_environment(tmp_path: Path) -> None:
    model = tmp_path / "yunet.onnx"
    environ = {"XIUHUA_POST_BLUR_FACES": "yes", "XIUHUA_POST_FACE_MODEL": str(model)}
    settings = PostingSettings.from_env(environ)
    assert (settings.blur_faces, settings.face_model) == (True, model)
    assert PostingSettings.from_env({"XIUHUA_POST_BLUR_FACES": "0"}).blur_faces is False
    assert PostingSettings.from_env({}).blur_faces is False
    with pytest.raises(ValueError, match="XIUHUA_POST_BLUR_FACES='maybe'"):
        PostingSettings.from_env({"XIUHUA_POST_BLUR_FACES": "maybe"})


def test_a_real_face_on_a_street_poster_is_blurred_by_the_default_detector(
    sqlite_sessions: Sessions, tmp_path: Path
) -> None:
    if not POSTER_PHOTO.is_file():
        pytest.skip(f"no street photo at {POSTER_PHOTO}")
    photo = np.asarray(cv2.imread(str(POSTER_PHOTO)), np.uint8)
    faces = HaarFaceDetector().detect(photo)
    x1, y1, x2, y2 = 789, 385, 843, 439  # the man's face on the advertisement in img_413.jpg
    assert box_iou(faces, np.array([[x1, y1, x2, y2]], np.float32)).max(initial=0.0) > 0.5
    payload = stored_payload(sqlite_sessions, tmp_path, frame=photo)
    settings = PostingSettings(photo_mode="inline", evidence_dir=tmp_path, blur_faces=True)
    sent = decode(base64.b64decode(render_payload(payload, settings=settings)["photos"][0]["data_base64"]))
    original = decode((tmp_path / f"{payload['case_id']}/frame.jpg").read_bytes())
    assert detail(sent[y1:y2, x1:x2]) < 0.5 * detail(original[y1:y2, x1:x2])
