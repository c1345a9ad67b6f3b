from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.test import override_settings

from apps.common import crypto

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def test_it_round_trips_and_never_stores_plaintext():
    with override_settings(TOKEN_ENCRYPTION_KEYS=[NEW]):
        stored = crypto.encrypt("act.plain-token")
        assert "act.plain-token" not in stored
        assert crypto.decrypt(stored) == "act.plain-token"


def test_old_keys_still_decrypt_and_rotation_moves_to_the_newest():
    with override_settings(TOKEN_ENCRYPTION_KEYS=[OLD]):
        stored = crypto.encrypt("rft.secret")
    with override_settings(TOKEN_ENCRYPTION_KEYS=[NEW, OLD]):
        assert crypto.decrypt(stored) == "rft.secret"
        rotated = crypto.rotate(stored)
    with override_settings(TOKEN_ENCRYPTION_KEYS=[NEW]):
        assert crypto.decrypt(rotated) == "rft.secret"
        with pytest.raises(crypto.DecryptionError):
            crypto.decrypt(stored)


def test_it_raises_instead_of_returning_ciphertext():
    with override_settings(TOKEN_ENCRYPTION_KEYS=[NEW]), pytest.raises(crypto.DecryptionError):
        crypto.decrypt("not-a-fernet-token")
