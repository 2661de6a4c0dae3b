"""Personal-data crypto (SPEC NF-7, NF-8, ID-3): one module, algorithm + key id in every ciphertext."""

from __future__ import annotations

import base64
import json
import os
import stat

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.common.pii import (
    AES256GCM_HMACSHA256,
    ALGORITHMS,
    DEFAULT_ALGORITHM,
    EMBEDDED_KEY_FILE,
    SM4GCM_SM3,
    PiiConfigError,
    PiiError,
    PiiKeyring,
    parse_token,
    rotate_embedded_key,
)
from services.common.validators import citizen_id_check_char

K1 = bytes(range(32))
K2 = bytes(range(100, 132))
K3 = bytes(range(200, 232))
CTX = "identity.users.citizen_id"
CITIZEN_ID = "11010519491231002X"

RINGS = {alg: PiiKeyring({"k1": K1}, alg) for alg in ALGORITHMS}


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def env_for(keys: dict[str, bytes], **extra: str) -> dict[str, str]:
    return {"PREVENTION_PII_KEYS": json.dumps({k: b64(v) for k, v in keys.items()}), **extra}


@pytest.fixture(params=ALGORITHMS)
def alg(request):
    return request.param


# -- round trips and format --------------------------------------------------------------------------


@pytest.mark.parametrize("plaintext", [CITIZEN_ID, "13812345678", "", "尘肺病 (pneumoconiosis) 二期", "x" * 5000])
def test_roundtrip(alg, plaintext):
    ring = RINGS[alg]
    token = ring.encrypt(plaintext, context=CTX)
    assert ring.decrypt(token, context=CTX) == plaintext
    if plaintext:
        assert plaintext not in token


def test_default_algorithm():
    assert DEFAULT_ALGORITHM == AES256GCM_HMACSHA256
    assert PiiKeyring({"k1": K1}).algorithm == AES256GCM_HMACSHA256


def test_token_is_self_describing(alg):
    token = RINGS[alg].encrypt(CITIZEN_ID, context=CTX)
    version, algorithm, kid, _nonce, _body = token.split(".")
    assert (version, algorithm, kid) == ("v1", alg, "k1")
    header, raw_nonce, sealed = parse_token(token)
    assert (header.version, header.algorithm, header.key_id) == ("v1", alg, "k1")
    assert len(raw_nonce) == 12
    assert len(sealed) == len(CITIZEN_ID) + 16  # GCM: ciphertext + 16-byte tag
    assert len(token) <= PiiKeyring.max_token_length(len(CITIZEN_ID))


def test_nonces_are_fresh(alg):
    ring = RINGS[alg]
    tokens = {ring.encrypt(CITIZEN_ID, context=CTX) for _ in range(50)}
    assert len(tokens) == 50


def test_algorithms_use_different_ciphers():
    aes = RINGS[AES256GCM_HMACSHA256].encrypt(CITIZEN_ID, context=CTX)
    swapped = aes.replace(AES256GCM_HMACSHA256, SM4GCM_SM3)
    with pytest.raises(PiiError):
        RINGS[SM4GCM_SM3].decrypt(swapped, context=CTX)


def test_either_algorithm_decrypts_the_other(alg):
    """Switching PREVENTION_PII_ALGORITHM keeps old tokens readable; they count as needing re-encryption."""
    other = next(a for a in ALGORITHMS if a != alg)
    token = RINGS[other].encrypt(CITIZEN_ID, context=CTX)
    assert RINGS[alg].decrypt(token, context=CTX) == CITIZEN_ID
    assert RINGS[alg].needs_reencryption(token)
    fresh = RINGS[alg].reencrypt(token, context=CTX)
    assert parse_token(fresh)[0].algorithm == alg
    assert RINGS[alg].decrypt(fresh, context=CTX) == CITIZEN_ID


# -- integrity ---------------------------------------------------------------------------------------


def test_context_is_bound(alg):
    ring = RINGS[alg]
    token = ring.encrypt(CITIZEN_ID, context=CTX)
    with pytest.raises(PiiError) as exc:
        ring.decrypt(token, context="identity.users.phone")
    assert CITIZEN_ID not in str(exc.value)
    assert "identity.users.phone" in str(exc.value)


def test_tamper_any_byte_of_nonce_or_ciphertext(alg):
    ring = RINGS[alg]
    token = ring.encrypt(CITIZEN_ID, context=CTX)
    head, nonce, sealed = token.rsplit(".", 2)
    raw_nonce = base64.urlsafe_b64decode(nonce + "=" * (-len(nonce) % 4))
    raw = base64.urlsafe_b64decode(sealed + "=" * (-len(sealed) % 4))

    def enc(b: bytes) -> str:
        return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

    for i in range(len(raw)):
        changed = bytearray(raw)
        changed[i] ^= 0x01
        with pytest.raises(PiiError) as exc:
            ring.decrypt(f"{head}.{nonce}.{enc(bytes(changed))}", context=CTX)
        assert CITIZEN_ID not in str(exc.value)
    for i in range(len(raw_nonce)):
        changed = bytearray(raw_nonce)
        changed[i] ^= 0x80
        with pytest.raises(PiiError):
            ring.decrypt(f"{head}.{enc(bytes(changed))}.{sealed}", context=CTX)
    with pytest.raises(PiiError):
        ring.decrypt(f"{head}.{nonce}.{enc(raw[:-1])}", context=CTX)  # truncated tag
    with pytest.raises(PiiError):
        ring.decrypt(f"{head}.{nonce}.{enc(raw + bytes(1))}", context=CTX)  # extended


def test_tamper_any_character_of_the_token(alg):
    """Every character matters, including the header and the last base64 character."""
    ring = PiiKeyring({"k1": K1, "k2": K2}, alg)
    token = ring.encrypt(CITIZEN_ID, context=CTX)
    for i, char in enumerate(token):
        for replacement in {"A", "B", "g", "1", "."} - {char}:
            tampered = token[:i] + replacement + token[i + 1 :]
            with pytest.raises(PiiError):
                ring.decrypt(tampered, context=CTX)


def test_header_key_id_cannot_be_swapped(alg):
    ring = PiiKeyring({"k1": K1, "k2": K2}, alg)
    token = ring.encrypt(CITIZEN_ID, context=CTX)
    with pytest.raises(PiiError):
        ring.decrypt(token.replace(".k2.", ".k1."), context=CTX)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "v1",
        "v1.aes256gcm-hmacsha256.k1.AAAA",
        "v2.aes256gcm-hmacsha256.k1.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA",  # unknown version
        "v1.rot13.k1.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA",  # unknown algorithm
        "v1.aes256gcm-hmacsha256.k 1.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA",  # bad key id
        "v1.aes256gcm-hmacsha256.k1.AAAA.AAAAAAAAAAAAAAAAAAAAAA",  # short nonce
        "v1.aes256gcm-hmacsha256.k1.AAAAAAAAAAAAAAAA.AAAA",  # shorter than a tag
        "v1.aes256gcm-hmacsha256.k1.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAA+",  # not base64url
        12345,
        None,
    ],
)
def test_malformed_tokens(bad):
    ring = RINGS[AES256GCM_HMACSHA256]
    with pytest.raises(PiiError):
        ring.decrypt(bad, context=CTX)
    with pytest.raises(PiiError):
        ring.needs_reencryption(bad)


def test_unknown_key_id():
    token = PiiKeyring({"k9": K3}).encrypt(CITIZEN_ID, context=CTX)
    with pytest.raises(PiiError) as exc:
        RINGS[AES256GCM_HMACSHA256].decrypt(token, context=CTX)
    assert "'k9'" in str(exc.value)


@pytest.mark.parametrize("context", ["", None, "a\x00b"])
def test_context_is_required(context):
    ring = RINGS[AES256GCM_HMACSHA256]
    with pytest.raises(PiiError):
        ring.encrypt(CITIZEN_ID, context=context)
    with pytest.raises(PiiError):
        ring.lookup_hash(CITIZEN_ID, context=context)


def test_plaintext_must_be_str():
    with pytest.raises(PiiError):
        RINGS[AES256GCM_HMACSHA256].encrypt(b"bytes", context=CTX)
    with pytest.raises(PiiError):
        RINGS[AES256GCM_HMACSHA256].lookup_hash(None, context=CTX)


# -- rotation ----------------------------------------------------------------------------------------


def test_rotation(alg):
    old_ring = PiiKeyring({"k1": K1}, alg)
    old = old_ring.encrypt(CITIZEN_ID, context=CTX)
    assert not old_ring.needs_reencryption(old)
    assert old_ring.reencrypt(old, context=CTX) == old  # already current: unchanged

    ring = PiiKeyring({"k1": K1, "k2": K2}, alg)
    assert ring.current_key_id == "k2"
    assert ring.key_ids == ("k1", "k2")
    new = ring.encrypt(CITIZEN_ID, context=CTX)
    assert parse_token(new)[0].key_id == "k2"
    assert ring.decrypt(old, context=CTX) == CITIZEN_ID
    assert ring.needs_reencryption(old)
    assert not ring.needs_reencryption(new)
    moved = ring.reencrypt(old, context=CTX)
    assert parse_token(moved)[0].key_id == "k2"
    assert ring.decrypt(moved, context=CTX) == CITIZEN_ID
    with pytest.raises(PiiError):
        ring.reencrypt(old, context="identity.users.phone")  # re-encryption authenticates first
    with pytest.raises(PiiError):
        old_ring.decrypt(new, context=CTX)  # a process without k2 cannot read k2 tokens


def test_newest_key_is_last_in_insertion_order_not_greatest_id():
    ring = PiiKeyring.from_env(env_for({"zz-old": K1, "aa-new": K2}))
    assert ring.current_key_id == "aa-new"
    assert ring.hash_key_id == "zz-old"


# -- lookup hashes -----------------------------------------------------------------------------------


def test_lookup_hash_normalises(alg):
    ring = RINGS[alg]
    assert ring.lookup_hash(" 11010519491231002x ", context=CTX) == ring.lookup_hash(CITIZEN_ID, context=CTX)
    full_width = "１１０１０５１９４９１２３１００２Ｘ"
    assert ring.lookup_hash(full_width, context=CTX) == ring.lookup_hash(CITIZEN_ID, context=CTX)
    assert ring.lookup_hash("110105194912310021", context=CTX) != ring.lookup_hash(CITIZEN_ID, context=CTX)


def test_lookup_hash_format_and_contexts(alg):
    ring = RINGS[alg]
    h = ring.lookup_hash(CITIZEN_ID, context=CTX)
    version, name, kid, digest = h.split(".")
    assert (version, kid) == ("h1", "k1")
    assert name == {"aes256gcm-hmacsha256": "hmacsha256", "sm4gcm-sm3": "hmacsm3"}[alg]
    assert len(base64.urlsafe_b64decode(digest + "=")) == 32
    assert CITIZEN_ID not in h
    assert ring.lookup_hash(CITIZEN_ID, context="sharing.accidents.citizen_id") != h
    assert not ring.needs_rehash(h)


def test_lookup_hash_stable_across_rotation(alg):
    before = PiiKeyring({"k1": K1}, alg).lookup_hash(CITIZEN_ID, context=CTX)
    rotated = PiiKeyring({"k1": K1, "k2": K2}, alg)
    rotated_twice = PiiKeyring({"k1": K1, "k2": K2, "k3": K3}, alg)
    assert rotated.lookup_hash(CITIZEN_ID, context=CTX) == before
    assert rotated_twice.lookup_hash(" 11010519491231002x ", context=CTX) == before
    assert not rotated_twice.needs_rehash(before)


def test_lookup_hash_with_dedicated_hash_key():
    hash_key = bytes(range(50, 82))
    env = env_for({"k1": K1}, PREVENTION_PII_HASH_KEY=b64(hash_key))
    h = PiiKeyring.from_env(env).lookup_hash(CITIZEN_ID, context=CTX)
    assert h.split(".")[2] == "hk"
    # stable even when every encryption key has been replaced
    later = PiiKeyring.from_env(env_for({"k7": K3}, PREVENTION_PII_HASH_KEY=b64(hash_key)))
    assert later.lookup_hash(CITIZEN_ID, context=CTX) == h
    # and different from the hash derived from the oldest key
    plain = PiiKeyring({"k1": K1})
    assert plain.lookup_hash(CITIZEN_ID, context=CTX) != h
    assert plain.needs_rehash(h)


def test_lookup_hash_depends_on_algorithm():
    a = RINGS[AES256GCM_HMACSHA256].lookup_hash(CITIZEN_ID, context=CTX)
    s = RINGS[SM4GCM_SM3].lookup_hash(CITIZEN_ID, context=CTX)
    assert a != s
    assert RINGS[SM4GCM_SM3].needs_rehash(a)
    assert RINGS[SM4GCM_SM3].needs_rehash("garbage")


# -- no personal data in errors ---------------------------------------------------------------------

citizen_ids = st.builds(
    lambda prefix: prefix + citizen_id_check_char(prefix),
    st.text(alphabet="0123456789", min_size=17, max_size=17),
)


@settings(max_examples=50, deadline=None)
@given(citizen_ids, st.sampled_from(ALGORITHMS))
def test_no_plaintext_in_any_error(citizen_id, alg):
    ring = RINGS[alg]
    token = ring.encrypt(citizen_id, context=CTX)
    head, nonce, sealed = token.rsplit(".", 2)
    raw = bytearray(base64.urlsafe_b64decode(sealed + "=" * (-len(sealed) % 4)))
    raw[0] ^= 0xFF
    tampered = f"{head}.{nonce}.{base64.urlsafe_b64encode(bytes(raw)).rstrip(b'=').decode()}"
    attempts = [
        lambda: ring.decrypt(token, context="other.column"),
        lambda: ring.decrypt(tampered, context=CTX),
        lambda: ring.decrypt(token.replace(".k1.", ".k0."), context=CTX),
        lambda: ring.decrypt(citizen_id, context=CTX),  # plaintext handed in by mistake
        lambda: ring.needs_reencryption(citizen_id),
        lambda: ring.reencrypt(tampered, context=CTX),
        lambda: ring.encrypt(citizen_id, context=""),
        lambda: ring.lookup_hash(citizen_id, context=""),
    ]
    for attempt in attempts:
        with pytest.raises(PiiError) as exc:
            attempt()
        text = f"{exc.value} {exc.value!r} {exc.value.__cause__!r} {exc.value.__context__!r}"
        assert citizen_id not in text
        assert citizen_id[:17] not in text


# -- configuration -----------------------------------------------------------------------------------


def test_from_env(alg):
    ring = PiiKeyring.from_env(env_for({"k1": K1, "k2": K2}, PREVENTION_PII_ALGORITHM=alg))
    assert ring.algorithm == alg
    assert ring.current_key_id == "k2"
    assert ring.decrypt(ring.encrypt(CITIZEN_ID, context=CTX), context=CTX) == CITIZEN_ID


def test_from_env_accepts_urlsafe_base64_and_padding_free_keys():
    raw = bytes([0xFB] * 32)
    urlsafe = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    ring = PiiKeyring.from_env({"PREVENTION_PII_KEYS": json.dumps({"k1": urlsafe})})
    assert ring.lookup_hash("x", context=CTX) == PiiKeyring({"k1": raw}).lookup_hash("x", context=CTX)


@pytest.mark.parametrize("keys", [None, "", "  ", "{}"])
def test_no_keys_is_a_clear_error(keys):
    env = {} if keys is None else {"PREVENTION_PII_KEYS": keys}
    with pytest.raises(PiiConfigError) as exc:
        PiiKeyring.from_env(env)
    assert "PREVENTION_PII_KEYS" in str(exc.value)


def test_no_keys_in_constructor():
    with pytest.raises(PiiConfigError) as exc:
        PiiKeyring({})
    assert "no PII keys" in str(exc.value)


@pytest.mark.parametrize("length", [0, 16, 31, 33, 64])
def test_wrong_key_length(length):
    material = os.urandom(length)
    with pytest.raises(PiiConfigError) as exc:
        PiiKeyring.from_env(env_for({"k1": material}))
    assert f"got {length} bytes" in str(exc.value)
    assert "'k1'" in str(exc.value)
    if length:
        assert b64(material) not in str(exc.value)
    with pytest.raises(PiiConfigError):
        PiiKeyring({"k1": material})


@pytest.mark.parametrize(
    "raw",
    [
        "not json",
        "[1, 2]",
        '"a string"',
        '{"k1": 42}',
        '{"k1": "***not base64***"}',
        '{"k1": "' + b64(K1)[:-4] + '-*?!"}',
        '{"bad id!": "' + b64(K1) + '"}',
        '{"k.1": "' + b64(K1) + '"}',
    ],
)
def test_malformed_key_config(raw):
    with pytest.raises(PiiConfigError) as exc:
        PiiKeyring.from_env({"PREVENTION_PII_KEYS": raw})
    assert "PREVENTION_PII_KEYS" in str(exc.value)


def test_bad_hash_key():
    with pytest.raises(PiiConfigError) as exc:
        PiiKeyring.from_env(env_for({"k1": K1}, PREVENTION_PII_HASH_KEY=b64(b"short")))
    assert "PREVENTION_PII_HASH_KEY" in str(exc.value)


def test_unknown_algorithm():
    with pytest.raises(PiiConfigError) as exc:
        PiiKeyring.from_env(env_for({"k1": K1}, PREVENTION_PII_ALGORITHM="des-md5"))
    assert "sm4gcm-sm3" in str(exc.value)
    assert PiiKeyring({"k1": K1}, " SM4GCM-SM3 ").algorithm == SM4GCM_SM3


def test_generate_key():
    key = PiiKeyring.generate_key()
    assert len(base64.b64decode(key, validate=True)) == 32
    assert PiiKeyring.generate_key() != key
    PiiKeyring.from_env({"PREVENTION_PII_KEYS": json.dumps({"k1": key})})


def test_repr_has_no_key_material():
    ring = PiiKeyring({"k1": K1, "k2": K2})
    text = repr(ring)
    assert "k2" in text
    assert b64(K1) not in text and repr(K1) not in text


# -- embedded mode -----------------------------------------------------------------------------------


def test_embedded_key_file_created_0600_and_reused(tmp_path):
    data_dir = tmp_path / "var"
    ring = PiiKeyring.for_embedded(data_dir, env={})
    path = data_dir / EMBEDDED_KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    keys = json.loads(path.read_text())
    assert list(keys) == ["k1"]
    assert len(base64.b64decode(keys["k1"])) == 32
    assert ring.algorithm == DEFAULT_ALGORITHM

    token = ring.encrypt(CITIZEN_ID, context=CTX)
    h = ring.lookup_hash(CITIZEN_ID, context=CTX)
    again = PiiKeyring.for_embedded(data_dir, env={})
    assert json.loads(path.read_text()) == keys  # not regenerated
    assert again.decrypt(token, context=CTX) == CITIZEN_ID
    assert again.lookup_hash(CITIZEN_ID, context=CTX) == h
    # the file has the shape of PREVENTION_PII_KEYS, so it can seed a Secret
    assert PiiKeyring.from_env({"PREVENTION_PII_KEYS": path.read_text()}).decrypt(token, context=CTX) == CITIZEN_ID
    assert not [p for p in data_dir.iterdir() if p.name != EMBEDDED_KEY_FILE]  # no temp files left


def test_embedded_algorithm_from_env(tmp_path):
    ring = PiiKeyring.for_embedded(tmp_path, env={"PREVENTION_PII_ALGORITHM": SM4GCM_SM3})
    assert ring.algorithm == SM4GCM_SM3
    assert PiiKeyring.for_embedded(tmp_path, algorithm=AES256GCM_HMACSHA256, env={}).algorithm == AES256GCM_HMACSHA256


def test_embedded_key_file_permissions_tightened(tmp_path):
    PiiKeyring.for_embedded(tmp_path, env={})
    path = tmp_path / EMBEDDED_KEY_FILE
    path.chmod(0o644)
    PiiKeyring.for_embedded(tmp_path, env={})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_embedded_rotation(tmp_path):
    ring = PiiKeyring.for_embedded(tmp_path, env={})
    token = ring.encrypt(CITIZEN_ID, context=CTX)
    h = ring.lookup_hash(CITIZEN_ID, context=CTX)
    assert rotate_embedded_key(tmp_path) == "k2"
    path = tmp_path / EMBEDDED_KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    rotated = PiiKeyring.for_embedded(tmp_path, env={})
    assert rotated.current_key_id == "k2"
    assert rotated.decrypt(token, context=CTX) == CITIZEN_ID
    assert rotated.needs_reencryption(token)
    assert rotated.lookup_hash(CITIZEN_ID, context=CTX) == h


def test_embedded_corrupt_file(tmp_path):
    (tmp_path / EMBEDDED_KEY_FILE).write_text("{oops")
    (tmp_path / EMBEDDED_KEY_FILE).chmod(0o600)
    with pytest.raises(PiiConfigError) as exc:
        PiiKeyring.for_embedded(tmp_path, env={})
    assert EMBEDDED_KEY_FILE in str(exc.value)


class _Settings:
    def __init__(self, profile, data_dir):
        self.profile = profile
        self.data_dir = data_dir


def test_from_settings(tmp_path):
    # env wins
    ring = PiiKeyring.from_settings(_Settings("prod", tmp_path), env=env_for({"s1": K1}))
    assert ring.current_key_id == "s1"
    assert not (tmp_path / EMBEDDED_KEY_FILE).exists()
    # dev without env: embedded key file
    ring = PiiKeyring.from_settings(_Settings("dev", tmp_path), env={})
    assert ring.current_key_id == "k1"
    assert (tmp_path / EMBEDDED_KEY_FILE).exists()
    # prod without env: refuse
    with pytest.raises(PiiConfigError) as exc:
        PiiKeyring.from_settings(_Settings("prod", tmp_path), env={})
    assert "PREVENTION_PII_KEYS" in str(exc.value)
