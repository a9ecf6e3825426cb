"""Evidence files on disk: JPEGs under ``root/YYYY/MM/DD/``, written atomically, with their SHA-256.

The API serves evidence through :meth:`EvidenceStore.resolve`, which only ever returns a path inside the root: a
request cannot reach other files with ``..``, an absolute path, a backslash, a NUL byte or a symlink pointing out.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import tempfile
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import ClassVar

import cv2
import numpy as np
import numpy.typing as npt

from service.defaults import data_dir

EVIDENCE_KINDS = ("frame", "crop", "comparison", "source")  # source: the clean best frame, for training exports
_HINT_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_HINT_MAX = 40
_TEMP_PREFIX = ".incoming-"


class EvidenceError(Exception):
    """Base of the evidence store's errors."""


class UnsafeEvidencePath(EvidenceError, ValueError):
    """A relative path that would leave the evidence folder, or is not one the store writes."""

    def __init__(self, relative_path: object, reason: str) -> None:
        super().__init__(f"evidence path {relative_path!r}: {reason}")
        self.relative_path = relative_path
        self.reason = reason


class EvidenceNotFound(EvidenceError, FileNotFoundError):
    """A safe relative path with no evidence file behind it."""


@dataclass(frozen=True)
class StoredEvidence:
    """One evidence file as written.

    Attributes:
        kind: ``frame``, ``crop`` or ``comparison``.
        relative_path: POSIX path under the store's root, e.g. ``2024/06/11/140322-cam3-t17-frame-1a2b….jpg``.
        sha256: Hex SHA-256 of the file's bytes.
        taken_at: When the picture was taken (timezone-aware).
    """

    kind: str
    relative_path: str
    sha256: str
    taken_at: datetime


class EvidenceStore:
    """Writes, finds and checks evidence JPEGs under one root folder.

    A subclass can store other pictures the same way by changing ``kinds`` (what :meth:`save` accepts) and
    ``default_folder`` (its folder under the data folder): ``service.references.ReferenceStore`` does.
    """

    kinds: ClassVar[tuple[str, ...]] = EVIDENCE_KINDS
    default_folder: ClassVar[str] = "evidence"

    def __init__(self, root: Path | None = None, jpeg_quality: int = 90) -> None:
        """Point the store at its folder (created on first save).

        Args:
            root: The folder; ``None`` uses ``default_folder`` (``evidence/``) in the data folder (``$XIUHUA_DATA``).
            jpeg_quality: JPEG quality 1-100.
        """
        if not 1 <= jpeg_quality <= 100:
            raise ValueError(f"jpeg_quality must be in 1..100, got {jpeg_quality}")
        self.root = Path(root) if root is not None else data_dir() / self.default_folder
        self.jpeg_quality = jpeg_quality

    def save(
        self, image: npt.NDArray[np.uint8], *, kind: str, taken_at: datetime, name_hint: str = ""
    ) -> StoredEvidence:
        """Encode ``image`` as JPEG and write it under ``root/YYYY/MM/DD/`` (UTC date of ``taken_at``).

        The file appears complete or not at all: it is written to a temporary file in the same folder, flushed to
        disk and renamed into place.

        Args:
            image: ``(H, W, 3)`` uint8 BGR or ``(H, W)`` uint8 grey image.
            kind: One of ``kinds``: ``frame``, ``crop`` or ``comparison`` for evidence.
            taken_at: When the picture was taken; timezone-aware.
            name_hint: Words for the file name (camera, track); characters other than letters, digits, ``_`` and
                ``-`` are dropped. A random part keeps names unique.

        Raises:
            ValueError: Unknown kind, naive ``taken_at``, or an image that is not uint8 grey/BGR.
            EvidenceError: The image could not be encoded.
            OSError: The file could not be written (disk full, permissions).
        """
        if kind not in self.kinds:
            raise ValueError(f"{self.default_folder} kind {kind!r} is not one of {', '.join(self.kinds)}")
        if taken_at.tzinfo is None:
            raise ValueError("evidence taken_at must be timezone-aware")
        data = self._encode(image)
        taken_utc = taken_at.astimezone(UTC)
        hint = _HINT_UNSAFE.sub("-", name_hint).strip("-")[:_HINT_MAX]
        name = "-".join(part for part in (f"{taken_utc:%H%M%S}", hint, kind, uuid.uuid4().hex[:16]) if part)
        relative = PurePosixPath(f"{taken_utc:%Y}", f"{taken_utc:%m}", f"{taken_utc:%d}", f"{name}.jpg")
        _write_atomically(self.root / relative, data)
        return StoredEvidence(kind, relative.as_posix(), hashlib.sha256(data).hexdigest(), taken_at)

    def resolve(self, relative_path: str) -> Path:
        """The file behind a relative path, guaranteed to be inside the root.

        Args:
            relative_path: A ``relative_path`` from :meth:`save` (POSIX separators).

        Returns:
            The absolute, symlink-free path of an existing regular file inside the root.

        Raises:
            UnsafeEvidencePath: Not a string, empty, absolute, with ``..``/``.``/empty parts, a backslash, a NUL byte,
                a drive or stream colon, or resolving (through a symlink) outside the root.
            EvidenceNotFound: The path is safe but no file is there.
        """
        parts = _safe_parts(relative_path)
        root = self.root.resolve()
        try:
            target = root.joinpath(*parts).resolve()
        except (OSError, RuntimeError) as error:  # a symlink loop, an unreadable folder
            raise UnsafeEvidencePath(relative_path, f"cannot be resolved: {error}") from error
        if not target.is_relative_to(root):
            raise UnsafeEvidencePath(relative_path, f"resolves outside the {self.default_folder} folder")
        if not target.is_file():
            raise EvidenceNotFound(f"no evidence file at {relative_path!r}")
        return target

    def verify(self, relative_path: str, sha256: str) -> bool:
        """Whether the file at ``relative_path`` exists and its bytes hash to ``sha256`` (hex, any case).

        Raises:
            UnsafeEvidencePath: The path would leave the root.
        """
        try:
            path = self.resolve(relative_path)
        except EvidenceNotFound:
            return False
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return hmac.compare_digest(digest.hexdigest(), sha256.strip().lower())

    def _encode(self, image: npt.NDArray[np.uint8]) -> bytes:
        grey_or_bgr = image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3)
        if not grey_or_bgr or image.dtype != np.uint8 or image.size == 0:
            raise ValueError(f"evidence image must be (H, W, 3) or (H, W) uint8, got {image.shape} {image.dtype}")
        ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality])
        if not ok:
            raise EvidenceError(f"OpenCV could not encode a {image.shape} image as JPEG")
        return encoded.tobytes()


def _safe_parts(relative_path: object) -> tuple[str, ...]:
    if not isinstance(relative_path, str) or not relative_path:
        raise UnsafeEvidencePath(relative_path, "must be a non-empty string")
    for character, reason in (("\x00", "contains a NUL byte"), ("\\", "contains a backslash"), (":", "has a colon")):
        if character in relative_path:
            raise UnsafeEvidencePath(relative_path, reason)
    if relative_path.startswith("/"):
        raise UnsafeEvidencePath(relative_path, "is absolute")
    parts = tuple(relative_path.split("/"))
    if any(part in ("", ".", "..") for part in parts):
        raise UnsafeEvidencePath(relative_path, "has an empty, '.' or '..' part")
    return parts


def _write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file next to ``path``, flush it to disk and rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=_TEMP_PREFIX, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    # The rename is durable once the folder's entry is on disk (POSIX); not possible (nor needed) on Windows.
    if os.name != "posix":
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
