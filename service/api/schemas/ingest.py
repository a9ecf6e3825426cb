"""The ingest endpoint's report."""

from __future__ import annotations

from service.api.schemas.common import PublicModel


class LineProblemPublic(PublicModel):
    """One line that was skipped (or went in with a warning)."""

    line: int
    message: str
    skipped: bool


class IngestPublic(PublicModel):
    """What an ingest did: counts as ``xiuhua ingest`` prints them, and the problems by line (the first 1000)."""

    lines: int
    bad: int
    observations: int
    sightings: int
    opened: int
    attached: int
    dropped: int
    duplicates: int
    missing_images: int
    problems: list[LineProblemPublic]
    problems_truncated: bool
