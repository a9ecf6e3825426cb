"""What the HTTP service needs to know that is not a dependency: secrets, cookie and size limits.

The database URL and folders are not here: the factory takes the engine and the folders themselves, so a test can
hand in a throw-away database and nothing reads the environment behind its back.
"""

from __future__ import annotations

from dataclasses import dataclass

MIB = 1024 * 1024
TARGETS = ("http", "mqtt")


@dataclass(frozen=True)
class ApiSettings:
    """Settings of the HTTP API.

    Attributes:
        session_secret: Key that signs login cookies and CSRF tokens (at least 32 characters). Changing it logs
            everyone out.
        session_max_age_s: How long a login lasts.
        secure_cookies: Mark cookies ``Secure`` (only sent over HTTPS); turn on behind TLS.
        max_request_bytes: Largest body of an ordinary JSON request.
        max_image_bytes: Largest uploaded image (scan uploads and camera references).
        max_clip_bytes: Largest uploaded video clip.
        max_ingest_bytes: Largest JSON-lines body for the ingest endpoint.
        login_url: Where a browser that is not logged in is sent for ``GET`` pages (set by the review pages);
            ``None`` answers 401 JSON to everyone.
        title: The API's title in the OpenAPI documents.
        login_max_failures: Failed logins of one name within ``login_window_s`` before it is locked (429) until
            the oldest failure ages out; an address gets four times as many.
        login_window_s: The window of ``login_max_failures``.
        posting_targets: Where a confirmed case is posted (``http`` and/or ``mqtt``).
        announce_targets: Where stage changes from the platform's callback are announced (e.g. ``("mqtt",)``).
    """

    session_secret: str
    session_max_age_s: int = 12 * 3600
    secure_cookies: bool = False
    max_request_bytes: int = 1 * MIB
    max_image_bytes: int = 20 * MIB
    max_clip_bytes: int = 2048 * MIB
    max_ingest_bytes: int = 64 * MIB
    login_url: str | None = None
    title: str = "xiuhua"
    login_max_failures: int = 5
    login_window_s: int = 900
    posting_targets: tuple[str, ...] = ("http",)
    announce_targets: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if len(self.session_secret) < 32:
            raise ValueError("session_secret must be at least 32 characters (use secrets.token_urlsafe(32))")
        for name in (
            "session_max_age_s",
            "max_request_bytes",
            "max_image_bytes",
            "max_clip_bytes",
            "max_ingest_bytes",
            "login_max_failures",
            "login_window_s",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")

        for name in ("posting_targets", "announce_targets"):
            unknown = [target for target in getattr(self, name) if target not in TARGETS]
            if unknown:
                raise ValueError(f"{name}: {unknown[0]!r} is not one of {', '.join(TARGETS)}")

    @property
    def max_upload_bytes(self) -> int:
        """The largest file any upload may carry (the larger of the image and clip limits)."""
        return max(self.max_image_bytes, self.max_clip_bytes)
