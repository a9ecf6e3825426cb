"""Turning the paths of a scan command into source files: videos and photos, each with its sidecar GPS track."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from vision.sources import IMAGE_SUFFIXES, VIDEO_SUFFIXES, is_stream_url

Media = Literal["video", "image"]
TRACK_SUFFIXES = (".gpx", ".nmea", ".csv")


@dataclass(frozen=True)
class SourceFile:
    """One file to scan.

    Attributes:
        path: The file, absolute (the same file is one source however the command named it).
        media: ``video`` or ``image``.
        track: The GPS track found next to a video by name, if any.
    """

    path: Path
    media: Media
    track: Path | None = None


@dataclass(frozen=True)
class InputProblem:
    """A command-line path that names nothing to scan, and why."""

    path: str
    reason: str


def find_sidecar(video: Path) -> Path | None:
    """The GPS track beside a video: ``clip.gpx`` / ``clip.nmea`` / ``clip.csv``, or ``clip.mp4.gpx`` and so on.

    Suffixes are matched in either case (``CLIP.GPX``); the first of ``.gpx``, ``.nmea``, ``.csv`` wins.
    """
    try:
        siblings = {p.name.lower(): p for p in video.parent.iterdir() if p.is_file()}
    except OSError:
        return None
    for base in (video.stem, video.name):
        for suffix in TRACK_SUFFIXES:
            found = siblings.get(f"{base}{suffix}".lower())
            if found is not None:
                return found
    return None


def discover(paths: Sequence[str]) -> tuple[list[SourceFile], list[InputProblem]]:
    """The videos and photos the paths name, folders searched recursively, sorted by path, each once.

    Returns:
        The source files, and the paths that name nothing to scan (missing, a stream URL, an empty folder, a file
        that is neither a video nor a photo).
    """
    found: dict[Path, SourceFile] = {}
    problems: list[InputProblem] = []
    for text in paths:
        if is_stream_url(text):
            problems.append(InputProblem(text, "a stream URL: live streams are watched with 'xiuhua watch'"))
            continue
        path = Path(text).expanduser()
        if not path.exists():
            problems.append(InputProblem(text, "no such file or folder"))
            continue
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        media_files = [(file, _media(file)) for file in files]
        kept = [(file, media) for file, media in media_files if media is not None]
        if not kept:
            what = "holds no videos or photos" if path.is_dir() else "is neither a video nor a photo (by its suffix)"
            problems.append(InputProblem(text, what))
            continue
        for file, media in kept:
            absolute = file.resolve()
            if absolute not in found:
                assert media is not None
                track = find_sidecar(absolute) if media == "video" else None
                found[absolute] = SourceFile(absolute, media, track)
    return [found[path] for path in sorted(found)], problems


def _media(path: Path) -> Media | None:
    suffix = path.suffix.lower()
    if suffix in VIDEO_SUFFIXES:
        return "video"
    if suffix in IMAGE_SUFFIXES:
        return "image"
    return None
