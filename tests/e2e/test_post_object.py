"""Browser POST uploads (boto3's generate_presigned_post + an HTML-form POST)
are decided by the same authorization as PUT (issue 11: a Deny in the bucket
policy must hold on every write path), with the condition keys taken from the
form's fields, and answer with AWS's errors and PostResponse."""

import hashlib
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET

import pytest
import requests

from s3util import unique_bucket
from test_bucket_policy import arn, policy

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


@pytest.fixture
def owned(server):
    http = server.client("http")
    name = unique_bucket("post")
    http.create_bucket(Bucket=name)
    yield name
    https = server.client("https")
    https.delete_bucket_policy(Bucket=name)
    for obj in https.list_objects_v2(Bucket=name).get("Contents", []):
        https.delete_object(Bucket=name, Key=obj["Key"])
    https.delete_bucket(Bucket=name)


def presigned(server, scheme, bucket, key, fields=None, expires=300):
    """A presigned POST whose policy covers every given field exactly."""
    fields = dict(fields or {})
    conditions = [{k: v} for k, v in fields.items()]
    return server.client(scheme).generate_presigned_post(
        bucket, key, Fields=fields, Conditions=conditions, ExpiresIn=expires)


def post(server, scheme, form, data=b"form body", headers=None, key=None):
    fields = dict(form["fields"])
    if key is not None:
        fields["key"] = key
    return requests.post(form["url"], data=fields, files={"file": ("f.bin", data)}, headers=headers or {},
                         verify=server.verify(scheme), timeout=60)


def error_of(resp):
    root = ET.fromstring(resp.content)
    return root.findtext("Code"), root.findtext("Message")


def exists(server, bucket, key):
    keys = [o["Key"] for o in server.client("https").list_objects_v2(Bucket=bucket).get("Contents", [])]
    return key in keys


def test_post_without_a_policy_stores_the_object(server, scheme, owned):
    resp = post(server, scheme, presigned(server, scheme, owned, "a.txt"), b"hello form")
    assert resp.status_code == 204, resp.text
    assert resp.headers["ETag"] == '"%s"' % hashlib.md5(b"hello form").hexdigest()
    s3 = server.client(scheme)
    assert s3.get_object(Bucket=owned, Key="a.txt")["Body"].read() == b"hello form"
    assert s3.head_object(Bucket=owned, Key="a.txt")["ServerSideEncryption"] == "AES256"


def test_post_201_response_has_a_quoted_etag(server, scheme, owned):
    form = presigned(server, scheme, owned, "created.txt", {"success_action_status": "201"})
    resp = post(server, scheme, form, b"created")
    assert resp.status_code == 201, resp.text
    root = ET.fromstring(resp.content)
    assert root.tag == "PostResponse"
    assert root.findtext("ETag") == '"%s"' % hashlib.md5(b"created").hexdigest()
    assert root.findtext("Key") == "created.txt" and root.findtext("Bucket") == owned


def test_deny_all_puts_denies_the_form_upload(server, scheme, owned):
    server.client("https").put_bucket_policy(Bucket=owned, Policy=policy({
        "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": arn(owned, "*")}))
    resp = post(server, scheme, presigned(server, scheme, owned, "denied.txt"))
    assert resp.status_code == 403, resp.text
    assert error_of(resp) == ("AccessDenied", "Access Denied")
    assert not exists(server, owned, "denied.txt")


def test_deny_is_decided_on_the_forms_key(server, owned):
    server.client("https").put_bucket_policy(Bucket=owned, Policy=policy({
        "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": arn(owned, "secret/*")}))
    assert post(server, "https", presigned(server, "https", owned, "secret/x")).status_code == 403
    assert post(server, "https", presigned(server, "https", owned, "public/x")).status_code == 204
    assert not exists(server, owned, "secret/x") and exists(server, owned, "public/x")


def test_deny_without_kms_reads_the_form_field_not_a_request_header(server, owned):
    s3 = server.client("https")
    s3.put_bucket_policy(Bucket=owned, Policy=policy({
        "Sid": "DenyObjectsThatAreNotSSEKMS", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
        "Resource": arn(owned, "*"),
        "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}}}))
    assert post(server, "https", presigned(server, "https", owned, "plain")).status_code == 403
    sse_s3 = presigned(server, "https", owned, "sse-s3", {"x-amz-server-side-encryption": "AES256"})
    assert post(server, "https", sse_s3).status_code == 403
    # A header on the POST itself is not the object's encryption: it must not satisfy the policy.
    resp = post(server, "https", presigned(server, "https", owned, "header-only"),
                headers={"x-amz-server-side-encryption": "aws:kms"})
    assert resp.status_code == 403, resp.text
    kms = presigned(server, "https", owned, "kms", {"x-amz-server-side-encryption": "aws:kms"})
    resp = post(server, "https", kms, b"kms body")
    assert resp.status_code == 204, resp.text
    assert s3.head_object(Bucket=owned, Key="kms")["ServerSideEncryption"] == "aws:kms"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=owned)["Contents"]] == ["kms"]


def test_null_condition_on_sse_c_algorithm_denies_sse_c_forms(server, owned):
    server.client("https").put_bucket_policy(Bucket=owned, Policy=policy({
        "Sid": "DenySSEC", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
        "Resource": arn(owned, "*"),
        "Condition": {"Null": {"s3:x-amz-server-side-encryption-customer-algorithm": "false"}}}))
    import base64
    key = b"k" * 32
    fields = {
        "x-amz-server-side-encryption-customer-algorithm": "AES256",
        "x-amz-server-side-encryption-customer-key": base64.b64encode(key).decode(),
        "x-amz-server-side-encryption-customer-key-MD5": base64.b64encode(hashlib.md5(key).digest()).decode(),
    }
    assert post(server, "https", presigned(server, "https", owned, "ssec", fields)).status_code == 403
    assert post(server, "https", presigned(server, "https", owned, "plain")).status_code == 204
    assert not exists(server, owned, "ssec")


def test_secure_transport_deny_applies_to_forms(server, owned):
    server.client("https").put_bucket_policy(Bucket=owned, Policy=policy({
        "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": [arn(owned), arn(owned, "*")],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}}))
    assert post(server, "http", presigned(server, "http", owned, "over-http")).status_code == 403
    assert post(server, "https", presigned(server, "https", owned, "over-tls")).status_code == 204
    assert not exists(server, owned, "over-http")


def curl_post(server, form, *args):
    cmd = ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", str(server.cert_path), *args]
    for k, v in form["fields"].items():
        cmd += ["-F", f"{k}={v}"]
    cmd += ["-F", "file=@-", form["url"]]
    out = subprocess.run(cmd, input=b"curl form", capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return int(out.stdout)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl not installed")
def test_tls_version_condition_applies_to_forms(server, owned):
    server.client("https").put_bucket_policy(Bucket=owned, Policy=policy({
        "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": arn(owned, "*"),
        "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.3"}}}))
    assert curl_post(server, presigned(server, "https", owned, "tls12"), "--tlsv1.2", "--tls-max", "1.2") == 403
    assert curl_post(server, presigned(server, "https", owned, "tls13"), "--tlsv1.3") == 204
    assert not exists(server, owned, "tls12") and exists(server, owned, "tls13")


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl not installed")
def test_source_ip_condition_applies_to_forms(server, owned):
    server.client("https").put_bucket_policy(Bucket=owned, Policy=policy({
        "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": arn(owned, "*"),
        "Condition": {"IpAddress": {"aws:SourceIp": "127.0.0.2/32"}}}))
    assert curl_post(server, presigned(server, "https", owned, "from-2"), "--interface", "127.0.0.2") == 403
    assert curl_post(server, presigned(server, "https", owned, "from-1"), "--interface", "127.0.0.1") == 204
    assert not exists(server, owned, "from-2") and exists(server, owned, "from-1")


def test_failed_form_condition_is_access_denied_with_aws_wording(server, scheme, owned):
    form = presigned(server, scheme, owned, "uploads/expected.txt")
    resp = post(server, scheme, form, key="elsewhere.txt")
    assert resp.status_code == 403, resp.text
    code, message = error_of(resp)
    assert code == "AccessDenied"
    assert message == 'Invalid according to Policy: Policy Condition failed: ["eq", "$key", "uploads/expected.txt"]'
    assert not exists(server, owned, "elsewhere.txt")


def test_expired_form_is_access_denied_policy_expired(server, scheme, owned):
    form = presigned(server, scheme, owned, "late.txt", expires=1)
    time.sleep(2.2)
    resp = post(server, scheme, form)
    assert resp.status_code == 403, resp.text
    assert error_of(resp) == ("AccessDenied", "Invalid according to Policy: Policy expired.")
