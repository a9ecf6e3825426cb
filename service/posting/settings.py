"""How posting behaves: where to send, how to retry, how photos and coordinates are written.

Every setting has a default and an environment variable (read only by :meth:`PostingSettings.from_env`, never at
import time):

==========================  =================================  ==================================================
setting                     environment variable               default
==========================  =================================  ==================================================
``url``                     ``XIUHUA_POST_URL``                ``None`` (HTTP target off)
``timeout_s``               ``XIUHUA_POST_TIMEOUT_S``          10
``backoff_base_s``          ``XIUHUA_POST_BACKOFF_BASE_S``     5 (first retry after ~5 s, then 10, 20 …)
``backoff_cap_s``           ``XIUHUA_POST_BACKOFF_CAP_S``      3600
``jitter``                  ``XIUHUA_POST_JITTER``             0.25 (a delay is shortened by up to 25 %)
``max_attempts``            ``XIUHUA_POST_MAX_ATTEMPTS``       12 (then the message is dead-lettered)
``batch_size``              ``XIUHUA_POST_BATCH_SIZE``         20
``claim_lease_s``           ``XIUHUA_POST_CLAIM_LEASE_S``      120 (a crashed sender's claim comes back after this)
``coordinate_system``       ``XIUHUA_POST_CRS``                ``wgs84`` (or ``gcj02``, ``cgcs2000``)
``photo_mode``              ``XIUHUA_POST_PHOTOS``             ``url`` (or ``inline``: base64 in the JSON)
``public_base_url``         ``XIUHUA_PUBLIC_BASE_URL``         ``None`` (photo URLs are then left out)
``evidence_dir``            ``XIUHUA_EVIDENCE_DIR``            ``<data dir>/evidence``
``max_inline_bytes``        ``XIUHUA_POST_MAX_INLINE_BYTES``   5 MiB per photo
``mqtt_host``               ``XIUHUA_MQTT_HOST``               ``None`` (MQTT target off)
``mqtt_port``               ``XIUHUA_MQTT_PORT``               1883
``mqtt_topic_prefix``       ``XIUHUA_MQTT_TOPIC_PREFIX``       ``xiuhua``
``mqtt_username``           ``XIUHUA_MQTT_USERNAME``           ``None``
``mqtt_password``           ``XIUHUA_MQTT_PASSWORD``           ``None``
``blur_faces``              ``XIUHUA_POST_BLUR_FACES``         off (``1``/``true``/``yes``/``on``: blur faces)
``face_model``              ``XIUHUA_POST_FACE_MODEL``         ``None`` (OpenCV's Haar cascade; or a YuNet .onnx)
==========================  =================================  ==================================================

``blur_faces`` blurs faces in every photo that leaves the department (the platform's JSON and MQTT messages; see
:mod:`service.posting.photos`): inline photos are blurred in memory, photo URLs point to a blurred copy
``<name>.public.jpg`` written beside the original. The evidence files themselves, their recorded SHA-256 and the
reviewers' pages stay unblurred. When no face detector can be built (OpenCV 5 has no Haar cascades; ``face_model``
missing or unreadable), nothing is sent: ``xiuhua post`` stops before claiming a message (exit 2), and a sender
built without a blurrer dead-letters each case that carries photos, with an error naming these settings.

Coordinates are stored as WGS-84 (what GPS gives). Many Chinese platforms want GCJ-02 (the "Mars" datum of
Chinese web maps) and some CGCS2000; ``coordinate_system`` converts on the way out (CGCS2000 agrees with WGS-84 to
well under a metre, so it is written unchanged and only labelled differently).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

from service.defaults import data_dir

COORDINATE_SYSTEMS = ("wgs84", "gcj02", "cgcs2000")
PHOTO_MODES = ("url", "inline")


def default_evidence_dir() -> Path:
    """The folder evidence paths are relative to: ``<data dir>/evidence``."""
    return data_dir() / "evidence"


@dataclass(frozen=True)
class PostingSettings:
    """Settings of the outbox sender, the payload renderer and the MQTT publisher (see the module docstring)."""

    url: str | None = None
    timeout_s: float = 10.0
    backoff_base_s: float = 5.0
    backoff_cap_s: float = 3600.0
    jitter: float = 0.25
    max_attempts: int = 12
    batch_size: int = 20
    claim_lease_s: float = 120.0
    coordinate_system: str = "wgs84"
    photo_mode: str = "url"
    public_base_url: str | None = None
    evidence_dir: Path = field(default_factory=default_evidence_dir)
    max_inline_bytes: int = 5 * 1024 * 1024
    mqtt_host: str | None = None
    mqtt_port: int = 1883
    mqtt_topic_prefix: str = "xiuhua"
    mqtt_username: str | None = None
    mqtt_password: str | None = None
    blur_faces: bool = False
    face_model: Path | None = None

    def __post_init__(self) -> None:
        if self.coordinate_system not in COORDINATE_SYSTEMS:
            raise ValueError(
                f"coordinate_system: {self.coordinate_system!r} is not one of {', '.join(COORDINATE_SYSTEMS)}"
            )
        if self.photo_mode not in PHOTO_MODES:
            raise ValueError(f"photo_mode: {self.photo_mode!r} is not one of {', '.join(PHOTO_MODES)}")
        positive = ("timeout_s", "backoff_base_s", "backoff_cap_s", "claim_lease_s", "max_attempts", "batch_size")
        for name in positive:
            if getattr(self, name) <= 0:
                raise ValueError(f"{name}: must be > 0, got {getattr(self, name)!r}")
        if not 0 <= self.jitter < 1:
            raise ValueError(f"jitter: must be in [0, 1), got {self.jitter!r}")
        if self.backoff_cap_s < self.backoff_base_s:
            raise ValueError(f"backoff_cap_s ({self.backoff_cap_s}) is below backoff_base_s ({self.backoff_base_s})")

    @property
    def targets(self) -> tuple[str, ...]:
        """The targets these settings can send to: ``http`` with a URL, ``mqtt`` with a broker host."""
        return tuple(t for t, on in (("http", self.url), ("mqtt", self.mqtt_host)) if on)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> PostingSettings:
        """Settings from ``XIUHUA_*`` environment variables, then ``overrides`` (``None`` overrides are ignored).

        Raises:
            ValueError: A variable cannot be parsed; the message names it.
        """
        environ = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for spec in fields(cls):
            variable = _ENV_NAMES[spec.name]
            raw = environ.get(variable)
            if raw is None or raw == "":
                continue
            kind = _KINDS.get(spec.name, str)
            try:
                values[spec.name] = kind(raw)
            except ValueError as error:
                raise ValueError(f"{variable}={raw!r}: {error}") from error
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]


_ENV_NAMES = {
    "url": "XIUHUA_POST_URL",
    "timeout_s": "XIUHUA_POST_TIMEOUT_S",
    "backoff_base_s": "XIUHUA_POST_BACKOFF_BASE_S",
    "backoff_cap_s": "XIUHUA_POST_BACKOFF_CAP_S",
    "jitter": "XIUHUA_POST_JITTER",
    "max_attempts": "XIUHUA_POST_MAX_ATTEMPTS",
    "batch_size": "XIUHUA_POST_BATCH_SIZE",
    "claim_lease_s": "XIUHUA_POST_CLAIM_LEASE_S",
    "coordinate_system": "XIUHUA_POST_CRS",
    "photo_mode": "XIUHUA_POST_PHOTOS",
    "public_base_url": "XIUHUA_PUBLIC_BASE_URL",
    "evidence_dir": "XIUHUA_EVIDENCE_DIR",
    "max_inline_bytes": "XIUHUA_POST_MAX_INLINE_BYTES",
    "mqtt_host": "XIUHUA_MQTT_HOST",
    "mqtt_port": "XIUHUA_MQTT_PORT",
    "mqtt_topic_prefix": "XIUHUA_MQTT_TOPIC_PREFIX",
    "mqtt_username": "XIUHUA_MQTT_USERNAME",
    "mqtt_password": "XIUHUA_MQTT_PASSWORD",
    "blur_faces": "XIUHUA_POST_BLUR_FACES",
    "face_model": "XIUHUA_POST_FACE_MODEL",
}


def _flag(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected one of 1, true, yes, on, 0, false, no, off")


_KINDS: dict[str, Callable[[str], object]] = {
    "timeout_s": float,
    "backoff_base_s": float,
    "backoff_cap_s": float,
    "jitter": float,
    "max_attempts": int,
    "batch_size": int,
    "claim_lease_s": float,
    "evidence_dir": Path,
    "max_inline_bytes": int,
    "mqtt_port": int,
    "blur_faces": _flag,
    "face_model": Path,
}
