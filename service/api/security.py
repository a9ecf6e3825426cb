"""Passwords, login cookies, CSRF tokens and API tokens: the cryptography, without HTTP or the database.

A login cookie is ``payload.signature``: the payload (user id, a random session id, expiry, and a fingerprint of the
user's password hash, so changing the password ends every session) signed with HMAC-SHA256 under the server's
secret. The CSRF token of a session is derived from its session id with the same secret, so pages can embed it in
forms and scripts send it in ``X-CSRF-Token``; a token from another session does not match.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

TOKEN_PREFIX = "xh_"
MIN_PASSWORD_LENGTH = 8

_hasher = PasswordHasher()
# Verified against when the user does not exist, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    """The argon2id hash of ``password``.

    Raises:
        ValueError: The password is shorter than :data:`MIN_PASSWORD_LENGTH`.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"must be at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``; ``None`` (no such user) takes as long and fails."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def new_api_token() -> str:
    """A fresh bearer token for a machine (shown once; only its digest is stored)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """The SHA-256 hex digest under which a bearer token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SessionClaims:
    """What a valid login cookie says.

    Attributes:
        user_id: The logged-in user.
        session_id: Random per login; the CSRF token derives from it.
        expires_at: Unix time after which the cookie is refused.
        password_tag: Fingerprint of the password hash at login.
    """

    user_id: int
    session_id: str
    expires_at: int
    password_tag: str


class SessionSigner:
    """Issues and checks signed login cookies and their CSRF tokens.

    Args:
        secret: The server's signing key.
        max_age_s: Lifetime of a login.
    """

    def __init__(self, secret: str, max_age_s: int) -> None:
        self._key = hashlib.sha256(b"xiuhua-session:" + secret.encode("utf-8")).digest()
        self.max_age_s = max_age_s

    def issue(self, *, user_id: int, password_hash: str, now: datetime) -> tuple[str, SessionClaims]:
        """A new cookie value for ``user_id`` and the claims it carries."""
        claims = SessionClaims(
            user_id=user_id,
            session_id=secrets.token_urlsafe(16),
            expires_at=int(now.timestamp()) + self.max_age_s,
            password_tag=password_tag(password_hash),
        )
        payload = json.dumps(
            {"u": claims.user_id, "s": claims.session_id, "e": claims.expires_at, "p": claims.password_tag},
            separators=(",", ":"),
        ).encode("utf-8")
        encoded = _b64encode(payload)
        return f"{encoded}.{self._sign(encoded)}", claims

    def read(self, cookie: str, *, now: datetime) -> SessionClaims | None:
        """The claims of ``cookie`` if its signature is ours and it has not expired, else ``None``."""
        encoded, _, signature = cookie.partition(".")
        if not encoded or not _same(signature, self._sign(encoded)):
            return None
        try:
            data = json.loads(_b64decode(encoded))
            claims = SessionClaims(
                user_id=int(data["u"]),
                session_id=str(data["s"]),
                expires_at=int(data["e"]),
                password_tag=str(data["p"]),
            )
        except (ValueError, KeyError, TypeError, binascii.Error):
            return None
        if claims.expires_at <= now.timestamp():
            return None
        return claims

    def csrf_token(self, claims: SessionClaims) -> str:
        """The CSRF token that goes with the session ``claims``."""
        return self._sign(_b64encode(b"csrf:" + claims.session_id.encode("utf-8")))

    def csrf_matches(self, claims: SessionClaims, token: str | None) -> bool:
        """Whether ``token`` is the CSRF token of this session (constant time)."""
        return token is not None and _same(token, self.csrf_token(claims))

    def _sign(self, encoded: str) -> str:
        return _b64encode(hmac.new(self._key, encoded.encode("utf-8"), hashlib.sha256).digest())


def password_tag(password_hash: str) -> str:
    """A short fingerprint of a password hash: sessions made before a password change stop matching."""
    return hashlib.sha256(password_hash.encode("utf-8")).hexdigest()[:16]


def _same(given: str, expected: str) -> bool:
    # Bytes, not str: compare_digest refuses non-ASCII strings, and a forged cookie may contain anything.
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
