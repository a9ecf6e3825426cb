"""Cameras and their reference images."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from service.api.schemas.common import Heading, InputModel, Latitude, Longitude, PublicModel, UTCTime

CameraKind = Literal["fixed", "ptz", "patrol"]
KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$"


class CameraCreate(InputModel):
    """A new camera."""

    key: str = Field(min_length=1, max_length=128, pattern=KEY_PATTERN, description="The department's name for it.")
    name: str = Field(default="", max_length=256)
    kind: CameraKind
    stream_url: str | None = Field(default=None, max_length=1024)
    lat: Latitude | None = None
    lon: Longitude | None = None
    heading_deg: Heading | None = None
    calibration: dict[str, Any] | None = Field(default=None, description="Image↔map point pairs of a fixed camera.")
    settings: dict[str, Any] | None = Field(default=None, description="Ignore masks, sampling and other options.")
    enabled: bool = True


class CameraUpdate(InputModel):
    """Changes to a camera; fields left out stay as they are."""

    key: str | None = Field(default=None, min_length=1, max_length=128, pattern=KEY_PATTERN)
    name: str | None = Field(default=None, max_length=256)
    kind: CameraKind | None = None
    stream_url: str | None = Field(default=None, max_length=1024)
    lat: Latitude | None = None
    lon: Longitude | None = None
    heading_deg: Heading | None = None
    calibration: dict[str, Any] | None = None
    settings: dict[str, Any] | None = None
    enabled: bool | None = None

    @model_validator(mode="after")
    def _required_fields_not_cleared(self) -> CameraUpdate:
        for name in ("key", "name", "kind", "enabled"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class CameraPublic(PublicModel):
    """A camera as the API shows it."""

    id: int
    key: str
    name: str
    kind: str
    stream_url: str | None
    lat: float | None
    lon: float | None
    heading_deg: float | None
    calibration: dict[str, Any] | None
    settings: dict[str, Any] | None
    enabled: bool
    created_at: UTCTime
    updated_at: UTCTime


class CamerasPublic(PublicModel):
    """A page of cameras and how many match in all."""

    items: list[CameraPublic]
    count: int


class ReferencePublic(PublicModel):
    """A reference image of a camera view, preset or route position."""

    id: int
    camera_id: int
    preset: str | None
    lat: float | None
    lon: float | None
    heading_deg: float | None
    taken_at: UTCTime
    image_path: str
    sha256: str
    replaced_at: UTCTime | None
    created_at: UTCTime


class ReferencesPublic(PublicModel):
    """A camera's reference images."""

    items: list[ReferencePublic]
    count: int
