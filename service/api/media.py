"""Checks on uploaded files: what the bytes are (magic numbers), whether an image decodes, storing under a new name.

Uploads are never trusted by their name or declared type alone: the first bytes decide the format, the declared
content type must agree with it, and an image must decode. Files are written under a generated name, never the
client's.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

import cv2
import numpy as np

from service.api.errors import PayloadTooLarge, UnprocessableFile, UnsupportedMediaType

MediaKind = Literal["image", "video"]
CHUNK_BYTES = 1024 * 1024
SNIFF_BYTES = 512
# Declared types that say nothing about the content (curl -F, some browsers for .ts/.mkv): the bytes decide.
UNSPECIFIED_TYPES = ("", "application/octet-stream", "binary/octet-stream")


@dataclass(frozen=True)
class MediaFormat:
    """A recognised file format.

    Attributes:
        kind: ``image`` or ``video``.
        name: Short format name (``jpeg``, ``mp4`` …).
        extension: File extension to store it under, with the dot.
    """

    kind: MediaKind
    name: str
    extension: str


@dataclass(frozen=True)
class StoredFile:
    """An upload written to disk.

    Attributes:
        path: Where it was written (a generated name).
        size: Bytes written.
        sha256: Hex digest of the content.
        format: What the content is.
    """

    path: Path
    size: int
    sha256: str
    format: MediaFormat


def sniff(head: bytes) -> MediaFormat | None:
    """The format of a file from its first bytes (at least 189 for MPEG-TS), or ``None`` if not a known one."""
    if head.startswith(b"\xff\xd8\xff"):
        return MediaFormat("image", "jpeg", ".jpg")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return MediaFormat("image", "png", ".png")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return MediaFormat("image", "webp", ".webp")
    if head.startswith(b"BM") and len(head) > 14:
        return MediaFormat("image", "bmp", ".bmp")
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return MediaFormat("image", "tiff", ".tif")
    if head[4:8] == b"ftyp":
        return MediaFormat("video", "mov", ".mov") if head[8:12] == b"qt  " else MediaFormat("video", "mp4", ".mp4")
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return MediaFormat("video", "matroska", ".mkv")
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return MediaFormat("video", "avi", ".avi")
    if head.startswith(b"FLV\x01"):
        return MediaFormat("video", "flv", ".flv")
    if len(head) > 188 and head[0] == 0x47 and head[188] == 0x47:
        return MediaFormat("video", "mpegts", ".ts")
    return None


def check_format(
    file: BinaryIO, *, declared_type: str | None, field: str, allowed: Iterable[MediaKind] = ("image", "video")
) -> MediaFormat:
    """The format of ``file`` (read from its start, then rewound), checked against the declared content type.

    Raises:
        UnsupportedMediaType: Unknown bytes, a kind not in ``allowed``, or a declared type that contradicts them.
    """
    file.seek(0)
    head = file.read(SNIFF_BYTES)
    file.seek(0)
    found = sniff(head)
    kinds = tuple(allowed)
    wanted = " or ".join(kinds)
    if found is None or found.kind not in kinds:
        raise UnsupportedMediaType(field, f"is not a supported {wanted} file (its content is not a known format)")
    declared = (declared_type or "").split(";")[0].strip().lower()
    if declared not in UNSPECIFIED_TYPES and not declared.startswith(f"{found.kind}/"):
        raise UnsupportedMediaType(field, f"is declared as {declared!r} but its content is {found.name}")
    return found


def store(
    file: BinaryIO, *, folder: Path, media: MediaFormat, max_bytes: int, field: str, name: str | None = None
) -> StoredFile:
    """Copy ``file`` into ``folder`` under a generated name, stopping at ``max_bytes``.

    Raises:
        PayloadTooLarge: The file is larger than ``max_bytes`` (nothing is left behind).
    """
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name or uuid.uuid4().hex}{media.extension}"
    partial = target.with_name(target.name + ".part")
    digest = hashlib.sha256()
    size = 0
    file.seek(0)
    try:
        with partial.open("wb") as out:
            while chunk := file.read(CHUNK_BYTES):
                size += len(chunk)
                if size > max_bytes:
                    raise PayloadTooLarge(field, max_bytes)
                digest.update(chunk)
                out.write(chunk)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return StoredFile(path=target, size=size, sha256=digest.hexdigest(), format=media)


def read_limited(file: BinaryIO, *, max_bytes: int, field: str) -> bytes:
    """All of ``file``, refusing more than ``max_bytes``."""
    file.seek(0)
    data = file.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise PayloadTooLarge(field, max_bytes)
    return data


def decode_image(data: bytes, *, field: str) -> np.ndarray:
    """Decode image bytes to a BGR array.

    Raises:
        UnprocessableFile: OpenCV cannot decode it (truncated or not really an image).
    """
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None or image.size == 0:
        raise UnprocessableFile(field, "is not a decodable image")
    return image


def probe_video(path: Path, *, field: str) -> float | None:
    """Check that ``path`` opens as a video with a video stream; its duration in seconds when the container says.

    Raises:
        UnprocessableFile: The container does not open or has no video stream.
    """
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise UnprocessableFile(field, "has no video stream")
            duration = container.duration
    except av.error.FFmpegError as error:
        raise UnprocessableFile(field, f"is not a readable video ({error.strerror or error})") from error
    return duration / 1_000_000 if duration else None
