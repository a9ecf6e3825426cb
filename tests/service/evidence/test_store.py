"""The evidence store: valid JPEGs with their SHA-256, dated folders, atomic writes, no way out of the root."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import cv2
import numpy as np
import pytest
from factories.evidence import textured_image

from service.evidence import EvidenceNotFound, EvidenceStore, StoredEvidence, UnsafeEvidencePath

TAKEN_AT = datetime(2024, 6, 11, 14, 3, 22, tzinfo=timezone(timedelta(hours=8)))


@pytest.fixture
def store(tmp_path: Path) -> EvidenceStore:
    return EvidenceStore(tmp_path / "evidence")


def _save(store: EvidenceStore, **overrides: object) -> StoredEvidence:
    arguments: dict[str, object] = {"kind": "frame", "taken_at": TAKEN_AT, "name_hint": "cam3-t17"}
    arguments.update(overrides)
    return store.save(textured_image(), **arguments)  # type: ignore[arg-type]


def test_save_writes_a_jpeg_with_its_sha256(store: EvidenceStore) -> None:
    stored = _save(store)
    path = store.root / stored.relative_path
    data = path.read_bytes()
    assert data[:2] == b"\xff\xd8"
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    decoded = cv2.imread(str(path))
    assert decoded is not None and decoded.shape == (480, 640, 3)
    assert np.abs(decoded.astype(int) - textured_image().astype(int)).mean() < 12  # quality 90
    assert (stored.kind, stored.taken_at) == ("frame", TAKEN_AT)


def test_files_go_under_the_utc_date(store: EvidenceStore) -> None:
    early_morning_in_beijing = datetime(2024, 6, 11, 1, 30, tzinfo=timezone(timedelta(hours=8)))
    stored = _save(store, taken_at=early_morning_in_beijing)
    folder, name = stored.relative_path.rsplit("/", 1)
    assert folder == "2024/06/10"
    assert name.startswith("173000-cam3-t17-frame-") and name.endswith(".jpg")


def test_names_are_unique_and_hints_sanitised(store: EvidenceStore) -> None:
    first = _save(store, name_hint="东门/../x y")
    second = _save(store, name_hint="东门/../x y")
    assert first.relative_path != second.relative_path
    name = first.relative_path.rsplit("/", 1)[1]
    assert name.startswith("060322-x-y-frame-")
    assert store.resolve(first.relative_path).parent == store.resolve(second.relative_path).parent


def test_grey_images_are_stored(store: EvidenceStore) -> None:
    stored = store.save(np.full((20, 30), 128, np.uint8), kind="crop", taken_at=datetime(2024, 1, 1, tzinfo=UTC))
    assert store.verify(stored.relative_path, stored.sha256)


def test_quality_changes_the_bytes(tmp_path: Path) -> None:
    low = EvidenceStore(tmp_path, jpeg_quality=30).save(textured_image(), kind="crop", taken_at=TAKEN_AT)
    high = EvidenceStore(tmp_path, jpeg_quality=95).save(textured_image(), kind="crop", taken_at=TAKEN_AT)
    assert (tmp_path / low.relative_path).stat().st_size < (tmp_path / high.relative_path).stat().st_size


def test_verify_detects_changed_and_missing_files(store: EvidenceStore) -> None:
    stored = _save(store)
    assert store.verify(stored.relative_path, stored.sha256)
    assert store.verify(stored.relative_path, stored.sha256.upper())
    path = store.root / stored.relative_path
    path.write_bytes(path.read_bytes() + b"\x00")
    assert not store.verify(stored.relative_path, stored.sha256)
    path.unlink()
    assert not store.verify(stored.relative_path, stored.sha256)


def test_resolve_returns_the_file_inside_the_root(store: EvidenceStore) -> None:
    stored = _save(store)
    resolved = store.resolve(stored.relative_path)
    assert resolved.is_file() and resolved.is_relative_to(store.root.resolve())


def test_missing_file_is_not_found(store: EvidenceStore) -> None:
    _save(store)
    with pytest.raises(EvidenceNotFound):
        store.resolve("2024/06/11/nothing.jpg")
    with pytest.raises(FileNotFoundError):
        store.resolve("2024/06/11")  # a folder is not evidence


@pytest.mark.parametrize(
    "relative_path",
    ["../x", "/etc/passwd", "a/../../b", "a\x00b", "a\\..\\b", "", "./x", "a//b", "C:/x", "2024/06/11/"],
)
def test_escaping_paths_are_refused(store: EvidenceStore, relative_path: str) -> None:
    _save(store)
    with pytest.raises(UnsafeEvidencePath):
        store.resolve(relative_path)
    with pytest.raises(UnsafeEvidencePath):
        store.verify(relative_path, "0" * 64)


def test_non_string_path_is_refused(store: EvidenceStore) -> None:
    with pytest.raises(UnsafeEvidencePath, match="string"):
        store.resolve(Path("/etc/passwd"))  # type: ignore[arg-type]


def test_symlink_out_of_the_root_is_refused(store: EvidenceStore, tmp_path: Path) -> None:
    secret = tmp_path / "secret.jpg"
    secret.write_bytes(b"not evidence")
    _save(store)
    (store.root / "leak.jpg").symlink_to(secret)
    (store.root / "outside").symlink_to(tmp_path)
    with pytest.raises(UnsafeEvidencePath, match="outside"):
        store.resolve("leak.jpg")
    with pytest.raises(UnsafeEvidencePath, match="outside"):
        store.resolve("outside/secret.jpg")


def test_symlink_within_the_root_is_followed(store: EvidenceStore) -> None:
    stored = _save(store)
    (store.root / "latest.jpg").symlink_to(store.root / stored.relative_path)
    assert store.resolve("latest.jpg") == store.resolve(stored.relative_path)


def test_symlink_loop_is_refused(store: EvidenceStore) -> None:
    _save(store)
    (store.root / "loop").symlink_to(store.root / "loop")
    with pytest.raises((UnsafeEvidencePath, EvidenceNotFound)):
        store.resolve("loop")


def test_save_leaves_no_temporary_files(store: EvidenceStore) -> None:
    for kind in ("frame", "crop", "comparison"):
        _save(store, kind=kind)
    files = [path for path in store.root.rglob("*") if path.is_file()]
    assert len(files) == 3
    assert all(path.suffix == ".jpg" and not path.name.startswith(".") for path in files)


def test_failed_write_leaves_nothing_behind(store: EvidenceStore, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_replace(source: str, target: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        _save(store)
    assert [path for path in store.root.rglob("*") if path.is_file()] == []


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"kind": "thumbnail"}, "kind"),
        ({"taken_at": datetime(2024, 6, 11, 14, 0)}, "timezone-aware"),
    ],
)
def test_bad_save_arguments_are_refused(store: EvidenceStore, overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _save(store, **overrides)


@pytest.mark.parametrize(
    "image", [np.zeros((4, 4, 4), np.uint8), np.zeros((4, 4, 3), np.float32), np.zeros((0, 4, 3), np.uint8)]
)
def test_bad_images_are_refused(store: EvidenceStore, image: np.ndarray) -> None:
    with pytest.raises(ValueError, match="uint8"):
        store.save(image, kind="frame", taken_at=TAKEN_AT)


def test_bad_quality_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="jpeg_quality"):
        EvidenceStore(tmp_path, jpeg_quality=0)


def test_default_root_is_in_the_data_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XIUHUA_DATA", str(tmp_path / "data"))
    assert EvidenceStore().root == tmp_path / "data" / "evidence"
