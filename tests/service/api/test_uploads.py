"""Uploads of images and clips become scan jobs; size, type and content are checked first."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from factories.api import Harness
from factories.database import BACKENDS
from factories.media import make_video
from PIL import Image

from service.api.crud import scans as scan_store
from service.errors import Conflict


def jpeg_bytes(size: tuple[int, int] = (64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (20, 120, 40)).save(buffer, format="JPEG")
    return buffer.getvalue()


def stored_files(harness: Harness) -> list[Path]:
    return sorted(path for path in (harness.data_root / "uploads").rglob("*") if path.is_file())


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_image_upload_is_stored_and_queued_once(harness: Harness) -> None:
    admin = harness.login("root", "admin")
    admin.post("/api/cameras", json={"key": "cam-7", "kind": "fixed"})
    client = harness.login("ana")
    photo = jpeg_bytes()
    form = {"camera": "cam-7", "taken_at": "2026-04-30T21:15:00+08:00"}
    response = client.post("/api/uploads", files={"file": ("../../etc/passwd.jpg", photo, "image/jpeg")}, data=form)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["duplicate"] is False and body["size"] == len(photo)
    job = body["job"]
    assert job["options"] | {"uploaded_by": "ana"} == job["options"]
    assert job["options"]["camera"] == "cam-7" and job["options"]["media"] == "image"
    assert job["options"]["original_name"] == "passwd.jpg" and job["options"]["width"] == 64
    assert job["options"]["taken_at"] == "2026-04-30T21:15:00+08:00"
    [source] = job["sources"]
    assert source["state"] == "pending"
    [stored] = stored_files(harness)
    assert Path(source["path"]) == stored.resolve() and stored.suffix == ".jpg" and "passwd" not in stored.name
    assert stored.read_bytes() == photo

    again = harness.login("ben").post("/api/uploads", files={"file": ("x.jpg", photo, "image/jpeg")}, data=form)
    assert again.status_code == 200 and again.json()["duplicate"] is True and again.json()["job"]["id"] == job["id"]
    assert len(stored_files(harness)) == 1
    assert client.get("/api/scan-jobs").json()["count"] == 1
    assert client.get(f"/api/scan-jobs/{job['id']}").json()["sources"][0]["id"] == source["id"]
    assert client.get("/api/scan-jobs/999").status_code == 404


def test_a_clip_upload_is_probed(harness: Harness, tmp_path: Path) -> None:
    clip = make_video(tmp_path / "clip.mp4", frames=10, fps=5)
    client = harness.token("scanner")
    response = client.post("/api/uploads", files={"file": ("clip.mp4", clip.read_bytes(), "video/mp4")})
    assert response.status_code == 201, response.text
    options = response.json()["job"]["options"]
    assert (
        options["media"] == "video"
        and options["format"] == "mp4"
        and options["duration_s"] == pytest.approx(2, abs=0.3)
    )
    assert stored_files(harness)[0].suffix == ".mp4"


@pytest.mark.parametrize(
    ("name", "content", "declared", "status", "message"),
    [
        ("notes.txt", b"hello, this is text" * 20, "text/plain", 415, "file is not a supported image or video file"),
        ("photo.jpg", b"hello, this is text" * 20, "image/jpeg", 415, "not a known format"),
        ("photo.jpg", jpeg_bytes(), "video/mp4", 415, "declared as 'video/mp4' but its content is jpeg"),
        ("page.html", jpeg_bytes(), "text/html", 415, "declared as 'text/html'"),
        ("cut.jpg", jpeg_bytes()[:30], "image/jpeg", 422, "file is not a decodable image"),
        ("fake.mp4", b"\x00\x00\x00\x18ftypisom" + b"\x00" * 500, "video/mp4", 422, "file is not a readable video"),
    ],
)
def test_refused_uploads_leave_nothing_behind(
    harness: Harness, name: str, content: bytes, declared: str, status: int, message: str
) -> None:
    response = harness.login("ana").post("/api/uploads", files={"file": (name, content, declared)})
    assert response.status_code == status, response.text
    assert message in response.json()["detail"] and response.json()["errors"][0]["field"] == "file"
    assert stored_files(harness) == []


def test_size_limits_per_kind(harness: Harness) -> None:
    client = harness.login("ana")
    noise = np.random.default_rng(1).integers(0, 255, (280, 320, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noise).save(buffer, format="PNG")  # ~270 kB: over the 256 kB image limit
    image = client.post("/api/uploads", files={"file": ("big.png", buffer.getvalue(), "image/png")})
    assert image.status_code == 413 and "file is larger than the limit of 262144 bytes" in image.json()["detail"]
    clip = b"\x00\x00\x00\x18ftypisom" + b"\x00" * (1024 * 1024)  # just over the 1 MiB clip limit
    response = client.post("/api/uploads", files={"file": ("big.mp4", clip, "video/mp4")})
    assert response.status_code == 413 and "1048576 bytes" in response.json()["detail"]
    huge = client.post("/api/uploads", files={"file": ("huge.mp4", clip + b"\x00" * 200_000, "video/mp4")})
    assert huge.status_code == 413 and huge.json()["detail"].startswith("request body is larger")
    assert stored_files(harness) == []


def test_upload_checks_the_camera_and_the_caller(harness: Harness) -> None:
    photo = {"file": ("a.jpg", jpeg_bytes(), "image/jpeg")}
    unknown = harness.login("ana").post("/api/uploads", files=photo, data={"camera": "cam-404"})
    assert unknown.status_code == 404 and unknown.json()["errors"][0]["field"] == "camera"
    assert harness.client().post("/api/uploads", files=photo).status_code == 401
    assert harness.login("ben", csrf=False).post("/api/uploads", files=photo).status_code == 403
    assert stored_files(harness) == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_concurrent_identical_upload_is_a_conflict_not_a_crash(harness: Harness) -> None:
    with harness.session() as first, harness.session() as second:
        scan_store.queue_upload(first, key="k" * 64, path="/data/uploads/a.jpg", options={})
        first.commit()
        with pytest.raises(Conflict, match="being queued by another upload"):
            scan_store.queue_upload(second, key="k" * 64, path="/data/uploads/b.jpg", options={})
