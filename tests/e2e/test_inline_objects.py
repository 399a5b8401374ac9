"""Small objects are stored inline in the metadata database and object writes
are group-committed (docs/design/metadata.md). These tests check that, from a
client's point of view, an inline object is exactly like any other: same
bytes, ranges, ETags and checksums on either side of the size boundary, that
a small PUT creates no blob file while a large one does, and that writes
acknowledged concurrently (sharing one commit) all survive a SIGKILL."""
import hashlib
import os
from concurrent.futures import ThreadPoolExecutor

import pytest

KIB = 1024
# The sealed form (header, chunks, 16-byte tags) of an inline object is at most 128 KiB.
SIZES = [0, 1, 4 * KIB, 64 * KIB, 64 * KIB + 1, 128 * KIB - 64, 128 * KIB, 200 * KIB, 1024 * KIB + 1]


def blob_files(data_dir) -> int:
    return sum(len(files) for _, _, files in os.walk(os.path.join(data_dir, "blobs")))


@pytest.mark.parametrize("size", SIZES)
def test_bytes_ranges_and_etag_across_the_inline_boundary(s3, bucket, size):
    body = os.urandom(size)
    put = s3.put_object(Bucket=bucket, Key=f"obj-{size}", Body=body, ChecksumAlgorithm="CRC32")
    assert put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    got = s3.get_object(Bucket=bucket, Key=f"obj-{size}", ChecksumMode="ENABLED")
    assert got["Body"].read() == body
    assert got["ContentLength"] == size
    assert got["ETag"] == put["ETag"]
    assert got["ChecksumCRC32"] == put["ChecksumCRC32"]
    if size == 0:
        return
    # First byte, last byte, and (when there is one) a range across the first 64 KiB chunk boundary.
    ranges = [(0, 0), (size - 1, size - 1)]
    if size > 64 * KIB:
        ranges.append((64 * KIB - 10, min(size - 1, 64 * KIB + 9)))
    for first, last in ranges:
        part = s3.get_object(Bucket=bucket, Key=f"obj-{size}", Range=f"bytes={first}-{last}")
        assert part["Body"].read() == body[first:last + 1], (first, last)
        assert part["ContentRange"] == f"bytes {first}-{last}/{size}"


def test_small_objects_create_no_blob_file_and_large_ones_do(spawn_server):
    srv = spawn_server()
    s3 = srv.client("http")
    s3.create_bucket(Bucket="inline")
    before = blob_files(srv.data_dir)
    small, large = os.urandom(10 * KIB), os.urandom(300 * KIB)
    s3.put_object(Bucket="inline", Key="k", Body=small)
    assert blob_files(srv.data_dir) == before, "a 10 KiB object must be stored inline"
    s3.put_object(Bucket="inline", Key="k", Body=large)
    assert blob_files(srv.data_dir) == before + 1, "a 300 KiB object must get a blob file"
    assert s3.get_object(Bucket="inline", Key="k")["Body"].read() == large
    s3.put_object(Bucket="inline", Key="k", Body=small)
    assert blob_files(srv.data_dir) == before, "replacing a blob object with a small one frees its file"
    assert s3.get_object(Bucket="inline", Key="k")["Body"].read() == small
    s3.copy_object(Bucket="inline", Key="copy", CopySource={"Bucket": "inline", "Key": "k"})
    assert blob_files(srv.data_dir) == before
    assert s3.get_object(Bucket="inline", Key="copy")["Body"].read() == small
    s3.delete_object(Bucket="inline", Key="k")
    assert s3.get_object(Bucket="inline", Key="copy")["Body"].read() == small, "the copy has its own bytes"
    assert srv.stop() == 0


def test_concurrent_acknowledged_writes_survive_sigkill(spawn_server):
    srv = spawn_server()
    s3 = srv.client("http")
    s3.create_bucket(Bucket="group")
    bodies = {f"k{i:03}": os.urandom(100 + i) for i in range(96)}
    for k in ("gone1", "gone2"):
        s3.put_object(Bucket="group", Key=k, Body=b"to delete")

    def put(item):
        key, body = item
        return s3.put_object(Bucket="group", Key=key, Body=body)["ETag"]

    def delete(key):
        return s3.delete_object(Bucket="group", Key=key)

    with ThreadPoolExecutor(max_workers=32) as pool:
        etags = list(pool.map(put, bodies.items()))
        list(pool.map(delete, ["gone1", "gone2"]))
    assert etags == [f'"{hashlib.md5(b).hexdigest()}"' for b in bodies.values()]
    srv.kill()
    srv.start()
    s3 = srv.client("http")
    for key, body in bodies.items():
        assert s3.get_object(Bucket="group", Key=key)["Body"].read() == body, key
    listed = s3.list_objects_v2(Bucket="group")
    assert [o["Key"] for o in listed["Contents"]] == sorted(bodies)
    assert srv.stop() == 0


def test_conditional_small_puts_racing_on_one_key(s3_http, bucket_http):
    """If-None-Match: * from many clients at once: exactly one write wins,
    even when they share a group commit."""
    def put(i):
        try:
            s3_http.put_object(Bucket=bucket_http, Key="race", Body=f"writer {i}".encode(), IfNoneMatch="*")
            return i
        except s3_http.exceptions.ClientError as e:
            assert e.response["Error"]["Code"] in ("PreconditionFailed", "ConditionalRequestConflict"), e.response
            return None

    with ThreadPoolExecutor(max_workers=16) as pool:
        winners = [i for i in pool.map(put, range(16)) if i is not None]
    assert len(winners) == 1, winners
    body = s3_http.get_object(Bucket=bucket_http, Key="race")["Body"].read()
    assert body == f"writer {winners[0]}".encode()
