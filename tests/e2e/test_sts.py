"""IAM roles, STS (GetCallerIdentity, GetSessionToken, AssumeRole) and virtual
MFA devices through boto3 and awscli, over HTTP and HTTPS, and what the
resulting temporary credentials may do in S3: trust policies, same- and
cross-account AssumeRole with ExternalId, session policies, permissions
boundaries, expiry, tampering, presigned URLs with a session token, MFA in
bucket policies (BoolIfExists, MultiFactorAuthAge), replayed codes and
revocation by deleting a role's policy or by aws:TokenIssueTime."""

import base64
import json
import os
import subprocess
import struct
import time
import zlib

import boto3
import numpy
import pyotp
import pytest
import requests
import zxingcpp
from botocore.config import Config
from botocore.exceptions import ClientError

from harness import REGION, AwsCli, StrongboxServer, server_binary
from s3util import assert_s3_error, delete_bucket_quietly, unique_bucket
from test_accounts import create_account
from test_iam import assert_iam_error, doc, iam_client, new_user, user_name

# Sessions this short only exist because the test server allows them
# (STRONGBOX_TEST_STS_MIN_DURATION_SECONDS); AWS's minimum is 900 s.
SHORT = 2


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    base = tmp_path_factory.mktemp("strongbox-sts")
    s = StrongboxServer(base / "data", base / "logs", name="sts",
                        extra_env={"STRONGBOX_TEST_STS_MIN_DURATION_SECONDS": "1"})
    s.start()
    yield s
    assert s.stop() == 0, s.log_tail()


def client(srv, service, scheme, key=None, secret=None, token=None):
    return boto3.session.Session().client(
        service,
        endpoint_url=srv.endpoint(scheme),
        aws_access_key_id=key or srv.access_key,
        aws_secret_access_key=secret or srv.secret_key,
        aws_session_token=token,
        region_name=REGION,
        verify=srv.verify(scheme) if scheme == "https" else None,
        # The server's own validation is under test (and sessions shorter
        # than 900 s exist on this test server), so botocore's is off.
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}, parameter_validation=False),
    )


def from_creds(srv, service, scheme, creds):
    return client(srv, service, scheme, creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])


def error_of(fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"].get("Message", "")
    raise AssertionError("expected an error, but the call succeeded")


def trust(principal, **condition):
    stmt = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}
    if condition:
        stmt["Condition"] = condition
    return doc(stmt)


def account_id(srv, scheme="http"):
    return client(srv, "sts", scheme).get_caller_identity()["Account"]


def make_role(iam, trust_doc, policy=None, name=None, **kwargs):
    name = name or user_name("role")
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust_doc, **kwargs)["Role"]
    if policy:
        iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=policy)
    return name, role["Arn"]


S3_ALL = {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}


def test_get_caller_identity_for_root_user_and_role_session(srv, scheme):
    acct = account_id(srv, scheme)
    # awscli, the first command many AWS users run.
    out = AwsCli(srv, scheme)("sts", "get-caller-identity", "--output", "json")
    ident = json.loads(out.stdout)
    assert ident == {"UserId": acct, "Account": acct, "Arn": f"arn:aws:iam::{acct}:root"}
    iam = client(srv, "iam", scheme)
    name, arn, key, secret = new_user(iam)
    user_ident = client(srv, "sts", scheme, key, secret).get_caller_identity()
    assert user_ident["Arn"] == arn and user_ident["UserId"].startswith("AIDA")
    role, role_arn = make_role(iam, trust(arn))
    creds = client(srv, "sts", scheme, key, secret).assume_role(RoleArn=role_arn, RoleSessionName="sess-1")
    assert creds["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{acct}:assumed-role/{role}/sess-1"
    assert creds["Credentials"]["AccessKeyId"].startswith("ASIA")
    session_ident = from_creds(srv, "sts", scheme, creds["Credentials"]).get_caller_identity()
    role_id = iam.get_role(RoleName=role)["Role"]["RoleId"]
    assert role_id.startswith("AROA")
    assert session_ident == {**session_ident, "Account": acct, "UserId": f"{role_id}:sess-1",
                             "Arn": f"arn:aws:sts::{acct}:assumed-role/{role}/sess-1"}


def test_role_api_and_trust_policy_validation(srv, scheme):
    iam = client(srv, "iam", scheme)
    acct = account_id(srv, scheme)
    name = user_name("r")
    created = iam.create_role(RoleName=name, Path="/svc/", AssumeRolePolicyDocument=trust(acct),
                              Description="d1", MaxSessionDuration=7200,
                              Tags=[{"Key": "team", "Value": "blue"}])["Role"]
    assert created["Arn"] == f"arn:aws:iam::{acct}:role/svc/{name}"
    got = iam.get_role(RoleName=name)["Role"]
    assert got["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"AWS": acct}
    assert got["MaxSessionDuration"] == 7200 and got["Description"] == "d1"
    assert got["Tags"] == [{"Key": "team", "Value": "blue"}]
    assert name in [r["RoleName"] for r in iam.list_roles(PathPrefix="/svc/")["Roles"]]
    assert name not in [r["RoleName"] for r in iam.list_roles(PathPrefix="/other/")["Roles"]]
    iam.update_role(RoleName=name, Description="d2", MaxSessionDuration=3600)
    assert iam.get_role(RoleName=name)["Role"]["Description"] == "d2"
    iam.tag_role(RoleName=name, Tags=[{"Key": "env", "Value": "prod"}])
    # Tag keys are case-insensitive: a duplicate is InvalidInput, as AWS.
    assert_iam_error(iam.tag_role, RoleName=name, Tags=[{"Key": "k", "Value": "1"}, {"Key": "K", "Value": "2"}],
                     code="InvalidInput", status=400)
    iam.untag_role(RoleName=name, TagKeys=["team"])
    assert iam.list_role_tags(RoleName=name)["Tags"] == [{"Key": "env", "Value": "prod"}]
    # Trust policies as AWS validates them.
    with_resource = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": acct}, "Action": "sts:AssumeRole", "Resource": "*"}]})
    err = assert_iam_error(iam.update_assume_role_policy, RoleName=name, PolicyDocument=with_resource,
                           code="MalformedPolicyDocument", status=400)
    assert "Resource" in err["Error"]["Message"]
    no_principal = doc({"Effect": "Allow", "Action": "sts:AssumeRole"})
    err = assert_iam_error(iam.create_role, RoleName=user_name("r"), AssumeRolePolicyDocument=no_principal,
                           code="MalformedPolicyDocument", status=400)
    assert "Principal" in err["Error"]["Message"]
    s3_action = doc({"Effect": "Allow", "Principal": {"AWS": acct}, "Action": "s3:GetObject"})
    assert_iam_error(iam.create_role, RoleName=user_name("r"), AssumeRolePolicyDocument=s3_action,
                     code="MalformedPolicyDocument", status=400)
    assert_iam_error(iam.create_role, RoleName=name, AssumeRolePolicyDocument=trust(acct),
                     code="EntityAlreadyExists", status=409)
    # DeleteRole refuses while policies are attached or inline.
    iam.put_role_policy(RoleName=name, PolicyName="inline", PolicyDocument=doc(S3_ALL))
    iam.attach_role_policy(RoleName=name, PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    assert iam.list_role_policies(RoleName=name)["PolicyNames"] == ["inline"]
    assert [p["PolicyName"] for p in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]] == ["AmazonS3ReadOnlyAccess"]
    assert_iam_error(iam.delete_role, RoleName=name, code="DeleteConflict", status=409)
    iam.delete_role_policy(RoleName=name, PolicyName="inline")
    assert_iam_error(iam.delete_role, RoleName=name, code="DeleteConflict", status=409)
    iam.detach_role_policy(RoleName=name, PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    iam.delete_role(RoleName=name)
    assert_iam_error(iam.get_role, RoleName=name, code="NoSuchEntity", status=404)


def test_assume_role_needs_trust_and_identity_permission(srv, scheme):
    iam = client(srv, "iam", scheme)
    acct = account_id(srv, scheme)
    name, arn, key, secret = new_user(iam)
    sts = client(srv, "sts", scheme, key, secret)
    # Trust naming the account: the user's own policies must allow sts:AssumeRole.
    _, role_arn = make_role(iam, trust(acct), doc(S3_ALL))
    code, status, message = error_of(sts.assume_role, RoleArn=role_arn, RoleSessionName="s1")
    assert (code, status) == ("AccessDenied", 403) and f"sts:AssumeRole on resource: {role_arn}" in message
    iam.put_user_policy(UserName=name, PolicyName="assume", PolicyDocument=doc(
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn}))
    assert sts.assume_role(RoleArn=role_arn, RoleSessionName="s1")["Credentials"]["AccessKeyId"].startswith("ASIA")
    # A trust policy that does not name the caller refuses, whatever the identity policy says.
    _, other_role = make_role(iam, trust(f"arn:aws:iam::{acct}:user/somebody-else"))
    iam.put_user_policy(UserName=name, PolicyName="assume-all", PolicyDocument=doc(
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}))
    assert error_of(sts.assume_role, RoleArn=other_role, RoleSessionName="s1")[:2] == ("AccessDenied", 403)
    # An unknown role answers the same as a refused one.
    assert error_of(sts.assume_role, RoleArn=f"arn:aws:iam::{acct}:role/nope", RoleSessionName="s1")[:2] == ("AccessDenied", 403)
    assert error_of(sts.assume_role, RoleArn=role_arn, RoleSessionName="bad name")[:2] == ("ValidationError", 400)
    assert error_of(sts.assume_role, RoleArn=role_arn, RoleSessionName="s1", DurationSeconds=7200)[:2] == ("ValidationError", 400)


def test_role_session_in_s3_with_session_policy_and_bucket_policy(srv, scheme):
    iam = client(srv, "iam", scheme)
    s3 = client(srv, "s3", scheme)
    acct = account_id(srv, scheme)
    bucket = unique_bucket("role")
    s3.create_bucket(Bucket=bucket)
    try:
        s3.put_object(Bucket=bucket, Key="a/x", Body=b"A")
        s3.put_object(Bucket=bucket, Key="b/y", Body=b"B")
        role, role_arn = make_role(iam, trust(f"arn:aws:iam::{acct}:root"), doc(S3_ALL))
        root_sts = client(srv, "sts", scheme)
        creds = root_sts.assume_role(RoleArn=role_arn, RoleSessionName="full")["Credentials"]
        rs3 = from_creds(srv, "s3", scheme, creds)
        assert rs3.get_object(Bucket=bucket, Key="b/y")["Body"].read() == b"B"
        rs3.put_object(Bucket=bucket, Key="a/by-role", Body=b"R")
        # A session policy narrows (never extends) the role's permissions.
        narrow = doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/a/*"})
        narrowed = from_creds(srv, "s3", scheme, root_sts.assume_role(
            RoleArn=role_arn, RoleSessionName="narrow", Policy=narrow)["Credentials"])
        assert narrowed.get_object(Bucket=bucket, Key="a/x")["Body"].read() == b"A"
        assert_s3_error(narrowed.get_object, Bucket=bucket, Key="b/y", code="AccessDenied", status=403)
        assert_s3_error(narrowed.put_object, Bucket=bucket, Key="a/z", Body=b"", code="AccessDenied", status=403)
        # An inline session policy is limited to 2,048 characters (AWS's packed size).
        big = doc(*[{"Sid": f"S{i}", "Effect": "Allow", "Action": "s3:GetObject",
                     "Resource": f"arn:aws:s3:::{bucket}/prefix-{i}/*"} for i in range(40)])
        code, status, message = error_of(root_sts.assume_role, RoleArn=role_arn, RoleSessionName="big", Policy=big)
        assert (code, status) == ("PackedPolicyTooLarge", 400) and "allotted space" in message
        # A bucket policy naming the role ARN denies all its sessions.
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Principal": {"AWS": role_arn}, "Action": "s3:GetObject",
             "Resource": f"arn:aws:s3:::{bucket}/b/*"}]}))
        assert_s3_error(rs3.get_object, Bucket=bucket, Key="b/y", code="AccessDenied", status=403)
        assert rs3.get_object(Bucket=bucket, Key="a/x")["Body"].read() == b"A"
        s3.delete_bucket_policy(Bucket=bucket)
        # Revocation: the session is evaluated against the role's current policies.
        iam.delete_role_policy(RoleName=role, PolicyName="p")
        assert_s3_error(rs3.get_object, Bucket=bucket, Key="a/x", code="AccessDenied", status=403)
        # Deleting the role ends its sessions.
        iam.delete_role(RoleName=role)
        assert_s3_error(rs3.list_objects_v2, Bucket=bucket, code="InvalidToken", status=400)
    finally:
        delete_bucket_quietly(client(srv, "s3", "http"), bucket)


def test_role_session_with_sse_kms_through_s3_and_the_kms_api(srv, scheme, tmp_path):
    iam = client(srv, "iam", scheme)
    s3 = client(srv, "s3", scheme)
    acct = account_id(srv, scheme)
    key_id = client(srv, "kms", scheme).create_key(Description="for role sessions")["KeyMetadata"]["KeyId"]
    kms_use = {"Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt", "kms:Encrypt"], "Resource": "*"}
    role, role_arn = make_role(iam, trust(acct), doc(S3_ALL, kms_use))
    sts = client(srv, "sts", scheme)
    bucket = unique_bucket("rolekms")
    s3.create_bucket(Bucket=bucket)
    try:
        creds = sts.assume_role(RoleArn=role_arn, RoleSessionName="kms-user")["Credentials"]
        rs3 = from_creds(srv, "s3", scheme, creds)
        put = rs3.put_object(Bucket=bucket, Key="secret", Body=b"role data",
                             ServerSideEncryption="aws:kms", SSEKMSKeyId=key_id)
        assert put["ServerSideEncryption"] == "aws:kms" and put["SSEKMSKeyId"].endswith(key_id)
        assert rs3.get_object(Bucket=bucket, Key="secret")["Body"].read() == b"role data"
        # awscli with the session's credentials on the KMS API itself.
        cli = AwsCli(srv, scheme, credentials=creds)
        plain = tmp_path / "plain.bin"
        plain.write_bytes(b"via the kms api")
        blob = tmp_path / "blob.bin"
        blob.write_bytes(base64.b64decode(json.loads(cli(
            "kms", "encrypt", "--key-id", key_id, "--plaintext", f"fileb://{plain}", "--output", "json",
        ).stdout)["CiphertextBlob"]))
        back = json.loads(cli("kms", "decrypt", "--ciphertext-blob", f"fileb://{blob}", "--output", "json").stdout)
        assert base64.b64decode(back["Plaintext"]) == b"via the kms api" and back["KeyId"].endswith(key_id)
        # A session policy without kms actions leaves the session S3 only:
        # SSE-KMS writes and reads are refused, as the KMS API is.
        s3_only = from_creds(srv, "s3", scheme, sts.assume_role(
            RoleArn=role_arn, RoleSessionName="s3-only", Policy=doc(S3_ALL))["Credentials"])
        assert_s3_error(s3_only.put_object, Bucket=bucket, Key="k2", Body=b"x", ServerSideEncryption="aws:kms",
                        SSEKMSKeyId=key_id, code="AccessDenied", status=403)
        assert_s3_error(s3_only.get_object, Bucket=bucket, Key="secret", code="AccessDenied", status=403)
        s3_only.put_object(Bucket=bucket, Key="plain", Body=b"sse-s3 still works")
        code, status, message = error_of(from_creds(srv, "kms", scheme, sts.assume_role(
            RoleArn=role_arn, RoleSessionName="s3-only", Policy=doc(S3_ALL))["Credentials"]).encrypt,
            KeyId=key_id, Plaintext=b"x")
        assert (code, status) == ("AccessDeniedException", 400)
        assert f"arn:aws:sts::{acct}:assumed-role/{role}/s3-only" in message
        # Every key use is audited as the role session, with the role as issuer.
        out = subprocess.run([str(server_binary()), "audit", "kms", "--data-dir", str(srv.data_dir), "--key", key_id],
                             capture_output=True, text=True, timeout=60, cwd=srv.log_dir,
                             env={k: v for k, v in os.environ.items() if not k.startswith("STRONGBOX_")})
        assert out.returncode == 0, out.stderr
        events = [json.loads(line) for line in out.stdout.splitlines()]
        via_s3 = [e for e in events if e["userIdentity"].get("invokedBy") == "s3.amazonaws.com"
                  and e["userIdentity"]["arn"].endswith("/kms-user")]
        assert {e["eventName"] for e in via_s3} >= {"GenerateDataKey", "Decrypt"}, events
        who = via_s3[0]["userIdentity"]
        assert who["type"] == "AssumedRole" and who["accessKeyId"] == creds["AccessKeyId"]
        assert who["sessionContext"]["sessionIssuer"]["arn"] == role_arn
        denied = [e for e in events if e["userIdentity"]["arn"].endswith("/s3-only")]
        assert denied and all(e["errorCode"] == "AccessDeniedException" for e in denied)
        # An expired session is refused by KMS with its own code; a tampered one is unknown.
        short = sts.assume_role(RoleArn=role_arn, RoleSessionName="short-kms", DurationSeconds=SHORT)["Credentials"]
        raw = bytearray(base64.b64decode(short["SessionToken"]))
        raw[len(raw) // 2] ^= 1
        tampered = dict(short, SessionToken=base64.b64encode(bytes(raw)).decode())
        assert error_of(from_creds(srv, "kms", scheme, tampered).encrypt, KeyId=key_id,
                        Plaintext=b"x")[:2] == ("UnrecognizedClientException", 400)
        time.sleep(SHORT + 1)
        late = AwsCli(srv, scheme, credentials=short)("kms", "encrypt", "--key-id", key_id, "--plaintext",
                                                      f"fileb://{plain}", check=False)
        assert late.returncode != 0 and "ExpiredTokenException" in late.stderr, late.stderr
    finally:
        delete_bucket_quietly(client(srv, "s3", "http"), bucket)


def test_cross_account_assume_role_with_external_id(srv, scheme):
    iam = client(srv, "iam", scheme)
    acct = account_id(srv, scheme)
    other = create_account(srv, f"partner-{scheme}-{int(time.time() * 1000) % 100000}")
    other_id = other["Account id"]
    _, role_arn = make_role(iam, trust(f"arn:aws:iam::{other_id}:root",
                                       StringEquals={"sts:ExternalId": "ext-123"}), doc(S3_ALL))
    other_iam = client(srv, "iam", scheme, other["Root access key id"], other["Root secret access key"])
    name, _, key, secret = new_user(other_iam)
    sts = client(srv, "sts", scheme, key, secret)
    # Cross-account: the partner's own policy must allow too.
    assert error_of(sts.assume_role, RoleArn=role_arn, RoleSessionName="x1", ExternalId="ext-123")[:2] == ("AccessDenied", 403)
    other_iam.put_user_policy(UserName=name, PolicyName="assume", PolicyDocument=doc(
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn}))
    assert error_of(sts.assume_role, RoleArn=role_arn, RoleSessionName="x1")[:2] == ("AccessDenied", 403)
    assert error_of(sts.assume_role, RoleArn=role_arn, RoleSessionName="x1", ExternalId="wrong-1")[:2] == ("AccessDenied", 403)
    creds = sts.assume_role(RoleArn=role_arn, RoleSessionName="x1", ExternalId="ext-123")["Credentials"]
    ident = from_creds(srv, "sts", scheme, creds).get_caller_identity()
    assert ident["Account"] == acct, "the session belongs to the role's account"
    # Role chaining is capped at one hour.
    chained_sts = from_creds(srv, "sts", scheme, creds)
    code, status, message = error_of(chained_sts.assume_role, RoleArn=role_arn, RoleSessionName="x2",
                                     DurationSeconds=7200, ExternalId="ext-123")
    assert (code, status) == ("ValidationError", 400) and "role chaining" in message


def test_expired_and_tampered_tokens_and_presigned_urls(srv, scheme):
    s3 = client(srv, "s3", scheme)
    acct = account_id(srv, scheme)
    iam = client(srv, "iam", scheme)
    bucket = unique_bucket("expiry")
    s3.create_bucket(Bucket=bucket)
    try:
        s3.put_object(Bucket=bucket, Key="k", Body=b"data")
        _, role_arn = make_role(iam, trust(acct), doc(S3_ALL))
        sts = client(srv, "sts", scheme)
        creds = sts.assume_role(RoleArn=role_arn, RoleSessionName="short", DurationSeconds=SHORT)["Credentials"]
        rs3 = from_creds(srv, "s3", scheme, creds)
        v4 = boto3.session.Session().client(
            "s3", endpoint_url=srv.endpoint(scheme), aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"],
            region_name=REGION, verify=srv.verify(scheme) if scheme == "https" else None,
            config=Config(signature_version="s3v4"))
        url = v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=3600)
        assert "X-Amz-Security-Token=" in url
        got = requests.get(url, verify=srv.verify(scheme), timeout=30)
        assert got.status_code == 200 and got.content == b"data"
        # The token is required and must be this key's, unmodified.
        no_token = client(srv, "s3", scheme, creds["AccessKeyId"], creds["SecretAccessKey"])
        assert_s3_error(no_token.get_object, Bucket=bucket, Key="k", code="InvalidToken", status=400)
        raw = bytearray(base64.b64decode(creds["SessionToken"]))
        raw[len(raw) // 2] ^= 1
        tampered = client(srv, "s3", scheme, creds["AccessKeyId"], creds["SecretAccessKey"],
                          base64.b64encode(bytes(raw)).decode())
        assert_s3_error(tampered.get_object, Bucket=bucket, Key="k", code="InvalidToken", status=400)
        time.sleep(SHORT + 1)
        err = assert_s3_error(rs3.get_object, Bucket=bucket, Key="k", code="ExpiredToken", status=400)
        assert err["Error"]["Message"] == "The provided token has expired."
        # The presigned URL expires with its session, before its own X-Amz-Expires.
        late = requests.get(url, verify=srv.verify(scheme), timeout=30)
        assert late.status_code == 400 and b"<Code>ExpiredToken</Code>" in late.content
        code, status, _ = error_of(from_creds(srv, "sts", scheme, creds).get_caller_identity)
        assert (code, status) == ("ExpiredToken", 403)
    finally:
        delete_bucket_quietly(client(srv, "s3", "http"), bucket)


def test_presigned_post_signed_with_a_role_session(srv, scheme):
    """A browser form signed with temporary credentials carries its session
    token as a form field (boto3 writes it into the signed policy); the form
    acts as the role session, narrowed by its session policy, and ends with it."""
    s3 = client(srv, "s3", scheme)
    acct = account_id(srv, scheme)
    iam = client(srv, "iam", scheme)
    bucket = unique_bucket("postsess")
    s3.create_bucket(Bucket=bucket)
    verify = srv.verify(scheme) if scheme == "https" else None

    def send(form, body=b"form body"):
        return requests.post(form["url"], data=form["fields"], files={"file": ("f.bin", body)},
                             verify=verify, timeout=60)

    try:
        _, role_arn = make_role(iam, trust(acct), doc(S3_ALL))
        sts = client(srv, "sts", scheme)
        creds = sts.assume_role(RoleArn=role_arn, RoleSessionName="browser", DurationSeconds=SHORT + 2)["Credentials"]
        rs3 = from_creds(srv, "s3", scheme, creds)
        form = rs3.generate_presigned_post(bucket, "up/by-session", ExpiresIn=3600)
        assert form["fields"]["x-amz-security-token"] == creds["SessionToken"]
        resp = send(form)
        assert resp.status_code == 204, resp.content
        assert s3.get_object(Bucket=bucket, Key="up/by-session")["Body"].read() == b"form body"
        # A changed token field no longer matches the signed policy ...
        other = sts.assume_role(RoleArn=role_arn, RoleSessionName="other")["Credentials"]
        forged = dict(form, fields=dict(form["fields"], **{"x-amz-security-token": other["SessionToken"]}))
        resp = send(forged)
        assert resp.status_code == 403 and b"Policy Condition failed" in resp.content
        # ... and a form signed with this key but another session's token is refused.
        mixed = client(srv, "s3", scheme, creds["AccessKeyId"], creds["SecretAccessKey"], other["SessionToken"])
        resp = send(mixed.generate_presigned_post(bucket, "up/mixed", ExpiresIn=3600))
        assert resp.status_code == 400 and b"<Code>InvalidToken</Code>" in resp.content
        # Without its token field the form is refused too.
        bare = dict(form, fields={k: v for k, v in form["fields"].items() if k != "x-amz-security-token"})
        resp = send(bare)
        assert resp.status_code in (400, 403)
        assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 1
        # A session policy that allows only reads holds for its forms.
        read_only = from_creds(srv, "s3", scheme, sts.assume_role(
            RoleArn=role_arn, RoleSessionName="ro",
            Policy=doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}))["Credentials"])
        resp = send(read_only.generate_presigned_post(bucket, "up/denied", ExpiresIn=3600))
        assert resp.status_code == 403 and b"<Code>AccessDenied</Code>" in resp.content
        # The form expires with its session, before its own expiration.
        time.sleep(SHORT + 3)
        resp = send(rs3.generate_presigned_post(bucket, "up/late", ExpiresIn=3600))
        assert resp.status_code == 400 and b"<Code>ExpiredToken</Code>" in resp.content
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
        assert keys == ["up/by-session"]
    finally:
        delete_bucket_quietly(client(srv, "s3", "http"), bucket)


def png_pixels(png: bytes):
    """A minimal PNG reader for 8-bit grayscale, filter 0 (what the server writes)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos:pos + 4])
        kind, data = png[pos + 4:pos + 8], png[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", png[pos + 8 + length:pos + 12 + length])
        assert zlib.crc32(kind + data) == crc, f"bad CRC in {kind}"
        chunks.setdefault(kind, b"")
        chunks[kind] += data
        pos += 12 + length
    width, height, depth, color = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, color) == (8, 0)
    raw = zlib.decompress(chunks[b"IDAT"])
    rows = [raw[y * (width + 1) + 1:(y + 1) * (width + 1)] for y in range(height)]
    assert all(raw[y * (width + 1)] == 0 for y in range(height))
    return width, height, numpy.array([list(r) for r in rows], dtype=numpy.uint8)


def enable_device(iam, user):
    dev = iam.create_virtual_mfa_device(VirtualMFADeviceName=f"{user}-phone")["VirtualMFADevice"]
    seed = dev["Base32StringSeed"].decode()
    totp = pyotp.TOTP(seed)
    now = time.time()
    iam.enable_mfa_device(UserName=user, SerialNumber=dev["SerialNumber"],
                          AuthenticationCode1=totp.at(now - 30), AuthenticationCode2=totp.at(now))
    return dev, totp


def test_virtual_mfa_device_qr_code_and_enable(srv, scheme):
    iam = client(srv, "iam", scheme)
    acct = account_id(srv, scheme)
    name, _, _, _ = new_user(iam)
    dev = iam.create_virtual_mfa_device(VirtualMFADeviceName=f"{name}-dev")["VirtualMFADevice"]
    assert dev["SerialNumber"] == f"arn:aws:iam::{acct}:mfa/{name}-dev"
    seed = dev["Base32StringSeed"].decode()
    assert len(base64.b32decode(seed + "=" * (-len(seed) % 8))) == 20
    width, height, pixels = png_pixels(dev["QRCodePNG"])
    assert width == height and width % 4 == 0 and (width // 4 - 8 - 17) % 4 == 0, width
    decoded = zxingcpp.read_barcodes(pixels)
    assert len(decoded) == 1 and decoded[0].format == zxingcpp.BarcodeFormat.QRCode
    uri = decoded[0].text
    assert uri.startswith("otpauth://totp/Strongbox:") and f"secret={seed}" in uri and "issuer=Strongbox" in uri
    totp = pyotp.TOTP(seed)
    unassigned = iam.list_virtual_mfa_devices(AssignmentStatus="Unassigned")["VirtualMFADevices"]
    assert dev["SerialNumber"] in [d["SerialNumber"] for d in unassigned]
    now = time.time()
    # Two codes that are not consecutive are refused, as AWS.
    assert_iam_error(iam.enable_mfa_device, UserName=name, SerialNumber=dev["SerialNumber"],
                     AuthenticationCode1=totp.at(now), AuthenticationCode2=totp.at(now),
                     code="InvalidAuthenticationCode", status=400)
    iam.enable_mfa_device(UserName=name, SerialNumber=dev["SerialNumber"],
                          AuthenticationCode1=totp.at(now - 30), AuthenticationCode2=totp.at(now))
    listed = iam.list_mfa_devices(UserName=name)["MFADevices"]
    assert [d["SerialNumber"] for d in listed] == [dev["SerialNumber"]]
    assigned = iam.list_virtual_mfa_devices(AssignmentStatus="Assigned")["VirtualMFADevices"]
    assert any(d["SerialNumber"] == dev["SerialNumber"] and d["User"]["UserName"] == name for d in assigned)
    assert_iam_error(iam.delete_virtual_mfa_device, SerialNumber=dev["SerialNumber"], code="DeleteConflict", status=409)
    assert_iam_error(iam.delete_user, UserName=name, code="DeleteConflict", status=409)
    iam.deactivate_mfa_device(UserName=name, SerialNumber=dev["SerialNumber"])
    iam.delete_virtual_mfa_device(SerialNumber=dev["SerialNumber"])
    assert iam.list_mfa_devices(UserName=name)["MFADevices"] == []


def wait_for_fresh_step():
    """Sleeps to the start of the next 30 s TOTP step if the current one is
    almost over, so a code computed now is still current when it arrives."""
    left = 30 - time.time() % 30
    if left < 3:
        time.sleep(left + 0.2)


def test_mfa_bucket_policy_denies_long_term_keys_and_allows_mfa_sessions(srv, scheme):
    iam = client(srv, "iam", scheme)
    s3 = client(srv, "s3", scheme)
    bucket = unique_bucket("mfa")
    s3.create_bucket(Bucket=bucket)
    try:
        name, _, key, secret = new_user(iam)
        iam.put_user_policy(UserName=name, PolicyName="s3", PolicyDocument=doc(S3_ALL))
        s3.put_object(Bucket=bucket, Key="k", Body=b"mfa-data")
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Sid": "DenyWithoutMFA", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
             "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
             "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}},
            {"Sid": "DenyOldMFA", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
             "Resource": f"arn:aws:s3:::{bucket}/*",
             "Condition": {"NumericGreaterThan": {"aws:MultiFactorAuthAge": "2"}}}]}))
        user_s3 = client(srv, "s3", scheme, key, secret)
        assert_s3_error(user_s3.get_object, Bucket=bucket, Key="k", code="AccessDenied", status=403)
        user_sts = client(srv, "sts", scheme, key, secret)
        no_mfa = from_creds(srv, "s3", scheme, user_sts.get_session_token(DurationSeconds=900)["Credentials"])
        assert_s3_error(no_mfa.get_object, Bucket=bucket, Key="k", code="AccessDenied", status=403)
        dev, totp = enable_device(iam, name)
        time.sleep(30 - time.time() % 30 + 0.2)  # the enable codes' steps are used up
        wait_for_fresh_step()
        code = totp.now()
        creds = user_sts.get_session_token(SerialNumber=dev["SerialNumber"], TokenCode=code,
                                           DurationSeconds=900)["Credentials"]
        with_mfa = from_creds(srv, "s3", scheme, creds)
        assert with_mfa.get_object(Bucket=bucket, Key="k")["Body"].read() == b"mfa-data"
        with_mfa.put_object(Bucket=bucket, Key="fresh", Body=b"x")
        # The same code again is a replay.
        c, st, message = error_of(user_sts.get_session_token, SerialNumber=dev["SerialNumber"], TokenCode=code)
        assert (c, st) == ("AccessDenied", 403)
        assert message == "MultiFactorAuthentication failed with invalid MFA one time pass code."
        wrong = f"{(int(code) + 1) % 1000000:06d}"
        assert error_of(user_sts.get_session_token, SerialNumber=dev["SerialNumber"], TokenCode=wrong)[:2] == ("AccessDenied", 403)
        time.sleep(3)
        # MultiFactorAuthAge now exceeds 2 s: the PUT deny applies, GET still works.
        assert_s3_error(with_mfa.put_object, Bucket=bucket, Key="old", Body=b"x", code="AccessDenied", status=403)
        assert with_mfa.get_object(Bucket=bucket, Key="k")["Body"].read() == b"mfa-data"
    finally:
        client(srv, "s3", "http").delete_bucket_policy(Bucket=bucket)
        delete_bucket_quietly(client(srv, "s3", "http"), bucket)


def test_trust_policy_requiring_mfa(srv, scheme):
    iam = client(srv, "iam", scheme)
    acct = account_id(srv, scheme)
    name, arn, key, secret = new_user(iam)
    _, role_arn = make_role(iam, trust(arn, Bool={"aws:MultiFactorAuthPresent": "true"}))
    sts = client(srv, "sts", scheme, key, secret)
    assert error_of(sts.assume_role, RoleArn=role_arn, RoleSessionName="m1")[:2] == ("AccessDenied", 403)
    dev, totp = enable_device(iam, name)
    time.sleep(30 - time.time() % 30 + 0.2)
    wait_for_fresh_step()
    creds = sts.assume_role(RoleArn=role_arn, RoleSessionName="m1", SerialNumber=dev["SerialNumber"],
                            TokenCode=totp.now())["Credentials"]
    assert from_creds(srv, "sts", scheme, creds).get_caller_identity()["Account"] == acct


def test_permissions_boundary_removes_an_action(srv, scheme):
    iam = client(srv, "iam", scheme)
    s3 = client(srv, "s3", scheme)
    bucket = unique_bucket("boundary")
    s3.create_bucket(Bucket=bucket)
    try:
        s3.put_object(Bucket=bucket, Key="k", Body=b"b")
        name, _, key, secret = new_user(iam)
        iam.put_user_policy(UserName=name, PolicyName="s3", PolicyDocument=doc(S3_ALL))
        user_s3 = client(srv, "s3", scheme, key, secret)
        user_s3.put_object(Bucket=bucket, Key="before", Body=b"x")
        boundary = iam.create_policy(PolicyName=user_name("boundary"), PolicyDocument=doc(
            {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": "*"}))["Policy"]["Arn"]
        iam.put_user_permissions_boundary(UserName=name, PermissionsBoundary=boundary)
        assert iam.get_user(UserName=name)["User"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary
        assert user_s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"b"
        assert_s3_error(user_s3.put_object, Bucket=bucket, Key="after", Body=b"x", code="AccessDenied", status=403)
        assert_iam_error(iam.delete_policy, PolicyArn=boundary, code="DeleteConflict", status=409)
        iam.delete_user_permissions_boundary(UserName=name)
        assert "PermissionsBoundary" not in iam.get_user(UserName=name)["User"]
        user_s3.put_object(Bucket=bucket, Key="after", Body=b"x")
        # A role's boundary applies to its sessions.
        role, role_arn = make_role(iam, trust(account_id(srv, scheme)), doc(S3_ALL),
                                   PermissionsBoundary=boundary)
        assert iam.get_role(RoleName=role)["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary
        rs3 = from_creds(srv, "s3", scheme, client(srv, "sts", scheme).assume_role(
            RoleArn=role_arn, RoleSessionName="bnd")["Credentials"])
        assert rs3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"b"
        assert_s3_error(rs3.put_object, Bucket=bucket, Key="r", Body=b"x", code="AccessDenied", status=403)
    finally:
        delete_bucket_quietly(client(srv, "s3", "http"), bucket)


def test_token_issue_time_revokes_older_sessions(srv, scheme):
    iam = client(srv, "iam", scheme)
    s3 = client(srv, "s3", scheme)
    acct = account_id(srv, scheme)
    bucket = unique_bucket("revoke")
    s3.create_bucket(Bucket=bucket)
    try:
        s3.put_object(Bucket=bucket, Key="k", Body=b"r")
        role, role_arn = make_role(iam, trust(acct), doc(S3_ALL))
        sts = client(srv, "sts", scheme)
        old = from_creds(srv, "s3", scheme, sts.assume_role(RoleArn=role_arn, RoleSessionName="old")["Credentials"])
        assert old.get_object(Bucket=bucket, Key="k")["Body"].read() == b"r"
        time.sleep(1.1)
        cutoff = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        time.sleep(1.1)
        # AWS's "revoke active sessions" policy.
        iam.put_role_policy(RoleName=role, PolicyName="revoke", PolicyDocument=doc(
            {"Effect": "Deny", "Action": "*", "Resource": "*",
             "Condition": {"DateLessThan": {"aws:TokenIssueTime": cutoff}}}))
        new = from_creds(srv, "s3", scheme, sts.assume_role(RoleArn=role_arn, RoleSessionName="new")["Credentials"])
        assert_s3_error(old.get_object, Bucket=bucket, Key="k", code="AccessDenied", status=403)
        assert new.get_object(Bucket=bucket, Key="k")["Body"].read() == b"r"
    finally:
        delete_bucket_quietly(client(srv, "s3", "http"), bucket)


def test_root_mfa_device_from_the_admin_cli(srv):
    """`strongbox admin account mfa enable` prints the seed and a QR code,
    reads two codes, and the root then gets MFA sessions from STS."""
    import subprocess
    from harness import server_binary

    acct = create_account(srv, f"mfa-root-{int(time.time() * 1000) % 100000}")
    proc = subprocess.Popen(
        [str(server_binary()), "admin", "--data-dir", str(srv.data_dir), "account", "mfa", "enable", acct["Account id"]],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = {}
    while "URI" not in lines:
        line = proc.stdout.readline()
        assert line, proc.stderr.read()
        if ": " in line:
            k, v = line.rstrip("\n").split(": ", 1)
            lines[k] = v
    serial, seed = lines["Serial number"], lines["Base32 seed"]
    assert serial == f"arn:aws:iam::{acct['Account id']}:mfa/root-account-mfa-device"
    assert lines["URI"].startswith("otpauth://totp/") and f"secret={seed}" in lines["URI"]
    qr_lines = [proc.stdout.readline() for _ in range(3)]
    assert any("█" in line for line in qr_lines), "a terminal QR code follows the URI"
    totp = pyotp.TOTP(seed)
    now = time.time()
    out, err = proc.communicate(f"{totp.at(now - 30)}\n{totp.at(now)}\n", timeout=60)
    assert proc.returncode == 0, err
    assert f"Enabled: {serial}" in out
    time.sleep(30 - time.time() % 30 + 0.2)
    wait_for_fresh_step()
    sts = client(srv, "sts", "https", acct["Root access key id"], acct["Root secret access key"])
    code, status, _ = error_of(sts.get_session_token, SerialNumber=serial, TokenCode="000000" if totp.now() != "000000" else "111111")
    assert (code, status) == ("AccessDenied", 403)
    creds = sts.get_session_token(SerialNumber=serial, TokenCode=totp.now(), DurationSeconds=900)["Credentials"]
    ident = from_creds(srv, "sts", "https", creds).get_caller_identity()
    assert ident["Arn"] == f"arn:aws:iam::{acct['Account id']}:root"
    # A root MFA session passes a bucket policy that requires MFA.
    root_s3 = client(srv, "s3", "https", acct["Root access key id"], acct["Root secret access key"])
    bucket = unique_bucket("rootmfa")
    root_s3.create_bucket(Bucket=bucket)
    root_s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*",
         "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}]}))
    root_s3.put_object(Bucket=bucket, Key="k", Body=b"root")
    assert_s3_error(root_s3.get_object, Bucket=bucket, Key="k", code="AccessDenied", status=403)
    assert from_creds(srv, "s3", "https", creds).get_object(Bucket=bucket, Key="k")["Body"].read() == b"root"
    root_s3.delete_bucket_policy(Bucket=bucket)
    delete_bucket_quietly(root_s3, bucket)
