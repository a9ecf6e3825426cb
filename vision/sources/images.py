"""Single photos and folders of photos, with EXIF capture time, GPS position and orientation."""

from __future__ import annotations

import os
import weakref
from collections.abc import Generator, Iterator
from datetime import datetime, tzinfo
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageOps

from vision.errors import SourceError
from vision.frame import Frame
from vision.sources.base import ClosingSource, SourceInfo
from vision.sources.exif import PhotoExif, read_exif

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"})
# Pillow raises these for files that are not images, are cut short, or are absurdly large.
# ImportError: ultralytics, once imported, patches Image.open to try an optional HEIF plugin on files PIL cannot
# identify, which raises ModuleNotFoundError when that plugin is absent.
_PIL_ERRORS = (OSError, ValueError, SyntaxError, ImportError, Image.DecompressionBombError)
_ROTATED_ORIENTATIONS = frozenset({5, 6, 7, 8})


class ImageSource(ClosingSource):
    """Yields one `Frame` per image file: a single file, or a folder's images sorted by path.

    Frame fields: ``source_id`` is the image file's own path; ``index`` its position in the sorted list;
    ``wall_time`` EXIF DateTimeOriginal (see `PhotoExif` for time zones); ``gps`` the EXIF GPS position;
    ``timestamp`` seconds since the earliest capture time in the set, or 0.0 for a photo without one (a capture
    time that cannot be compared, naive against aware, counts from the earliest of its own kind); ``keyframe`` is
    True (every photo stands alone). Pixels are rotated upright per the EXIF Orientation tag.

    An unreadable file raises `SourceError` naming it when iteration reaches it (after the photos before it were
    yielded), or, with ``skip_unreadable=True``, is left out and its error kept in `skipped`.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        recursive: bool = False,
        default_tz: tzinfo | None = None,
        skip_unreadable: bool = False,
    ) -> None:
        """Lists the images to read.

        Args:
            path: An image file or a folder of images.
            recursive: Also read images in sub-folders.
            default_tz: Zone for EXIF times that carry no offset; None leaves them naive.
            skip_unreadable: Leave out unreadable files instead of raising.

        Raises:
            SourceError: The path is missing, or the folder holds no image files.
        """
        self.path = Path(path)
        self.source_id = str(path)
        self.default_tz = default_tz
        self.skip_unreadable = skip_unreadable
        self.skipped: list[SourceError] = []
        self.files = _list_images(self.path, recursive)
        self._info: SourceInfo | None = None
        self._iterators: weakref.WeakSet[Generator[Frame, None, None]] = weakref.WeakSet()

    def describe(self) -> SourceInfo:
        """Number of files, and the first image's size and format (read from its header only)."""
        if self._info is None:
            width = height = None
            codec = None
            try:
                with Image.open(self.files[0]) as image:
                    width, height, codec = image.width, image.height, image.format
                    if image.getexif().get(0x0112) in _ROTATED_ORIENTATIONS:
                        width, height = height, width
            except _PIL_ERRORS:
                pass
            self._info = SourceInfo(
                source_id=self.source_id,
                kind="images",
                sampling="every image",
                width=width,
                height=height,
                frame_count=len(self.files),
                codec=codec,
            )
        return self._info

    def count_hint(self) -> int:
        """The number of image files."""
        return len(self.files)

    def __iter__(self) -> Iterator[Frame]:
        frames = self._read_all()
        self._iterators.add(frames)
        return frames

    def close(self) -> None:
        """Stops any iteration in progress (files are closed after each read anyway)."""
        for frames in list(self._iterators):
            frames.close()

    def _read_all(self) -> Generator[Frame, None, None]:
        self.skipped = []
        origins = _earliest_times(self._capture_times())
        for index, file in enumerate(self.files):
            try:
                pixels, exif = load_image(file, self.default_tz)
            except SourceError as error:
                if not self.skip_unreadable:
                    raise
                self.skipped.append(error)
                continue
            yield Frame(
                image=pixels,
                source_id=str(file),
                index=index,
                timestamp=_seconds_since(origins, exif.wall_time),
                wall_time=exif.wall_time,
                gps=exif.gps,
                keyframe=True,
            )

    def _capture_times(self) -> list[datetime]:
        """EXIF times of every file, from headers only (pixels are not decoded)."""
        if len(self.files) < 2:
            return []
        times = []
        for file in self.files:
            try:
                with Image.open(file) as image:
                    moment = read_exif(image, self.default_tz).wall_time
            except _PIL_ERRORS:
                continue
            if moment is not None:
                times.append(moment)
        return times


def load_image(path: Path, default_tz: tzinfo | None = None) -> tuple[npt.NDArray[np.uint8], PhotoExif]:
    """Decodes one image file to upright BGR pixels and reads its EXIF.

    Raises:
        SourceError: The file is missing, empty, or not a readable image.
    """
    if not path.is_file():
        raise SourceError(str(path), "file does not exist")
    if path.stat().st_size == 0:
        raise SourceError(str(path), "file is empty")
    try:
        with Image.open(path) as image:
            exif = read_exif(image, default_tz)
            upright = ImageOps.exif_transpose(image)
            rgb = _to_rgb(upright)
    except _PIL_ERRORS as error:
        raise SourceError(str(path), f"not a readable image ({type(error).__name__}: {error})") from error
    return np.ascontiguousarray(rgb[:, :, ::-1]), exif


def _to_rgb(image: Image.Image) -> npt.NDArray[np.uint8]:
    if image.mode in ("I;16", "I;16L", "I;16B", "I"):  # 16-bit greyscale: keep the high byte, not clip at 255
        wide = np.asarray(image).astype(np.uint32)
        grey = (wide >> 8).clip(0, 255).astype(np.uint8)
        return np.repeat(grey[:, :, None], 3, axis=2)
    return np.asarray(image.convert("RGB"), dtype=np.uint8)


def _list_images(path: Path, recursive: bool) -> tuple[Path, ...]:
    if path.is_file():
        return (path,)
    if not path.is_dir():
        raise SourceError(str(path), "does not exist")
    pattern = "**/*" if recursive else "*"
    files = sorted(
        (item for item in path.glob(pattern) if item.suffix.lower() in IMAGE_SUFFIXES and item.is_file()),
        key=lambda item: item.relative_to(path).as_posix(),
    )
    if not files:
        where = "or its sub-folders " if recursive else ""
        raise SourceError(str(path), f"folder {where}holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
    return tuple(files)


def _earliest_times(times: list[datetime]) -> tuple[datetime | None, datetime | None]:
    """The earliest naive and the earliest aware time (the two cannot be compared with each other)."""
    naive = [moment for moment in times if moment.tzinfo is None]
    aware = [moment for moment in times if moment.tzinfo is not None]
    return (min(naive) if naive else None, min(aware) if aware else None)


def _seconds_since(origins: tuple[datetime | None, datetime | None], moment: datetime | None) -> float:
    if moment is None:
        return 0.0
    origin = origins[0] if moment.tzinfo is None else origins[1]
    return 0.0 if origin is None else (moment - origin).total_seconds()
