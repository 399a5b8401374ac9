"""CopyObject: metadata directives, self-copy rules, copy-source conditions."""

from datetime import timedelta

from s3util import assert_s3_error, md5_etag, random_bytes, status_of

META = {"origin": "source", "owner-note": "keep me"}


def _put_source(s3, bucket, key="src/original.bin", size=3000):
    body = random_bytes(size)
    put = s3.put_object(Bucket=bucket, Key=key, Body=body, Metadata=META,
                        ContentType="application/x-source", CacheControl="max-age=60")
    return key, body, put["ETag"]


def test_copy_object_default_copies_data_and_metadata(s3, bucket):
    key, body, etag = _put_source(s3, bucket)
    resp = s3.copy_object(Bucket=bucket, Key="dst/copy.bin", CopySource={"Bucket": bucket, "Key": key})
    assert status_of(resp) == 200, resp
    assert resp["CopyObjectResult"]["ETag"] == etag == md5_etag(body), resp
    assert resp["CopyObjectResult"].get("LastModified") is not None, resp
    assert resp.get("ServerSideEncryption") == "AES256", resp
    got = s3.get_object(Bucket=bucket, Key="dst/copy.bin")
    assert got["Body"].read() == body
    assert got["Metadata"] == META, got
    assert got["ContentType"] == "application/x-source", got
    assert got["CacheControl"] == "max-age=60", got
    # The source is untouched.
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == body


def test_copy_object_explicit_copy_directive_ignores_new_metadata(s3, bucket):
    key, body, _ = _put_source(s3, bucket)
    s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": key},
                   MetadataDirective="COPY", Metadata={"ignored": "yes"})
    assert s3.head_object(Bucket=bucket, Key="dst")["Metadata"] == META


def test_copy_object_replace_directive_replaces_metadata(s3, bucket):
    key, body, _ = _put_source(s3, bucket)
    s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": key},
                   MetadataDirective="REPLACE", Metadata={"fresh": "value"}, ContentType="text/plain")
    head = s3.head_object(Bucket=bucket, Key="dst")
    assert head["Metadata"] == {"fresh": "value"}, head
    assert head["ContentType"] == "text/plain", head
    assert head.get("CacheControl") is None, head
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == body


def test_copy_object_across_buckets(s3, bucket, make_bucket):
    other = make_bucket("copy-target")
    key, body, etag = _put_source(s3, bucket, key="ünïcode source/ key+plus")
    s3.copy_object(Bucket=other, Key="copied", CopySource={"Bucket": bucket, "Key": key})
    got = s3.get_object(Bucket=other, Key="copied")
    assert got["Body"].read() == body
    assert got["ETag"] == etag


def test_copy_object_onto_itself_without_replace_is_invalid_request(s3, bucket):
    key, body, _ = _put_source(s3, bucket)
    assert_s3_error(s3.copy_object, Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": key},
                    code="InvalidRequest", status=400)
    assert s3.head_object(Bucket=bucket, Key=key)["Metadata"] == META


def test_copy_object_onto_itself_with_replace_updates_metadata(s3, bucket):
    key, body, etag = _put_source(s3, bucket)
    resp = s3.copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": key},
                          MetadataDirective="REPLACE", Metadata={"rewritten": "1"})
    assert resp["CopyObjectResult"]["ETag"] == etag, resp
    got = s3.get_object(Bucket=bucket, Key=key)
    assert got["Metadata"] == {"rewritten": "1"}, got
    assert got["Body"].read() == body


def test_copy_source_if_match_mismatch_is_412(s3, bucket):
    key, _, etag = _put_source(s3, bucket)
    assert_s3_error(s3.copy_object, Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": key},
                    CopySourceIfMatch='"00000000000000000000000000000000"',
                    code="PreconditionFailed", status=412)
    assert_s3_error(s3.head_object, Bucket=bucket, Key="dst", code="404", status=404)
    ok = s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": key},
                        CopySourceIfMatch=etag)
    assert status_of(ok) == 200


def test_copy_source_if_none_match_on_current_etag_is_412(s3, bucket):
    key, _, etag = _put_source(s3, bucket)
    assert_s3_error(s3.copy_object, Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": key},
                    CopySourceIfNoneMatch=etag, code="PreconditionFailed", status=412)


def test_copy_source_if_unmodified_since_in_past_is_412(s3, bucket):
    key, _, _ = _put_source(s3, bucket)
    lm = s3.head_object(Bucket=bucket, Key=key)["LastModified"]
    assert_s3_error(s3.copy_object, Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": key},
                    CopySourceIfUnmodifiedSince=lm - timedelta(hours=1),
                    code="PreconditionFailed", status=412)


def test_copy_from_missing_source_is_no_such_key(s3, bucket):
    assert_s3_error(s3.copy_object, Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "absent"},
                    code="NoSuchKey", status=404)
