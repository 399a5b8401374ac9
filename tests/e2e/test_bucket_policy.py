"""Bucket policies, applied with put-bucket-policy and observed through real
requests: AWS's published example policies (deny HTTP via
aws:SecureTransport, TLS versions via s3:TlsVersion, unencrypted or SSE-C
uploads, IP allow lists, public read, cross-account grants) and the bucket
policy API itself (Put/Get/Delete, status, MalformedPolicy, the owner's
lockout exemption, 405 for other accounts)."""

import json
import shutil
import subprocess

import pytest
import requests

from harness import server_binary
from s3util import assert_s3_error, s3_error, unique_bucket
from test_accounts import create_account


def arn(bucket: str, key: str | None = None) -> str:
    return f"arn:aws:s3:::{bucket}" + (f"/{key}" if key is not None else "")


def policy(*statements) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


@pytest.fixture
def owned(server):
    """A bucket of the default account with one object, reachable over both schemes."""
    http = server.client("http")
    name = unique_bucket("pol")
    http.create_bucket(Bucket=name)
    # These tests exercise the policy language, public grants included:
    # lift the Block Public Access a new bucket starts with (test_public_access.py tests it).
    http.delete_public_access_block(Bucket=name)
    http.put_object(Bucket=name, Key="doc.txt", Body=b"hello policy")
    yield name
    https = server.client("https")
    https.delete_bucket_policy(Bucket=name)
    for obj in https.list_objects_v2(Bucket=name).get("Contents", []):
        https.delete_object(Bucket=name, Key=obj["Key"])
    https.delete_bucket(Bucket=name)


def root_account_id(server) -> str:
    """The default account's id, from `strongbox admin account list`."""
    out = subprocess.run(
        [str(server_binary()), "admin", "--data-dir", str(server.data_dir), "account", "list"],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout
    return next(line.split("\t")[0] for line in out.splitlines() if line.split("\t")[1] == "root")


def other_account(server, scheme, name):
    acct = create_account(server, name)
    client = server.client(scheme, access_key=acct["Root access key id"], secret_key=acct["Root secret access key"])
    return acct, client


# ---------------------------------------------------------------- the API


def test_put_get_delete_round_trip_and_missing_policy_errors(server, scheme, owned):
    s3 = server.client(scheme)
    assert_s3_error(s3.get_bucket_policy, Bucket=owned, code="NoSuchBucketPolicy", status=404)
    assert_s3_error(s3.get_bucket_policy_status, Bucket=owned, code="NoSuchBucketPolicy", status=404)
    doc = policy({"Sid": "ReadDocs", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                  "Action": "s3:GetObject", "Resource": arn(owned, "*")})
    s3.put_bucket_policy(Bucket=owned, Policy=doc)
    assert json.loads(s3.get_bucket_policy(Bucket=owned)["Policy"]) == json.loads(doc)
    assert s3.get_bucket_policy_status(Bucket=owned)["PolicyStatus"]["IsPublic"] is False
    resp = s3.delete_bucket_policy(Bucket=owned)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert_s3_error(s3.get_bucket_policy, Bucket=owned, code="NoSuchBucketPolicy", status=404)
    # Deleting again is not an error, as on AWS.
    assert s3.delete_bucket_policy(Bucket=owned)["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert_s3_error(s3.put_bucket_policy, Bucket=unique_bucket("missing"), Policy=doc,
                    code="NoSuchBucket", status=404)


@pytest.mark.parametrize("doc_fn, needle", [
    (lambda b: policy({"Effect": "Allow", "Principal": "*", "Action": "iam:CreateUser", "Resource": arn(b)}),
     "action"),
    (lambda b: policy({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                       "Resource": "arn:aws:s3:::some-other-bucket/*"}), "resource"),
    (lambda b: policy({"Principal": "*", "Action": "s3:GetObject", "Resource": arn(b, "*")}), "effect"),
    (lambda b: policy({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": arn(b, "*"),
                       "Condition": {"StringEqualsish": {"aws:SourceIp": "1"}}}), "condition"),
    (lambda b: policy({"Effect": "Allow", "Principal": {"AWS": "not-an-account"}, "Action": "s3:GetObject",
                       "Resource": arn(b, "*")}), "principal"),
    (lambda b: "{not json", ""),
    (lambda b: policy(*[{"Sid": f"S{i}", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                         "Resource": arn(b, f"prefix-{i:05d}/*")} for i in range(300)]), "size"),
])
def test_malformed_policies_are_refused_with_a_message(server, owned, doc_fn, needle):
    s3 = server.client("http")
    err = assert_s3_error(s3.put_bucket_policy, Bucket=owned, Policy=doc_fn(owned), code="MalformedPolicy",
                          status=400)
    message = err["Error"].get("Message", "")
    assert message, err
    assert needle.lower() in message.lower(), message
    assert_s3_error(s3.get_bucket_policy, Bucket=owned, code="NoSuchBucketPolicy", status=404)


def test_unknown_condition_keys_are_accepted_as_on_aws(server, owned):
    s3 = server.client("http")
    s3.put_bucket_policy(Bucket=owned, Policy=policy(
        {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": arn(owned, "*"),
         "Condition": {"StringEquals": {"aws:NoSuchKeyAnywhere": "x"}}}))
    assert s3.get_object(Bucket=owned, Key="doc.txt")["Body"].read() == b"hello policy"


def test_policy_status_reports_public_by_aws_definition(server, owned):
    s3 = server.client("http")
    read = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": arn(owned, "*")}
    s3.put_bucket_policy(Bucket=owned, Policy=policy({**read, "Principal": "*"}))
    assert s3.get_bucket_policy_status(Bucket=owned)["PolicyStatus"]["IsPublic"] is True
    s3.put_bucket_policy(Bucket=owned, Policy=policy(
        {**read, "Principal": "*", "Condition": {"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}}}))
    assert s3.get_bucket_policy_status(Bucket=owned)["PolicyStatus"]["IsPublic"] is False
    s3.put_bucket_policy(Bucket=owned, Policy=policy(
        {**read, "Principal": "*", "Condition": {"StringEquals": {"aws:SourceAccount": "111122223333"}}}))
    assert s3.get_bucket_policy_status(Bucket=owned)["PolicyStatus"]["IsPublic"] is False


def test_awscli_put_and_get_bucket_policy(server, aws, owned, tmp_path):
    doc = policy({"Sid": "DenyDelete", "Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject",
                  "Resource": arn(owned, "*")})
    path = tmp_path / "policy.json"
    path.write_text(doc)
    aws("s3api", "put-bucket-policy", "--bucket", owned, "--policy", f"file://{path}")
    got = json.loads(aws("s3api", "get-bucket-policy", "--bucket", owned).stdout)
    assert json.loads(got["Policy"]) == json.loads(doc)
    failed = aws("s3api", "delete-object", "--bucket", owned, "--key", "doc.txt", check=False)
    assert failed.returncode != 0 and "AccessDenied" in failed.stderr, failed.stderr


# ---------------------------------------------------------------- transport


DENY_HTTP = lambda b: policy({  # noqa: E731 - AWS's "deny requests that don't use HTTPS" example
    "Sid": "RestrictToTLSRequestsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
    "Resource": [arn(b), arn(b, "*")], "Condition": {"Bool": {"aws:SecureTransport": "false"}}})


def test_secure_transport_deny_blocks_http_and_allows_https(server, owned):
    http, https = server.client("http"), server.client("https")
    http.put_bucket_policy(Bucket=owned, Policy=DENY_HTTP(owned))
    assert https.get_object(Bucket=owned, Key="doc.txt")["Body"].read() == b"hello policy"
    https.put_object(Bucket=owned, Key="over-tls", Body=b"ok")
    assert_s3_error(http.get_object, Bucket=owned, Key="doc.txt", code="AccessDenied", status=403)
    assert_s3_error(http.put_object, Bucket=owned, Key="plain", Body=b"x", code="AccessDenied", status=403)
    assert_s3_error(http.list_objects_v2, Bucket=owned, code="AccessDenied", status=403)
    # The owner's root is never locked out of the policy itself.
    assert json.loads(http.get_bucket_policy(Bucket=owned)["Policy"])["Statement"][0]["Sid"] == (
        "RestrictToTLSRequestsOnly")
    http.delete_bucket_policy(Bucket=owned)
    assert http.get_object(Bucket=owned, Key="doc.txt")["Body"].read() == b"hello policy"


def curl_status(url: str, cert, *tls_args: str) -> int:
    out = subprocess.run(
        ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", str(cert), *tls_args, url],
        capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return int(out.stdout)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl not installed")
def test_tls13_only_policy_denies_tls12_on_a_presigned_url(server, owned):
    https = server.client("https")
    https.put_bucket_policy(Bucket=owned, Policy=policy({
        "Sid": "EnforceTLSv13", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [arn(owned), arn(owned, "*")],
        "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.3"}}}))
    url = https.generate_presigned_url("get_object", Params={"Bucket": owned, "Key": "doc.txt"}, ExpiresIn=300)
    assert curl_status(url, server.cert_path, "--tlsv1.2", "--tls-max", "1.2") == 403
    assert curl_status(url, server.cert_path, "--tlsv1.3") == 200
    # Plain HTTP has no s3:TlsVersion: NumericLessThan on an absent key does not match.
    http_url = server.client("http").generate_presigned_url(
        "get_object", Params={"Bucket": owned, "Key": "doc.txt"}, ExpiresIn=300)
    assert requests.get(http_url, timeout=30).status_code == 200


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl not installed")
def test_deny_tls_below_12_allows_12_and_13(server, owned):
    https = server.client("https")
    https.put_bucket_policy(Bucket=owned, Policy=policy({
        "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": [arn(owned), arn(owned, "*")],
        "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.2"}}}))
    url = https.generate_presigned_url("get_object", Params={"Bucket": owned, "Key": "doc.txt"}, ExpiresIn=300)
    assert curl_status(url, server.cert_path, "--tlsv1.2", "--tls-max", "1.2") == 200
    assert curl_status(url, server.cert_path, "--tlsv1.3") == 200


# ---------------------------------------------------------------- encryption headers


def test_deny_put_without_kms_header(server, owned):
    s3 = server.client("https")
    s3.put_bucket_policy(Bucket=owned, Policy=policy({
        "Sid": "DenyObjectsThatAreNotSSEKMS", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
        "Resource": arn(owned, "*"),
        "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}}}))
    assert_s3_error(s3.put_object, Bucket=owned, Key="plain", Body=b"x", code="AccessDenied", status=403)
    assert_s3_error(s3.put_object, Bucket=owned, Key="sse-s3", Body=b"x", ServerSideEncryption="AES256",
                    code="AccessDenied", status=403)
    # Reads are untouched by a PutObject-only statement.
    assert s3.get_object(Bucket=owned, Key="doc.txt")["Body"].read() == b"hello policy"


def test_null_condition_blocks_sse_c_uploads_only(server, owned):
    s3 = server.client("https")
    s3.put_bucket_policy(Bucket=owned, Policy=policy({
        "Sid": "DenySSEC", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
        "Resource": arn(owned, "*"),
        "Condition": {"Null": {"s3:x-amz-server-side-encryption-customer-algorithm": "false"}}}))
    assert_s3_error(s3.put_object, Bucket=owned, Key="ssec", Body=b"x", SSECustomerAlgorithm="AES256",
                    SSECustomerKey="k" * 32, code="AccessDenied", status=403)
    s3.put_object(Bucket=owned, Key="plain", Body=b"x")
    assert s3.head_object(Bucket=owned, Key="plain")["ServerSideEncryption"] == "AES256"


# ---------------------------------------------------------------- network and public access


def test_ip_allow_list(server, owned):
    s3 = server.client("http")
    deny_outside = lambda cidr: policy({  # noqa: E731
        "Sid": "IPAllow", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [arn(owned), arn(owned, "*")],
        "Condition": {"NotIpAddress": {"aws:SourceIp": cidr}}})
    s3.put_bucket_policy(Bucket=owned, Policy=deny_outside(["127.0.0.0/8", "2001:db8::/32"]))
    assert s3.get_object(Bucket=owned, Key="doc.txt")["Body"].read() == b"hello policy"
    s3.put_bucket_policy(Bucket=owned, Policy=deny_outside("192.0.2.0/24"))
    assert_s3_error(s3.get_object, Bucket=owned, Key="doc.txt", code="AccessDenied", status=403)


def test_public_read_policy_allows_anonymous_get_only(server, scheme, owned):
    s3 = server.client(scheme)
    url = f"{server.endpoint(scheme)}/{owned}/doc.txt"
    verify = server.verify(scheme)
    assert requests.get(url, verify=verify, timeout=30).status_code == 403
    s3.put_bucket_policy(Bucket=owned, Policy=policy({
        "Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject", "s3:GetObjectVersion"],
        "Resource": arn(owned, "*")}))
    got = requests.get(url, verify=verify, timeout=30)
    assert got.status_code == 200 and got.content == b"hello policy"
    assert requests.put(f"{server.endpoint(scheme)}/{owned}/new.txt", data=b"x", verify=verify,
                        timeout=30).status_code == 403
    assert requests.get(f"{server.endpoint(scheme)}/{owned}", verify=verify, timeout=30).status_code == 403


def test_owner_root_is_subject_to_explicit_deny(server, owned):
    s3 = server.client("http")
    account = root_account_id(server)
    s3.put_bucket_policy(Bucket=owned, Policy=policy({
        "Effect": "Deny", "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
        "Action": "s3:GetObject", "Resource": arn(owned, "doc.txt")}))
    assert_s3_error(s3.get_object, Bucket=owned, Key="doc.txt", code="AccessDenied", status=403)
    assert_s3_error(s3.head_object, Bucket=owned, Key="doc.txt", code=("403", "AccessDenied"), status=403)
    s3.put_object(Bucket=owned, Key="other.txt", Body=b"still writable")
    assert s3.get_object(Bucket=owned, Key="other.txt")["Body"].read() == b"still writable"


def test_delete_objects_is_authorized_per_key(server, owned):
    s3 = server.client("http")
    s3.put_object(Bucket=owned, Key="protected/a", Body=b"a")
    s3.put_object(Bucket=owned, Key="scratch/b", Body=b"b")
    s3.put_bucket_policy(Bucket=owned, Policy=policy({
        "Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject", "Resource": arn(owned, "protected/*")}))
    resp = s3.delete_objects(Bucket=owned, Delete={"Objects": [{"Key": "protected/a"}, {"Key": "scratch/b"}]})
    assert [d["Key"] for d in resp.get("Deleted", [])] == ["scratch/b"]
    assert [(e["Key"], e["Code"]) for e in resp.get("Errors", [])] == [("protected/a", "AccessDenied")]
    assert s3.get_object(Bucket=owned, Key="protected/a")["Body"].read() == b"a"
    s3.delete_bucket_policy(Bucket=owned)
    s3.delete_object(Bucket=owned, Key="protected/a")


# ---------------------------------------------------------------- cross-account


def test_cross_account_grant_to_another_accounts_root(server, scheme, owned):
    owner = server.client(scheme)
    acct, other = other_account(server, scheme, "partner")
    assert_s3_error(other.get_object, Bucket=owned, Key="doc.txt", code="AccessDenied", status=403)
    owner.put_bucket_policy(Bucket=owned, Policy=policy({
        "Sid": "PartnerRead", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{acct['Account id']}:root"},
        "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": [arn(owned), arn(owned, "*")]}))
    assert other.get_object(Bucket=owned, Key="doc.txt")["Body"].read() == b"hello policy"
    assert [o["Key"] for o in other.list_objects_v2(Bucket=owned)["Contents"]] == ["doc.txt"]
    assert_s3_error(other.put_object, Bucket=owned, Key="x", Body=b"y", code="AccessDenied", status=403)
    assert_s3_error(other.delete_object, Bucket=owned, Key="doc.txt", code="AccessDenied", status=403)
    # Copying out needs GetObject on the source: now granted.
    mine = unique_bucket("partner-copy")
    other.create_bucket(Bucket=mine)
    other.copy_object(Bucket=mine, Key="copied", CopySource={"Bucket": owned, "Key": "doc.txt"})
    assert other.get_object(Bucket=mine, Key="copied")["Body"].read() == b"hello policy"
    other.delete_object(Bucket=mine, Key="copied")
    other.delete_bucket(Bucket=mine)


def test_policy_api_from_another_account_is_405_or_403(server, owned):
    owner = server.client("http")
    acct, other = other_account(server, "http", "policy-meddler")
    assert_s3_error(other.get_bucket_policy, Bucket=owned, code="AccessDenied", status=403)
    owner.put_bucket_policy(Bucket=owned, Policy=policy({
        "Effect": "Allow", "Principal": {"AWS": acct["Account id"]},
        "Action": ["s3:GetBucketPolicy", "s3:PutBucketPolicy"], "Resource": arn(owned)}))
    err = s3_error(other.get_bucket_policy, Bucket=owned)
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 405, err
    assert err["Error"]["Code"] == "MethodNotAllowed", err


# ---------------------------------------------------------------- tags


def test_existing_and_request_object_tags_in_conditions(server, owned):
    s3 = server.client("http")
    s3.put_object(Bucket=owned, Key="secret.txt", Body=b"s", Tagging="classification=secret")
    s3.put_object(Bucket=owned, Key="open.txt", Body=b"o", Tagging="classification=public")
    s3.put_bucket_policy(Bucket=owned, Policy=policy(
        {"Sid": "NoSecretReads", "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
         "Resource": arn(owned, "*"),
         "Condition": {"StringEquals": {"s3:ExistingObjectTag/classification": "secret"}}},
        {"Sid": "TaggedWritesOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
         "Resource": arn(owned, "*"),
         "Condition": {"ForAnyValue:StringNotEquals": {"s3:RequestObjectTagKeys": ["classification"]}}}))
    assert_s3_error(s3.get_object, Bucket=owned, Key="secret.txt", code="AccessDenied", status=403)
    assert s3.get_object(Bucket=owned, Key="open.txt")["Body"].read() == b"o"
    assert_s3_error(s3.put_object, Bucket=owned, Key="t", Body=b"x", Tagging="owner=me", code="AccessDenied",
                    status=403)
    s3.put_object(Bucket=owned, Key="t", Body=b"x", Tagging="classification=public")
