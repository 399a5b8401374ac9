"""Ranged GETs (RFC 9110 byte ranges as S3 implements them) and partNumber GETs."""

import pytest
from botocore.exceptions import ClientError

from s3util import KIB, MIB, assert_s3_error, http_headers, random_bytes, status_of

SIZE = 200 * KIB + 123  # spans several 64 KiB blocks, ends mid-block


@pytest.fixture
def ranged_object(s3, bucket):
    body = random_bytes(SIZE)
    s3.put_object(Bucket=bucket, Key="ranged.bin", Body=body)
    return bucket, "ranged.bin", body


def _expected(body, spec):
    """(start, end_inclusive) of a bytes= spec, as S3 resolves it."""
    first, last = spec.split("=", 1)[1].split("-")
    n = len(body)
    if first == "":
        start, end = max(0, n - int(last)), n - 1
    else:
        start = int(first)
        end = n - 1 if last == "" else min(int(last), n - 1)
    return start, end


B = 64 * KIB
RANGES = {
    "first-ten": "bytes=0-9",
    "suffix-ten": "bytes=-10",
    "open-from-100": "bytes=100-",
    "single-byte": "bytes=0-0",
    "last-byte": f"bytes={SIZE - 1}-{SIZE - 1}",
    "cross-first-block": f"bytes={B - 5}-{B + 5}",
    "cross-two-blocks": f"bytes={B - 1}-{2 * B}",
    "exactly-one-block": f"bytes={B}-{2 * B - 1}",
    "block-aligned-to-end": f"bytes={3 * B}-",
    "end-beyond-size": f"bytes={SIZE - 20}-{SIZE + 5000}",
    "suffix-longer-than-object": f"bytes=-{SIZE + 100}",
    "middle-large": "bytes=1000-150000",
}


@pytest.mark.parametrize("spec", list(RANGES.values()), ids=list(RANGES))
def test_range_get_returns_206_with_correct_bytes_and_content_range(s3, ranged_object, spec):
    bucket, key, body = ranged_object
    resp = s3.get_object(Bucket=bucket, Key=key, Range=spec)
    start, end = _expected(body, spec)
    data = resp["Body"].read()
    assert status_of(resp) == 206, http_headers(resp)
    assert resp["ContentRange"] == f"bytes {start}-{end}/{SIZE}", http_headers(resp)
    assert resp["ContentLength"] == end - start + 1, http_headers(resp)
    assert data == body[start : end + 1], f"wrong bytes for {spec}"
    assert http_headers(resp).get("accept-ranges") == "bytes", http_headers(resp)


def test_range_starting_beyond_size_is_416_invalid_range(s3, ranged_object):
    bucket, key, _ = ranged_object
    err = assert_s3_error(s3.get_object, Bucket=bucket, Key=key, Range="bytes=999999-",
                          code="InvalidRange", status=416)
    assert http_headers(err).get("content-range") in (None, f"bytes */{SIZE}"), err
    assert_s3_error(s3.get_object, Bucket=bucket, Key=key, Range=f"bytes={SIZE}-",
                    code="InvalidRange", status=416)


def test_suffix_range_of_an_empty_object_is_200_with_the_empty_body(s3, bucket):
    # Found by fuzz/ range_conditional: this was 206 "Content-Range: bytes 0-0/0".
    # AWS answers a suffix range of a zero-byte object with 200 and no body;
    # a first-byte range of it is unsatisfiable.
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    resp = s3.get_object(Bucket=bucket, Key="empty", Range="bytes=-5")
    assert status_of(resp) == 200, http_headers(resp)
    assert "content-range" not in http_headers(resp), http_headers(resp)
    assert resp["ContentLength"] == 0
    assert resp["Body"].read() == b""
    head = s3.head_object(Bucket=bucket, Key="empty", Range="bytes=-5")
    assert status_of(head) == 200 and "content-range" not in http_headers(head), http_headers(head)
    assert_s3_error(s3.get_object, Bucket=bucket, Key="empty", Range="bytes=0-",
                    code="InvalidRange", status=416)


def test_range_on_head_reports_partial_length(s3, ranged_object):
    bucket, key, _ = ranged_object
    head = s3.head_object(Bucket=bucket, Key=key, Range="bytes=10-19")
    assert status_of(head) == 206, http_headers(head)
    assert head["ContentLength"] == 10
    assert head["ContentRange"] == f"bytes 10-19/{SIZE}"


def test_malformed_range_is_ignored_or_rejected_cleanly(s3, ranged_object):
    # RFC 9110 14.2 lets a server ignore (200, whole object) or reject an
    # invalid ranges-specifier; it must not serve a partial/garbled body or fail.
    bucket, key, body = ranged_object
    for spec in ("bytes=abc", "bytes=5-2", "chars=0-9"):
        try:
            resp = s3.get_object(Bucket=bucket, Key=key, Range=spec)
        except ClientError as e:
            status = e.response["ResponseMetadata"]["HTTPStatusCode"]
            assert status in (400, 416), (spec, e.response)
            continue
        assert status_of(resp) == 200, (spec, http_headers(resp))
        assert resp["Body"].read() == body, spec


@pytest.fixture
def multipart_object(s3, bucket):
    part1 = random_bytes(5 * MIB)
    part2 = random_bytes(300 * KIB + 7)
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp.bin")
    etags = []
    for n, data in enumerate((part1, part2), start=1):
        etags.append(s3.upload_part(Bucket=bucket, Key="mp.bin", UploadId=up["UploadId"],
                                    PartNumber=n, Body=data)["ETag"])
    s3.complete_multipart_upload(
        Bucket=bucket, Key="mp.bin", UploadId=up["UploadId"],
        MultipartUpload={"Parts": [{"PartNumber": i + 1, "ETag": e} for i, e in enumerate(etags)]},
    )
    return bucket, "mp.bin", part1, part2


def test_part_number_get_returns_that_part(s3, multipart_object):
    bucket, key, part1, part2 = multipart_object
    total = len(part1) + len(part2)
    r1 = s3.get_object(Bucket=bucket, Key=key, PartNumber=1)
    assert status_of(r1) == 206, http_headers(r1)
    assert r1["ContentLength"] == len(part1)
    assert r1["ContentRange"] == f"bytes 0-{len(part1) - 1}/{total}"
    assert r1.get("PartsCount") == 2, http_headers(r1)
    assert r1["Body"].read() == part1
    r2 = s3.get_object(Bucket=bucket, Key=key, PartNumber=2)
    assert r2["ContentRange"] == f"bytes {len(part1)}-{total - 1}/{total}"
    assert r2["Body"].read() == part2
    h = s3.head_object(Bucket=bucket, Key=key, PartNumber=1)
    assert h["ContentLength"] == len(part1) and h.get("PartsCount") == 2, http_headers(h)


def test_part_number_beyond_parts_count_is_invalid_part_number(s3, multipart_object):
    bucket, key, _, _ = multipart_object
    assert_s3_error(s3.get_object, Bucket=bucket, Key=key, PartNumber=3,
                    code="InvalidPartNumber", status=416)


def test_range_across_multipart_part_boundary(s3, multipart_object):
    bucket, key, part1, part2 = multipart_object
    whole = part1 + part2
    start, end = len(part1) - 1000, len(part1) + 999
    resp = s3.get_object(Bucket=bucket, Key=key, Range=f"bytes={start}-{end}")
    assert resp["Body"].read() == whole[start : end + 1]
    assert resp["ContentRange"] == f"bytes {start}-{end}/{len(whole)}"
