"""Object CRUD: bodies, ETags, metadata, standard headers, SSE header,
key edge cases, delete_objects."""

import gzip
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import pytest

from s3util import (
    KIB,
    assert_s3_error,
    http_headers,
    md5_etag,
    random_bytes,
    raw_http_exchange,
    sign,
    status_of,
)


def test_put_get_head_delete_round_trip(s3, bucket):
    body = random_bytes(12345)
    put = s3.put_object(Bucket=bucket, Key="obj.bin", Body=body)
    assert status_of(put) == 200, put
    assert put["ETag"] == md5_etag(body), put

    get = s3.get_object(Bucket=bucket, Key="obj.bin")
    assert get["Body"].read() == body
    assert get["ContentLength"] == len(body)
    assert get["ETag"] == md5_etag(body)
    assert get["LastModified"] is not None

    head = s3.head_object(Bucket=bucket, Key="obj.bin")
    assert head["ContentLength"] == len(body), head
    assert head["ETag"] == md5_etag(body), head
    assert head["LastModified"] == get["LastModified"]

    delete = s3.delete_object(Bucket=bucket, Key="obj.bin")
    assert status_of(delete) == 204, delete
    assert_s3_error(s3.get_object, Bucket=bucket, Key="obj.bin", code="NoSuchKey", status=404)
    assert_s3_error(s3.head_object, Bucket=bucket, Key="obj.bin", code="404", status=404)


def test_put_overwrites_existing_object(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"first version")
    s3.put_object(Bucket=bucket, Key="k", Body=b"second")
    got = s3.get_object(Bucket=bucket, Key="k")
    assert got["Body"].read() == b"second"
    assert got["ETag"] == md5_etag(b"second")


def test_empty_object_round_trip(s3, bucket):
    put = s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    assert put["ETag"] == '"d41d8cd98f00b204e9800998ecf8427e"', put
    got = s3.get_object(Bucket=bucket, Key="empty")
    assert got["ContentLength"] == 0
    assert got["Body"].read() == b""


def test_get_missing_key_returns_no_such_key(s3, bucket):
    err = assert_s3_error(s3.get_object, Bucket=bucket, Key="nope/missing.txt", code="NoSuchKey", status=404)
    assert err["Error"].get("Key") in (None, "nope/missing.txt"), err


def test_delete_missing_key_returns_204(s3, bucket):
    assert status_of(s3.delete_object(Bucket=bucket, Key="never-existed")) == 204


def test_head_missing_key_is_404_without_body(server, bucket_http):
    url = f"{server.http_endpoint}/{bucket_http}/missing-key"
    headers = sign(server, "HEAD", url)
    path = f"/{bucket_http}/missing-key"
    lines = [f"HEAD {path} HTTP/1.1"] + [f"{k}: {v}" for k, v in headers.items()] + ["Connection: close"]
    raw = raw_http_exchange("127.0.0.1", server.http_port, ("\r\n".join(lines) + "\r\n\r\n").encode())
    head, sep, rest = raw.partition(b"\r\n\r\n")
    assert sep, f"no complete response head: {raw!r}"
    status_line = head.split(b"\r\n", 1)[0]
    assert status_line.startswith(b"HTTP/1.1 404"), raw
    assert rest == b"", f"HEAD response carried a body: {raw!r}"
    assert b"x-amz-request-id:" in head.lower(), raw


def test_user_metadata_round_trip(s3, bucket):
    meta = {"color": "blue", "mixedcase": "Value With Spaces", "empty-ish": "-", "n": "42"}
    s3.put_object(Bucket=bucket, Key="meta", Body=b"m", Metadata=meta)
    head = s3.head_object(Bucket=bucket, Key="meta")
    assert head["Metadata"] == meta, head
    got = s3.get_object(Bucket=bucket, Key="meta")
    assert got["Metadata"] == meta, got
    assert http_headers(head)["x-amz-meta-color"] == "blue"


def test_user_metadata_over_2kb_is_rejected_with_metadata_too_large(s3, bucket):
    assert_s3_error(
        s3.put_object, Bucket=bucket, Key="big-meta", Body=b"x",
        Metadata={"big": "v" * 2100}, code="MetadataTooLarge", status=400,
    )
    assert_s3_error(s3.head_object, Bucket=bucket, Key="big-meta", code="404", status=404)
    # Several keys adding up beyond 2 KB are rejected as well.
    assert_s3_error(
        s3.put_object, Bucket=bucket, Key="big-meta", Body=b"x",
        Metadata={f"k{i}": "v" * 300 for i in range(8)}, code="MetadataTooLarge", status=400,
    )


def test_user_metadata_just_under_2kb_is_accepted(s3, bucket):
    meta = {"a": "x" * 1000, "b": "y" * 900}
    s3.put_object(Bucket=bucket, Key="ok-meta", Body=b"x", Metadata=meta)
    assert s3.head_object(Bucket=bucket, Key="ok-meta")["Metadata"] == meta


def test_standard_headers_are_stored_and_returned(s3, bucket):
    body = gzip.compress(b"hello compressed world" * 10)
    expires = datetime(2031, 2, 3, 4, 5, 6, tzinfo=timezone.utc)
    s3.put_object(
        Bucket=bucket,
        Key="headers.txt.gz",
        Body=body,
        ContentType="text/x-strongbox; charset=utf-8",
        ContentEncoding="gzip",
        ContentDisposition='attachment; filename="report.txt"',
        ContentLanguage="de-CH",
        CacheControl="max-age=3600, private",
        Expires=expires,
    )
    for resp in (
        s3.head_object(Bucket=bucket, Key="headers.txt.gz"),
        s3.get_object(Bucket=bucket, Key="headers.txt.gz"),
    ):
        h = http_headers(resp)
        assert resp["ContentType"] == "text/x-strongbox; charset=utf-8", h
        # aws-chunked (used by the SDK for trailing checksums) must not leak
        # into the stored Content-Encoding.
        assert resp["ContentEncoding"] == "gzip", h
        assert resp["ContentDisposition"] == 'attachment; filename="report.txt"', h
        assert resp["ContentLanguage"] == "de-CH", h
        assert resp["CacheControl"] == "max-age=3600, private", h
        assert parsedate_to_datetime(h["expires"]) == expires, h
    got = s3.get_object(Bucket=bucket, Key="headers.txt.gz")["Body"].read()
    assert got == body, "body must be returned byte-for-byte (no transparent decoding)"


def test_default_content_type_is_binary_octet_stream(s3, bucket):
    s3.put_object(Bucket=bucket, Key="noctype", Body=b"abc")
    head = s3.head_object(Bucket=bucket, Key="noctype")
    assert head.get("ContentType") in (
        "binary/octet-stream",
        "application/octet-stream",
    ), http_headers(head)


def test_simple_put_etag_is_quoted_md5_hex(s3, bucket):
    for size in (1, 1000, 70 * KIB):
        body = random_bytes(size)
        put = s3.put_object(Bucket=bucket, Key=f"etag-{size}", Body=body)
        assert put["ETag"] == md5_etag(body), put
        assert s3.head_object(Bucket=bucket, Key=f"etag-{size}")["ETag"] == md5_etag(body)
        listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"etag-{size}")["Contents"]
        assert listed[0]["ETag"] == md5_etag(body), listed
        assert listed[0]["Size"] == size


def test_server_side_encryption_header_on_put_get_head(s3, bucket):
    put = s3.put_object(Bucket=bucket, Key="sse", Body=b"secret")
    assert put.get("ServerSideEncryption") == "AES256", put
    get = s3.get_object(Bucket=bucket, Key="sse")
    assert get.get("ServerSideEncryption") == "AES256", get
    head = s3.head_object(Bucket=bucket, Key="sse")
    assert head.get("ServerSideEncryption") == "AES256", head


def test_explicit_sse_s3_request_is_accepted(s3, bucket):
    put = s3.put_object(Bucket=bucket, Key="sse-explicit", Body=b"x", ServerSideEncryption="AES256")
    assert put.get("ServerSideEncryption") == "AES256", put


KEYS = {
    "unicode": "ünïcødé/日本語/😀.txt",
    "dotdot": "../x",
    "double-slash": "a//b",
    "leading-slash": "/leading",
    "trailing-slash": "trailing/",
    "specials": "sp ace+plus&amp=eq?q#hash%pct~tilde;semi,comma",
    "max-length": "k" * 1024,
    "multibyte-max-length": "é" * 512,  # 1024 bytes of UTF-8
}


@pytest.mark.parametrize("key", list(KEYS.values()), ids=list(KEYS))
def test_unusual_key_round_trip(s3, bucket, key):
    body = ("body of " + key).encode()
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == body
    assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] == len(body)
    listed = s3.list_objects_v2(Bucket=bucket)
    assert [o["Key"] for o in listed.get("Contents", [])] == [key], listed
    s3.delete_object(Bucket=bucket, Key=key)
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def test_keys_differing_only_in_slashes_are_distinct(s3, bucket):
    keys = ["a/b", "a//b", "/a/b", "a/b/"]
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode())
    for k in keys:
        assert s3.get_object(Bucket=bucket, Key=k)["Body"].read() == k.encode(), k
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert listed == sorted(keys, key=lambda k: k.encode()), listed


def test_key_longer_than_1024_bytes_is_rejected(s3, bucket):
    assert_s3_error(s3.put_object, Bucket=bucket, Key="k" * 1025, Body=b"x", code="KeyTooLongError", status=400)
    assert_s3_error(s3.put_object, Bucket=bucket, Key="é" * 513, Body=b"x", code="KeyTooLongError", status=400)


def test_delete_objects_reports_every_key_including_missing(s3, bucket):
    for k in ("a", "b", "dir/c"):
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    resp = s3.delete_objects(
        Bucket=bucket,
        Delete={"Objects": [{"Key": "a"}, {"Key": "dir/c"}, {"Key": "does-not-exist"}]},
    )
    assert status_of(resp) == 200, resp
    assert {d["Key"] for d in resp.get("Deleted", [])} == {"a", "dir/c", "does-not-exist"}, resp
    assert not resp.get("Errors"), resp
    remaining = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert remaining == ["b"]


def test_delete_objects_quiet_mode_omits_deleted_entries(s3, bucket):
    for k in ("q1", "q2"):
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    resp = s3.delete_objects(
        Bucket=bucket,
        Delete={"Objects": [{"Key": "q1"}, {"Key": "q2"}, {"Key": "q-missing"}], "Quiet": True},
    )
    assert status_of(resp) == 200, resp
    assert not resp.get("Deleted"), resp
    assert not resp.get("Errors"), resp
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def test_delete_objects_with_unusual_keys(s3, bucket):
    keys = ["ünï/😀", "sp ace", "amp&lt<gt>", "a//b"]
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    resp = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys]})
    assert {d["Key"] for d in resp.get("Deleted", [])} == set(keys), resp
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0
