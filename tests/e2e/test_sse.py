"""Server-side encryption modes through real clients: SSE-S3 (the default),
SSE-KMS with the AWS managed and customer managed keys, DSSE-KMS and SSE-C,
for put/get/head/range/multipart/copy; the header rules S3 enforces; bucket
default encryption (including BlockedEncryptionTypes)."""

import base64
import hashlib
import json

import pytest

from s3util import MIB, assert_s3_error, unique_bucket
from sse_util import customer_key, key_md5, kms_client, new_key, sse_c


def md5_etag(body: bytes) -> str:
    return '"' + hashlib.md5(body).hexdigest() + '"'


def round_trip(s3, bucket, key, body, put_args=None, get_args=None):
    """PUT, then GET whole and a range, and HEAD; returns (put, head)."""
    put = s3.put_object(Bucket=bucket, Key=key, Body=body, **(put_args or {}))
    got = s3.get_object(Bucket=bucket, Key=key, **(get_args or {}))
    assert got["Body"].read() == body
    part = s3.get_object(Bucket=bucket, Key=key, Range="bytes=3-70000", **(get_args or {}))
    assert part["Body"].read() == body[3:70001]
    head = s3.head_object(Bucket=bucket, Key=key, **(get_args or {}))
    assert head["ContentLength"] == len(body)
    assert head["ETag"] == put["ETag"] == got["ETag"]
    return put, head


BODY = bytes(range(256)) * 600  # 150 KiB: several 64 KiB chunks


# ---------------------------------------------------------------- SSE-S3


def test_sse_s3_is_the_default_and_can_be_asked_for(server, s3, bucket):
    put, head = round_trip(s3, bucket, "default", BODY)
    assert put["ServerSideEncryption"] == head["ServerSideEncryption"] == "AES256"
    assert put["ETag"] == md5_etag(BODY)
    put, head = round_trip(s3, bucket, "explicit", BODY, {"ServerSideEncryption": "AES256"})
    assert head["ServerSideEncryption"] == "AES256"
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert rule["BucketKeyEnabled"] is False


# ---------------------------------------------------------------- SSE-KMS


def test_sse_kms_with_the_aws_managed_key(server, s3, bucket):
    put, head = round_trip(s3, bucket, "managed", BODY, {"ServerSideEncryption": "aws:kms"})
    managed = kms_client(server).describe_key(KeyId="alias/aws/s3")["KeyMetadata"]
    assert managed["KeyManager"] == "AWS"
    assert put["SSEKMSKeyId"] == head["SSEKMSKeyId"] == managed["Arn"]
    assert head["ServerSideEncryption"] == "aws:kms"
    # As on AWS, the ETag of an SSE-KMS object is not the MD5 of its data.
    assert put["ETag"] != md5_etag(BODY)
    aliases = [a["AliasName"] for a in kms_client(server).list_aliases()["Aliases"]]
    assert "alias/aws/s3" in aliases


def test_sse_kms_with_a_customer_key_by_alias_and_context(server, s3, bucket):
    kms = kms_client(server)
    arn = new_key(server)
    alias = "alias/sse-" + bucket
    kms.create_alias(AliasName=alias, TargetKeyId=arn)
    context = base64.b64encode(json.dumps({"department": "finance"}).encode()).decode()
    put, head = round_trip(s3, bucket, "ctx", BODY, {
        "ServerSideEncryption": "aws:kms", "SSEKMSKeyId": alias, "SSEKMSEncryptionContext": context})
    assert put["SSEKMSKeyId"] == head["SSEKMSKeyId"] == arn
    returned = json.loads(base64.b64decode(put["SSEKMSEncryptionContext"]))
    assert returned == {"department": "finance", "aws:s3:arn": f"arn:aws:s3:::{bucket}/ctx"}
    # The key id may also be given as the bare id or the ARN.
    key_id = arn.rsplit("/", 1)[1]
    round_trip(s3, bucket, "by-id", b"x" * 10, {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": key_id})
    put = s3.put_object(Bucket=bucket, Key="by-arn", Body=b"y", ServerSideEncryption="aws:kms", SSEKMSKeyId=arn)
    assert put["SSEKMSKeyId"] == arn


def test_sse_kms_unknown_key_is_refused(server, s3, bucket):
    err = assert_s3_error(s3.put_object, Bucket=bucket, Key="k", Body=b"x", ServerSideEncryption="aws:kms",
                          SSEKMSKeyId="alias/does-not-exist", code="KMS.NotFoundException", status=400)
    assert "alias/does-not-exist" in err["Error"]["Message"]


def test_sse_kms_multipart_and_copies(server, s3, bucket):
    arn = new_key(server)
    part1, part2 = b"a" * (5 * MIB), b"b" * 1000
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp", ServerSideEncryption="aws:kms", SSEKMSKeyId=arn)
    assert up["ServerSideEncryption"] == "aws:kms" and up["SSEKMSKeyId"] == arn
    parts = []
    for n, data in ((1, part1), (2, part2)):
        r = s3.upload_part(Bucket=bucket, Key="mp", UploadId=up["UploadId"], PartNumber=n, Body=data)
        assert r["ServerSideEncryption"] == "aws:kms"
        parts.append({"PartNumber": n, "ETag": r["ETag"]})
    done = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up["UploadId"],
                                        MultipartUpload={"Parts": parts})
    assert done["ServerSideEncryption"] == "aws:kms" and done["SSEKMSKeyId"] == arn
    assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == part1 + part2
    assert s3.get_object(Bucket=bucket, Key="mp", PartNumber=2)["Body"].read() == part2

    # SSE-S3 -> SSE-KMS with a new key, re-encrypting in place.
    s3.put_object(Bucket=bucket, Key="plain", Body=BODY)
    other = new_key(server)
    copied = s3.copy_object(Bucket=bucket, Key="plain", CopySource={"Bucket": bucket, "Key": "plain"},
                            ServerSideEncryption="aws:kms", SSEKMSKeyId=other)
    assert copied["ServerSideEncryption"] == "aws:kms" and copied["SSEKMSKeyId"] == other
    head = s3.head_object(Bucket=bucket, Key="plain")
    assert head["SSEKMSKeyId"] == other
    assert s3.get_object(Bucket=bucket, Key="plain")["Body"].read() == BODY
    # SSE-KMS -> the bucket default (SSE-S3) when the copy names no encryption.
    s3.copy_object(Bucket=bucket, Key="back", CopySource={"Bucket": bucket, "Key": "plain"})
    head = s3.head_object(Bucket=bucket, Key="back")
    assert head["ServerSideEncryption"] == "AES256" and "SSEKMSKeyId" not in head
    assert s3.get_object(Bucket=bucket, Key="back")["Body"].read() == BODY
    # UploadPartCopy from an SSE-KMS source into an SSE-S3 upload.
    up = s3.create_multipart_upload(Bucket=bucket, Key="pc")
    r = s3.upload_part_copy(Bucket=bucket, Key="pc", UploadId=up["UploadId"], PartNumber=1,
                            CopySource={"Bucket": bucket, "Key": "mp"}, CopySourceRange="bytes=0-99")
    s3.complete_multipart_upload(Bucket=bucket, Key="pc", UploadId=up["UploadId"], MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": r["CopyPartResult"]["ETag"]}]})
    assert s3.get_object(Bucket=bucket, Key="pc")["Body"].read() == part1[:100]


def test_dsse_kms_round_trip(server, s3, bucket):
    arn = new_key(server)
    put, head = round_trip(s3, bucket, "dsse", BODY, {"ServerSideEncryption": "aws:kms:dsse", "SSEKMSKeyId": arn})
    assert put["ServerSideEncryption"] == head["ServerSideEncryption"] == "aws:kms:dsse"
    assert head["SSEKMSKeyId"] == arn
    assert put["ETag"] != md5_etag(BODY)
    up = s3.create_multipart_upload(Bucket=bucket, Key="dsse-mp", ServerSideEncryption="aws:kms:dsse")
    r = s3.upload_part(Bucket=bucket, Key="dsse-mp", UploadId=up["UploadId"], PartNumber=1, Body=BODY)
    s3.complete_multipart_upload(Bucket=bucket, Key="dsse-mp", UploadId=up["UploadId"],
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": r["ETag"]}]})
    assert s3.get_object(Bucket=bucket, Key="dsse-mp", Range="bytes=65530-65545")["Body"].read() == BODY[65530:65546]


# ---------------------------------------------------------------- SSE-C


def test_sse_c_round_trip_over_https(server, bucket_http):
    bucket = bucket_http
    s3 = server.client("https")
    key = customer_key()
    put, head = round_trip(s3, bucket, "ssec", BODY, sse_c(key), sse_c(key))
    assert put["SSECustomerAlgorithm"] == head["SSECustomerAlgorithm"] == "AES256"
    assert put["SSECustomerKeyMD5"] == head["SSECustomerKeyMD5"] == key_md5(key)
    assert "ServerSideEncryption" not in head
    assert put["ETag"] != md5_etag(BODY)
    # Without the key: 400; with another key: 403 -- for GET and HEAD.
    assert_s3_error(s3.get_object, Bucket=bucket, Key="ssec", code="InvalidRequest", status=400)
    assert_s3_error(s3.head_object, Bucket=bucket, Key="ssec", code="400", status=400)
    assert_s3_error(s3.get_object, Bucket=bucket, Key="ssec", **sse_c(customer_key()),
                    code="AccessDenied", status=403)
    assert_s3_error(s3.head_object, Bucket=bucket, Key="ssec", **sse_c(customer_key()), code="403", status=403)
    # SSE-C parameters on an object that is not SSE-C: 400.
    s3.put_object(Bucket=bucket, Key="plain", Body=b"plain")
    assert_s3_error(s3.get_object, Bucket=bucket, Key="plain", **sse_c(key), code="InvalidRequest", status=400)


def test_sse_c_is_refused_over_http(server, bucket_http):
    bucket = bucket_http
    http = server.client("http")
    err = assert_s3_error(http.put_object, Bucket=bucket, Key="k", Body=b"x", **sse_c(customer_key()),
                          code="InvalidRequest", status=400)
    assert "secure connection" in err["Error"]["Message"]
    server.client("https").put_object(Bucket=bucket, Key="k", Body=b"x", **sse_c(key := customer_key()))
    assert_s3_error(http.get_object, Bucket=bucket, Key="k", **sse_c(key), code="InvalidRequest", status=400)


def test_sse_c_header_errors(server, bucket_http):
    bucket = bucket_http
    s3 = server.client("https")
    key = customer_key()
    err = assert_s3_error(s3.put_object, Bucket=bucket, Key="k", Body=b"x", SSECustomerAlgorithm="AES256",
                          SSECustomerKey=base64.b64encode(key).decode(), SSECustomerKeyMD5=key_md5(customer_key()),
                          code="InvalidArgument", status=400)
    assert "MD5" in err["Error"]["Message"]
    assert_s3_error(s3.put_object, Bucket=bucket, Key="k", Body=b"x", SSECustomerAlgorithm="AES256",
                    SSECustomerKey=b"short", code="InvalidArgument", status=400)
    assert_s3_error(s3.put_object, Bucket=bucket, Key="k", Body=b"x", SSECustomerAlgorithm="AES128",
                    SSECustomerKey=key, code="InvalidEncryptionAlgorithmError", status=400)
    assert_s3_error(s3.put_object, Bucket=bucket, Key="k", Body=b"x", ServerSideEncryption="AES256",
                    **sse_c(key), code="InvalidArgument", status=400)


def test_sse_c_multipart_copy_and_rekey(server, bucket_http):
    bucket = bucket_http
    s3 = server.client("https")
    key, new = customer_key(), customer_key()
    part1, part2 = b"c" * (5 * MIB), b"d" * 777
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp", **sse_c(key))
    assert up["SSECustomerKeyMD5"] == key_md5(key)
    # Every part must come with the upload's key.
    assert_s3_error(s3.upload_part, Bucket=bucket, Key="mp", UploadId=up["UploadId"], PartNumber=1,
                    Body=part1, code="InvalidRequest", status=400)
    assert_s3_error(s3.upload_part, Bucket=bucket, Key="mp", UploadId=up["UploadId"], PartNumber=1,
                    Body=part1, **sse_c(new), code="AccessDenied", status=403)
    parts = [{"PartNumber": n, "ETag": s3.upload_part(Bucket=bucket, Key="mp", UploadId=up["UploadId"],
                                                      PartNumber=n, Body=d, **sse_c(key))["ETag"]}
             for n, d in ((1, part1), (2, part2))]
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up["UploadId"], MultipartUpload={"Parts": parts})
    assert s3.get_object(Bucket=bucket, Key="mp", **sse_c(key))["Body"].read() == part1 + part2

    # Re-keying in place: copy-source key to read, new key to write.
    s3.copy_object(Bucket=bucket, Key="mp", CopySource={"Bucket": bucket, "Key": "mp"},
                   **sse_c(key, "CopySourceSSECustomer"), **sse_c(new))
    assert_s3_error(s3.get_object, Bucket=bucket, Key="mp", **sse_c(key), code="AccessDenied", status=403)
    assert s3.get_object(Bucket=bucket, Key="mp", Range="bytes=5242870-5242889",
                         **sse_c(new))["Body"].read() == (part1 + part2)[5242870:5242890]
    # Copying out without the source key fails; SSE-C -> SSE-S3 with it works.
    assert_s3_error(s3.copy_object, Bucket=bucket, Key="out", CopySource={"Bucket": bucket, "Key": "mp"},
                    code="InvalidRequest", status=400)
    s3.copy_object(Bucket=bucket, Key="out", CopySource={"Bucket": bucket, "Key": "mp"},
                   **sse_c(new, "CopySourceSSECustomer"))
    assert s3.head_object(Bucket=bucket, Key="out")["ServerSideEncryption"] == "AES256"
    # UploadPartCopy from an SSE-C source into an SSE-C upload.
    up = s3.create_multipart_upload(Bucket=bucket, Key="pc", **sse_c(key))
    r = s3.upload_part_copy(Bucket=bucket, Key="pc", UploadId=up["UploadId"], PartNumber=1,
                            CopySource={"Bucket": bucket, "Key": "mp"}, CopySourceRange="bytes=0-9",
                            **sse_c(new, "CopySourceSSECustomer"), **sse_c(key))
    s3.complete_multipart_upload(Bucket=bucket, Key="pc", UploadId=up["UploadId"], MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": r["CopyPartResult"]["ETag"]}]})
    assert s3.get_object(Bucket=bucket, Key="pc", **sse_c(key))["Body"].read() == b"c" * 10


def test_awscli_sse_c_and_kms(server, tmp_path, bucket_http):
    bucket = bucket_http
    from harness import AwsCli
    aws = AwsCli(server, "https")
    key_file = tmp_path / "k.bin"
    key_file.write_bytes(customer_key())
    src = tmp_path / "src.bin"
    src.write_bytes(BODY)
    aws("s3", "cp", str(src), f"s3://{bucket}/ssec.bin", "--sse-c", "AES256", "--sse-c-key", f"fileb://{key_file}")
    aws("s3", "cp", f"s3://{bucket}/ssec.bin", str(tmp_path / "back.bin"), "--sse-c", "AES256",
        "--sse-c-key", f"fileb://{key_file}")
    assert (tmp_path / "back.bin").read_bytes() == BODY
    arn = new_key(server)
    aws("s3", "cp", str(src), f"s3://{bucket}/kms.bin", "--sse", "aws:kms", "--sse-kms-key-id", arn)
    head = json.loads(aws("s3api", "head-object", "--bucket", bucket, "--key", "kms.bin").stdout)
    assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == arn


# ---------------------------------------------------------------- header rules


def test_conflicting_and_invalid_sse_headers(server, s3, bucket):
    assert_s3_error(s3.put_object, Bucket=bucket, Key="k", Body=b"x", ServerSideEncryption="AES256",
                    SSEKMSKeyId="alias/aws/s3", code="InvalidArgument", status=400)
    assert_s3_error(s3.put_object, Bucket=bucket, Key="k", Body=b"x", SSEKMSKeyId="alias/aws/s3",
                    code="InvalidArgument", status=400)
    assert_s3_error(s3.put_object, Bucket=bucket, Key="k", Body=b"x", ServerSideEncryption="aws:kms",
                    SSEKMSEncryptionContext="not-base64-json!", code="InvalidArgument", status=400)
    assert_s3_error(s3.put_object, Bucket=bucket, Key="k", Body=b"x", ServerSideEncryption="AES128",
                    code="InvalidArgument", status=400)


# ---------------------------------------------------------------- bucket default encryption


def test_bucket_default_encryption_applies_and_resets(server, s3, bucket):
    arn = new_key(server)
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": arn}}]})
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": arn}
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"default kms")
    assert put["ServerSideEncryption"] == "aws:kms" and put["SSEKMSKeyId"] == arn
    # An explicit header still wins over the default.
    assert s3.put_object(Bucket=bucket, Key="s3", Body=b"x", ServerSideEncryption="AES256")[
        "ServerSideEncryption"] == "AES256"
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms:dsse"}}]})
    assert s3.put_object(Bucket=bucket, Key="d", Body=b"x")["ServerSideEncryption"] == "aws:kms:dsse"
    s3.delete_bucket_encryption(Bucket=bucket)
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert s3.put_object(Bucket=bucket, Key="k2", Body=b"x")["ServerSideEncryption"] == "AES256"
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"default kms"
    assert_s3_error(s3.put_bucket_encryption, Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256", "KMSMasterKeyID": arn}}]},
        code="InvalidArgument", status=400)
    assert_s3_error(s3.get_bucket_encryption, Bucket=unique_bucket("missing"), code="NoSuchBucket", status=404)


def test_policy_is_evaluated_before_the_default_applies(server, bucket_http):
    bucket = bucket_http
    s3 = server.client("https")
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]})
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "DenyNotKms", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
        "Resource": f"arn:aws:s3:::{bucket}/*",
        "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}}}]}))
    # The default would encrypt with aws:kms, but the header is what the policy sees.
    assert_s3_error(s3.put_object, Bucket=bucket, Key="k", Body=b"x", code="AccessDenied", status=403)
    assert s3.put_object(Bucket=bucket, Key="k", Body=b"x", ServerSideEncryption="aws:kms")[
        "ServerSideEncryption"] == "aws:kms"
    s3.delete_bucket_policy(Bucket=bucket)


def test_blocked_sse_c_refuses_writes_but_keeps_reads(server, bucket_http):
    bucket = bucket_http
    s3 = server.client("https")
    key = customer_key()
    s3.put_object(Bucket=bucket, Key="before", Body=b"old ssec", **sse_c(key))
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
        "BlockedEncryptionTypes": {"EncryptionType": ["SSE-C"]}}]})
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["BlockedEncryptionTypes"] == {"EncryptionType": ["SSE-C"]}
    assert_s3_error(s3.put_object, Bucket=bucket, Key="new", Body=b"x", **sse_c(key), code="AccessDenied", status=403)
    assert_s3_error(s3.create_multipart_upload, Bucket=bucket, Key="mp", **sse_c(key),
                    code="AccessDenied", status=403)
    assert s3.get_object(Bucket=bucket, Key="before", **sse_c(key))["Body"].read() == b"old ssec"
    s3.put_object(Bucket=bucket, Key="plain", Body=b"x")
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
        "BlockedEncryptionTypes": {"EncryptionType": ["NONE"]}}]})
    s3.put_object(Bucket=bucket, Key="new", Body=b"x", **sse_c(key))


@pytest.mark.parametrize("mode", ["AES256", "aws:kms", "aws:kms:dsse"])
def test_every_mode_over_both_schemes(server, scheme, bucket, mode):
    s3 = server.client(scheme)
    body = b"mode %s " % mode.encode() * 5000
    put, head = round_trip(s3, bucket, "m", body, {"ServerSideEncryption": mode})
    assert head["ServerSideEncryption"] == mode
