"""SSE-KMS as a security control: the caller needs kms:GenerateDataKey to
write and kms:Decrypt to read (key policy plus IAM policies), a disabled key
stops reads and writes, S3 Bucket Keys cut KMS calls, every key use is in the
audit log with the right key and context, and no mode leaves plaintext (or an
SSE-C key) on disk."""

import base64
import json
import secrets
from concurrent.futures import ThreadPoolExecutor

from s3util import MIB, assert_s3_error, files_containing, unique_bucket
from sse_util import audit_events, customer_key, events_for, kms_client, new_key, sse_c
from test_iam import doc, iam_client, new_user

S3_ALL = {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}


def test_user_needs_kms_permissions_for_sse_kms(server, bucket):
    owner = server.client("https")
    arn = new_key(server)
    owner.put_object(Bucket=bucket, Key="secret", Body=b"top secret", ServerSideEncryption="aws:kms", SSEKMSKeyId=arn)
    iam = iam_client(server, "https")
    name, _, ak, sk = new_user(iam)
    iam.put_user_policy(UserName=name, PolicyName="s3", PolicyDocument=doc(S3_ALL))
    user = server.client("https", access_key=ak, secret_key=sk)
    # S3 allows it, but the default key policy delegates to IAM and IAM grants no kms:*.
    err = assert_s3_error(user.get_object, Bucket=bucket, Key="secret", code="AccessDenied", status=403)
    assert "kms:Decrypt" in err["Error"]["Message"]
    err = assert_s3_error(user.put_object, Bucket=bucket, Key="mine", Body=b"x", ServerSideEncryption="aws:kms",
                          SSEKMSKeyId=arn, code="AccessDenied", status=403)
    assert "kms:GenerateDataKey" in err["Error"]["Message"]
    # SSE-S3 objects need no KMS permission.
    owner.put_object(Bucket=bucket, Key="plain", Body=b"ok")
    assert user.get_object(Bucket=bucket, Key="plain")["Body"].read() == b"ok"
    iam.put_user_policy(UserName=name, PolicyName="kms", PolicyDocument=doc(
        {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": arn}))
    assert user.get_object(Bucket=bucket, Key="secret")["Body"].read() == b"top secret"
    user.put_object(Bucket=bucket, Key="mine", Body=b"x", ServerSideEncryption="aws:kms", SSEKMSKeyId=arn)


def test_key_policy_can_deny_a_user_reads(server, bucket):
    owner = server.client("https")
    kms = kms_client(server)
    iam = iam_client(server, "https")
    name, user_arn, ak, sk = new_user(iam)
    iam.put_user_policy(UserName=name, PolicyName="all", PolicyDocument=doc(
        S3_ALL, {"Effect": "Allow", "Action": "kms:*", "Resource": "*"}))
    account = user_arn.split(":")[4]
    key_policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
         "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "kms:*", "Resource": "*"},
        {"Sid": "NoDecryptForUser", "Effect": "Deny", "Principal": {"AWS": user_arn},
         "Action": "kms:Decrypt", "Resource": "*"}]})
    arn = kms.create_key(Policy=key_policy)["KeyMetadata"]["Arn"]
    user = server.client("https", access_key=ak, secret_key=sk)
    user.put_object(Bucket=bucket, Key="k", Body=b"written by user", ServerSideEncryption="aws:kms", SSEKMSKeyId=arn)
    assert_s3_error(user.get_object, Bucket=bucket, Key="k", code="AccessDenied", status=403)
    assert owner.get_object(Bucket=bucket, Key="k")["Body"].read() == b"written by user"


def test_disabled_key_blocks_reads_and_writes(server, s3, bucket):
    kms = kms_client(server)
    arn = new_key(server)
    s3.put_object(Bucket=bucket, Key="k", Body=b"data", ServerSideEncryption="aws:kms", SSEKMSKeyId=arn)
    kms.disable_key(KeyId=arn)
    assert_s3_error(s3.get_object, Bucket=bucket, Key="k", code="KMS.DisabledException", status=400)
    assert_s3_error(s3.put_object, Bucket=bucket, Key="k2", Body=b"x", ServerSideEncryption="aws:kms",
                    SSEKMSKeyId=arn, code="KMS.DisabledException", status=400)
    kms.enable_key(KeyId=arn)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"data"
    kms.schedule_key_deletion(KeyId=arn, PendingWindowInDays=7)
    assert_s3_error(s3.get_object, Bucket=bucket, Key="k", code="KMS.KMSInvalidStateException", status=400)
    kms.cancel_key_deletion(KeyId=arn)
    kms.enable_key(KeyId=arn)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"data"


def _upload_many(s3, bucket, count, **extra):
    def put(i):
        s3.put_object(Bucket=bucket, Key=f"obj-{i:04d}", Body=b"o%d" % i, **extra)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(put, range(count)))


def test_bucket_keys_cut_kms_calls(server):
    s3 = server.client("http")
    count = 200
    with_bk, without_bk = unique_bucket("bk-on"), unique_bucket("bk-off")
    s3.create_bucket(Bucket=with_bk)
    s3.create_bucket(Bucket=without_bk)
    arn_on, arn_off = new_key(server, "bucket key on"), new_key(server, "bucket key off")
    s3.put_bucket_encryption(Bucket=with_bk, ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": arn_on},
        "BucketKeyEnabled": True}]})
    s3.put_bucket_encryption(Bucket=without_bk, ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": arn_off}}]})
    _upload_many(s3, with_bk, count)
    _upload_many(s3, without_bk, count)
    head = s3.head_object(Bucket=with_bk, Key="obj-0000")
    assert head["BucketKeyEnabled"] is True and head["SSEKMSKeyId"] == arn_on
    assert "BucketKeyEnabled" not in s3.head_object(Bucket=without_bk, Key="obj-0000")
    on = events_for(audit_events(server, arn_on), "GenerateDataKey")
    off = events_for(audit_events(server, arn_off), "GenerateDataKey")
    assert len(off) == count
    # One bucket-level data key, its context the bucket ARN, instead of one per object.
    assert len(on) == 1, on
    assert on[0]["requestParameters"]["encryptionContext"] == {"aws:s3:arn": f"arn:aws:s3:::{with_bk}"}
    assert s3.get_object(Bucket=with_bk, Key="obj-0123")["Body"].read() == b"o123"
    # The header can turn bucket keys off for one object.
    put = s3.put_object(Bucket=with_bk, Key="solo", Body=b"s", BucketKeyEnabled=False)
    assert "BucketKeyEnabled" not in put
    assert len(events_for(audit_events(server, arn_on), "GenerateDataKey")) == 2


def test_audit_log_records_every_key_use(server, bucket):
    s3 = server.client("https")
    arn = new_key(server)
    obj_arn = f"arn:aws:s3:::{bucket}/audited"
    s3.put_object(Bucket=bucket, Key="audited", Body=b"a", ServerSideEncryption="aws:kms", SSEKMSKeyId=arn)
    s3.get_object(Bucket=bucket, Key="audited")["Body"].read()
    events = audit_events(server, arn)
    gdk = events_for(events, "GenerateDataKey", obj_arn)
    dec = events_for(events, "Decrypt", obj_arn)
    assert len(gdk) == 1 and len(dec) == 1, events
    for e in gdk + dec:
        assert e["eventSource"] == "kms.amazonaws.com"
        assert e["userIdentity"]["invokedBy"] == "s3.amazonaws.com"
        assert e["userIdentity"]["accountId"] == arn.split(":")[4]
        assert e["resources"][0]["ARN"] == arn
        assert "errorCode" not in e
        assert e["requestID"] and e["eventTime"].endswith("Z")
    assert gdk[0]["requestParameters"]["keyId"] == arn
    # A denied use is audited too, with its error.
    iam = iam_client(server, "https")
    name, _, ak, sk = new_user(iam)
    iam.put_user_policy(UserName=name, PolicyName="s3", PolicyDocument=doc(S3_ALL))
    user = server.client("https", access_key=ak, secret_key=sk)
    assert_s3_error(user.get_object, Bucket=bucket, Key="audited", code="AccessDenied", status=403)
    denied = [e for e in events_for(audit_events(server, arn), "Decrypt", obj_arn) if e.get("errorCode")]
    assert denied and denied[0]["errorCode"] in ("AccessDenied", "AccessDeniedException"), denied
    assert denied[0]["userIdentity"]["userName"] == name
    # Nothing secret in the log.
    text = (server.data_dir / "audit" / "kms.log").read_text()
    assert '"Plaintext":' not in text and '"plaintext":' not in text


def test_no_mode_leaves_plaintext_or_customer_keys_on_disk(server):
    s3 = server.client("https")
    marker = b"SSE-AT-REST-MARKER-" + secrets.token_hex(12).encode()
    body = (marker + b"|") * (2 * MIB // (len(marker) + 1))
    key = customer_key()
    arn = new_key(server)
    bucket = unique_bucket("atrest-sse")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="s3", Body=body)
    s3.put_object(Bucket=bucket, Key="kms", Body=body, ServerSideEncryption="aws:kms", SSEKMSKeyId=arn)
    s3.put_object(Bucket=bucket, Key="bk", Body=body, ServerSideEncryption="aws:kms", BucketKeyEnabled=True)
    s3.put_object(Bucket=bucket, Key="dsse", Body=body, ServerSideEncryption="aws:kms:dsse")
    s3.put_object(Bucket=bucket, Key="ssec", Body=body, **sse_c(key))
    up = s3.create_multipart_upload(Bucket=bucket, Key="ssec-mp", **sse_c(key))
    r = s3.upload_part(Bucket=bucket, Key="ssec-mp", UploadId=up["UploadId"], PartNumber=1, Body=body, **sse_c(key))
    s3.complete_multipart_upload(Bucket=bucket, Key="ssec-mp", UploadId=up["UploadId"],
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": r["ETag"]}]})
    for k in ("s3", "kms", "bk", "dsse"):
        assert s3.get_object(Bucket=bucket, Key=k)["Body"].read() == body
    for k in ("ssec", "ssec-mp"):
        assert s3.get_object(Bucket=bucket, Key=k, **sse_c(key))["Body"].read() == body
    assert not files_containing(server.data_dir, marker)
    assert not files_containing(server.data_dir, key)
    assert not files_containing(server.data_dir, base64.b64encode(key))
