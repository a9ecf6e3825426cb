"""The copies of evidence photos that leave the department: faces blurred when ``blur_faces`` is on.

Evidence files are the department's record: their SHA-256 is stored with them and reviewers see them as taken. When
``PostingSettings.blur_faces`` is on, what the city platform (and MQTT subscribers) receive is a copy with faces
blurred instead:

- inline photos: the blurred bytes are encoded in memory and sent with their own SHA-256;
- photo URLs: the copy is written beside the original as ``<name>.public.jpg`` (once; a copy already there is
  reused, so retries send the same bytes) and its URL and SHA-256 are sent.

A photo in which no face is found is sent as it is (same bytes, same hash). The original is only read, after its
bytes are checked against the recorded SHA-256. Out of the box faces are found by OpenCV's bundled Haar cascade
(``face_model`` unset). When no face detector can be built (an OpenCV 5 installed by hand, which has no Haar
cascades; a YuNet model file is missing or broken) blurring fails with a :class:`PayloadError` that names the
settings, so no unblurred photo leaves.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from service.posting.errors import PayloadError
from service.posting.settings import PostingSettings
from vision.errors import ModelError
from vision.evidence import BlurSettings, FaceBlurrer

PUBLIC_SUFFIX = ".public.jpg"
JPEG_QUALITY = 92


@dataclass(frozen=True)
class PublicPhoto:
    """A photo as it leaves the department.

    Attributes:
        data: Its bytes.
        sha256: Their SHA-256 (hex).
        relative_path: Its path under the evidence folder (the original's, or the public copy's).
        media_type: ``image/jpeg`` for a blurred copy, else ``None`` (guess from the original's name).
    """

    data: bytes
    sha256: str
    relative_path: str
    media_type: str | None = None


def face_blurrer(settings: PostingSettings) -> FaceBlurrer:
    """The face blurrer for photos that leave the department (build it once per posting run).

    Raises:
        PayloadError: No face detector can be built; the message names the settings to fix.
    """
    try:
        return FaceBlurrer(BlurSettings(faces=True, face_model=settings.face_model))
    except ModelError as error:
        raise PayloadError(
            f"blur_faces (XIUHUA_POST_BLUR_FACES) is on but no face detector can be built: {error}. Set "
            "face_model (XIUHUA_POST_FACE_MODEL) to a YuNet .onnx file, install opencv-python<5 (Haar cascades), "
            "or turn blur_faces off; no photo is sent unblurred"
        ) from error


def read_evidence(relative_path: str, sha256: str, *, root: Path, max_bytes: int | None = None) -> bytes:
    """The bytes of an evidence file, checked against the SHA-256 recorded with it.

    Raises:
        PayloadError: The file is outside ``root``, unreadable, over ``max_bytes`` or its bytes changed.
    """
    root = root.resolve()
    path = (root / relative_path).resolve()
    if not path.is_relative_to(root):
        raise PayloadError(f"photo {relative_path!r}: outside the evidence folder {root}")
    try:
        size = path.stat().st_size
        if max_bytes is not None and size > max_bytes:
            raise PayloadError(f"photo {path}: {size} bytes, over max_inline_bytes={max_bytes}")
        data = path.read_bytes()
    except OSError as error:
        raise PayloadError(f"photo {path}: cannot read: {error}") from error
    if hashlib.sha256(data).hexdigest() != sha256:
        raise PayloadError(f"photo {path}: SHA-256 differs from the one recorded with the evidence")
    return data


def blurred_photo(data: bytes, relative_path: str, blurrer: FaceBlurrer) -> PublicPhoto:
    """The photo with faces blurred, in memory; the original bytes when no face is found.

    Raises:
        PayloadError: The bytes are not an image OpenCV can read, or the blurred copy cannot be encoded.
    """
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise PayloadError(f"photo {relative_path!r}: not an image OpenCV can read, so its faces cannot be blurred")
    result = blurrer.blur(np.asarray(image, np.uint8))
    if len(result.blurred_boxes) == 0:
        return PublicPhoto(data, hashlib.sha256(data).hexdigest(), relative_path)
    ok, encoded = cv2.imencode(".jpg", result.image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise PayloadError(f"photo {relative_path!r}: the blurred copy could not be encoded as JPEG")
    blurred = encoded.tobytes()
    return PublicPhoto(blurred, hashlib.sha256(blurred).hexdigest(), relative_path, "image/jpeg")


def public_copy(relative_path: str, sha256: str, *, root: Path, blurrer: FaceBlurrer) -> PublicPhoto:
    """The blurred copy ``<name>.public.jpg`` beside the original, written once and reused after.

    The original is only read (and checked against its SHA-256 every time). The copy is written to a temporary
    file and linked into place, so a crash never leaves half a copy and an existing copy is never overwritten.

    Raises:
        PayloadError: The original is unreadable or changed, or the copy cannot be written or read.
    """
    data = read_evidence(relative_path, sha256, root=root)
    relative = Path(relative_path)
    public_relative = (relative.parent / (relative.stem + PUBLIC_SUFFIX)).as_posix()
    target = root.resolve() / public_relative
    if not target.is_file():
        _write_once(target, blurred_photo(data, relative_path, blurrer).data)
    try:
        copy = target.read_bytes()
    except OSError as error:
        raise PayloadError(f"photo {target}: cannot read the public copy: {error}") from error
    return PublicPhoto(copy, hashlib.sha256(copy).hexdigest(), public_relative, "image/jpeg")


def _write_once(target: Path, data: bytes) -> None:
    try:
        descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=".public-")
    except OSError as error:
        raise PayloadError(f"photo {target}: cannot write the public copy: {error}") from error
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        with contextlib.suppress(FileExistsError):  # another sender wrote it first: theirs is kept
            os.link(temporary, target)
    except OSError as error:
        raise PayloadError(f"photo {target}: cannot write the public copy: {error}") from error
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
