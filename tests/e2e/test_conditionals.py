"""Conditional GET/HEAD (If-Match, If-None-Match, If-Modified-Since,
If-Unmodified-Since) and response-* header overrides."""

from datetime import datetime, timedelta, timezone

import pytest

from s3util import assert_s3_error, http_headers, md5_etag, status_of

BODY = b"conditional body"
HOUR = timedelta(hours=1)


@pytest.fixture
def obj(s3, bucket):
    put = s3.put_object(Bucket=bucket, Key="cond.txt", Body=BODY)
    head = s3.head_object(Bucket=bucket, Key="cond.txt")
    return bucket, "cond.txt", put["ETag"], head["LastModified"]


def test_if_match_with_current_etag_returns_object(s3, obj):
    bucket, key, etag, _ = obj
    assert etag == md5_etag(BODY)
    assert s3.get_object(Bucket=bucket, Key=key, IfMatch=etag)["Body"].read() == BODY
    assert status_of(s3.head_object(Bucket=bucket, Key=key, IfMatch=etag)) == 200


def test_if_match_with_other_etag_is_412_precondition_failed(s3, obj):
    bucket, key, _, _ = obj
    assert_s3_error(s3.get_object, Bucket=bucket, Key=key, IfMatch='"0123456789abcdef0123456789abcdef"',
                    code="PreconditionFailed", status=412)
    assert_s3_error(s3.head_object, Bucket=bucket, Key=key, IfMatch='"0123456789abcdef0123456789abcdef"',
                    code="412", status=412)


def test_if_none_match_with_current_etag_is_304(s3, obj):
    bucket, key, etag, _ = obj
    err = assert_s3_error(s3.get_object, Bucket=bucket, Key=key, IfNoneMatch=etag, code="304", status=304)
    assert http_headers(err).get("etag") == etag, err
    assert_s3_error(s3.head_object, Bucket=bucket, Key=key, IfNoneMatch=etag, code="304", status=304)


def test_if_none_match_with_other_etag_returns_object(s3, obj):
    bucket, key, _, _ = obj
    resp = s3.get_object(Bucket=bucket, Key=key, IfNoneMatch='"ffffffffffffffffffffffffffffffff"')
    assert resp["Body"].read() == BODY


def test_if_modified_since(s3, obj):
    bucket, key, _, last_modified = obj
    resp = s3.get_object(Bucket=bucket, Key=key, IfModifiedSince=last_modified - HOUR)
    assert resp["Body"].read() == BODY
    assert_s3_error(s3.get_object, Bucket=bucket, Key=key, IfModifiedSince=last_modified + HOUR,
                    code="304", status=304)
    assert_s3_error(s3.head_object, Bucket=bucket, Key=key, IfModifiedSince=last_modified + HOUR,
                    code="304", status=304)
    # Same second as Last-Modified: not modified since (HTTP dates have 1 s precision).
    assert_s3_error(s3.get_object, Bucket=bucket, Key=key, IfModifiedSince=last_modified,
                    code="304", status=304)


def test_if_unmodified_since(s3, obj):
    bucket, key, _, last_modified = obj
    resp = s3.get_object(Bucket=bucket, Key=key, IfUnmodifiedSince=last_modified + HOUR)
    assert resp["Body"].read() == BODY
    assert status_of(s3.get_object(Bucket=bucket, Key=key, IfUnmodifiedSince=last_modified)) == 200
    assert_s3_error(s3.get_object, Bucket=bucket, Key=key, IfUnmodifiedSince=last_modified - HOUR,
                    code="PreconditionFailed", status=412)
    assert_s3_error(s3.head_object, Bucket=bucket, Key=key, IfUnmodifiedSince=last_modified - HOUR,
                    code="412", status=412)


def test_if_match_true_overrides_if_unmodified_since_false(s3, obj):
    # S3 documents: If-Match true + If-Unmodified-Since false -> 200.
    bucket, key, etag, last_modified = obj
    resp = s3.get_object(Bucket=bucket, Key=key, IfMatch=etag, IfUnmodifiedSince=last_modified - HOUR)
    assert status_of(resp) == 200
    assert resp["Body"].read() == BODY


def test_if_none_match_false_with_if_modified_since_true_is_304(s3, obj):
    # S3 documents: If-None-Match false + If-Modified-Since true -> 304.
    bucket, key, etag, last_modified = obj
    assert_s3_error(s3.get_object, Bucket=bucket, Key=key, IfNoneMatch=etag,
                    IfModifiedSince=last_modified - HOUR, code="304", status=304)


def test_conditional_put_if_none_match_star_refuses_overwrite(s3, obj):
    # S3 conditional writes: If-None-Match: * on PUT fails with 412 when the key exists.
    bucket, key, _, _ = obj
    assert_s3_error(s3.put_object, Bucket=bucket, Key=key, Body=b"other", IfNoneMatch="*",
                    code="PreconditionFailed", status=412)
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == BODY
    put = s3.put_object(Bucket=bucket, Key=key + ".new", Body=b"fresh", IfNoneMatch="*")
    assert status_of(put) == 200


def test_response_header_overrides(s3, obj):
    bucket, key, _, _ = obj
    expires = datetime(2030, 1, 1, 0, 0, 0, tzinfo=timezone.utc)
    resp = s3.get_object(
        Bucket=bucket,
        Key=key,
        ResponseContentType="application/x-override",
        ResponseContentDisposition='attachment; filename="dl.txt"',
        ResponseContentLanguage="fr",
        ResponseCacheControl="no-store",
        ResponseContentEncoding="identity",
        ResponseExpires=expires,
    )
    h = http_headers(resp)
    assert resp["Body"].read() == BODY
    assert h.get("content-type") == "application/x-override", h
    assert h.get("content-disposition") == 'attachment; filename="dl.txt"', h
    assert h.get("content-language") == "fr", h
    assert h.get("cache-control") == "no-store", h
    assert h.get("content-encoding") == "identity", h
    assert "2030" in h.get("expires", ""), h
    # Overrides apply to that response only.
    head = s3.head_object(Bucket=bucket, Key=key)
    assert head.get("ContentType") != "application/x-override", http_headers(head)
