"""Flexible checksums (x-amz-checksum-*) and Content-MD5 integrity checks.

botocore computes CRC32/SHA1/SHA256 itself (sent as a header over HTTP and as
an aws-chunked trailer over HTTPS); CRC32C/CRC64NVME need awscrt there, so
those values are computed by the test and sent as headers."""

import base64
import hashlib

import pytest

from s3util import (KIB, assert_s3_error, checksum_b64, http_headers, parse_error_xml, random_bytes, show,
                    signed_request, status_of)

SDK_ALGORITHMS = ["CRC32", "SHA1", "SHA256"]
HEADER_ONLY_ALGORITHMS = ["CRC32C", "CRC64NVME"]


def _put_with_checksum(s3, bucket, key, body, algorithm):
    if algorithm in SDK_ALGORITHMS:
        return s3.put_object(Bucket=bucket, Key=key, Body=body, ChecksumAlgorithm=algorithm)
    member = "Checksum" + algorithm
    return s3.put_object(Bucket=bucket, Key=key, Body=body, **{member: checksum_b64(algorithm, body)})


@pytest.mark.parametrize("algorithm", SDK_ALGORITHMS + HEADER_ONLY_ALGORITHMS)
def test_checksum_is_stored_and_returned(server, scheme, bucket, algorithm):
    s3 = server.client(scheme, request_checksum_calculation="when_supported")
    body = random_bytes(100 * KIB + 17)
    expected = checksum_b64(algorithm, body)
    header = f"x-amz-checksum-{algorithm.lower()}"

    sent = []
    def capture(request, **kwargs):
        sent.append(dict(request.headers))
    s3.meta.events.register("before-send.s3.PutObject", capture)
    try:
        put = _put_with_checksum(s3, bucket, "sum.bin", body, algorithm)
    finally:
        s3.meta.events.unregister("before-send.s3.PutObject", capture)
    assert http_headers(put).get(header) == expected, http_headers(put)
    # Make sure the intended wire format was exercised: SDK-computed checksums
    # travel as an aws-chunked trailer over HTTPS and as a header over HTTP.
    req = {k.lower(): (v.decode() if isinstance(v, bytes) else v) for k, v in sent[-1].items()}
    if algorithm in SDK_ALGORITHMS and scheme == "https":
        assert "aws-chunked" in req.get("content-encoding", ""), req
        assert req.get("x-amz-trailer") == header, req
    else:
        assert req.get(header) == expected, req

    got = s3.get_object(Bucket=bucket, Key="sum.bin", ChecksumMode="ENABLED")
    assert got["Body"].read() == body
    assert http_headers(got).get(header) == expected, http_headers(got)
    assert got.get("Checksum" + algorithm) == expected, got

    head = s3.head_object(Bucket=bucket, Key="sum.bin", ChecksumMode="ENABLED")
    assert http_headers(head).get(header) == expected, http_headers(head)


def test_checksum_not_returned_without_checksum_mode(server, scheme, bucket):
    s3 = server.client(scheme, response_checksum_validation="when_required")
    body = b"no checksum mode"
    s3.put_object(Bucket=bucket, Key="k", Body=body, ChecksumAlgorithm="SHA256")
    got = s3.get_object(Bucket=bucket, Key="k")
    assert got["Body"].read() == body
    assert "x-amz-checksum-sha256" not in http_headers(got), http_headers(got)


def test_wrong_checksum_header_is_bad_digest(s3, bucket):
    body = b"the quick brown fox"
    wrong = checksum_b64("CRC32", b"something else")
    assert_s3_error(s3.put_object, Bucket=bucket, Key="bad-crc", Body=body, ChecksumCRC32=wrong,
                    code="BadDigest", status=400)
    assert_s3_error(s3.head_object, Bucket=bucket, Key="bad-crc", code="404", status=404)
    wrong256 = checksum_b64("SHA256", b"something else")
    assert_s3_error(s3.put_object, Bucket=bucket, Key="bad-sha", Body=body, ChecksumSHA256=wrong256,
                    code="BadDigest", status=400)
    wrongc = checksum_b64("CRC32C", b"something else")
    assert_s3_error(s3.put_object, Bucket=bucket, Key="bad-crc32c", Body=body, ChecksumCRC32C=wrongc,
                    code="BadDigest", status=400)


def test_correct_content_md5_is_accepted(s3, bucket):
    body = b"md5 protected body"
    md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
    put = s3.put_object(Bucket=bucket, Key="md5-ok", Body=body, ContentMD5=md5)
    assert status_of(put) == 200


def test_wrong_content_md5_is_bad_digest(s3, bucket):
    body = b"md5 protected body"
    wrong = base64.b64encode(hashlib.md5(b"different").digest()).decode()
    assert_s3_error(s3.put_object, Bucket=bucket, Key="md5-bad", Body=body, ContentMD5=wrong,
                    code="BadDigest", status=400)
    assert_s3_error(s3.head_object, Bucket=bucket, Key="md5-bad", code="404", status=404)


def test_malformed_content_md5_is_invalid_digest(s3, bucket):
    assert_s3_error(s3.put_object, Bucket=bucket, Key="md5-malformed", Body=b"x", ContentMD5="not-base64-md5!",
                    code="InvalidDigest", status=400)


@pytest.mark.parametrize("value", ["", "AAAA", base64.b64encode(b"short").decode()])
def test_empty_or_short_content_md5_is_invalid_digest_and_stores_nothing(server, scheme, bucket, value):
    """AWS rejects a Content-MD5 header that is present but empty or not the
    base64 of 16 bytes (botocore drops an empty header, so send it raw)."""
    r = signed_request(server, scheme, "PUT", f"/{bucket}/md5-empty", headers={"Content-MD5": value}, body=b"hello")
    assert r.status_code == 400, show(r)
    err = parse_error_xml(r.content)
    assert err["Code"] == "InvalidDigest", err
    assert err["Message"] == "The Content-MD5 you specified was invalid.", err
    assert signed_request(server, scheme, "HEAD", f"/{bucket}/md5-empty").status_code == 404


def test_upload_part_with_wrong_checksum_is_bad_digest(s3, bucket):
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp", ChecksumAlgorithm="CRC32")["UploadId"]
    assert_s3_error(s3.upload_part, Bucket=bucket, Key="mp", UploadId=up, PartNumber=1, Body=b"part data",
                    ChecksumCRC32=checksum_b64("CRC32", b"other"), code="BadDigest", status=400)
