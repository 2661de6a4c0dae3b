"""The one module that encrypts and hashes personal data (SPEC NF-7, NF-8, ID-3).

Personal data (citizen ID numbers, phone numbers, diagnoses) is never stored in clear: a column
holds an encrypted copy (``PiiKeyring.encrypt``) and, where rows are looked up by the value, a keyed
hash (``PiiKeyring.lookup_hash``). Nothing else in the platform calls a cipher or a MAC on personal
data, so changing algorithm or key is a change here and in configuration only.

Configuration (SPEC 7.5)
------------------------
``PREVENTION_PII_KEYS``
    JSON object ``{"<key id>": "<base64 of 32 random bytes>", ...}``. Key ids are 1–32 characters
    of ``A-Z a-z 0-9 _ -``. **The last key in the object (insertion order) is the current key**: it
    encrypts; every key decrypts. Rotate by appending a new key at the end; old tokens keep
    decrypting and are re-encrypted lazily (``needs_reencryption`` / ``reencrypt``).
``PREVENTION_PII_ALGORITHM``
    ``aes256gcm-hmacsha256`` (default) or ``sm4gcm-sm3`` (China's commercial cryptography: SM4 in
    GCM mode, HMAC-SM3, HKDF-SM3). Tokens name their algorithm, so tokens written under the
    other algorithm still decrypt after a switch and count as needing re-encryption.
``PREVENTION_PII_HASH_KEY`` (optional, recommended in production)
    base64 of 32 bytes: the stable secret behind lookup hashes. When unset, the lookup key is
    derived from the **first (oldest) key** of ``PREVENTION_PII_KEYS``, which therefore must stay in
    the key set for as long as stored lookup hashes are used, even after every ciphertext has been
    re-encrypted under newer keys.

Embedded mode needs no configuration: ``PiiKeyring.for_embedded(data_dir)`` creates
``<data dir>/pii-keys.json`` (mode 0600, the same JSON shape as ``PREVENTION_PII_KEYS``) on first use.

Formats
-------
Ciphertext token: ``v1.<algorithm>.<key id>.<nonce>.<ciphertext+tag>`` (base64url, no padding). The
associated data binds the version, algorithm, key id and the caller's ``context`` (e.g.
``"identity.users.citizen_id"``), so a token copied into another column, or with its header edited,
fails to decrypt. Encryption keys are derived from the key material per algorithm with HKDF, so the
same material is never used by two primitives.

Lookup hash: ``h1.<hmacsha256|hmacsm3>.<hash key id>.<base64url MAC>`` of the context and the
normalised value (Unicode NFKC, stripped, upper-case). It stays the same across encryption-key
rotation; it changes only if the hash key or the algorithm changes (``needs_rehash`` tells; re-hash
from the decrypted copies).

Errors are ``PiiError`` (``PiiConfigError`` for configuration); their messages never contain
plaintext or key material.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import logging
import math
import os
import re
import secrets
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = [
    "AES256GCM_HMACSHA256",
    "ALGORITHMS",
    "DEFAULT_ALGORITHM",
    "EMBEDDED_KEY_FILE",
    "ENV_ALGORITHM",
    "ENV_HASH_KEY",
    "ENV_KEYS",
    "KEY_BYTES",
    "SM4GCM_SM3",
    "PiiConfigError",
    "PiiError",
    "PiiKeyring",
    "TokenHeader",
    "parse_token",
    "rotate_embedded_key",
]

log = logging.getLogger(__name__)

ENV_KEYS = "PREVENTION_PII_KEYS"
ENV_ALGORITHM = "PREVENTION_PII_ALGORITHM"
ENV_HASH_KEY = "PREVENTION_PII_HASH_KEY"
EMBEDDED_KEY_FILE = "pii-keys.json"

AES256GCM_HMACSHA256 = "aes256gcm-hmacsha256"
SM4GCM_SM3 = "sm4gcm-sm3"
ALGORITHMS = (AES256GCM_HMACSHA256, SM4GCM_SM3)
DEFAULT_ALGORITHM = AES256GCM_HMACSHA256

KEY_BYTES = 32
TOKEN_VERSION = "v1"
HASH_VERSION = "h1"
HASH_KEY_ID = "hk"  # the id lookup hashes carry when PREVENTION_PII_HASH_KEY is set
_NONCE_BYTES = 12
_TAG_BYTES = 16
_KID = re.compile(r"[A-Za-z0-9_-]{1,32}")
_B64URL = re.compile(r"[A-Za-z0-9_-]*")


class PiiError(Exception):
    """Encryption, decryption or hashing of personal data failed. Never carries plaintext."""


class PiiConfigError(PiiError):
    """The PII keys or algorithm are missing or malformed."""


# -- algorithm suites ----------------------------------------------------------------------------------


class _Suite:
    name: str
    hash_name: str  # as it appears in lookup hashes
    enc_key_bytes: int

    def kdf_hash(self) -> hashes.HashAlgorithm:
        raise NotImplementedError

    def seal(self, key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
        raise NotImplementedError

    def open(self, key: bytes, nonce: bytes, sealed: bytes, aad: bytes) -> bytes:
        """Raises ``InvalidTag`` when the ciphertext, key or associated data do not match."""
        raise NotImplementedError

    def mac(self, key: bytes, message: bytes) -> bytes:
        raise NotImplementedError

    def derive(self, material: bytes, purpose: str, length: int) -> bytes:
        info = f"prevention-pii/{TOKEN_VERSION}/{purpose}/{self.name}".encode()
        return HKDF(algorithm=self.kdf_hash(), length=length, salt=None, info=info).derive(material)


class _AesGcmHmacSha256(_Suite):
    name = AES256GCM_HMACSHA256
    hash_name = "hmacsha256"
    enc_key_bytes = 32

    def kdf_hash(self) -> hashes.HashAlgorithm:
        return hashes.SHA256()

    def seal(self, key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
        return AESGCM(key).encrypt(nonce, plaintext, aad)

    def open(self, key: bytes, nonce: bytes, sealed: bytes, aad: bytes) -> bytes:
        return AESGCM(key).decrypt(nonce, sealed, aad)

    def mac(self, key: bytes, message: bytes) -> bytes:
        return hmac.new(key, message, hashlib.sha256).digest()


class _Sm4GcmSm3(_Suite):
    """SM4 (128-bit key) in GCM mode with a 16-byte tag; HMAC-SM3 and HKDF-SM3 (GB/T 32907, 32905).

    The installed ``cryptography`` (OpenSSL 3+) provides SM4-GCM directly, so no CBC + HMAC
    construction is needed; ``PiiKeyring`` refuses this suite at start-up if the backend lacks it.
    """

    name = SM4GCM_SM3
    hash_name = "hmacsm3"
    enc_key_bytes = 16

    def kdf_hash(self) -> hashes.HashAlgorithm:
        return hashes.SM3()

    def seal(self, key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
        enc = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
        enc.authenticate_additional_data(aad)
        body = enc.update(plaintext) + enc.finalize()
        return body + enc.tag

    def open(self, key: bytes, nonce: bytes, sealed: bytes, aad: bytes) -> bytes:
        if len(sealed) < _TAG_BYTES:
            raise InvalidTag()
        body, tag = sealed[:-_TAG_BYTES], sealed[-_TAG_BYTES:]
        dec = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
        dec.authenticate_additional_data(aad)
        return dec.update(body) + dec.finalize()

    def mac(self, key: bytes, message: bytes) -> bytes:
        h = crypto_hmac.HMAC(key, hashes.SM3())
        h.update(message)
        return h.finalize()


_SUITES: dict[str, _Suite] = {s.name: s for s in (_AesGcmHmacSha256(), _Sm4GcmSm3())}


def _suite(name: str) -> _Suite:
    try:
        return _SUITES[name]
    except KeyError:
        raise PiiConfigError(f"unknown PII algorithm {name!r}; choose one of {', '.join(ALGORITHMS)}") from None


def _check_supported(suite: _Suite) -> None:
    """Fail at start-up, not at the first write, if the crypto backend lacks the suite."""
    try:
        key = bytes(suite.enc_key_bytes)
        nonce = bytes(_NONCE_BYTES)
        if suite.open(key, nonce, suite.seal(key, nonce, b"probe", b"aad"), b"aad") != b"probe":
            raise PiiConfigError(f"PII algorithm {suite.name} failed its self-test")
        suite.mac(bytes(KEY_BYTES), b"probe")
        suite.derive(bytes(KEY_BYTES), "probe", 16)
    except (UnsupportedAlgorithm, InvalidTag, ValueError) as exc:
        raise PiiConfigError(
            f"PII algorithm {suite.name} is not supported by the installed cryptography/OpenSSL: {type(exc).__name__}"
        ) from exc


# -- encoding ------------------------------------------------------------------------------------------


def _b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64d(text: str) -> bytes:
    """Strict base64url: only canonical encodings, so every character of a token matters."""
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64e(data) != text:
        raise ValueError("not canonical base64url")
    return data


def _decode_key(kid: str, encoded: object, what: str) -> bytes:
    if not isinstance(encoded, str):
        raise PiiConfigError(f"{what}: key {kid!r} must be a base64 string")
    text = encoded.strip()
    try:
        # standard or URL-safe alphabet, padding optional; strict (no silently skipped characters)
        standard = text.rstrip("=").replace("-", "+").replace("_", "/")
        raw = base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise PiiConfigError(f"{what}: key {kid!r} is not valid base64") from None
    if len(raw) != KEY_BYTES:
        raise PiiConfigError(f"{what}: key {kid!r} must be {KEY_BYTES} bytes of key material, got {len(raw)} bytes")
    return raw


def _check_context(context: object) -> bytes:
    if not isinstance(context, str) or not context or "\x00" in context:
        raise PiiError("context must be a non-empty string naming the column, e.g. 'identity.users.citizen_id'")
    return context.encode("utf-8")


def _normalise_for_hash(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip().upper()


@dataclass(frozen=True)
class TokenHeader:
    version: str
    algorithm: str
    key_id: str


def parse_token(token: str) -> tuple[TokenHeader, bytes, bytes]:
    """Split a ciphertext token into its header, nonce and sealed ciphertext; ``PiiError`` if malformed."""
    if not isinstance(token, str):
        raise PiiError("PII token must be a string")
    parts = token.split(".")
    if len(parts) != 5:
        raise PiiError("malformed PII token: expected v1.<algorithm>.<key id>.<nonce>.<ciphertext>")
    version, alg, kid, nonce_text, body_text = parts
    if version != TOKEN_VERSION:
        raise PiiError(f"unsupported PII token version {version[:8]!r}")
    if alg not in _SUITES:
        raise PiiError(f"PII token names an unknown algorithm {alg[:32]!r}")
    if not _KID.fullmatch(kid):
        raise PiiError("malformed PII token: bad key id")
    try:
        nonce = _b64d(nonce_text)
        sealed = _b64d(body_text)
    except ValueError:
        raise PiiError("malformed PII token: bad base64url") from None
    if len(nonce) != _NONCE_BYTES or len(sealed) < _TAG_BYTES:
        raise PiiError("malformed PII token: truncated")
    return TokenHeader(version, alg, kid), nonce, sealed


def _aad(header: TokenHeader, context: bytes) -> bytes:
    return b"prevention-pii|" + f"{header.version}|{header.algorithm}|{header.key_id}|".encode() + context


# -- the keyring ---------------------------------------------------------------------------------------


class PiiKeyring:
    """Keys and algorithm for personal data; thread-safe and cheap to share (create once per process).

    ``keys`` maps key id → 32 bytes of key material in age order: the **last** entry is the current
    key (it encrypts), all entries decrypt. ``hash_key`` (32 bytes) is the lookup-hash secret; when
    omitted it is derived from the **first** key so lookups survive encryption-key rotation.
    """

    def __init__(
        self,
        keys: Mapping[str, bytes],
        algorithm: str = DEFAULT_ALGORITHM,
        *,
        hash_key: bytes | None = None,
    ) -> None:
        if not keys:
            raise PiiConfigError(
                f"no PII keys configured: set {ENV_KEYS} to a JSON object "
                '{"<key id>": "<base64 of 32 random bytes>"} (see PiiKeyring.generate_key)'
            )
        checked: dict[str, bytes] = {}
        for kid, key in keys.items():
            if not isinstance(kid, str) or not _KID.fullmatch(kid):
                raise PiiConfigError("PII key ids must be 1-32 characters of A-Z a-z 0-9 _ -")
            if not isinstance(key, bytes | bytearray) or len(key) != KEY_BYTES:
                size = len(key) if isinstance(key, bytes | bytearray) else "not bytes"
                raise PiiConfigError(f"PII key {kid!r} must be {KEY_BYTES} bytes of key material, got {size}")
            checked[kid] = bytes(key)
        if hash_key is not None and (not isinstance(hash_key, bytes | bytearray) or len(hash_key) != KEY_BYTES):
            raise PiiConfigError(f"the PII hash key must be {KEY_BYTES} bytes of key material")
        self._suite = _suite(str(algorithm).strip().lower())
        _check_supported(self._suite)
        self._keys = checked
        self._current = next(reversed(checked))
        if hash_key is not None:
            self._hash_kid, hash_material = HASH_KEY_ID, bytes(hash_key)
        else:
            self._hash_kid = next(iter(checked))
            hash_material = checked[self._hash_kid]
        self._hash_key = self._suite.derive(hash_material, "lookup", 32)
        self._enc_keys: dict[tuple[str, str], bytes] = {}

    def __repr__(self) -> str:  # never the key material
        return (
            f"PiiKeyring(algorithm={self.algorithm!r}, current_key_id={self._current!r}, key_ids={list(self._keys)!r})"
        )

    # -- construction -------------------------------------------------------------------------------

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> PiiKeyring:
        """From ``PREVENTION_PII_KEYS`` / ``_ALGORITHM`` / ``_HASH_KEY`` (see the module docstring)."""
        env = os.environ if env is None else env
        raw = (env.get(ENV_KEYS) or "").strip()
        if not raw:
            raise PiiConfigError(
                f"no PII keys configured: set {ENV_KEYS} to a JSON object "
                '{"<key id>": "<base64 of 32 random bytes>"} (see PiiKeyring.generate_key)'
            )
        keys = _parse_key_json(raw, ENV_KEYS)
        hash_text = (env.get(ENV_HASH_KEY) or "").strip()
        hash_key = _decode_key(HASH_KEY_ID, hash_text, ENV_HASH_KEY) if hash_text else None
        algorithm = (env.get(ENV_ALGORITHM) or "").strip() or DEFAULT_ALGORITHM
        return cls(keys, algorithm, hash_key=hash_key)

    @classmethod
    def for_embedded(
        cls, data_dir: Path | str, *, algorithm: str | None = None, env: Mapping[str, str] | None = None
    ) -> PiiKeyring:
        """Embedded mode: keys from ``<data_dir>/pii-keys.json``, created (mode 0600) on first use.

        The algorithm is ``algorithm``, else ``PREVENTION_PII_ALGORITHM`` from ``env``, else the default.
        """
        env = os.environ if env is None else env
        path = Path(data_dir) / EMBEDDED_KEY_FILE
        keys = _load_or_create_key_file(path)
        algorithm = algorithm or (env.get(ENV_ALGORITHM) or "").strip() or DEFAULT_ALGORITHM
        return cls(keys, algorithm)

    @classmethod
    def from_settings(cls, settings: Any, env: Mapping[str, str] | None = None) -> PiiKeyring:
        """The keyring a process uses: ``PREVENTION_PII_KEYS`` when set; otherwise, outside the
        ``prod`` profile, the embedded key file in ``settings.data_dir``; otherwise an error."""
        env = os.environ if env is None else env
        if (env.get(ENV_KEYS) or "").strip():
            return cls.from_env(env)
        if getattr(settings, "profile", "dev") == "prod":
            raise PiiConfigError(f"{ENV_KEYS} must be set in the prod profile (from a Secret)")
        return cls.for_embedded(settings.data_dir, env=env)

    @staticmethod
    def generate_key() -> str:
        """New key material for set-up tools: base64 (standard alphabet) of 32 random bytes."""
        return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")

    # -- introspection -------------------------------------------------------------------------------

    @property
    def algorithm(self) -> str:
        return self._suite.name

    @property
    def current_key_id(self) -> str:
        return self._current

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self._keys)

    @property
    def hash_key_id(self) -> str:
        """``hk`` when ``PREVENTION_PII_HASH_KEY`` is set, else the id of the oldest key."""
        return self._hash_kid

    @staticmethod
    def max_token_length(plaintext_bytes: int, key_id_length: int = 32) -> int:
        """An upper bound on ``len(encrypt(x))`` for UTF-8 ``x`` of ``plaintext_bytes`` bytes (column sizing)."""
        alg = max(len(a) for a in ALGORITHMS)
        nonce = math.ceil(_NONCE_BYTES * 4 / 3)
        body = math.ceil((plaintext_bytes + _TAG_BYTES) * 4 / 3)
        return len(TOKEN_VERSION) + alg + key_id_length + nonce + body + 4

    # -- encryption ----------------------------------------------------------------------------------

    def _enc_key(self, suite: _Suite, kid: str) -> bytes:
        cache_key = (suite.name, kid)
        key = self._enc_keys.get(cache_key)
        if key is None:
            key = suite.derive(self._keys[kid], "encrypt", suite.enc_key_bytes)
            self._enc_keys[cache_key] = key
        return key

    def encrypt(self, plaintext: str, *, context: str) -> str:
        """Encrypt ``plaintext`` under the current key, bound to ``context``; returns a token."""
        if not isinstance(plaintext, str):
            raise PiiError(f"plaintext must be a string, not {type(plaintext).__name__}")
        ctx = _check_context(context)
        header = TokenHeader(TOKEN_VERSION, self._suite.name, self._current)
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = self._suite.seal(
            self._enc_key(self._suite, self._current), nonce, plaintext.encode("utf-8"), _aad(header, ctx)
        )
        return f"{header.version}.{header.algorithm}.{header.key_id}.{_b64e(nonce)}.{_b64e(sealed)}"

    def decrypt(self, token: str, *, context: str) -> str:
        """Decrypt a token with the key it names (any key of the ring, either algorithm)."""
        ctx = _check_context(context)
        header, nonce, sealed = parse_token(token)
        if header.key_id not in self._keys:
            raise PiiError(f"PII token was encrypted with key {header.key_id!r}, which is not configured")
        suite = _SUITES[header.algorithm]
        try:
            plain = suite.open(self._enc_key(suite, header.key_id), nonce, sealed, _aad(header, ctx))
        except (InvalidTag, ValueError):
            raise PiiError(
                f"PII token failed authentication for context {context!r}: tampered, truncated, "
                "or encrypted for another column"
            ) from None
        except UnsupportedAlgorithm:
            raise PiiError(f"PII algorithm {header.algorithm} is not supported here") from None
        try:
            return plain.decode("utf-8")
        except UnicodeDecodeError:
            raise PiiError("decrypted PII is not UTF-8") from None

    def needs_reencryption(self, token: str) -> bool:
        """True when the token was not written by the current key and algorithm (``PiiError`` if malformed)."""
        header, _, _ = parse_token(token)
        return (header.version, header.algorithm, header.key_id) != (
            TOKEN_VERSION,
            self._suite.name,
            self._current,
        )

    def reencrypt(self, token: str, *, context: str) -> str:
        """The token under the current key and algorithm (lazy rotation).

        Always authenticates the token first (``PiiError`` if it does not decrypt for ``context``);
        a token already under the current key and algorithm is returned unchanged.
        """
        plaintext = self.decrypt(token, context=context)
        if not self.needs_reencryption(token):
            return token
        return self.encrypt(plaintext, context=context)

    # -- lookup hashes -------------------------------------------------------------------------------

    def lookup_hash(self, value: str, *, context: str) -> str:
        """Keyed hash of the normalised value (NFKC, stripped, upper-case) for equality lookups.

        Deterministic for a given hash key, algorithm and ``context``; independent of the current
        encryption key, so rotation does not break lookups. Different contexts give unrelated hashes.
        """
        if not isinstance(value, str):
            raise PiiError(f"value must be a string, not {type(value).__name__}")
        ctx = _check_context(context)
        message = ctx + b"\x00" + _normalise_for_hash(value).encode("utf-8")
        digest = self._suite.mac(self._hash_key, message)
        return f"{HASH_VERSION}.{self._suite.hash_name}.{self._hash_kid}.{_b64e(digest)}"

    def needs_rehash(self, hashed: str) -> bool:
        """True when a stored lookup hash was made with another hash key or algorithm."""
        parts = hashed.split(".") if isinstance(hashed, str) else []
        if len(parts) != 4:
            return True
        return (parts[0], parts[1], parts[2]) != (HASH_VERSION, self._suite.hash_name, self._hash_kid)


# -- key files (embedded mode) -------------------------------------------------------------------------


def _parse_key_json(raw: str, what: str) -> dict[str, bytes]:
    try:
        data = json.loads(raw)
    except json.JSONDecodeError:
        raise PiiConfigError(f"{what} is not valid JSON (expected an object of key id -> base64 key)") from None
    if not isinstance(data, dict) or not data:
        raise PiiConfigError(f"{what} must be a non-empty JSON object of key id -> base64 key")
    keys: dict[str, bytes] = {}
    for kid, encoded in data.items():
        if not _KID.fullmatch(kid):
            raise PiiConfigError(f"{what}: key ids must be 1-32 characters of A-Z a-z 0-9 _ -")
        keys[kid] = _decode_key(kid, encoded, what)
    return keys


def _write_new_file(path: Path, content: bytes) -> bool:
    """Create ``path`` (mode 0600) with ``content`` atomically; False if it already exists."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), 0o600)
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)  # atomic and fails if another process won the race
        except FileExistsError:
            return False
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _load_or_create_key_file(path: Path) -> dict[str, bytes]:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        content = json.dumps({"k1": PiiKeyring.generate_key()}, indent=2).encode() + b"\n"
        if _write_new_file(path, content):
            log.info("created embedded PII key file %s", path)
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        log.warning("PII key file %s had mode %o; restricting it to 0600", path, mode)
        os.chmod(path, 0o600)
    return _parse_key_json(path.read_text(encoding="utf-8"), str(path))


def rotate_embedded_key(data_dir: Path | str) -> str:
    """Append a new current key to ``<data_dir>/pii-keys.json`` (mode 0600); returns its id.

    Old keys stay (they still decrypt, and the first one keys lookup hashes). Running services
    pick the new key up on restart.
    """
    path = Path(data_dir) / EMBEDDED_KEY_FILE
    keys = _load_or_create_key_file(path)
    n = len(keys) + 1
    while f"k{n}" in keys:
        n += 1
    kid = f"k{n}"
    data = json.loads(path.read_text(encoding="utf-8"))
    data[kid] = PiiKeyring.generate_key()
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), 0o600)
            f.write(json.dumps(data, indent=2).encode() + b"\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return kid
