"""Cameras CRUD and reference images, on SQLite and PostgreSQL."""

from __future__ import annotations

import io

import numpy as np
import pytest
from factories.api import Harness
from factories.database import BACKENDS
from PIL import Image

pytestmark = pytest.mark.parametrize("backend", BACKENDS)


def png_bytes(size: tuple[int, int] = (64, 48), seed: int = 0) -> bytes:
    """A textured PNG (references must not be blank or tiny)."""
    pixels = np.random.default_rng(seed).integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def test_camera_lifecycle(harness: Harness) -> None:
    admin = harness.login("root", "admin")
    created = admin.post(
        "/api/cameras",
        json={"key": "cam-012", "name": "Gate", "kind": "fixed", "lat": 31.2, "lon": 121.4, "settings": {"fps": 2}},
    )
    assert created.status_code == 201, created.text
    camera = created.json()
    assert camera["key"] == "cam-012" and camera["enabled"] is True and camera["settings"] == {"fps": 2}
    admin.post("/api/cameras", json={"key": "van-1", "kind": "patrol"})
    taken = admin.post("/api/cameras", json={"key": "cam-012", "kind": "ptz"})
    assert taken.status_code == 409 and taken.json()["errors"][0]["field"] == "key"

    listed = admin.get("/api/cameras").json()
    assert listed["count"] == 2 and [c["key"] for c in listed["items"]] == ["cam-012", "van-1"]
    assert [c["key"] for c in admin.get("/api/cameras", params={"kind": "patrol"}).json()["items"]] == ["van-1"]
    assert admin.get("/api/cameras", params={"limit": 1, "offset": 1}).json()["items"][0]["key"] == "van-1"

    changed = admin.patch(f"/api/cameras/{camera['id']}", json={"name": "North gate", "lat": None, "enabled": False})
    assert changed.status_code == 200
    assert changed.json()["name"] == "North gate" and changed.json()["lat"] is None and changed.json()["lon"] == 121.4
    assert admin.patch(f"/api/cameras/{camera['id']}", json={"key": "van-1"}).status_code == 409
    cleared = admin.patch(f"/api/cameras/{camera['id']}", json={"kind": None})
    assert cleared.status_code == 422 and "kind cannot be null" in cleared.text

    reviewer = harness.login("ana")
    assert reviewer.get(f"/api/cameras/{camera['id']}").json()["name"] == "North gate"
    assert admin.delete(f"/api/cameras/{camera['id']}").status_code == 204
    assert admin.get(f"/api/cameras/{camera['id']}").status_code == 404
    assert admin.delete(f"/api/cameras/{camera['id']}").status_code == 404
    assert admin.patch("/api/cameras/999", json={"name": "x"}).json()["detail"] == "no camera 999"


def test_reference_upload_replaces_the_current_one_when_asked(harness: Harness) -> None:
    admin = harness.login("root", "admin")
    camera_id = admin.post("/api/cameras", json={"key": "cam-1", "kind": "ptz"}).json()["id"]
    url = f"/api/cameras/{camera_id}/references"
    first = admin.post(
        url,
        files={"file": ("../../evil name.png", png_bytes(seed=1), "image/png")},
        data={"preset": "p1", "taken_at": "2026-04-01T10:00:00+08:00"},
    )
    assert first.status_code == 201, first.text
    reference = first.json()
    assert reference["taken_at"] == "2026-04-01T02:00:00Z" and reference["preset"] == "p1"
    stored = harness.data_root / "references" / reference["image_path"]
    assert stored.is_file() and stored.suffix == ".jpg" and "evil" not in stored.name
    assert stored.is_relative_to(harness.data_root / "references" / "2026" / "04" / "01")

    refused = admin.post(url, files={"file": ("b.png", png_bytes(seed=2), "image/png")}, data={"preset": "p1"})
    assert refused.status_code == 409 and refused.json()["errors"][0]["field"] == "replace"
    second = admin.post(
        url, files={"file": ("b.png", png_bytes(seed=2), "image/png")}, data={"preset": "p1", "replace": "true"}
    )
    other_preset = admin.post(url, files={"file": ("c.png", png_bytes(seed=3), "image/png")}, data={"preset": "p2"})
    assert second.status_code == 201 and other_preset.status_code == 201
    current = admin.get(url).json()
    assert {item["id"] for item in current["items"]} == {second.json()["id"], other_preset.json()["id"]}
    everything = admin.get(url, params={"include_replaced": True}).json()
    replaced = next(item for item in everything["items"] if item["id"] == reference["id"])
    assert replaced["replaced_at"] is not None

    image = harness.login("ana").get(f"{url}/{reference['id']}/image")
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    assert image.content == stored.read_bytes()
    assert admin.get(f"/api/cameras/{camera_id}/references/999/image").status_code == 404


@pytest.mark.parametrize(
    ("kind", "form", "field"),
    [
        ("fixed", {"preset": "p1"}, "preset"),
        ("patrol", {}, "position"),
        ("patrol", {"lat": "31.2", "lon": "121.4"}, "heading"),
        ("patrol", {"lat": "31.2"}, "lon"),
        ("fixed", {"heading_deg": "90"}, "heading_deg"),
    ],
)
def test_the_place_must_fit_the_camera(harness: Harness, kind: str, form: dict[str, str], field: str) -> None:
    admin = harness.login("root", "admin")
    camera_id = admin.post("/api/cameras", json={"key": "cam-1", "kind": kind}).json()["id"]
    response = admin.post(
        f"/api/cameras/{camera_id}/references", files={"file": ("a.png", png_bytes(), "image/png")}, data=form
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field


def test_a_patrol_reference_with_its_position(harness: Harness) -> None:
    admin = harness.login("root", "admin")
    camera_id = admin.post("/api/cameras", json={"key": "van-1", "kind": "patrol"}).json()["id"]
    response = admin.post(
        f"/api/cameras/{camera_id}/references",
        files={"file": ("a.png", png_bytes(), "image/png")},
        data={"lat": "31.2304", "lon": "121.4737", "heading_deg": "90"},
    )
    assert response.status_code == 201, response.text
    assert (response.json()["lat"], response.json()["heading_deg"]) == (31.2304, 90.0)


@pytest.mark.parametrize(
    ("name", "content", "declared", "status", "message"),
    [
        ("notes.png", b"just some text, not a picture" * 10, "image/png", 415, "is not a supported image file"),
        ("clip.mp4", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64, "video/mp4", 415, "is not a supported image"),
        ("a.png", png_bytes(), "text/html", 415, "declared as 'text/html' but its content is png"),
        ("broken.png", png_bytes()[:40], "image/png", 422, "is not a decodable image"),
        ("flat.png", b"", "image/png", 422, "the picture is blank"),
        ("tiny.png", b"", "image/png", 422, "too small for a reference"),
        ("big.png", b"", "image/png", 413, "larger than the limit of 262144 bytes"),
    ],
)
def test_reference_upload_refusals_name_the_field(
    harness: Harness, name: str, content: bytes, declared: str, status: int, message: str
) -> None:
    admin = harness.login("root", "admin")
    camera_id = admin.post("/api/cameras", json={"key": "cam-1", "kind": "fixed"}).json()["id"]
    if name == "flat.png":
        buffer = io.BytesIO()
        Image.new("RGB", (64, 48), (90, 90, 90)).save(buffer, format="PNG")
        content = buffer.getvalue()
    if name == "tiny.png":
        content = png_bytes((16, 16))
    if name == "big.png":  # a real PNG of noise, larger than the image limit but inside the request limit
        content = png_bytes((320, 280))
        assert 256 * 1024 < len(content) < 256 * 1024 + 64 * 1024
    response = admin.post(f"/api/cameras/{camera_id}/references", files={"file": (name, content, declared)})
    assert response.status_code == status, response.text
    body = response.json()
    assert message in body["detail"] and body["detail"].startswith("file")
    assert body["errors"][0]["field"] == "file"
    assert not list((harness.data_root / "references").rglob("*.*"))
    assert admin.get(f"/api/cameras/{camera_id}/references").json()["count"] == 0


def test_reference_upload_checks_the_form(harness: Harness) -> None:
    admin = harness.login("root", "admin")
    camera_id = admin.post("/api/cameras", json={"key": "cam-1", "kind": "fixed"}).json()["id"]
    url = f"/api/cameras/{camera_id}/references"
    naive = admin.post(url, files={"file": ("a.png", png_bytes(), "image/png")}, data={"taken_at": "2026-04-01T10:00"})
    assert naive.status_code == 422 and naive.json()["errors"][0]["field"] == "taken_at"
    no_file = admin.post(url, data={"preset": "p1"})
    assert no_file.status_code == 422 and no_file.json()["errors"][0]["field"] == "file"
    bad_lat = admin.post(url, files={"file": ("a.png", png_bytes(), "image/png")}, data={"lat": "91"})
    assert bad_lat.status_code == 422 and bad_lat.json()["errors"][0]["field"] == "lat"
    missing = admin.post("/api/cameras/999/references", files={"file": ("a.png", png_bytes(), "image/png")})
    assert missing.status_code == 404
    reviewer = harness.login("ana")
    assert reviewer.post(url, files={"file": ("a.png", png_bytes(), "image/png")}).status_code == 403


def test_an_oversized_reference_request_is_refused_before_reading(harness: Harness) -> None:
    admin = harness.login("root", "admin")
    camera_id = admin.post("/api/cameras", json={"key": "cam-1", "kind": "fixed"}).json()["id"]
    response = admin.post(
        f"/api/cameras/{camera_id}/references", files={"file": ("a.png", b"\x89PNG" + b"0" * 400_000, "image/png")}
    )
    assert response.status_code == 413
