"""Object storage: local disk (embedded mode) or S3 (SeaweedFS / MinIO / any S3) behind one interface.

Objects are keyed ``<tenant>/<service>/<kind>/<id>`` (SPEC 7.5); the tenant prefix is what keeps
tenants apart in a shared bucket (RELIABILITY S3), so every key is re-validated on every call.
Uploads over 4 MiB never go through gRPC: the service hands out a presigned PUT URL instead, and
presigned URLs expire after 15 minutes unless asked otherwise.

Both stores are async; the minio client and the file system are blocking, so their calls run in
``asyncio.to_thread``. Presigning is pure computation (no network: the S3 region is fixed at
construction so minio never looks it up), so it is synchronous.

Errors are domain errors (services.common.errors), never HTTP errors, and their messages carry at
most the object key, which by construction holds no personal data.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import hmac
import io
import json
import os
import re
import secrets
import ssl
from collections.abc import AsyncIterable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any, Protocol, TypeVar, runtime_checkable
from urllib.parse import quote, urlencode, urlsplit

import urllib3
from minio import Minio
from minio.error import MinioException, S3Error

from services.common.errors import (
    DomainError,
    FieldViolation,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    Unavailable,
)

__all__ = [
    "DEFAULT_CONTENT_TYPES",
    "DEFAULT_EXPIRY",
    "DEFAULT_MAX_PRESIGNED_SIZE",
    "DEFAULT_MAX_SIZE",
    "MAX_EXPIRY",
    "LocalObjectStore",
    "ObjectInfo",
    "ObjectListing",
    "ObjectStore",
    "S3ObjectStore",
    "object_key",
    "object_store_from_settings",
    "parse_object_key",
]

DEFAULT_EXPIRY = timedelta(minutes=15)
MAX_EXPIRY = timedelta(days=7)  # the S3 SigV4 limit; the local store keeps the same bound
DEFAULT_MAX_SIZE = 4 * 1024 * 1024  # larger uploads go by presigned PUT (SPEC 7.5)
DEFAULT_MAX_PRESIGNED_SIZE = 512 * 1024 * 1024
DEFAULT_CONTENT_TYPES: frozenset[str] = frozenset(
    {
        "application/pdf",
        "image/png",
        "image/jpeg",
        "video/mp4",
        "text/csv",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/octet-stream",
        "application/json",
    }
)

_KEY_FIELDS = ("tenant", "service", "kind", "object_id")
_TENANT_RE = re.compile(r"[0-9]{6}")
_SEGMENT_RE = re.compile(r"[a-z0-9][a-z0-9_.-]{0,127}")
_SHA256_HEX_RE = re.compile(r"[0-9a-f]{64}")
_CHUNK = 1024 * 1024
_T = TypeVar("_T")


# -- keys ------------------------------------------------------------------------------------------


def _segment_violation(field: str, value: object) -> FieldViolation | None:
    # The offending value is not echoed: it came from a caller and could be anything.
    if not isinstance(value, str):
        return FieldViolation(field, "must be a string")
    if field == "tenant":
        if not _TENANT_RE.fullmatch(value):
            return FieldViolation(field, "must be a 6-digit administrative division code")
        return None
    if not _SEGMENT_RE.fullmatch(value) or ".." in value:
        return FieldViolation(
            field,
            "must be 1-128 characters of a-z, 0-9, '_', '.', '-', start with a letter or digit "
            "and contain no '..' or '/'",
        )
    return None


def _validate_segments(segments: tuple[object, ...]) -> None:
    violations = [
        v
        for field, value in zip(_KEY_FIELDS, segments, strict=True)
        if (v := _segment_violation(field, value))
    ]
    if violations:
        raise InvalidArgument(violations)


def object_key(tenant: str, service: str, kind: str, object_id: str) -> str:
    """``<tenant>/<service>/<kind>/<id>``; raises InvalidArgument naming each bad segment."""
    _validate_segments((tenant, service, kind, object_id))
    return f"{tenant}/{service}/{kind}/{object_id}"


def parse_object_key(key: str) -> tuple[str, str, str, str]:
    """Split and validate a key built by :func:`object_key` (InvalidArgument otherwise)."""
    if not isinstance(key, str):
        raise InvalidArgument.field("key", "must be a string")
    parts = key.split("/")
    if len(parts) != len(_KEY_FIELDS):
        raise InvalidArgument.field("key", "must have the form <tenant>/<service>/<kind>/<id>")
    _validate_segments(tuple(parts))
    return parts[0], parts[1], parts[2], parts[3]


# -- values and interface --------------------------------------------------------------------------


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    content_type: str
    sha256: str  # hex SHA-256 of the content
    # Filled in by ``stat`` (None from ``put``); not part of equality, so infos still compare by content.
    last_modified: datetime | None = field(default=None, compare=False)


@dataclass(frozen=True)
class ObjectListing:
    """One object found by ``list_objects``: its key, size and last-modified time (aware UTC)."""

    key: str
    size: int
    last_modified: datetime


def _check_prefix(prefix: str) -> str:
    """A listing prefix is "" or whole key segments each followed by '/' (``110000/training/``),
    at most three of them; InvalidArgument otherwise (so it never escapes the store's root)."""
    if not isinstance(prefix, str):
        raise InvalidArgument.field("prefix", "must be a string")
    if prefix == "":
        return prefix
    parts = prefix.split("/")
    if parts[-1] != "" or not 1 <= len(parts) - 1 <= len(_KEY_FIELDS) - 1:
        raise InvalidArgument.field("prefix", "must be up to three whole key segments, each ending in '/'")
    violations = [v for field, value in zip(_KEY_FIELDS, parts[:-1], strict=False)
                  if (v := _segment_violation(field, value))]
    if violations:
        raise InvalidArgument([FieldViolation("prefix", f"{v.field} {v.description}") for v in violations])
    return prefix


@runtime_checkable
class ObjectStore(Protocol):
    async def put(self, key: str, data: bytes, content_type: str) -> ObjectInfo: ...

    async def get(self, key: str) -> bytes: ...

    async def stat(self, key: str) -> ObjectInfo: ...

    async def delete(self, key: str) -> None: ...

    def presign_get(
        self, key: str, *, expires: timedelta = DEFAULT_EXPIRY, now: datetime | None = None
    ) -> str: ...

    def presign_put(
        self,
        key: str,
        *,
        content_type: str,
        expires: timedelta = DEFAULT_EXPIRY,
        now: datetime | None = None,
    ) -> str: ...

    async def ping(self) -> None: ...

    async def list_objects(self, prefix: str = "") -> list[ObjectListing]:
        """Every object whose key starts with ``prefix`` (whole segments), in key order."""
        ...


def _media_type(content_type: str) -> str:
    """The essence of a Content-Type (``text/csv; charset=gb18030`` -> ``text/csv``)."""
    return content_type.split(";", 1)[0].strip().lower()


def _aware_utc(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if not isinstance(now, datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime (naive datetimes are ambiguous)")
    return now.astimezone(UTC)


def _not_found(key: str) -> NotFound:
    return NotFound(f"object {key} not found", reason="OBJECT_NOT_FOUND", metadata={"key": key})


class _StoreBase:
    """Checks shared by every store: keys, sizes, content types, expiry."""

    def __init__(self, *, max_size: int, allowed_content_types: frozenset[str]) -> None:
        if max_size < 0:
            raise ValueError("max_size must not be negative")
        self.max_size = max_size
        self.allowed_content_types = frozenset(_media_type(ct) for ct in allowed_content_types)

    def _check_key(self, key: str) -> str:
        parse_object_key(key)
        return key

    def _check_content_type(self, content_type: str) -> str:
        if not isinstance(content_type, str) or _media_type(content_type) not in self.allowed_content_types:
            raise InvalidArgument.field(
                "content_type",
                "is not an accepted type; allowed: " + ", ".join(sorted(self.allowed_content_types)),
            )
        return content_type.strip()

    @staticmethod
    def _check_size(size: int, limit: int, hint: str = "") -> None:
        if size > limit:
            raise ResourceExhausted(
                f"object is larger than the {limit} byte limit{hint}",
                reason="OBJECT_TOO_LARGE",
                metadata={"max_size": str(limit)},
            )

    @staticmethod
    def _check_expiry(expires: timedelta) -> int:
        if not isinstance(expires, timedelta) or not timedelta(seconds=1) <= expires <= MAX_EXPIRY:
            raise InvalidArgument.field("expires", "must be between 1 second and 7 days")
        return int(expires.total_seconds())

    async def put(self, key: str, data: bytes, content_type: str) -> ObjectInfo:
        """Store ``data`` under ``key`` (replacing any previous object)."""
        self._check_key(key)
        content_type = self._check_content_type(content_type)
        data = bytes(data)
        self._check_size(len(data), self.max_size, "; upload larger objects with a presigned PUT")
        return await self._put_checked(key, data, content_type, hashlib.sha256(data).hexdigest())

    async def _put_checked(self, key: str, data: bytes, content_type: str, sha256: str) -> ObjectInfo:
        raise NotImplementedError


# -- local disk ------------------------------------------------------------------------------------


class LocalObjectStore(_StoreBase):
    """Objects as files under ``root`` (embedded mode: ``<data dir>/objects``).

    ``root/<tenant>/<service>/<kind>/<id>`` holds the bytes and ``.<id>.meta.json`` beside it the
    content type, size and SHA-256 (a valid id never starts with '.', so the names cannot clash).
    Both are written to a temporary file and moved into place with ``os.replace``.

    Presigned URLs point at the gateway's ``/objects/{key}`` route (gateway.objects), signed with
    HMAC-SHA-256 over method, key, expiry and, for PUT, the content type.
    """

    SIGNATURE_VERSION = b"prevention-object-v1"

    def __init__(
        self,
        root: Path,
        *,
        base_url: str,
        signing_key: bytes,
        max_size: int = DEFAULT_MAX_SIZE,
        max_presigned_size: int = DEFAULT_MAX_PRESIGNED_SIZE,
        allowed_content_types: frozenset[str] = DEFAULT_CONTENT_TYPES,
    ) -> None:
        super().__init__(max_size=max_size, allowed_content_types=allowed_content_types)
        if not isinstance(signing_key, bytes | bytearray) or len(signing_key) < 16:
            raise ValueError("signing_key must be at least 16 bytes")
        self.root = Path(root)
        self.base_url = base_url.rstrip("/")
        self.max_presigned_size = max(max_presigned_size, max_size)
        self._signing_key = bytes(signing_key)

    # paths

    def _paths(self, key: str) -> tuple[Path, Path]:
        tenant, service, kind, object_id = parse_object_key(key)
        directory = self.root / tenant / service / kind
        return directory / object_id, directory / f".{object_id}.meta.json"

    # writes

    async def _put_checked(self, key: str, data: bytes, content_type: str, sha256: str) -> ObjectInfo:
        info = ObjectInfo(key=key, size=len(data), content_type=content_type, sha256=sha256)
        await asyncio.to_thread(self._write, info, [data])
        return info

    def _write(self, info: ObjectInfo, chunks: list[bytes] | None, staged: Path | None = None) -> None:
        data_path, meta_path = self._paths(info.key)
        meta_staged: Path | None = None
        try:
            data_path.parent.mkdir(parents=True, exist_ok=True)
            if staged is None:
                staged = self._stage(data_path, chunks or [])
            meta = json.dumps({"content_type": info.content_type, "size": info.size, "sha256": info.sha256})
            meta_staged = self._stage(meta_path, [meta.encode()])
            # Data first, then the sidecar: a reader never sees a sidecar for bytes not yet in place.
            os.replace(staged, data_path)
            os.replace(meta_staged, meta_path)
        except OSError as exc:
            for leftover in (staged, meta_staged):
                if leftover is not None:
                    with contextlib.suppress(OSError):
                        leftover.unlink(missing_ok=True)
            raise Unavailable(f"object store cannot write {info.key}", reason="OBJECT_STORE_IO") from exc

    @staticmethod
    def _temp_path(target: Path) -> Path:
        return target.with_name(f".{target.name}.tmp-{secrets.token_hex(8)}")

    def _stage(self, target: Path, chunks: list[bytes]) -> Path:
        tmp = self._temp_path(target)
        try:
            with open(tmp, "xb") as f:
                for chunk in chunks:
                    f.write(chunk)
                f.flush()
                os.fsync(f.fileno())
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        return tmp

    async def put_stream(self, key: str, chunks: AsyncIterable[bytes], content_type: str) -> ObjectInfo:
        """Store a streamed upload (presigned PUT) of at most ``max_presigned_size`` bytes."""
        self._check_key(key)
        content_type = self._check_content_type(content_type)
        data_path, _ = self._paths(key)
        await asyncio.to_thread(data_path.parent.mkdir, parents=True, exist_ok=True)
        tmp = self._temp_path(data_path)
        digest = hashlib.sha256()
        size = 0
        try:
            f = await asyncio.to_thread(open, tmp, "xb")
            try:
                async for chunk in chunks:
                    if not chunk:
                        continue
                    size += len(chunk)
                    self._check_size(size, self.max_presigned_size)
                    digest.update(chunk)
                    await asyncio.to_thread(f.write, chunk)
                await asyncio.to_thread(self._flush, f)
            finally:
                await asyncio.to_thread(f.close)
            info = ObjectInfo(key=key, size=size, content_type=content_type, sha256=digest.hexdigest())
            await asyncio.to_thread(self._write, info, None, tmp)
            return info
        except OSError as exc:
            raise Unavailable(f"object store cannot write {key}", reason="OBJECT_STORE_IO") from exc
        finally:
            with contextlib.suppress(OSError):
                await asyncio.to_thread(tmp.unlink, missing_ok=True)

    @staticmethod
    def _flush(f: IO[bytes]) -> None:
        f.flush()
        os.fsync(f.fileno())

    # reads

    def _read_meta(self, key: str, meta_path: Path) -> ObjectInfo:
        try:
            meta = json.loads(meta_path.read_bytes())
        except FileNotFoundError:
            raise _not_found(key) from None
        except (OSError, ValueError) as exc:
            raise Unavailable(f"object store cannot read {key}", reason="OBJECT_STORE_IO") from exc
        return ObjectInfo(
            key=key, size=meta["size"], content_type=meta["content_type"], sha256=meta["sha256"]
        )

    def _open_sync(self, key: str) -> tuple[ObjectInfo, IO[bytes]]:
        data_path, meta_path = self._paths(key)
        try:
            f = open(data_path, "rb")  # handed to the caller, who closes it
        except (FileNotFoundError, NotADirectoryError):
            raise _not_found(key) from None
        except OSError as exc:
            raise Unavailable(f"object store cannot read {key}", reason="OBJECT_STORE_IO") from exc
        try:
            return self._read_meta(key, meta_path), f
        except BaseException:
            f.close()
            raise

    async def open_read(self, key: str) -> tuple[ObjectInfo, IO[bytes]]:
        """Info and an open binary file for streaming; the caller closes the file."""
        self._check_key(key)
        return await asyncio.to_thread(self._open_sync, key)

    def _get_sync(self, key: str) -> bytes:
        _, f = self._open_sync(key)
        with f:
            return f.read()

    async def get(self, key: str) -> bytes:
        self._check_key(key)
        return await asyncio.to_thread(self._get_sync, key)

    def _stat_sync(self, key: str) -> ObjectInfo:
        data_path, meta_path = self._paths(key)
        try:
            mtime = data_path.stat().st_mtime
        except (FileNotFoundError, NotADirectoryError):
            raise _not_found(key) from None
        except OSError as exc:
            raise Unavailable(f"object store cannot read {key}", reason="OBJECT_STORE_IO") from exc
        if not data_path.is_file():
            raise _not_found(key)
        info = self._read_meta(key, meta_path)
        return ObjectInfo(key=info.key, size=info.size, content_type=info.content_type, sha256=info.sha256,
                          last_modified=datetime.fromtimestamp(mtime, UTC))

    async def stat(self, key: str) -> ObjectInfo:
        self._check_key(key)
        return await asyncio.to_thread(self._stat_sync, key)

    def _delete_sync(self, key: str) -> None:
        for path in self._paths(key):
            try:
                path.unlink(missing_ok=True)
            except NotADirectoryError:
                pass
            except OSError as exc:
                raise Unavailable(f"object store cannot delete {key}", reason="OBJECT_STORE_IO") from exc

    async def delete(self, key: str) -> None:
        """Remove the object; deleting a missing object is not an error (as in S3)."""
        self._check_key(key)
        await asyncio.to_thread(self._delete_sync, key)

    def _list_sync(self, prefix: str) -> list[ObjectListing]:
        found: list[ObjectListing] = []
        start = self.root.joinpath(*prefix.split("/")[:-1]) if prefix else self.root
        for directory, dirs, files in os.walk(start):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            for name in files:
                if name.startswith("."):  # sidecars and staged temporaries
                    continue
                path = Path(directory) / name
                key = path.relative_to(self.root).as_posix()
                try:
                    parse_object_key(key)
                except InvalidArgument:
                    continue  # not an object this store wrote
                try:
                    st = path.stat()
                except FileNotFoundError:
                    continue  # deleted while listing
                except OSError as exc:
                    raise Unavailable("object store cannot list objects", reason="OBJECT_STORE_IO") from exc
                found.append(ObjectListing(key=key, size=st.st_size,
                                           last_modified=datetime.fromtimestamp(st.st_mtime, UTC)))
        found.sort(key=lambda o: o.key)
        return found

    async def list_objects(self, prefix: str = "") -> list[ObjectListing]:
        """Every object under ``prefix``; last-modified is the data file's mtime."""
        _check_prefix(prefix)
        return await asyncio.to_thread(self._list_sync, prefix)

    def _ping_sync(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise Unavailable(
                "object store directory is not usable", reason="OBJECT_STORE_UNAVAILABLE"
            ) from exc
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise Unavailable("object store directory is not writable", reason="OBJECT_STORE_UNAVAILABLE")

    async def ping(self) -> None:
        await asyncio.to_thread(self._ping_sync)

    # presigned URLs

    def _signature(self, method: str, key: str, expires_at: int, content_type: str) -> str:
        message = b"\n".join(
            [
                self.SIGNATURE_VERSION,
                method.encode(),
                key.encode(),
                str(expires_at).encode(),
                content_type.encode(),
            ]
        )
        return hmac.new(self._signing_key, message, hashlib.sha256).hexdigest()

    def _presign(
        self, method: str, key: str, content_type: str, expires: timedelta, now: datetime | None
    ) -> str:
        self._check_key(key)
        seconds = self._check_expiry(expires)
        expires_at = int(_aware_utc(now).timestamp()) + seconds
        query = urlencode(
            {
                "X-Prevention-Method": method,
                "X-Prevention-Expires": str(expires_at),
                "X-Prevention-Signature": self._signature(method, key, expires_at, content_type),
            }
        )
        return f"{self.base_url}/objects/{quote(key, safe='/')}?{query}"

    def presign_get(
        self, key: str, *, expires: timedelta = DEFAULT_EXPIRY, now: datetime | None = None
    ) -> str:
        return self._presign("GET", key, "", expires, now)

    def presign_put(
        self,
        key: str,
        *,
        content_type: str,
        expires: timedelta = DEFAULT_EXPIRY,
        now: datetime | None = None,
    ) -> str:
        """A URL for uploading with exactly this Content-Type header (it is part of the signature)."""
        content_type = self._check_content_type(content_type)
        return self._presign("PUT", key, content_type, expires, now)

    def verify_presigned(
        self,
        method: str,
        key: str,
        expires: str | int | None,
        signature: str | None,
        now: datetime | None = None,
        *,
        content_type: str | None = None,
    ) -> None:
        """Raise PermissionDenied unless the URL parameters were signed by this store and are unexpired.

        ``content_type`` is the request's Content-Type header, required to match for PUT.
        """
        denied = PermissionDenied("presigned URL is invalid", reason="PRESIGNED_URL_INVALID")
        if method not in ("GET", "PUT") or not isinstance(signature, str) or not isinstance(key, str):
            raise denied
        try:
            expires_at = int(str(expires), 10)
        except ValueError:
            raise denied from None
        signed_type = (content_type or "").strip() if method == "PUT" else ""
        expected = self._signature(method, key, expires_at, signed_type)
        # compare_digest refuses non-ASCII str, so compare bytes.
        if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
            raise denied
        if _aware_utc(now).timestamp() > expires_at:
            raise PermissionDenied("presigned URL has expired", reason="PRESIGNED_URL_EXPIRED")


# -- S3 --------------------------------------------------------------------------------------------

_NOT_FOUND_CODES = frozenset({"NoSuchKey", "NoSuchObject", "NoSuchVersion"})
_CHECKSUM_CODES = frozenset({"BadDigest", "XAmzContentSHA256Mismatch", "InvalidDigest"})
_MAX_SINGLE_PUT = 5 * 1024**3  # S3's limit for one PutObject
_MIN_PART = 5 * 1024**2  # minio's minimum part size


class S3ObjectStore(_StoreBase):
    """Objects in one S3 bucket, through the minio client.

    ``put`` sends ``x-amz-checksum-sha256`` (the server rejects the upload if the bytes it got
    differ; with plain HTTP the SigV4 payload hash is checked too) and keeps the hex digest as user
    metadata ``sha256`` for ``stat``.
    """

    def __init__(
        self,
        endpoint: str,
        access_key: str,
        secret_key: str,
        bucket: str,
        *,
        secure: bool = True,
        region: str = "us-east-1",
        max_size: int = DEFAULT_MAX_SIZE,
        allowed_content_types: frozenset[str] = DEFAULT_CONTENT_TYPES,
        client: Minio | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 60.0,
    ) -> None:
        super().__init__(max_size=max_size, allowed_content_types=allowed_content_types)
        if max_size > _MAX_SINGLE_PUT:
            raise ValueError("max_size must not exceed 5 GiB (one S3 PutObject)")
        if not bucket:
            raise ValueError("bucket is required")
        self.bucket = bucket
        self.endpoint = endpoint
        if client is None:
            http = urllib3.PoolManager(
                timeout=urllib3.Timeout(connect=connect_timeout, read=read_timeout),
                maxsize=10,
                cert_reqs=ssl.CERT_REQUIRED,
                ca_certs=os.environ.get("SSL_CERT_FILE") or _default_ca_bundle(),
                # Few, quick retries: ping() must report an unreachable store promptly.
                retries=urllib3.Retry(total=2, backoff_factor=0.1, status_forcelist=[500, 502, 503, 504]),
            )
            # A fixed region means minio never asks the server for it, so presigning is offline.
            client = Minio(endpoint, access_key, secret_key, secure=secure, region=region, http_client=http)
        self.client = client

    # plumbing

    def _translate(self, exc: Exception, key: str | None) -> DomainError:
        what = f"object {key}" if key else f"bucket {self.bucket}"
        if isinstance(exc, S3Error):
            code = exc.code or ""
            if code in _NOT_FOUND_CODES and key:
                return _not_found(key)
            if code in _CHECKSUM_CODES:
                return Unavailable(
                    f"object store rejected {what}: checksum mismatch", reason="OBJECT_CHECKSUM_MISMATCH"
                )
            return Unavailable(
                f"object store refused the request for {what}",
                reason="OBJECT_STORE_ERROR",
                metadata={"s3_code": code},
            )
        return Unavailable(f"object store is unreachable ({what})", reason="OBJECT_STORE_UNAVAILABLE")

    async def _call(self, key: str | None, fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        try:
            return await asyncio.to_thread(fn, *args, **kwargs)
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise self._translate(exc, key) from exc

    # bucket

    def _ensure_bucket_sync(self) -> None:
        if self.client.bucket_exists(self.bucket):
            return
        try:
            self.client.make_bucket(self.bucket)
        except S3Error as exc:
            if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise

    async def ensure_bucket(self) -> None:
        """Create the bucket if it does not exist (safe to race with another process)."""
        await self._call(None, self._ensure_bucket_sync)

    # objects

    async def _put_checked(self, key: str, data: bytes, content_type: str, sha256: str) -> ObjectInfo:
        await self._call(
            key,
            self.client.put_object,
            self.bucket,
            key,
            io.BytesIO(data),
            len(data),
            content_type=content_type,
            metadata={
                "x-amz-checksum-sha256": base64.b64encode(bytes.fromhex(sha256)).decode(),
                "sha256": sha256,
            },
            # One part: a multipart upload would not carry the whole-object checksum.
            part_size=max(len(data), _MIN_PART),
        )
        return ObjectInfo(key=key, size=len(data), content_type=content_type, sha256=sha256)

    def _get_sync(self, key: str) -> bytes:
        response = self.client.get_object(self.bucket, key)
        try:
            return response.read()
        finally:
            response.close()
            response.release_conn()

    async def get(self, key: str) -> bytes:
        self._check_key(key)
        return await self._call(key, self._get_sync, key)

    def _hash_sync(self, key: str) -> str:
        digest = hashlib.sha256()
        response = self.client.get_object(self.bucket, key)
        try:
            for chunk in response.stream(_CHUNK):
                digest.update(chunk)
        finally:
            response.close()
            response.release_conn()
        return digest.hexdigest()

    def _stat_sync(self, key: str) -> ObjectInfo:
        obj = self.client.stat_object(self.bucket, key, extra_headers={"x-amz-checksum-mode": "ENABLED"})
        headers = obj.metadata or {}
        sha256 = _sha256_from_headers(headers)
        if sha256 is None:
            # Uploaded by presigned PUT without a checksum: hash the content once.
            sha256 = self._hash_sync(key)
        return ObjectInfo(
            key=key,
            size=int(obj.size or 0),
            content_type=obj.content_type or "application/octet-stream",
            sha256=sha256,
            last_modified=_aware_utc(obj.last_modified) if obj.last_modified else None,
        )

    async def stat(self, key: str) -> ObjectInfo:
        self._check_key(key)
        return await self._call(key, self._stat_sync, key)

    async def delete(self, key: str) -> None:
        """Remove the object; deleting a missing object is not an error."""
        self._check_key(key)
        await self._call(key, self.client.remove_object, self.bucket, key)

    def _list_sync(self, prefix: str) -> list[ObjectListing]:
        found: list[ObjectListing] = []
        for obj in self.client.list_objects(self.bucket, prefix=prefix, recursive=True):
            key = obj.object_name or ""
            if obj.is_dir or obj.last_modified is None:
                continue
            try:
                parse_object_key(key)
            except InvalidArgument:
                continue  # another application's object in a shared bucket
            found.append(ObjectListing(key=key, size=int(obj.size or 0),
                                       last_modified=_aware_utc(obj.last_modified)))
        found.sort(key=lambda o: o.key)
        return found

    async def list_objects(self, prefix: str = "") -> list[ObjectListing]:
        """Every object under ``prefix`` (ListObjectsV2, paged by minio)."""
        _check_prefix(prefix)
        return await self._call(None, self._list_sync, prefix)

    def _ping_sync(self) -> None:
        if not self.client.bucket_exists(self.bucket):
            raise Unavailable(f"bucket {self.bucket} does not exist", reason="OBJECT_STORE_UNAVAILABLE")

    async def ping(self) -> None:
        await self._call(None, self._ping_sync)

    # presigned URLs

    def _presign(self, method: str, key: str, expires: timedelta, now: datetime | None) -> str:
        self._check_key(key)
        self._check_expiry(expires)
        return self.client.get_presigned_url(
            method, self.bucket, key, expires=expires, request_date=_aware_utc(now)
        )

    def presign_get(
        self, key: str, *, expires: timedelta = DEFAULT_EXPIRY, now: datetime | None = None
    ) -> str:
        return self._presign("GET", key, expires, now)

    def presign_put(
        self,
        key: str,
        *,
        content_type: str,
        expires: timedelta = DEFAULT_EXPIRY,
        now: datetime | None = None,
    ) -> str:
        """A presigned PUT URL.

        SigV4 query signing as minio does it signs only the Host header, so S3 does not hold the
        uploader to ``content_type``; the type is still checked against the allowed set here, and
        callers confirm an upload with :meth:`stat` before trusting it.
        """
        self._check_content_type(content_type)
        return self._presign("PUT", key, expires, now)


def _header(headers: Any, name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        for k, v in headers.items():
            if k.lower() == lowered:
                return v
    return value


def _sha256_from_headers(headers: Any) -> str | None:
    checksum = _header(headers, "x-amz-checksum-sha256")
    if checksum:
        try:
            raw = base64.b64decode(checksum, validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) == 32:
            return raw.hex()
    meta = _header(headers, "x-amz-meta-sha256")
    if meta and _SHA256_HEX_RE.fullmatch(meta.strip().lower()):
        return meta.strip().lower()
    return None


def _default_ca_bundle() -> str | None:
    try:
        import certifi  # a dependency of minio
    except ImportError:  # pragma: no cover
        return None
    return certifi.where()


# -- construction from settings ------------------------------------------------------------------


def object_store_from_settings(
    *,
    data_dir: Path,
    s3_endpoint: str | None,
    s3_access_key: str | None,
    s3_secret_key: str | None,
    s3_bucket: str | None,
    s3_secure: bool,
    public_base_url: str,
    signing_key: bytes,
) -> ObjectStore:
    """S3 when an endpoint is configured (``PREVENTION_S3_*``), else files under ``<data dir>/objects``.

    The endpoint may be ``host:port`` or a URL; a URL's scheme overrides ``s3_secure``.
    """
    if s3_endpoint:
        endpoint, secure = s3_endpoint.strip(), s3_secure
        if "://" in endpoint:
            parts = urlsplit(endpoint)
            if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
                raise ValueError("S3 endpoint must be host[:port] or http(s)://host[:port]")
            endpoint, secure = parts.netloc, parts.scheme == "https"
        if not s3_bucket:
            raise ValueError("an S3 bucket name is required with an S3 endpoint")
        return S3ObjectStore(
            endpoint,
            s3_access_key or "",
            s3_secret_key or "",
            s3_bucket,
            secure=secure,
        )
    return LocalObjectStore(Path(data_dir) / "objects", base_url=public_base_url, signing_key=signing_key)


def local_signing_key(data_dir: Path, configured: str = "") -> bytes:
    """The configured key, else a random key kept in ``<data dir>/object-url.key`` (mode 0600),
    shared by the services that presign and the gateway that serves the URLs in embedded mode."""
    if configured:
        return configured.encode()
    path = Path(data_dir) / "object-url.key"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes()
    with os.fdopen(fd, "wb") as f:
        f.write(secrets.token_hex(32).encode())
    return path.read_bytes()


def object_store(settings) -> ObjectStore:
    """The object store a process uses, from ``PlatformSettings`` (SPEC 7.5)."""
    return object_store_from_settings(
        data_dir=settings.data_dir, s3_endpoint=settings.s3_endpoint, s3_access_key=settings.s3_access_key,
        s3_secret_key=settings.s3_secret_key, s3_bucket=settings.s3_bucket, s3_secure=settings.s3_secure,
        public_base_url=settings.public_base_url,
        signing_key=b"" if settings.s3_endpoint else local_signing_key(settings.data_dir, settings.object_url_key),
    )
