"""Block Public Access, bucket level (Put/Get/DeletePublicAccessBlock) and
account level (the S3 Control API through boto3's s3control client and
`aws s3control`, which put the account id in front of the endpoint host:
`{account}.localhost`, resolved by nss-myhostname), observed through real
requests: new buckets block everything; BlockPublicPolicy refuses public
policies; RestrictPublicBuckets denies anonymous and other accounts even
when a public policy is in place; the effective setting is the most
restrictive of bucket and account."""

import json

import boto3
import pytest
import requests
from botocore.config import Config

from harness import REGION, AwsCli
from s3util import assert_s3_error, unique_bucket
from test_accounts import create_account

ALL_ON = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
ALL_OFF = {k: False for k in ALL_ON}


def public_read(bucket: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "PublicRead", "Effect": "Allow", "Principal": "*",
        "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]})


def anonymous_get(server, scheme, bucket, key):
    return requests.get(f"{server.endpoint(scheme)}/{bucket}/{key}", verify=server.verify(scheme), timeout=30)


def control_client(server, scheme, access_key, secret_key, session_token=None):
    """boto3's S3 Control client on `localhost`: botocore sends the request to
    `{account}.localhost:{port}`, as it would to `{account}.s3-control.amazonaws.com`."""
    port = server.http_port if scheme == "http" else server.https_port
    return boto3.session.Session().client(
        "s3control",
        endpoint_url=f"{scheme}://localhost:{port}",
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        aws_session_token=session_token,
        region_name=REGION,
        verify=server.verify(scheme) if scheme == "https" else None,
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )


@pytest.fixture
def account(server, scheme, request):
    """A fresh account (so account-level settings touch no other test): its
    id, S3 client and S3 Control client."""
    acct = create_account(server, "bpa-" + request.node.name[-20:].strip("[]").replace("[", "-"))
    key, secret = acct["Root access key id"], acct["Root secret access key"]
    return {
        "id": acct["Account id"],
        "s3": server.client(scheme, access_key=key, secret_key=secret),
        "control": control_client(server, scheme, key, secret),
        "key": key,
        "secret": secret,
    }


def test_new_bucket_blocks_all_public_access(s3, bucket):
    got = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert got == ALL_ON
    assert_s3_error(s3.put_bucket_policy, Bucket=bucket, Policy=public_read(bucket), code="AccessDenied", status=403)
    assert_s3_error(s3.get_bucket_policy, Bucket=bucket, code="NoSuchBucketPolicy", status=404)


def test_public_policy_accepted_after_delete_public_access_block(server, scheme, s3, bucket):
    s3.put_object(Bucket=bucket, Key="page.html", Body=b"<p>hello</p>")
    # A policy granting one account is not public: BlockPublicPolicy lets it through.
    named = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::210987654321:root"},
        "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]})
    s3.put_bucket_policy(Bucket=bucket, Policy=named)
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is False
    assert_s3_error(s3.put_bucket_policy, Bucket=bucket, Policy=public_read(bucket), code="AccessDenied", status=403)
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == json.loads(named), "the refused policy was not stored"
    assert anonymous_get(server, scheme, bucket, "page.html").status_code == 403

    s3.delete_public_access_block(Bucket=bucket)
    assert_s3_error(s3.get_public_access_block, Bucket=bucket, code="NoSuchPublicAccessBlockConfiguration",
                    status=404)
    s3.put_bucket_policy(Bucket=bucket, Policy=public_read(bucket))
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is True
    got = anonymous_get(server, scheme, bucket, "page.html")
    assert got.status_code == 200 and got.content == b"<p>hello</p>"
    # Turning BlockPublicPolicy back on does not remove the stored policy (as AWS).
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={**ALL_OFF, "BlockPublicPolicy": True})
    assert anonymous_get(server, scheme, bucket, "page.html").status_code == 200
    assert_s3_error(s3.put_bucket_policy, Bucket=bucket, Policy=public_read(bucket), code="AccessDenied", status=403)


def test_restrict_public_buckets_denies_anonymous_and_other_accounts(server, scheme, s3, bucket):
    s3.put_object(Bucket=bucket, Key="doc.txt", Body=b"restricted")
    s3.delete_public_access_block(Bucket=bucket)
    other = create_account(server, "bpa-outsider")
    other_s3 = server.client(scheme, access_key=other["Root access key id"], secret_key=other["Root secret access key"])
    grants = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"},
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{other['Account id']}:root"},
         "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{bucket}"}]})
    s3.put_bucket_policy(Bucket=bucket, Policy=grants)
    assert anonymous_get(server, scheme, bucket, "doc.txt").status_code == 200
    assert other_s3.get_object(Bucket=bucket, Key="doc.txt")["Body"].read() == b"restricted"
    assert [o["Key"] for o in other_s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["doc.txt"]

    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={**ALL_OFF, "RestrictPublicBuckets": True})
    denied = anonymous_get(server, scheme, bucket, "doc.txt")
    assert denied.status_code == 403 and b"<Code>AccessDenied</Code>" in denied.content
    # The whole public policy stops working outside the account, its named-account grant included.
    assert_s3_error(other_s3.get_object, Bucket=bucket, Key="doc.txt", code="AccessDenied", status=403)
    assert_s3_error(other_s3.list_objects_v2, Bucket=bucket, code="AccessDenied", status=403)
    assert s3.get_object(Bucket=bucket, Key="doc.txt")["Body"].read() == b"restricted", "the owner still reads"
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is False
    s3.delete_public_access_block(Bucket=bucket)
    assert anonymous_get(server, scheme, bucket, "doc.txt").status_code == 200


def test_account_level_block_through_s3control(server, scheme, account):
    control, s3, acct = account["control"], account["s3"], account["id"]
    err = assert_s3_error(control.get_public_access_block, AccountId=acct,
                          code="NoSuchPublicAccessBlockConfiguration", status=404)
    assert err["Error"]["Message"] == "The public access block configuration was not found"
    bucket = unique_bucket("acct-bpa")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    s3.delete_public_access_block(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=public_read(bucket))
    assert anonymous_get(server, scheme, bucket, "k").status_code == 200

    control.put_public_access_block(AccountId=acct, PublicAccessBlockConfiguration={
        **ALL_OFF, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    got = control.get_public_access_block(AccountId=acct)["PublicAccessBlockConfiguration"]
    assert got == {**ALL_OFF, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
    # The bucket has no setting of its own; the account's holds for it.
    assert_s3_error(s3.get_public_access_block, Bucket=bucket, code="NoSuchPublicAccessBlockConfiguration", status=404)
    assert anonymous_get(server, scheme, bucket, "k").status_code == 403
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is False
    assert_s3_error(s3.put_bucket_policy, Bucket=bucket, Policy=public_read(bucket), code="AccessDenied", status=403)

    control.delete_public_access_block(AccountId=acct)
    assert_s3_error(control.get_public_access_block, AccountId=acct,
                    code="NoSuchPublicAccessBlockConfiguration", status=404)
    assert anonymous_get(server, scheme, bucket, "k").status_code == 200
    s3.put_bucket_policy(Bucket=bucket, Policy=public_read(bucket))
    s3.delete_bucket_policy(Bucket=bucket)
    s3.delete_object(Bucket=bucket, Key="k")
    s3.delete_bucket(Bucket=bucket)


def test_s3control_is_for_the_callers_own_account_and_needs_permission(server, scheme, account):
    acct = account["id"]
    # The default account's root may not touch another account's settings.
    outsider = control_client(server, scheme, server.access_key, server.secret_key)
    assert_s3_error(outsider.get_public_access_block, AccountId=acct, code="AccessDenied", status=403)
    assert_s3_error(outsider.put_public_access_block, AccountId=acct,
                    PublicAccessBlockConfiguration=ALL_OFF, code="AccessDenied", status=403)
    iam = boto3.session.Session().client(
        "iam", endpoint_url=server.endpoint(scheme), aws_access_key_id=account["key"],
        aws_secret_access_key=account["secret"], region_name=REGION,
        verify=server.verify(scheme) if scheme == "https" else None)
    iam.create_user(UserName="auditor")
    key = iam.create_access_key(UserName="auditor")["AccessKey"]
    user = control_client(server, scheme, key["AccessKeyId"], key["SecretAccessKey"])
    assert_s3_error(user.get_public_access_block, AccountId=acct, code="AccessDenied", status=403)
    iam.put_user_policy(UserName="auditor", PolicyName="read-bpa", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:GetAccountPublicAccessBlock", "Resource": "*"}]}))
    assert_s3_error(user.get_public_access_block, AccountId=acct,
                    code="NoSuchPublicAccessBlockConfiguration", status=404)
    assert_s3_error(user.put_public_access_block, AccountId=acct,
                    PublicAccessBlockConfiguration=ALL_ON, code="AccessDenied", status=403)
    bad = control_client(server, scheme, key["AccessKeyId"], "not-the-secret")
    assert_s3_error(bad.get_public_access_block, AccountId=acct, code="SignatureDoesNotMatch", status=403)


def test_awscli_s3control_put_and_get(server, scheme, account):
    port = server.http_port if scheme == "http" else server.https_port
    cli = AwsCli(server, scheme, credentials={"AccessKeyId": account["key"], "SecretAccessKey": account["secret"]},
                 endpoint=f"{scheme}://localhost:{port}")
    cli("s3control", "put-public-access-block", "--account-id", account["id"],
        "--public-access-block-configuration",
        "BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=false")
    out = json.loads(cli("s3control", "get-public-access-block", "--account-id", account["id"]).stdout)
    assert out["PublicAccessBlockConfiguration"] == {**ALL_ON, "RestrictPublicBuckets": False}
    cli("s3control", "delete-public-access-block", "--account-id", account["id"])
    gone = cli("s3control", "get-public-access-block", "--account-id", account["id"], check=False)
    assert gone.returncode != 0 and "NoSuchPublicAccessBlockConfiguration" in gone.stderr


def test_bad_public_access_block_input(server, scheme, s3, bucket, account):
    assert_s3_error(s3.get_public_access_block, Bucket="no-such-bucket-bpa", code="NoSuchBucket", status=404)
    assert_s3_error(s3.put_public_access_block, Bucket="no-such-bucket-bpa",
                    PublicAccessBlockConfiguration=ALL_ON, code="NoSuchBucket", status=404)
    # Raw requests (to `localhost`: Python's ssl refuses the certificate's
    # `*.localhost` for a raw `{account}.localhost`, which botocore's own
    # hostname check accepts): malformed XML bodies get MalformedXML, not a 500.
    from botocore.auth import S3SigV4Auth as SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    port = server.http_port if scheme == "http" else server.https_port
    creds = Credentials(account["key"], account["secret"])
    for host_prefix, path, headers in [
        ("", f"/{bucket}?publicAccessBlock", {}),
        ("control", "/v20180820/configuration/publicAccessBlock", {"x-amz-account-id": account["id"]}),
    ]:
        url = f"{scheme}://localhost:{port}{path}"
        body = b"<PublicAccessBlockConfiguration><BlockPublicAcls>maybe"
        # The bucket belongs to the default account: sign as it there.
        signer = creds if host_prefix else Credentials(server.access_key, server.secret_key)
        req = AWSRequest(method="PUT", url=url, data=body, headers=headers)
        SigV4Auth(signer, "s3", REGION).add_auth(req)
        got = requests.put(url, data=body, headers=dict(req.headers), verify=server.verify(scheme), timeout=30)
        assert got.status_code == 400 and b"<Code>MalformedXML</Code>" in got.content, got.content
    # An account id that is not 12 digits.
    url = f"{scheme}://localhost:{port}/v20180820/configuration/publicAccessBlock"
    req = AWSRequest(method="GET", url=url, headers={"x-amz-account-id": "12345"})
    SigV4Auth(creds, "s3", REGION).add_auth(req)
    got = requests.get(url, headers=dict(req.headers), verify=server.verify(scheme), timeout=30)
    assert got.status_code == 400 and b"<Code>InvalidRequest</Code>" in got.content, got.content
    # An operation S3 Control has but Strongbox does not implement.
    url = f"{scheme}://localhost:{port}/v20180820/accesspoint"
    req = AWSRequest(method="GET", url=url, headers={"x-amz-account-id": account["id"]})
    SigV4Auth(creds, "s3", REGION).add_auth(req)
    got = requests.get(url, headers=dict(req.headers), verify=server.verify(scheme), timeout=30)
    assert got.status_code == 501 and b"<Code>NotImplemented</Code>" in got.content, got.content
    # A body over 64 KiB is refused before it is read whole (MaxMessageLengthExceeded).
    url = f"{scheme}://localhost:{port}/v20180820/configuration/publicAccessBlock"
    body = b"<PublicAccessBlockConfiguration>" + b" " * (80 * 1024) + b"</PublicAccessBlockConfiguration>"
    req = AWSRequest(method="PUT", url=url, data=body, headers={"x-amz-account-id": account["id"]})
    SigV4Auth(creds, "s3", REGION).add_auth(req)
    got = requests.put(url, data=body, headers=dict(req.headers), verify=server.verify(scheme), timeout=30)
    assert got.status_code == 400 and b"<Code>MaxMessageLengthExceeded</Code>" in got.content, got.content
    assert_s3_error(account["control"].get_public_access_block, AccountId=account["id"],
                    code="NoSuchPublicAccessBlockConfiguration", status=404)
