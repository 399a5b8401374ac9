"""Authentication and the shape of every response: anonymous access is
denied, bad credentials are told apart, request ids are always present."""

import pytest
import requests
from botocore import UNSIGNED

from s3util import assert_s3_error, encode_key, http_headers, parse_error_xml, show, signed_request


@pytest.fixture
def obj(s3, bucket):
    s3.put_object(Bucket=bucket, Key="private/obj.txt", Body=b"private data")
    return bucket, "private/obj.txt"


def _assert_error_document(r, code, status):
    assert r.status_code == status, show(r)
    assert r.headers.get("x-amz-request-id"), show(r)
    assert r.headers.get("x-amz-id-2"), show(r)
    assert "xml" in r.headers.get("content-type", ""), show(r)
    doc = parse_error_xml(r.content)
    assert doc.get("Code") == code, show(r)
    for field in ("Code", "Message", "Resource", "RequestId", "HostId"):
        assert field in doc, f"error document lacks <{field}>:\n{show(r)}"
    assert doc["Message"], show(r)
    assert doc["RequestId"] == r.headers["x-amz-request-id"], show(r)
    return doc


def test_anonymous_get_object_is_access_denied(server, scheme, obj):
    bucket, key = obj
    r = requests.get(f"{server.endpoint(scheme)}/{bucket}/{encode_key(key)}",
                     verify=server.verify(scheme), timeout=30)
    _assert_error_document(r, "AccessDenied", 403)
    assert b"private data" not in r.content


def test_anonymous_put_list_and_delete_are_access_denied(server, scheme, s3, obj):
    bucket, key = obj
    base, verify = server.endpoint(scheme), server.verify(scheme)
    r = requests.put(f"{base}/{bucket}/anon-upload", data=b"intruder", verify=verify, timeout=30)
    _assert_error_document(r, "AccessDenied", 403)
    assert_s3_error(s3.head_object, Bucket=bucket, Key="anon-upload", code="404", status=404)
    _assert_error_document(requests.get(f"{base}/{bucket}", verify=verify, timeout=30), "AccessDenied", 403)
    _assert_error_document(requests.get(f"{base}/", verify=verify, timeout=30), "AccessDenied", 403)
    r = requests.delete(f"{base}/{bucket}/{encode_key(key)}", verify=verify, timeout=30)
    _assert_error_document(r, "AccessDenied", 403)
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"private data"
    _assert_error_document(requests.put(f"{base}/anon-bucket-x1", verify=verify, timeout=30), "AccessDenied", 403)


def test_unsigned_boto3_requests_are_access_denied(server, scheme, obj):
    bucket, key = obj
    anon = server.client(scheme, signature_version=UNSIGNED)
    assert_s3_error(anon.list_objects_v2, Bucket=bucket, code="AccessDenied", status=403)
    assert_s3_error(anon.get_object, Bucket=bucket, Key=key, code="AccessDenied", status=403)
    assert_s3_error(anon.list_buckets, code="AccessDenied", status=403)


def test_wrong_secret_key_is_signature_does_not_match(server, scheme, obj):
    bucket, key = obj
    bad = server.client(scheme, secret_key=server.secret_key[::-1] + "x")
    assert_s3_error(bad.list_objects_v2, Bucket=bucket, code="SignatureDoesNotMatch", status=403)
    assert_s3_error(bad.get_object, Bucket=bucket, Key=key, code="SignatureDoesNotMatch", status=403)
    assert_s3_error(bad.put_object, Bucket=bucket, Key="k2", Body=b"x", code="SignatureDoesNotMatch", status=403)
    assert_s3_error(bad.list_buckets, code="SignatureDoesNotMatch", status=403)


def test_unknown_access_key_is_invalid_access_key_id(server, scheme, obj):
    bucket, key = obj
    stranger = server.client(scheme, access_key="AKIANOTAREALKEY00000", secret_key="x" * 40)
    assert_s3_error(stranger.list_objects_v2, Bucket=bucket, code="InvalidAccessKeyId", status=403)
    assert_s3_error(stranger.get_object, Bucket=bucket, Key=key, code="InvalidAccessKeyId", status=403)
    assert_s3_error(stranger.list_buckets, code="InvalidAccessKeyId", status=403)


def test_error_document_fields_for_no_such_key(server, scheme, bucket):
    r = signed_request(server, scheme, "GET", f"/{bucket}/missing/key.txt")
    doc = _assert_error_document(r, "NoSuchKey", 404)
    assert doc.get("Key") in (None, "missing/key.txt"), show(r)


def test_every_response_carries_request_ids(s3, bucket):
    responses = [
        s3.put_object(Bucket=bucket, Key="k", Body=b"x"),
        s3.head_object(Bucket=bucket, Key="k"),
        s3.get_object(Bucket=bucket, Key="k"),
        s3.list_objects_v2(Bucket=bucket),
        s3.list_buckets(),
        s3.head_bucket(Bucket=bucket),
        s3.delete_object(Bucket=bucket, Key="k"),
    ]
    for err_call in (
        lambda: s3.get_object(Bucket=bucket, Key="gone"),
        lambda: s3.head_object(Bucket=bucket, Key="gone"),
        lambda: s3.get_object(Bucket="no-such-bucket-xyz-123", Key="k"),
    ):
        try:
            err_call()
        except Exception as e:  # ClientError
            responses.append(e.response)
    ids = set()
    for resp in responses:
        h = http_headers(resp)
        assert h.get("x-amz-request-id"), resp
        assert h.get("x-amz-id-2"), resp
        ids.add(h["x-amz-request-id"])
    assert len(ids) == len(responses), "request ids must be unique per request"


def test_signed_raw_request_lists_buckets(server, scheme):
    r = signed_request(server, scheme, "GET", "/")
    assert r.status_code == 200, show(r)
    assert b"ListAllMyBucketsResult" in r.content, show(r)
    assert r.headers.get("x-amz-request-id"), show(r)
