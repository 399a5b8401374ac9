"""Object Lock (issue 13): bucket configuration, governance and compliance
retention, legal holds, default retention, the integrity-check rule for
locked uploads, the bypass permission and the condition keys, with boto3 and
the awscli over HTTP and HTTPS, as AWS documents them."""

import base64
import datetime as dt
import hashlib
import json
import time

import boto3
import pytest

from harness import AwsCli
from s3util import assert_s3_error, signed_request, unique_bucket

LOCKED = "Access Denied because object protected by object lock."


def utc_in(seconds: float) -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=seconds)


def locked_bucket(s3, prefix="lock"):
    name = unique_bucket(prefix)
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    return name


def delete_error(s3, **kwargs):
    return assert_s3_error(s3.delete_object, code="AccessDenied", status=403, **kwargs)


@pytest.fixture
def account(server):
    """A fresh account: its root client and an IAM client for it, over HTTPS."""
    from test_accounts import create_account

    acct = create_account(server, f"lock-{int(time.time() * 1000) % 10_000_000}")
    creds = dict(access_key=acct["Root access key id"], secret_key=acct["Root secret access key"])
    iam = boto3.session.Session().client(
        "iam", endpoint_url=server.endpoint("https"), region_name="us-east-1", verify=server.verify("https"),
        aws_access_key_id=creds["access_key"], aws_secret_access_key=creds["secret_key"])
    return acct, creds, iam


def user_client(server, scheme, iam, name, statements):
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": statements}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return server.client(scheme, access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"])


def test_bucket_created_with_object_lock_is_versioned_for_good(s3):
    bucket = locked_bucket(s3)
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    conf = s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
    assert conf == {"ObjectLockEnabled": "Enabled"}
    err = assert_s3_error(s3.put_bucket_versioning, Bucket=bucket,
                          VersioningConfiguration={"Status": "Suspended"}, code="InvalidBucketState", status=409)
    assert "Object Lock configuration is present" in err["Error"]["Message"]
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    s3.delete_bucket(Bucket=bucket)


def test_lock_configuration_on_an_existing_bucket(s3, bucket):
    assert_s3_error(s3.get_object_lock_configuration, Bucket=bucket,
                    code="ObjectLockConfigurationNotFoundError", status=404)
    rule = {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}
    conf = {"ObjectLockEnabled": "Enabled", "Rule": rule}
    # Versioning must be enabled first, as AWS.
    err = assert_s3_error(s3.put_object_lock_configuration, Bucket=bucket, ObjectLockConfiguration=conf,
                          code="InvalidBucketState", status=409)
    assert "Versioning must be 'Enabled'" in err["Error"]["Message"]
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    for bad, code in [
        ({"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1, "Years": 1}}, "MalformedXML"),
        ({"DefaultRetention": {"Mode": "GOVERNANCE"}}, "MalformedXML"),
        ({"DefaultRetention": {"Days": 1}}, "MalformedXML"),
        ({"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 0}}, "InvalidArgument"),
        ({"DefaultRetention": {"Mode": "COMPLIANCE", "Years": 101}}, "InvalidArgument"),
    ]:
        assert_s3_error(s3.put_object_lock_configuration, Bucket=bucket,
                        ObjectLockConfiguration={"ObjectLockEnabled": "Enabled", "Rule": bad},
                        code=code, status=400)
    assert_s3_error(s3.get_object_lock_configuration, Bucket=bucket,
                    code="ObjectLockConfigurationNotFoundError", status=404)
    s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration=conf)
    got = s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
    assert got == conf
    # The rule can be dropped; Object Lock itself stays, and so does versioning.
    s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"})
    assert s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"] == {"ObjectLockEnabled": "Enabled"}
    assert_s3_error(s3.put_bucket_versioning, Bucket=bucket,
                    VersioningConfiguration={"Status": "Suspended"}, code="InvalidBucketState", status=409)


def test_lock_headers_are_validated(s3, bucket):
    future = utc_in(3600)
    # A bucket without Object Lock takes no lock headers and no retention calls.
    err = assert_s3_error(s3.put_object, Bucket=bucket, Key="k", Body=b"x", ObjectLockMode="GOVERNANCE",
                          ObjectLockRetainUntilDate=future, code="InvalidRequest", status=400)
    assert err["Error"]["Message"] == "Bucket is missing Object Lock Configuration"
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert_s3_error(s3.put_object_retention, Bucket=bucket, Key="k",
                    Retention={"Mode": "GOVERNANCE", "RetainUntilDate": future}, code="InvalidRequest", status=400)
    assert_s3_error(s3.get_object_retention, Bucket=bucket, Key="k", code="InvalidRequest", status=400)
    locked = locked_bucket(s3)
    err = assert_s3_error(s3.put_object, Bucket=locked, Key="k", Body=b"x", ObjectLockMode="GOVERNANCE",
                          code="InvalidArgument", status=400)
    assert "must both be supplied" in err["Error"]["Message"]
    err = assert_s3_error(s3.put_object, Bucket=locked, Key="k", Body=b"x", ObjectLockMode="GOVERNANCE",
                          ObjectLockRetainUntilDate=utc_in(-60), code="InvalidArgument", status=400)
    assert err["Error"]["Message"] == "The retain until date must be in the future!"
    assert_s3_error(s3.put_object, Bucket=locked, Key="k", Body=b"x", ObjectLockMode="FOREVER",
                    ObjectLockRetainUntilDate=future, code="InvalidArgument", status=400)
    v = s3.put_object(Bucket=locked, Key="k", Body=b"x")["VersionId"]
    # A version that never had a retention or a hold has no lock to show.
    assert_s3_error(s3.get_object_retention, Bucket=locked, Key="k", VersionId=v,
                    code="NoSuchObjectLockConfiguration", status=404)
    assert_s3_error(s3.get_object_legal_hold, Bucket=locked, Key="k",
                    code="NoSuchObjectLockConfiguration", status=404)
    assert_s3_error(s3.put_object_retention, Bucket=locked, Key="k",
                    Retention={"Mode": "GOVERNANCE", "RetainUntilDate": utc_in(-5)},
                    code="InvalidArgument", status=400)
    assert_s3_error(s3.get_object_retention, Bucket=locked, Key="missing", code="NoSuchKey", status=404)
    s3.delete_object(Bucket=locked, Key="k", VersionId=v)
    s3.delete_bucket(Bucket=locked)


def put_raw(server, scheme, bucket, key, body, headers):
    return signed_request(server, scheme, "PUT", f"/{bucket}/{key}", headers=headers, body=body)


def test_locked_upload_without_content_md5_is_rejected(server, scheme, s3):
    bucket = locked_bucket(s3)
    until = utc_in(3600).strftime("%Y-%m-%dT%H:%M:%SZ")
    lock = {"x-amz-object-lock-mode": "GOVERNANCE", "x-amz-object-lock-retain-until-date": until}
    body = b"needs an integrity check"
    r = put_raw(server, scheme, bucket, "k", body, lock)
    assert r.status_code == 400, r.content
    assert b"<Code>InvalidRequest</Code>" in r.content
    assert b"Content-MD5 OR x-amz-checksum- HTTP header is required" in r.content
    hold = {"x-amz-object-lock-legal-hold": "ON"}
    assert put_raw(server, scheme, bucket, "k", body, hold).status_code == 400
    md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
    r = put_raw(server, scheme, bucket, "k", body, {**lock, "Content-MD5": md5})
    assert r.status_code == 200, r.content
    # Unlocked writes need nothing extra, until a default retention applies.
    assert put_raw(server, scheme, bucket, "plain", body, {}).status_code == 200
    s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}})
    assert put_raw(server, scheme, bucket, "plain", body, {}).status_code == 400
    crc = {"x-amz-checksum-sha256": base64.b64encode(hashlib.sha256(body).digest()).decode()}
    assert put_raw(server, scheme, bucket, "plain", body, crc).status_code == 200
    assert s3.head_object(Bucket=bucket, Key="plain")["ObjectLockMode"] == "GOVERNANCE"


def test_governance_delete_needs_bypass_permission_and_header(server, scheme, account):
    acct, creds, iam = account
    root = server.client(scheme, **creds)
    bucket = locked_bucket(root, "gov")
    ops = user_client(server, scheme, iam, "ops", [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}])
    dev = user_client(server, scheme, iam, "dev", [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:BypassGovernanceRetention", "Resource": "*"}])
    reader = user_client(server, scheme, iam, "reader", [
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjectVersion"], "Resource": "*"}])
    until = utc_in(86400).replace(microsecond=0)
    v = root.put_object(Bucket=bucket, Key="k", Body=b"governed", ObjectLockMode="GOVERNANCE",
                        ObjectLockRetainUntilDate=until)["VersionId"]
    head = root.head_object(Bucket=bucket, Key="k")
    assert head["ObjectLockMode"] == "GOVERNANCE" and head["ObjectLockRetainUntilDate"] == until
    # The lock headers are shown only to callers allowed to read them.
    assert "ObjectLockMode" not in reader.head_object(Bucket=bucket, Key="k")
    assert root.get_object_retention(Bucket=bucket, Key="k", VersionId=v)["Retention"] == {
        "Mode": "GOVERNANCE", "RetainUntilDate": until}
    for who in (root, ops, dev):
        assert delete_error(who, Bucket=bucket, Key="k", VersionId=v)["Error"]["Message"] == LOCKED
    # The header without the permission, and the permission without the header, are not enough.
    assert delete_error(dev, Bucket=bucket, Key="k", VersionId=v, BypassGovernanceRetention=True)["Error"]["Message"] == LOCKED
    # Shortening governance retention is the same: bypass, or nothing.
    shorter = {"Mode": "GOVERNANCE", "RetainUntilDate": utc_in(3600)}
    assert_s3_error(ops.put_object_retention, Bucket=bucket, Key="k", VersionId=v, Retention=shorter,
                    code="AccessDenied", status=403)
    assert_s3_error(dev.put_object_retention, Bucket=bucket, Key="k", VersionId=v, Retention=shorter,
                    BypassGovernanceRetention=True, code="AccessDenied", status=403)
    # Extending needs no bypass.
    longer = utc_in(2 * 86400).replace(microsecond=0)
    dev.put_object_retention(Bucket=bucket, Key="k", VersionId=v,
                             Retention={"Mode": "GOVERNANCE", "RetainUntilDate": longer})
    assert root.get_object_retention(Bucket=bucket, Key="k")["Retention"]["RetainUntilDate"] == longer
    ops.put_object_retention(Bucket=bucket, Key="k", VersionId=v, Retention=shorter, BypassGovernanceRetention=True)
    # DeleteObjects reports the lock per key.
    out = root.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "k", "VersionId": v}]})
    assert out.get("Deleted", []) == [] and out["Errors"][0]["Code"] == "AccessDenied"
    # A plain DELETE only stacks a marker; the locked version stays readable.
    marker = root.delete_object(Bucket=bucket, Key="k")
    assert marker["DeleteMarker"] is True
    assert root.get_object(Bucket=bucket, Key="k", VersionId=v)["Body"].read() == b"governed"
    assert_s3_error(root.delete_bucket, Bucket=bucket, code="BucketNotEmpty", status=409)
    gone = ops.delete_object(Bucket=bucket, Key="k", VersionId=v, BypassGovernanceRetention=True)
    assert gone["VersionId"] == v
    assert_s3_error(root.get_object, Bucket=bucket, Key="k", VersionId=v, code="NoSuchVersion", status=404)
    root.delete_object(Bucket=bucket, Key="k", VersionId=marker["VersionId"])
    root.delete_bucket(Bucket=bucket)


def test_compliance_holds_against_the_root_until_its_date(server, scheme, account):
    _, creds, _ = account
    root = server.client(scheme, **creds)
    bucket = locked_bucket(root, "comp")
    # Short enough to outlive within the test: judged by the server clock.
    until = utc_in(12).replace(microsecond=0) + dt.timedelta(seconds=1)
    v = root.put_object(Bucket=bucket, Key="k", Body=b"evidence", ObjectLockMode="COMPLIANCE",
                        ObjectLockRetainUntilDate=until)["VersionId"]
    assert delete_error(root, Bucket=bucket, Key="k", VersionId=v)["Error"]["Message"] == LOCKED
    assert delete_error(root, Bucket=bucket, Key="k", VersionId=v, BypassGovernanceRetention=True)["Error"]["Message"] == LOCKED
    for change in [
        {"Mode": "COMPLIANCE", "RetainUntilDate": until - dt.timedelta(seconds=5)},
        {"Mode": "GOVERNANCE", "RetainUntilDate": until + dt.timedelta(days=1)},
    ]:
        assert_s3_error(root.put_object_retention, Bucket=bucket, Key="k", VersionId=v, Retention=change,
                        BypassGovernanceRetention=True, code="AccessDenied", status=403)
    assert_s3_error(root.put_object_retention, Bucket=bucket, Key="k", VersionId=v, Retention={},
                    BypassGovernanceRetention=True, code="AccessDenied", status=403)
    extended = until + dt.timedelta(seconds=2)
    root.put_object_retention(Bucket=bucket, Key="k", VersionId=v,
                              Retention={"Mode": "COMPLIANCE", "RetainUntilDate": extended})
    assert root.get_object_retention(Bucket=bucket, Key="k", VersionId=v)["Retention"] == {
        "Mode": "COMPLIANCE", "RetainUntilDate": extended}
    assert_s3_error(root.delete_bucket, Bucket=bucket, code="BucketNotEmpty", status=409)
    time.sleep(max(0.0, (extended - dt.datetime.now(dt.timezone.utc)).total_seconds()) + 0.5)
    assert root.delete_object(Bucket=bucket, Key="k", VersionId=v)["VersionId"] == v
    root.delete_bucket(Bucket=bucket)


def test_legal_hold_blocks_delete_until_removed(server, scheme, account):
    _, creds, iam = account
    root = server.client(scheme, **creds)
    bucket = locked_bucket(root, "hold")
    no_hold = user_client(server, scheme, iam, "nohold", [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:PutObjectLegalHold", "Resource": "*"}])
    v = root.put_object(Bucket=bucket, Key="k", Body=b"held", ObjectLockLegalHoldStatus="ON")["VersionId"]
    assert root.get_object_legal_hold(Bucket=bucket, Key="k")["LegalHold"] == {"Status": "ON"}
    assert root.head_object(Bucket=bucket, Key="k")["ObjectLockLegalHoldStatus"] == "ON"
    assert_s3_error(root.get_object_retention, Bucket=bucket, Key="k", code="NoSuchObjectLockConfiguration",
                    status=404)
    assert delete_error(root, Bucket=bucket, Key="k", VersionId=v, BypassGovernanceRetention=True)["Error"]["Message"] == LOCKED
    assert_s3_error(no_hold.put_object_legal_hold, Bucket=bucket, Key="k", LegalHold={"Status": "OFF"},
                    code="AccessDenied", status=403)
    assert_s3_error(root.put_object_legal_hold, Bucket=bucket, Key="k", LegalHold={"Status": "MAYBE"},
                    code="MalformedXML", status=400)
    root.put_object_legal_hold(Bucket=bucket, Key="k", VersionId=v, LegalHold={"Status": "OFF"})
    assert root.get_object_legal_hold(Bucket=bucket, Key="k", VersionId=v)["LegalHold"] == {"Status": "OFF"}
    assert root.delete_object(Bucket=bucket, Key="k", VersionId=v)["VersionId"] == v
    root.delete_bucket(Bucket=bucket)


def test_default_retention_applies_to_put_copy_and_multipart(s3):
    bucket = locked_bucket(s3, "deflt")
    s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 2}}})
    before = dt.datetime.now(dt.timezone.utc)
    s3.put_object(Bucket=bucket, Key="put", Body=b"defaulted")
    s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "put"})
    up = s3.create_multipart_upload(Bucket=bucket, Key="mpu", ChecksumAlgorithm="CRC32")
    part = s3.upload_part(Bucket=bucket, Key="mpu", UploadId=up["UploadId"], PartNumber=1, Body=b"p" * 1024,
                          ChecksumAlgorithm="CRC32")
    s3.complete_multipart_upload(Bucket=bucket, Key="mpu", UploadId=up["UploadId"], MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": part["ETag"], "ChecksumCRC32": part["ChecksumCRC32"]}]})
    # An explicit retention wins over the default.
    explicit = utc_in(3600).replace(microsecond=0)
    s3.put_object(Bucket=bucket, Key="explicit", Body=b"x", ObjectLockMode="COMPLIANCE",
                  ObjectLockRetainUntilDate=explicit)
    after = dt.datetime.now(dt.timezone.utc)
    for key in ("put", "copy", "mpu"):
        r = s3.get_object_retention(Bucket=bucket, Key=key)["Retention"]
        assert r["Mode"] == "GOVERNANCE", key
        days = dt.timedelta(days=2)
        assert before + days - dt.timedelta(seconds=1) <= r["RetainUntilDate"] <= after + days, (key, r)
    assert s3.get_object_retention(Bucket=bucket, Key="explicit")["Retention"] == {
        "Mode": "COMPLIANCE", "RetainUntilDate": explicit}
    # A later change of the default does not touch existing versions.
    s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Years": 1}}})
    assert s3.get_object_retention(Bucket=bucket, Key="put")["Retention"]["Mode"] == "GOVERNANCE"


def test_bucket_policy_caps_retention_with_condition_keys(server, scheme, account):
    acct, creds, _ = account
    root = server.client(scheme, **creds)
    bucket = locked_bucket(root, "cap")
    arn = f"arn:aws:s3:::{bucket}/*"
    root.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": ["s3:PutObject", "s3:PutObjectRetention"], "Resource": arn,
         "Condition": {"NumericGreaterThan": {"s3:object-lock-remaining-retention-days": "30"}}},
        {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": arn,
         "Condition": {"StringEquals": {"s3:object-lock-mode": "COMPLIANCE"}}},
    ]}))
    assert_s3_error(root.put_object, Bucket=bucket, Key="k", Body=b"x", ObjectLockMode="GOVERNANCE",
                    ObjectLockRetainUntilDate=utc_in(60 * 86400), code="AccessDenied", status=403)
    assert_s3_error(root.put_object, Bucket=bucket, Key="k", Body=b"x", ObjectLockMode="COMPLIANCE",
                    ObjectLockRetainUntilDate=utc_in(60), code="AccessDenied", status=403)
    v = root.put_object(Bucket=bucket, Key="k", Body=b"x", ObjectLockMode="GOVERNANCE",
                        ObjectLockRetainUntilDate=utc_in(10 * 86400))["VersionId"]
    assert_s3_error(root.put_object_retention, Bucket=bucket, Key="k", VersionId=v,
                    Retention={"Mode": "GOVERNANCE", "RetainUntilDate": utc_in(45 * 86400)},
                    code="AccessDenied", status=403)
    root.put_object_retention(Bucket=bucket, Key="k", VersionId=v,
                              Retention={"Mode": "GOVERNANCE", "RetainUntilDate": utc_in(20 * 86400)})
    root.delete_object(Bucket=bucket, Key="k", VersionId=v, BypassGovernanceRetention=True)
    root.delete_bucket_policy(Bucket=bucket)
    root.delete_bucket(Bucket=bucket)


def test_awscli_object_lock_round_trip(server, scheme, tmp_path):
    aws = AwsCli(server, scheme)
    bucket = unique_bucket("cli-lock")
    aws("s3api", "create-bucket", "--bucket", bucket, "--object-lock-enabled-for-bucket")
    aws("s3api", "put-object-lock-configuration", "--bucket", bucket, "--object-lock-configuration",
        json.dumps({"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}}))
    conf = json.loads(aws("s3api", "get-object-lock-configuration", "--bucket", bucket).stdout)
    assert conf["ObjectLockConfiguration"]["Rule"]["DefaultRetention"] == {"Mode": "GOVERNANCE", "Days": 1}
    src = tmp_path / "f.txt"
    src.write_bytes(b"cli locked")
    v = json.loads(aws("s3api", "put-object", "--bucket", bucket, "--key", "f", "--body", str(src)).stdout)["VersionId"]
    until = utc_in(3 * 86400).strftime("%Y-%m-%dT%H:%M:%SZ")
    aws("s3api", "put-object-retention", "--bucket", bucket, "--key", "f", "--version-id", v,
        "--retention", json.dumps({"Mode": "GOVERNANCE", "RetainUntilDate": until}))
    got = json.loads(aws("s3api", "get-object-retention", "--bucket", bucket, "--key", "f").stdout)
    assert got["Retention"]["Mode"] == "GOVERNANCE" and got["Retention"]["RetainUntilDate"].startswith(until[:19])
    refused = aws("s3api", "delete-object", "--bucket", bucket, "--key", "f", "--version-id", v, check=False)
    assert refused.returncode != 0 and "AccessDenied" in refused.stderr
    aws("s3api", "put-object-legal-hold", "--bucket", bucket, "--key", "f", "--legal-hold", "Status=ON")
    hold = json.loads(aws("s3api", "get-object-legal-hold", "--bucket", bucket, "--key", "f").stdout)
    assert hold["LegalHold"]["Status"] == "ON"
    aws("s3api", "put-object-legal-hold", "--bucket", bucket, "--key", "f", "--legal-hold", "Status=OFF")
    aws("s3api", "delete-object", "--bucket", bucket, "--key", "f", "--version-id", v,
        "--bypass-governance-retention")
    aws("s3api", "delete-bucket", "--bucket", bucket)
