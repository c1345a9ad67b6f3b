"""Token encryption at rest (DESIGN §10): MultiFernet over TOKEN_ENCRYPTION_KEYS.

The first key encrypts; every key decrypts, so keys rotate by prepending a new one and running
`manage.py rotate_token_keys`. A token that cannot be decrypted raises; ciphertext is never
handed back as if it were the token.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class DecryptionError(Exception):
    """The stored value was not encrypted with any configured key (or was tampered with)."""


def _as_fernet_key(raw: str) -> bytes:
    # Accept proper Fernet keys; derive one from any other string so a passphrase still works.
    try:
        if len(base64.urlsafe_b64decode(raw.encode())) == 32:
            return raw.encode()
    except (ValueError, TypeError):
        pass
    return base64.urlsafe_b64encode(hashlib.sha256(raw.encode()).digest())


@lru_cache(maxsize=8)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ValueError("TOKEN_ENCRYPTION_KEYS is empty.")
    return MultiFernet([Fernet(_as_fernet_key(k)) for k in keys])


def _current() -> MultiFernet:
    return _fernet(tuple(settings.TOKEN_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return _current().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    try:
        return _current().decrypt(ciphertext.encode()).decode()
    except (InvalidToken, ValueError) as exc:
        raise DecryptionError("A stored secret could not be decrypted with any key.") from exc


def rotate(ciphertext: str) -> str:
    """Re-encrypt with the newest key (raises DecryptionError like `decrypt`)."""
    try:
        return _current().rotate(ciphertext.encode()).decode()
    except (InvalidToken, ValueError) as exc:
        raise DecryptionError("A stored secret could not be decrypted with any key.") from exc
