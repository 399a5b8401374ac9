"""upload_file/download_file round trips (s3transfer multipart upload and
parallel ranged download), compared by SHA-256."""

import hashlib
import os

import pytest

from s3util import MIB


def _write_random_file(path, size):
    h = hashlib.sha256()
    with open(path, "wb") as f:
        left = size
        while left:
            chunk = os.urandom(min(8 * MIB, left))
            h.update(chunk)
            f.write(chunk)
            left -= len(chunk)
    return h.hexdigest()


def _sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(8 * MIB), b""):
            h.update(chunk)
    return h.hexdigest()


@pytest.mark.parametrize(
    "scheme_name,size",
    [("http", 100 * MIB + 12345), ("https", 24 * MIB + 777)],
    ids=["http-100MiB", "https-24MiB"],
)
def test_upload_file_download_file_round_trip(server, tmp_path, scheme_name, size):
    s3 = server.client(scheme_name)
    bucket = f"bigfile-{scheme_name}-{os.urandom(4).hex()}"
    s3.create_bucket(Bucket=bucket)
    src, dst = tmp_path / "src.bin", tmp_path / "dst.bin"
    digest = _write_random_file(src, size)
    try:
        s3.upload_file(str(src), bucket, "big/object.bin")
        head = s3.head_object(Bucket=bucket, Key="big/object.bin")
        assert head["ContentLength"] == size, head
        # s3transfer switches to multipart above 8 MiB.
        assert "-" in head["ETag"], head
        s3.download_file(bucket, "big/object.bin", str(dst))
        assert dst.stat().st_size == size
        assert _sha256_file(dst) == digest, "downloaded bytes differ from uploaded bytes"
    finally:
        for p in (src, dst):
            p.unlink(missing_ok=True)
        try:
            s3.delete_object(Bucket=bucket, Key="big/object.bin")
            s3.delete_bucket(Bucket=bucket)
        except Exception:
            pass
