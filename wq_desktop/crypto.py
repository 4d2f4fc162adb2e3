"""Key derivation and key wrapping: argon2id turns a password (or the 恢复码) into a key that
wraps the store's random data key with AES-256-GCM. No password is ever stored.

The argon2id cost is RFC 9106's second recommended setting (t=3, 64 MiB, 4 lanes). Tests may
make new envelopes cheap only by calling `use_test_kdf()` explicitly (tests/conftest.py does);
the product never weakens it. Each envelope records the parameters it was made with.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .errors import ValidationError


@dataclass(frozen=True)
class KdfParams:
    time_cost: int
    memory_kib: int
    parallelism: int

    def as_dict(self) -> dict[str, int]:
        return {"t": self.time_cost, "m": self.memory_kib, "p": self.parallelism}

    @classmethod
    def from_dict(cls, data: dict[str, int]) -> KdfParams:
        return cls(int(data["t"]), int(data["m"]), int(data["p"]))


PRODUCT_KDF = KdfParams(time_cost=3, memory_kib=64 * 1024, parallelism=4)
_TEST_KDF = KdfParams(time_cost=1, memory_kib=8, parallelism=1)
_kdf = PRODUCT_KDF


def use_test_kdf() -> None:
    """Tests only: cheap argon2 for envelopes made from now on in this process."""
    global _kdf
    _kdf = _TEST_KDF


def current_kdf() -> KdfParams:
    return _kdf


class WrongSecret(Exception):
    """The password or 恢复码 does not unwrap this envelope."""


def derive(secret: str, salt: bytes, params: KdfParams) -> bytes:
    return hash_secret_raw(secret.encode("utf-8"), salt, time_cost=params.time_cost,
                           memory_cost=params.memory_kib, parallelism=params.parallelism,
                           hash_len=32, type=Type.ID)


@dataclass(frozen=True)
class Wrapped:
    salt: bytes
    nonce: bytes
    ciphertext: bytes
    params: KdfParams


def wrap(data_key: bytes, secret: str, aad: bytes) -> Wrapped:
    params = current_kdf()
    salt = os.urandom(16)
    nonce = os.urandom(12)
    ciphertext = AESGCM(derive(secret, salt, params)).encrypt(nonce, data_key, aad)
    return Wrapped(salt, nonce, ciphertext, params)


def unwrap(wrapped: Wrapped, secret: str, aad: bytes) -> bytes:
    kek = derive(secret, wrapped.salt, wrapped.params)
    try:
        return AESGCM(kek).decrypt(wrapped.nonce, wrapped.ciphertext, aad)
    except InvalidTag:
        raise WrongSecret from None


# ---------------------------------------------------------------- 恢复码
# Crockford's base32: no I, L, O, U, so a code read off paper is not mistyped as 1/0.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RECOVERY_GROUPS = 6  # 6 × 4 characters = 120 random bits


def new_recovery_code() -> str:
    chars = "".join(secrets.choice(_ALPHABET) for _ in range(RECOVERY_GROUPS * 4))
    return "-".join(chars[i:i + 4] for i in range(0, len(chars), 4))


def normalize_recovery_code(text: str) -> str:
    """The code as printed, whatever spacing, case or look-alike letters were typed."""
    cleaned = "".join(ch for ch in text.upper() if ch not in " -\t\r\n")
    cleaned = cleaned.translate(str.maketrans({"O": "0", "I": "1", "L": "1"}))
    if len(cleaned) != RECOVERY_GROUPS * 4 or any(ch not in _ALPHABET for ch in cleaned):
        raise ValidationError(f"恢复码应为 {RECOVERY_GROUPS * 4} 位字母和数字（如 ABCD-EFGH-…），请核对。",
                              "recovery_code")
    return "-".join(cleaned[i:i + 4] for i in range(0, len(cleaned), 4))


# ---------------------------------------------------------------- password strength
MIN_PASSWORD_LENGTH = 10
_COMMON = ("password", "12345678", "123456789", "1234567890", "qwertyuiop", "abc123456",
           "11111111", "88888888", "66666666", "iloveyou", "admin123", "woaini1314", "a123456789")
_SEQUENCES = ("0123456789012", "abcdefghijklmnopqrstuvwxyz", "qwertyuiopasdfghjklzxcvbnm")


def password_problem(password: str, account: str) -> str | None:
    """Why a password is too weak, in Chinese; None when it is acceptable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"密码至少 {MIN_PASSWORD_LENGTH} 位。"
    classes = sum((any(c.isalpha() for c in password), any(c.isdigit() for c in password),
                   any(not c.isalnum() for c in password)))
    if classes < 2:
        return "密码须同时包含字母和数字（或符号）。"
    lower = password.lower()
    if account and account.lower() in lower:
        return "密码不能包含账户名。"
    letters = "".join(c for c in lower if c.isalpha())
    digits = "".join(c for c in lower if c.isdigit())
    sequential = [part for part in (letters, digits) if len(part) >= 4
                  and any(part in s for s in _SEQUENCES)]
    if (len(set(lower)) < 5 or any(c in lower for c in _COMMON)
            or sum(map(len, sequential)) >= len(lower) - 2):
        return "密码过于简单（常见密码、连续或重复的字符），请换一个。"
    return None
