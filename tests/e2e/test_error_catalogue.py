"""docs/errors.md is the catalogue of every error code the server answers.
This test keeps it true: every row is exercised, either by a request below
(rows whose test column says `catalogue`) or by the named test, which must
exist and mention the code; and every code the Rust sources can produce has
a row. A new error without a row, or a row without a test, fails here."""

import base64
import datetime
import hashlib
import hmac
import json
import re
import socket
import time
from pathlib import Path
from unittest import mock

import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from harness import REGION
from s3util import parse_error_xml, raw_http_exchange, sign, signed_request, unique_bucket

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "docs" / "errors.md"
E2E = Path(__file__).resolve().parent


def rows():
    out = []
    for line in CATALOGUE.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[2].isdigit():
            service, code, status, _when, test = cells
            out.append((service.lower(), code.strip("`"), int(status), test.strip("`")))
    return out


# ------------------------------------------------------------ raw requests

def aws_signed(server, scheme, service, body: bytes, headers: dict, secret=None, access=None):
    url = server.endpoint(scheme) + "/"
    req = AWSRequest(method="POST", url=url, data=body, headers=headers)
    SigV4Auth(Credentials(access or server.access_key, secret or server.secret_key), service, REGION).add_auth(req)
    return requests.post(url, data=body, headers=dict(req.headers), timeout=30, verify=server.verify(scheme))


def kms_call(server, target, payload, raw=None, **kw):
    body = raw if raw is not None else json.dumps(payload).encode()
    headers = {"X-Amz-Target": f"TrentService.{target}", "Content-Type": "application/x-amz-json-1.1"}
    return aws_signed(server, "http", "kms", body, headers, **kw)


def kms_code(r):
    return r.status_code, json.loads(r.content or b"{}").get("__type", "").split("#")[-1]


def iam_call(server, form: dict, **kw):
    body = "&".join(f"{k}={v}" for k, v in form.items()).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    return aws_signed(server, "http", "iam", body, headers, **kw)


def iam_code(r):
    m = re.search(rb"<Code>([^<]+)</Code>", r.content)
    return r.status_code, m.group(1).decode() if m else ""


def s3_code(r):
    if r.status_code == 304 and not r.content:
        return 304, "NotModified"
    if not r.content:
        return r.status_code, str(r.status_code)
    return r.status_code, parse_error_xml(r.content).get("Code")


def raw(server, data: bytes):
    resp = raw_http_exchange("127.0.0.1", server.http_port, data)
    head, _, body = resp.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1])
    m = re.search(rb"<Code>([^<]+)</Code>", body)
    return status, m.group(1).decode() if m else ""


@pytest.fixture(scope="module")
def env(server):
    s3 = server.client("http")
    bucket = unique_bucket("errors")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"hello")
    return server, s3, bucket


def skewed_put(server, bucket):
    """Signed, correctly, an hour ago."""
    url = f"{server.http_endpoint}/{bucket}/skew"
    hour_ago = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - datetime.timedelta(hours=1)
    with mock.patch("botocore.auth.get_current_datetime", return_value=hour_ago):
        hdrs = sign(server, "PUT", url, body=b"x")
    return requests.put(url, headers=hdrs, data=b"x", timeout=30)


def sha_mismatch(server, bucket):
    """Signed for one body, sent with another of the same length."""
    url = f"{server.http_endpoint}/{bucket}/sha"
    hdrs = sign(server, "PUT", url, body=b"x")
    return requests.put(url, headers=hdrs, data=b"y", timeout=30)


def form_with_malformed_policy(server, bucket):
    """A SigV2 form whose (signed) policy is not JSON."""
    policy = base64.b64encode(b"{not json").decode()
    signature = base64.b64encode(hmac.new(server.secret_key.encode(), policy.encode(), hashlib.sha1).digest())
    fields = {"key": "k2", "AWSAccessKeyId": server.access_key, "policy": policy, "signature": signature.decode()}
    return requests.post(f"{server.http_endpoint}/{bucket}", timeout=30,
                         files={**{k: (None, v) for k, v in fields.items()}, "file": ("f", b"data")})


def huge_put(server, bucket):
    url = f"{server.http_endpoint}/{bucket}/huge"
    hdrs = sign(server, "PUT", url, headers={"Content-Length": str(5 * 2**30 + 1)}, unsigned_payload=True)
    head = f"PUT /{bucket}/huge HTTP/1.1\r\nConnection: close\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdrs.items())
    return raw(server, (head + "\r\n").encode())


def incomplete_body(server, bucket):
    url = f"{server.http_endpoint}/{bucket}/short"
    hdrs = sign(server, "PUT", url, headers={"Content-Length": "100"}, body=b"", unsigned_payload=True)
    lines = [f"PUT /{bucket}/short HTTP/1.1"] + [f"{k}: {v}" for k, v in hdrs.items()]
    s = socket.create_connection(("127.0.0.1", server.http_port), timeout=10)
    s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + b"only ten b")
    s.shutdown(socket.SHUT_WR)
    data = b""
    while chunk := s.recv(65536):
        data += chunk
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    m = re.search(rb"<Code>([^<]+)</Code>", body)
    return int(head.split(b" ")[1]), m.group(1).decode() if m else ""


def no_length_put(server, bucket):
    url = f"{server.http_endpoint}/{bucket}/nolen"
    hdrs = sign(server, "PUT", url, body=b"", unsigned_payload=True)
    hdrs.pop("Content-Length", None)
    lines = [f"PUT /{bucket}/nolen HTTP/1.1", "Transfer-Encoding: chunked", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in hdrs.items()]
    return raw(server, ("\r\n".join(lines) + "\r\n\r\n5\r\nhello\r\n0\r\n\r\n").encode())


def rotate_past_the_limit(server):
    key = json.loads(kms_call(server, "CreateKey", {}).content)["KeyMetadata"]["KeyId"]
    for _ in range(10):
        assert kms_call(server, "RotateKeyOnDemand", {"KeyId": key}).status_code == 200
    return kms_code(kms_call(server, "RotateKeyOnDemand", {"KeyId": key}))


CASES = {
    ("s3", "NotImplemented"): lambda srv, s3, b: s3_code(signed_request(srv, "http", "GET", f"/{b}", query="lifecycle")),
    ("s3", "NotModified"): lambda srv, s3, b: s3_code(signed_request(
        srv, "http", "GET", f"/{b}/k", headers={"If-None-Match": s3.head_object(Bucket=b, Key="k")["ETag"]})),
    ("s3", "MalformedXML"): lambda srv, s3, b: s3_code(signed_request(
        srv, "http", "PUT", f"/{b}/k", query="tagging", body=b"<Tagging><TagSet><Tag>")),
    ("s3", "EntityTooLarge"): lambda srv, s3, b: huge_put(srv, b),
    ("s3", "IncompleteBody"): lambda srv, s3, b: incomplete_body(srv, b),
    ("s3", "MissingContentLength"): lambda srv, s3, b: no_length_put(srv, b),
    ("s3", "RequestTimeTooSkewed"): lambda srv, s3, b: s3_code(skewed_put(srv, b)),
    ("s3", "XAmzContentSHA256Mismatch"): lambda srv, s3, b: s3_code(sha_mismatch(srv, b)),
    ("s3", "AccessDenied"): lambda srv, s3, b: s3_code(requests.get(f"{srv.http_endpoint}/{b}/k", timeout=30)),
    ("s3", "MalformedPOSTRequest"): lambda srv, s3, b: s3_code(requests.post(
        f"{srv.http_endpoint}/{b}", data=b"--x\r\nnot a form", timeout=30,
        headers={"Content-Type": "multipart/form-data; boundary=x"})),
    ("s3", "InvalidPolicyDocument"): lambda srv, s3, b: s3_code(form_with_malformed_policy(srv, b)),
    ("s3", "InvalidToken"): lambda srv, s3, b: s3_code(signed_request(
        srv, "http", "GET", f"/{b}/k", headers={"x-amz-security-token": "not-a-session-token"})),
    ("iam", "InvalidAction"): lambda srv, s3, b: iam_code(iam_call(srv, {"Action": "Bogus", "Version": "2010-05-08"})),
    ("iam", "MissingAction"): lambda srv, s3, b: iam_code(iam_call(srv, {"Version": "2010-05-08"})),
    ("iam", "IncompleteSignature"): lambda srv, s3, b: iam_code(requests.post(
        srv.http_endpoint + "/", data="Action=ListUsers&Version=2010-05-08", timeout=30,
        headers={"Content-Type": "application/x-www-form-urlencoded",
                 "Authorization": f"AWS4-HMAC-SHA256 Credential={srv.access_key}/20261203/us-east-1/iam/aws4_request",
                 "X-Amz-Date": time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())})),
    # Only an IAM credential scope in the query routes an unsigned request to IAM.
    ("iam", "MissingAuthenticationToken"): lambda srv, s3, b: iam_code(requests.post(
        srv.http_endpoint + f"/?X-Amz-Credential={srv.access_key}%2F20261203%2Fus-east-1%2Fiam%2Faws4_request",
        data="Action=ListUsers&Version=2010-05-08", timeout=30,
        headers={"Content-Type": "application/x-www-form-urlencoded"})),
    # The IAM query body is read whole, up to 256 KiB.
    ("iam", "RequestEntityTooLarge"): lambda srv, s3, b: iam_code(iam_call(
        srv, {"Action": "ListUsers", "Version": "2010-05-08", "Pad": "x" * (300 * 1024)})),
    ("iam", "SignatureDoesNotMatch"): lambda srv, s3, b: iam_code(iam_call(
        srv, {"Action": "ListUsers", "Version": "2010-05-08"}, secret="wrong-secret")),
    ("kms", "InvalidAliasNameException"): lambda srv, s3, b: kms_code(kms_call(
        srv, "CreateAlias", {"AliasName": "alias/", "TargetKeyId": "alias/x"})),
    ("kms", "LimitExceededException"): lambda srv, s3, b: rotate_past_the_limit(srv),
    ("kms", "InvalidMarkerException"): lambda srv, s3, b: kms_code(kms_call(srv, "ListKeys", {"Marker": "bogus!!"})),
    ("kms", "UnknownOperationException"): lambda srv, s3, b: kms_code(kms_call(srv, "Bogus", {})),
    ("kms", "SerializationException"): lambda srv, s3, b: kms_code(kms_call(srv, "ListKeys", None, raw=b"{nope")),
    ("kms", "UnrecognizedClientException"): lambda srv, s3, b: kms_code(kms_call(
        srv, "ListKeys", {}, access="AKIAUNKNOWNUNKNOWN00")),
    ("kms", "InvalidSignatureException"): lambda srv, s3, b: kms_code(kms_call(srv, "ListKeys", {}, secret="wrong")),
    ("kms", "IncompleteSignatureException"): lambda srv, s3, b: kms_code(requests.post(
        srv.http_endpoint + "/", data=b"{}", timeout=30,
        headers={"X-Amz-Target": "TrentService.ListKeys", "Content-Type": "application/x-amz-json-1.1",
                 "Authorization": "AWS4-HMAC-SHA256 Credential=x",
                 "X-Amz-Date": time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())})),
    ("kms", "MissingAuthenticationTokenException"): lambda srv, s3, b: kms_code(requests.post(
        srv.http_endpoint + "/", data=b"{}", timeout=30,
        headers={"X-Amz-Target": "TrentService.ListKeys", "Content-Type": "application/x-amz-json-1.1"})),
}


@pytest.mark.parametrize("service,code,status", [(s, c, st) for s, c, st, t in rows() if t == "catalogue"])
def test_catalogue_row_is_answered(env, service, code, status):
    server, s3, bucket = env
    case = CASES.get((service, code))
    assert case is not None, f"docs/errors.md marks {service} {code} `catalogue` but this file has no request for it"
    assert case(server, s3, bucket) == (status, code)


def test_every_row_names_a_test_that_exercises_its_code():
    missing = []
    for service, code, _status, test in rows():
        if test == "catalogue":
            continue
        path, _, func = test.partition("::")
        f = E2E / path
        text = f.read_text() if f.exists() else ""
        m = re.search(rf"\ndef {re.escape(func)}\(.*?(?=\n(?:def |@|class )|\Z)", text, re.S)
        if not m or code.split(".")[-1] not in m.group(0):
            missing.append(f"{service} {code}: {test}")
    assert not missing, "rows whose named test does not exist or does not mention the code:\n" + "\n".join(missing)


def source_codes():
    codes = set()
    for f in (ROOT / "crates").glob("*/src/**/*.rs"):
        t = f.read_text()
        codes |= set(re.findall(r"S3ErrorCode::([A-Z][A-Za-z]+)\b", t)) - {"Custom"}
        codes |= set(re.findall(r"s3_error!\(\s*([A-Z][A-Za-z]+)", t))
        codes |= set(re.findall(r'Custom\(\s*"([A-Za-z]+)"', t))
        codes |= set(re.findall(r'custom_error\(\s*"([A-Za-z]+)"', t))
        # Protocols answered outside s3s (S3 Control): (status, "Code", message).
        codes |= set(re.findall(r'StatusCode::[A-Z_]+,\s*"([A-Z][A-Za-z]+)"', t))
        codes |= set(re.findall(r'forbidden\(\s*"([A-Z][A-Za-z]+)"', t))
    t = (ROOT / "crates/iam/src/error.rs").read_text() + (ROOT / "crates/kms/src/error.rs").read_text()
    codes |= set(re.findall(r'=> "([A-Z][A-Za-z]+(?:Exception)?)",', t)) - {"Receiver", "Sender"}
    return codes


def test_every_code_the_sources_produce_has_a_row():
    listed = {c.split(".")[-1] for _s, c, _st, _t in rows()}
    missing = sorted(source_codes() - listed)
    assert not missing, f"error codes with no row in docs/errors.md: {missing}"
