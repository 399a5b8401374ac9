"""S3 helpers for the end-to-end tests: error assertions, expected ETags and
checksums computed independently of the server, raw SigV4-signed requests."""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import socket
import xml.etree.ElementTree as ET
import zlib
from pprint import pformat
from urllib.parse import quote, urlsplit

import requests
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

KIB = 1024
MIB = 1024 * 1024

_counter = 0


def unique_bucket(prefix: str = "sb") -> str:
    """A fresh valid bucket name (3..63 chars, lowercase, digits, hyphens)."""
    global _counter
    _counter += 1
    prefix = "".join(c if c.isalnum() else "-" for c in prefix.lower()).strip("-")[:30] or "sb"
    return f"{prefix}-{_counter}-{secrets.token_hex(4)}"


# ---------------------------------------------------------------- errors


def s3_error(fn, *args, **kwargs) -> dict:
    """Call fn expecting a ClientError; return its parsed error response.
    Fails (printing the successful response) if the call succeeds."""
    try:
        resp = fn(*args, **kwargs)
    except ClientError as e:
        return e.response
    if isinstance(resp, dict) and "Body" in resp:
        resp = dict(resp)
        resp["Body"] = resp["Body"].read()[:500]
    raise AssertionError(f"expected an S3 error, but the call succeeded:\n{pformat(resp)}")


def assert_s3_error(fn, *args, code, status, **kwargs) -> dict:
    """Call fn(*args, **kwargs) expecting an S3 error with the given code
    and HTTP status (each a value or a tuple of accepted values)."""
    err = s3_error(fn, *args, **kwargs)
    codes = (code,) if isinstance(code, str) else tuple(code)
    statuses = (status,) if isinstance(status, int) else tuple(status)
    got_code = err.get("Error", {}).get("Code")
    got_status = err.get("ResponseMetadata", {}).get("HTTPStatusCode")
    assert got_code in codes and got_status in statuses, (
        f"expected {codes} / HTTP {statuses}, got {got_code!r} / HTTP {got_status}\n{pformat(err)}"
    )
    return err


def http_headers(resp: dict) -> dict:
    return resp["ResponseMetadata"]["HTTPHeaders"]


def status_of(resp: dict) -> int:
    return resp["ResponseMetadata"]["HTTPStatusCode"]


def show(r: requests.Response) -> str:
    """Printable form of a raw HTTP response for assertion messages."""
    body = r.content[:2000]
    return f"HTTP {r.status_code}\nheaders: {pformat(dict(r.headers))}\nbody: {body!r}"


def parse_error_xml(body: bytes) -> dict:
    root = ET.fromstring(body)
    assert root.tag.split("}")[-1] == "Error", body
    return {child.tag.split("}")[-1]: (child.text or "") for child in root}


# ---------------------------------------------------------------- etags


def md5_etag(data: bytes) -> str:
    return '"' + hashlib.md5(data).hexdigest() + '"'


def multipart_etag(parts: list[bytes]) -> str:
    digests = b"".join(hashlib.md5(p).digest() for p in parts)
    return f'"{hashlib.md5(digests).hexdigest()}-{len(parts)}"'


# ---------------------------------------------------------------- checksums
# CRC32C and CRC64NVME need awscrt in botocore; compute them here instead
# (bitwise-reflected table CRCs; checked against the standard check values).


def _reflected_table(poly: int) -> list[int]:
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        table.append(c)
    return table


_CRC32C_TABLE = _reflected_table(0x82F63B78)
_CRC64NVME_TABLE = _reflected_table(0x9A6C9329AC4BC9B5)


def _crc(data: bytes, table: list[int], mask: int) -> int:
    crc = mask
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ mask


def crc32c(data: bytes) -> int:
    return _crc(data, _CRC32C_TABLE, 0xFFFFFFFF)


def crc64nvme(data: bytes) -> int:
    return _crc(data, _CRC64NVME_TABLE, 0xFFFFFFFFFFFFFFFF)


assert crc32c(b"123456789") == 0xE3069283
assert crc64nvme(b"123456789") == 0xAE8B14860A799888


def checksum_b64(algorithm: str, data: bytes) -> str:
    algorithm = algorithm.upper()
    if algorithm == "CRC32":
        raw = (zlib.crc32(data) & 0xFFFFFFFF).to_bytes(4, "big")
    elif algorithm == "CRC32C":
        raw = crc32c(data).to_bytes(4, "big")
    elif algorithm == "CRC64NVME":
        raw = crc64nvme(data).to_bytes(8, "big")
    elif algorithm == "SHA1":
        raw = hashlib.sha1(data).digest()
    elif algorithm == "SHA256":
        raw = hashlib.sha256(data).digest()
    else:
        raise ValueError(algorithm)
    return base64.b64encode(raw).decode()


# ---------------------------------------------------------------- raw requests


class _UnsignedPayloadAuth(S3SigV4Auth):
    def _should_sha256_sign_payload(self, request):
        return False


def encode_key(key: str) -> str:
    return quote(key, safe="/~")


def sign(server, method: str, url: str, *, headers=None, body: bytes = b"",
         unsigned_payload: bool = False, access_key=None, secret_key=None) -> dict:
    """SigV4-sign a request for `url` (path already percent-encoded) and
    return the headers to send."""
    req = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    auth_cls = _UnsignedPayloadAuth if unsigned_payload else S3SigV4Auth
    creds = Credentials(access_key or server.access_key, secret_key or server.secret_key)
    auth_cls(creds, "s3", "us-east-1").add_auth(req)
    out = {k: v for k, v in req.headers.items()}
    # botocore signs `host` without adding the header; raw senders need it.
    if not any(k.lower() == "host" for k in out):
        out["Host"] = urlsplit(url).netloc
    return out


def signed_request(server, scheme: str, method: str, path: str, *, query: str = "",
                   headers=None, body: bytes = b"", timeout: float = 60) -> requests.Response:
    """Send a SigV4-signed request with `requests`. `path` must already be
    percent-encoded; `query` is a raw query string such as "tagging=" ."""
    url = server.endpoint(scheme) + path + (f"?{query}" if query else "")
    hdrs = sign(server, method, url, headers=headers, body=body)
    return requests.request(method, url, headers=hdrs, data=body, timeout=timeout,
                            verify=server.verify(scheme), allow_redirects=False)


def raw_http_exchange(host: str, port: int, request: bytes, *, read_timeout: float = 2.0) -> bytes:
    """Send raw bytes over plain TCP and return everything the server sends
    until it closes or stays silent for read_timeout seconds."""
    out = b""
    with socket.create_connection((host, port), timeout=10) as s:
        s.sendall(request)
        s.settimeout(read_timeout)
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            out += chunk
    return out


# ---------------------------------------------------------------- data


def random_bytes(n: int) -> bytes:
    return os.urandom(n)


def empty_bucket(s3, bucket: str) -> None:
    """Best-effort removal of all objects and uploads in a bucket."""
    try:
        for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=bucket):
            for up in page.get("Uploads", []):
                s3.abort_multipart_upload(Bucket=bucket, Key=up["Key"], UploadId=up["UploadId"])
    except ClientError:
        pass
    # Every version and delete marker (an unversioned bucket lists its objects as null versions).
    entries = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        entries += [{"Key": v["Key"], "VersionId": v["VersionId"]}
                    for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
    for i in range(0, len(entries), 1000):
        s3.delete_objects(Bucket=bucket, Delete={"Objects": entries[i : i + 1000], "Quiet": True})


def delete_bucket_quietly(s3, bucket: str) -> None:
    try:
        empty_bucket(s3, bucket)
        s3.delete_bucket(Bucket=bucket)
    except Exception:  # cleanup must never mask the test result
        pass


def tree_size(path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(root, f)).st_size
            except FileNotFoundError:
                pass
    return total


def files_containing(path, needle: bytes) -> list[str]:
    """Every regular file under `path` whose bytes contain `needle`."""
    hits = []
    chunk = 8 * MIB
    for root, _dirs, files in os.walk(path):
        for name in files:
            p = os.path.join(root, name)
            if os.path.islink(p) or not os.path.isfile(p):
                continue
            try:
                with open(p, "rb") as f:
                    tail = b""
                    while True:
                        block = f.read(chunk)
                        if not block:
                            break
                        if needle in tail + block:
                            hits.append(p)
                            break
                        tail = block[-(len(needle) - 1):]
            except (FileNotFoundError, PermissionError):
                continue
    return hits
