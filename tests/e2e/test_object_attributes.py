"""GetObjectAttributes through boto3 and awscli: ETag (unquoted), object and
per-part checksums, ObjectParts paging, size and storage class; bad input,
SSE-C and the s3:GetObjectAttributes permission."""

import base64
import json

import pytest

from s3util import KIB, MIB, assert_s3_error, md5_etag, random_bytes, signed_request
from sse_util import customer_key, key_md5, sse_c
from test_bucket_policy import arn, policy

ALL = ["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"]


def attrs(s3, bucket, key, names=ALL, **kw):
    r = s3.get_object_attributes(Bucket=bucket, Key=key, ObjectAttributes=names, **kw)
    r.pop("ResponseMetadata")
    return r


def multipart(s3, bucket, key, sizes, algorithm=None):
    extra = {"ChecksumAlgorithm": algorithm} if algorithm else {}
    up = s3.create_multipart_upload(Bucket=bucket, Key=key, **extra)["UploadId"]
    done = []
    for n, size in enumerate(sizes, start=1):
        r = s3.upload_part(Bucket=bucket, Key=key, UploadId=up, PartNumber=n, Body=random_bytes(size), **extra)
        part = {"PartNumber": n, "ETag": r["ETag"]}
        if algorithm:
            part[f"Checksum{algorithm}"] = r[f"Checksum{algorithm}"]
        done.append(part)
    out = s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=up, MultipartUpload={"Parts": done})
    return out, done


def test_single_put_object_attributes(s3, bucket):
    body = b"attributes body"
    put = s3.put_object(Bucket=bucket, Key="one", Body=body, ChecksumAlgorithm="SHA256")
    a = attrs(s3, bucket, "one")
    assert a["ETag"] == md5_etag(body).strip('"'), a
    assert a["Checksum"] == {"ChecksumSHA256": put["ChecksumSHA256"], "ChecksumType": "FULL_OBJECT"}, a
    assert a["ObjectSize"] == len(body) and a["StorageClass"] == "STANDARD", a
    assert "ObjectParts" not in a and "LastModified" in a, a
    # Only what was asked for.
    only = attrs(s3, bucket, "one", ["ObjectSize"])
    assert only["ObjectSize"] == len(body) and not {"ETag", "Checksum", "StorageClass"} & set(only), only


def test_multipart_parts_with_checksums_are_paged(s3, bucket):
    sizes = [5 * MIB, 5 * MIB, 5 * MIB, 123 * KIB]
    done, parts = multipart(s3, bucket, "mp", sizes, "CRC32")
    a = attrs(s3, bucket, "mp", MaxParts=2)
    assert a["ETag"] == done["ETag"].strip('"') and a["ObjectSize"] == sum(sizes), a
    assert a["Checksum"]["ChecksumType"] == "COMPOSITE", a
    assert a["Checksum"]["ChecksumCRC32"] == done["ChecksumCRC32"], (a, done)
    p = a["ObjectParts"]
    assert (p["TotalPartsCount"], p["MaxParts"], p["IsTruncated"], p["NextPartNumberMarker"]) == (4, 2, True, 2), p
    assert [(x["PartNumber"], x["Size"], x["ChecksumCRC32"]) for x in p["Parts"]] == [
        (1, sizes[0], parts[0]["ChecksumCRC32"]), (2, sizes[1], parts[1]["ChecksumCRC32"])], p
    rest = attrs(s3, bucket, "mp", ["ObjectParts"], MaxParts=2, PartNumberMarker=2)["ObjectParts"]
    assert rest["IsTruncated"] is False and "NextPartNumberMarker" not in rest, rest
    assert [(x["PartNumber"], x["Size"]) for x in rest["Parts"]] == [(3, sizes[2]), (4, sizes[3])], rest


def test_multipart_without_checksums_reports_only_the_part_count(s3, bucket):
    multipart(s3, bucket, "plain", [5 * MIB, 10])
    a = attrs(s3, bucket, "plain")
    assert a["ObjectParts"]["TotalPartsCount"] == 2 and "Parts" not in a["ObjectParts"], a
    assert "Checksum" not in a, a


def test_bad_attribute_names_and_missing_objects(server, scheme, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert_s3_error(s3.get_object_attributes, Bucket=bucket, Key="k", ObjectAttributes=["Bogus"],
                    code="InvalidArgument", status=400)
    assert_s3_error(s3.get_object_attributes, Bucket=bucket, Key="missing", ObjectAttributes=ALL,
                    code="NoSuchKey", status=404)
    assert_s3_error(s3.get_object_attributes, Bucket=bucket, Key="k", ObjectAttributes=ALL, VersionId="abc",
                    code="InvalidArgument", status=400)
    r = signed_request(server, scheme, "GET", f"/{bucket}/k", query="attributes")
    assert r.status_code == 400, r.text
    assert attrs(s3, bucket, "k", VersionId="null")["ObjectSize"] == 1


def raw_sse_c(key):
    """botocore encodes the SSE-C key for GetObject but not for
    GetObjectAttributes: send it base64-encoded with its MD5."""
    return {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": base64.b64encode(key).decode(),
            "SSECustomerKeyMD5": key_md5(key)}


def test_sse_c_object_attributes_need_the_key(server, bucket):
    s3 = server.client("https")
    key, other = customer_key(), customer_key()
    s3.put_object(Bucket=bucket, Key="c", Body=b"secret", **sse_c(key))
    assert_s3_error(s3.get_object_attributes, Bucket=bucket, Key="c", ObjectAttributes=ALL,
                    code="InvalidRequest", status=400)
    assert attrs(s3, bucket, "c", **raw_sse_c(key))["ObjectSize"] == 6
    assert_s3_error(s3.get_object_attributes, Bucket=bucket, Key="c", ObjectAttributes=ALL,
                    **raw_sse_c(other), code="AccessDenied", status=403)


def test_denying_get_object_attributes_leaves_get_object(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(
        {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObjectAttributes", "Resource": arn(bucket, "*")}))
    try:
        assert_s3_error(s3.get_object_attributes, Bucket=bucket, Key="k", ObjectAttributes=ALL,
                        code="AccessDenied", status=403)
        assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"
    finally:
        s3.delete_bucket_policy(Bucket=bucket)


def test_awscli_get_object_attributes(aws, s3, bucket):
    s3.put_object(Bucket=bucket, Key="cli", Body=b"abc", ChecksumAlgorithm="SHA1")
    out = json.loads(aws("s3api", "get-object-attributes", "--bucket", bucket, "--key", "cli",
                         "--object-attributes", "ETag", "Checksum", "ObjectSize").stdout)
    assert out["ObjectSize"] == 3 and out["ETag"] == md5_etag(b"abc").strip('"'), out
    assert "ChecksumSHA1" in out["Checksum"], out
