"""IAM users, access keys, inline, managed and group policies through the IAM
query API (boto3's iam client and `aws iam`), and their effect on S3
requests: a user with no policy is denied, a user policy allows, an explicit
bucket-policy deny wins, `${aws:username}` scopes a home prefix, and
cross-account access needs both the identity policy and the bucket policy."""

import json
import secrets

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from harness import REGION
from s3util import assert_s3_error, unique_bucket
from test_accounts import create_account


def iam_client(server, scheme, access_key=None, secret_key=None):
    return boto3.session.Session().client(
        "iam",
        endpoint_url=server.endpoint(scheme),
        aws_access_key_id=access_key or server.access_key,
        aws_secret_access_key=secret_key or server.secret_key,
        region_name=REGION,
        verify=server.verify(scheme) if scheme == "https" else None,
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )


def iam_error(fn, *args, **kwargs) -> dict:
    try:
        fn(*args, **kwargs)
    except ClientError as e:
        return e.response
    raise AssertionError("expected an IAM error, but the call succeeded")


def assert_iam_error(fn, *args, code, status, **kwargs) -> dict:
    err = iam_error(fn, *args, **kwargs)
    assert err["Error"]["Code"] == code and err["ResponseMetadata"]["HTTPStatusCode"] == status, err
    return err


def doc(*statements) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def user_name(prefix="u") -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


def new_user(iam, name=None):
    """Creates a user with one access key; returns (name, arn, key id, secret)."""
    name = name or user_name()
    user = iam.create_user(UserName=name)["User"]
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return name, user["Arn"], key["AccessKeyId"], key["SecretAccessKey"]


@pytest.fixture
def data_bucket(server):
    s3 = server.client("http")
    name = unique_bucket("iam")
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="shared/report.csv", Body=b"a,b\n1,2\n")
    yield name
    s3.delete_bucket_policy(Bucket=name)
    for obj in s3.list_objects_v2(Bucket=name).get("Contents", []):
        s3.delete_object(Bucket=name, Key=obj["Key"])
    s3.delete_bucket(Bucket=name)


# ---------------------------------------------------------------- the IAM API


def test_user_lifecycle_and_access_keys(server, scheme):
    iam = iam_client(server, scheme)
    name = user_name("life")
    created = iam.create_user(UserName=name, Path="/team/")["User"]
    assert created["UserName"] == name and created["Path"] == "/team/"
    assert created["Arn"].endswith(f":user/team/{name}") and created["UserId"].startswith("AIDA")
    assert iam.get_user(UserName=name)["User"]["UserId"] == created["UserId"]
    assert name in [u["UserName"] for u in iam.list_users()["Users"]]
    assert_iam_error(iam.create_user, UserName=name, code="EntityAlreadyExists", status=409)
    assert_iam_error(iam.get_user, UserName="nobody-" + name, code="NoSuchEntity", status=404)
    assert_iam_error(iam.create_user, UserName="bad name!", code="ValidationError", status=400)

    key = iam.create_access_key(UserName=name)["AccessKey"]
    assert key["AccessKeyId"].startswith("AKIA") and len(key["SecretAccessKey"]) == 40
    assert key["Status"] == "Active"
    listed = iam.list_access_keys(UserName=name)["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in listed] == [key["AccessKeyId"]]
    assert "SecretAccessKey" not in listed[0]
    iam.create_access_key(UserName=name)
    assert_iam_error(iam.create_access_key, UserName=name, code="LimitExceeded", status=409)
    assert_iam_error(iam.delete_user, UserName=name, code="DeleteConflict", status=409)
    for k in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]:
        iam.delete_access_key(UserName=name, AccessKeyId=k["AccessKeyId"])
    iam.delete_user(UserName=name)
    assert_iam_error(iam.get_user, UserName=name, code="NoSuchEntity", status=404)


def test_get_user_without_name_is_the_caller(server):
    iam = iam_client(server, "http")
    root = iam.get_user()["User"]
    assert root["Arn"].endswith(":root")
    name, arn, ak, sk = new_user(iam)
    iam.put_user_policy(UserName=name, PolicyName="self", PolicyDocument=doc(
        {"Effect": "Allow", "Action": "iam:GetUser", "Resource": arn}))
    me = iam_client(server, "http", ak, sk).get_user()["User"]
    assert me["UserName"] == name and me["Arn"] == arn


def test_inline_policy_api_round_trip_and_validation(server):
    iam = iam_client(server, "http")
    name, _, _, _ = new_user(iam)
    policy = doc({"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"})
    iam.put_user_policy(UserName=name, PolicyName="read", PolicyDocument=policy)
    got = iam.get_user_policy(UserName=name, PolicyName="read")
    assert got["PolicyDocument"] == json.loads(policy), "boto3 decodes the URL-encoded document"
    assert iam.list_user_policies(UserName=name)["PolicyNames"] == ["read"]
    err = assert_iam_error(iam.put_user_policy, UserName=name, PolicyName="bad",
                           PolicyDocument=doc({"Effect": "Allow", "Action": "s3:GetObject",
                                               "Resource": "*", "Condition": {"StringEqualz": {"a:b": "c"}}}),
                           code="MalformedPolicyDocument", status=400)
    assert "StringEqualz" in err["Error"]["Message"]
    assert_iam_error(iam.get_user_policy, UserName=name, PolicyName="nope", code="NoSuchEntity", status=404)
    iam.delete_user_policy(UserName=name, PolicyName="read")
    assert iam.list_user_policies(UserName=name)["PolicyNames"] == []


def test_iam_calls_are_authorized_by_iam_actions(server):
    iam = iam_client(server, "http")
    name, arn, ak, sk = new_user(iam)
    as_user = iam_client(server, "http", ak, sk)
    err = assert_iam_error(as_user.list_users, code="AccessDenied", status=403)
    assert arn in err["Error"]["Message"] and "iam:ListUsers" in err["Error"]["Message"]
    iam.put_user_policy(UserName=name, PolicyName="list", PolicyDocument=doc(
        {"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*"}))
    assert name in [u["UserName"] for u in as_user.list_users()["Users"]]
    assert_iam_error(as_user.create_user, UserName=user_name(), code="AccessDenied", status=403)


def test_bad_signature_and_unknown_key_are_rejected(server):
    assert_iam_error(iam_client(server, "http", server.access_key, "wrong-secret").list_users,
                     code="SignatureDoesNotMatch", status=403)
    assert_iam_error(iam_client(server, "http", "AKIANOSUCHKEY0000000", "x" * 40).list_users,
                     code="InvalidClientTokenId", status=403)


def test_awscli_iam(server, aws):
    name = user_name("cli")
    created = json.loads(aws("iam", "create-user", "--user-name", name).stdout)
    assert created["User"]["UserName"] == name
    listed = json.loads(aws("iam", "list-users").stdout)
    assert name in [u["UserName"] for u in listed["Users"]]
    failed = aws("iam", "get-user", "--user-name", "missing-" + name, check=False)
    assert failed.returncode != 0 and "NoSuchEntity" in failed.stderr
    aws("iam", "delete-user", "--user-name", name)


# ---------------------------------------------------------------- effect on S3


def test_user_without_policy_is_denied_then_allowed_by_a_user_policy(server, scheme, data_bucket):
    iam = iam_client(server, scheme)
    name, arn, ak, sk = new_user(iam)
    s3 = server.client(scheme, access_key=ak, secret_key=sk)
    assert_s3_error(s3.get_object, Bucket=data_bucket, Key="shared/report.csv", code="AccessDenied", status=403)
    assert_s3_error(s3.list_buckets, code="AccessDenied", status=403)
    iam.put_user_policy(UserName=name, PolicyName="read", PolicyDocument=doc(
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
         "Resource": [f"arn:aws:s3:::{data_bucket}", f"arn:aws:s3:::{data_bucket}/*"]},
        {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}))
    assert s3.get_object(Bucket=data_bucket, Key="shared/report.csv")["Body"].read() == b"a,b\n1,2\n"
    assert data_bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert_s3_error(s3.put_object, Bucket=data_bucket, Key="x", Body=b"y", code="AccessDenied", status=403)
    # An explicit deny in the bucket policy beats the user's allow.
    server.client(scheme).put_bucket_policy(Bucket=data_bucket, Policy=doc(
        {"Effect": "Deny", "Principal": {"AWS": arn}, "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{data_bucket}/*"}))
    assert_s3_error(s3.get_object, Bucket=data_bucket, Key="shared/report.csv", code="AccessDenied", status=403)
    # A bucket policy can also grant a same-account user on its own.
    server.client(scheme).put_bucket_policy(Bucket=data_bucket, Policy=doc(
        {"Effect": "Allow", "Principal": {"AWS": arn}, "Action": "s3:PutObject",
         "Resource": f"arn:aws:s3:::{data_bucket}/*"}))
    s3.put_object(Bucket=data_bucket, Key="from-user", Body=b"y")


def test_inactive_and_deleted_keys_stop_working(server, data_bucket):
    iam = iam_client(server, "http")
    name, _, ak, sk = new_user(iam)
    iam.put_user_policy(UserName=name, PolicyName="read", PolicyDocument=doc(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{data_bucket}/*"}))
    s3 = server.client("http", access_key=ak, secret_key=sk)
    s3.get_object(Bucket=data_bucket, Key="shared/report.csv")
    iam.update_access_key(UserName=name, AccessKeyId=ak, Status="Inactive")
    assert iam.list_access_keys(UserName=name)["AccessKeyMetadata"][0]["Status"] == "Inactive"
    assert_s3_error(s3.get_object, Bucket=data_bucket, Key="shared/report.csv", code="InvalidAccessKeyId",
                    status=403)
    iam.update_access_key(UserName=name, AccessKeyId=ak, Status="Active")
    s3.get_object(Bucket=data_bucket, Key="shared/report.csv")
    iam.delete_access_key(UserName=name, AccessKeyId=ak)
    assert_s3_error(s3.get_object, Bucket=data_bucket, Key="shared/report.csv", code="InvalidAccessKeyId",
                    status=403)


def test_username_variable_scopes_a_home_prefix(server, data_bucket):
    iam = iam_client(server, "http")
    alice, _, ak, sk = new_user(iam, user_name("alice"))
    # AWS's "allow users to access their home directory" example.
    iam.put_user_policy(UserName=alice, PolicyName="home", PolicyDocument=doc(
        {"Sid": "ListHome", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{data_bucket}",
         "Condition": {"StringLike": {"s3:prefix": ["home/${aws:username}/*", "home/${aws:username}/"]}}},
        {"Sid": "HomeObjects", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
         "Resource": f"arn:aws:s3:::{data_bucket}/home/${{aws:username}}/*"}))
    s3 = server.client("http", access_key=ak, secret_key=sk)
    s3.put_object(Bucket=data_bucket, Key=f"home/{alice}/notes.txt", Body=b"mine")
    assert s3.get_object(Bucket=data_bucket, Key=f"home/{alice}/notes.txt")["Body"].read() == b"mine"
    listed = s3.list_objects_v2(Bucket=data_bucket, Prefix=f"home/{alice}/")
    assert [o["Key"] for o in listed["Contents"]] == [f"home/{alice}/notes.txt"]
    assert_s3_error(s3.put_object, Bucket=data_bucket, Key="home/bob/notes.txt", Body=b"x", code="AccessDenied",
                    status=403)
    assert_s3_error(s3.list_objects_v2, Bucket=data_bucket, Prefix="home/bob/", code="AccessDenied", status=403)
    assert_s3_error(s3.list_objects_v2, Bucket=data_bucket, code="AccessDenied", status=403)


def test_managed_and_group_policies_grant_and_revoke(server, data_bucket):
    iam = iam_client(server, "http")
    name, _, ak, sk = new_user(iam)
    s3 = server.client("http", access_key=ak, secret_key=sk)
    read = lambda: s3.get_object(Bucket=data_bucket, Key="shared/report.csv")["Body"].read()  # noqa: E731
    assert_s3_error(s3.get_object, Bucket=data_bucket, Key="shared/report.csv", code="AccessDenied", status=403)

    managed = iam.create_policy(PolicyName=user_name("readpol"), PolicyDocument=doc(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{data_bucket}/*"}))["Policy"]
    assert managed["Arn"].startswith("arn:aws:iam::") and managed["DefaultVersionId"] == "v1"
    iam.attach_user_policy(UserName=name, PolicyArn=managed["Arn"])
    assert [p["PolicyArn"] for p in iam.list_attached_user_policies(UserName=name)["AttachedPolicies"]] == [
        managed["Arn"]]
    assert read() == b"a,b\n1,2\n"
    assert_iam_error(iam.delete_policy, PolicyArn=managed["Arn"], code="DeleteConflict", status=409)
    iam.detach_user_policy(UserName=name, PolicyArn=managed["Arn"])
    assert_s3_error(s3.get_object, Bucket=data_bucket, Key="shared/report.csv", code="AccessDenied", status=403)

    group = user_name("readers")
    iam.create_group(GroupName=group)
    iam.add_user_to_group(GroupName=group, UserName=name)
    assert [u["UserName"] for u in iam.get_group(GroupName=group)["Users"]] == [name]
    iam.attach_group_policy(GroupName=group, PolicyArn=managed["Arn"])
    assert read() == b"a,b\n1,2\n"
    iam.detach_group_policy(GroupName=group, PolicyArn=managed["Arn"])
    iam.put_group_policy(GroupName=group, PolicyName="inline", PolicyDocument=doc(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{data_bucket}/shared/*"}))
    assert read() == b"a,b\n1,2\n"
    iam.remove_user_from_group(GroupName=group, UserName=name)
    assert_s3_error(s3.get_object, Bucket=data_bucket, Key="shared/report.csv", code="AccessDenied", status=403)
    iam.delete_policy(PolicyArn=managed["Arn"])


def test_aws_managed_read_only_policy(server, data_bucket):
    iam = iam_client(server, "http")
    name, _, ak, sk = new_user(iam)
    iam.attach_user_policy(UserName=name, PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    s3 = server.client("http", access_key=ak, secret_key=sk)
    assert s3.get_object(Bucket=data_bucket, Key="shared/report.csv")["Body"].read() == b"a,b\n1,2\n"
    assert data_bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert_s3_error(s3.put_object, Bucket=data_bucket, Key="x", Body=b"y", code="AccessDenied", status=403)


def test_cross_account_user_needs_identity_and_bucket_policy(server, scheme, data_bucket):
    partner = create_account(server, "iam-partner")
    partner_iam = iam_client(server, scheme, partner["Root access key id"], partner["Root secret access key"])
    name, arn, ak, sk = new_user(partner_iam)
    assert arn.startswith(f"arn:aws:iam::{partner['Account id']}:user/")
    s3 = server.client(scheme, access_key=ak, secret_key=sk)
    read = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{data_bucket}/*"}
    # Identity allow alone: denied (the bucket's account has not agreed).
    partner_iam.put_user_policy(UserName=name, PolicyName="read", PolicyDocument=doc(read))
    assert_s3_error(s3.get_object, Bucket=data_bucket, Key="shared/report.csv", code="AccessDenied", status=403)
    # Both sides: allowed.
    server.client(scheme).put_bucket_policy(Bucket=data_bucket, Policy=doc(
        {**read, "Principal": {"AWS": partner["Account id"]}}))
    assert s3.get_object(Bucket=data_bucket, Key="shared/report.csv")["Body"].read() == b"a,b\n1,2\n"
    # Bucket grant alone: denied (the user's own account has not delegated).
    partner_iam.delete_user_policy(UserName=name, PolicyName="read")
    assert_s3_error(s3.get_object, Bucket=data_bucket, Key="shared/report.csv", code="AccessDenied", status=403)
    # The partner account cannot manage the first account's users.
    assert_iam_error(partner_iam.get_user, UserName="nobody-here", code="NoSuchEntity", status=404)
