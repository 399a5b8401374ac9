"""Presigned URLs: SigV2 (botocore's default for presigning against a custom
endpoint, also `aws s3 presign`) and SigV4 query auth, fetched by clients
that know nothing about S3 (requests, curl)."""

import subprocess
import time
from urllib.parse import parse_qs, urlsplit

import requests

from s3util import parse_error_xml, random_bytes, show


def _curl(server, scheme, *args):
    cmd = ["curl", "-sS", "--max-time", "60", "-o", "-", "-w", "\n%{http_code}", *args]
    if scheme == "https":
        cmd[1:1] = ["--cacert", str(server.cert_path)]
    out = subprocess.run(cmd, capture_output=True, timeout=90)
    assert out.returncode == 0, out
    body, _, code = out.stdout.rpartition(b"\n")
    return int(code), body


def _query(url):
    return parse_qs(urlsplit(url).query)


def _v4_client(server, scheme):
    return server.client(scheme, signature_version="s3v4")


def test_default_presigned_get_is_sigv2_and_works_with_requests_and_curl(server, scheme, s3, bucket):
    body = random_bytes(3000)
    s3.put_object(Bucket=bucket, Key="dir/presigned v2.bin", Body=body)
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "dir/presigned v2.bin"},
                                    ExpiresIn=300)
    q = _query(url)
    assert "Signature" in q and "AWSAccessKeyId" in q and "Expires" in q, url
    assert "X-Amz-Algorithm" not in q, f"expected a SigV2 URL: {url}"
    r = requests.get(url, verify=server.verify(scheme), timeout=30)
    assert r.status_code == 200, show(r)
    assert r.content == body
    code, got = _curl(server, scheme, url)
    assert code == 200 and got == body, got[:300]


def test_default_presigned_put_sigv2(server, scheme, s3, bucket):
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "v2-put"}, ExpiresIn=300)
    assert "Signature" in _query(url), url
    body = random_bytes(5000)
    r = requests.put(url, data=body, verify=server.verify(scheme), timeout=30)
    assert r.status_code == 200, show(r)
    assert s3.get_object(Bucket=bucket, Key="v2-put")["Body"].read() == body


def test_sigv4_presigned_get_and_put_with_curl(server, scheme, s3, bucket, tmp_path):
    s3v4 = _v4_client(server, scheme)
    body = random_bytes(70000)
    src = tmp_path / "upload.bin"
    src.write_bytes(body)
    put_url = s3v4.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "ünï v4.bin"},
                                          ExpiresIn=300)
    q = _query(put_url)
    assert q.get("X-Amz-Algorithm") == ["AWS4-HMAC-SHA256"], put_url
    assert q.get("X-Amz-Expires") == ["300"], put_url
    code, out = _curl(server, scheme, "--upload-file", str(src), put_url)
    assert code == 200, out
    assert s3.get_object(Bucket=bucket, Key="ünï v4.bin")["Body"].read() == body

    get_url = s3v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "ünï v4.bin"},
                                          ExpiresIn=300)
    code, got = _curl(server, scheme, get_url)
    assert code == 200 and got == body, got[:300]
    r = requests.head(get_url, verify=server.verify(scheme), timeout=30)
    # A GET signature does not authorize HEAD (the method is signed).
    assert r.status_code == 403, show(r)


def test_aws_cli_presign_url_works(aws, server, scheme, s3, bucket):
    s3.put_object(Bucket=bucket, Key="cli/presigned.txt", Body=b"presigned by the cli")
    url = aws("s3", "presign", f"s3://{bucket}/cli/presigned.txt", "--expires-in", "600").stdout.strip()
    assert url.startswith(server.endpoint(scheme)), url
    r = requests.get(url, verify=server.verify(scheme), timeout=30)
    assert r.status_code == 200, show(r)
    assert r.content == b"presigned by the cli"


def test_sigv4_presign_expiry_over_seven_days_is_rejected(server, scheme, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    url = _v4_client(server, scheme).generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=604801)
    r = requests.get(url, verify=server.verify(scheme), timeout=30)
    assert r.status_code == 400, show(r)
    assert parse_error_xml(r.content)["Code"] == "AuthorizationQueryParametersError", show(r)


def test_sigv4_presign_expiry_of_seven_days_is_accepted(server, scheme, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    url = _v4_client(server, scheme).generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=604800)
    r = requests.get(url, verify=server.verify(scheme), timeout=30)
    assert r.status_code == 200 and r.content == b"x", show(r)


def test_expired_presigned_urls_are_access_denied(server, scheme, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    v4 = _v4_client(server, scheme).generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=1)
    v2 = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=1)
    time.sleep(2.5)
    for url in (v4, v2):
        r = requests.get(url, verify=server.verify(scheme), timeout=30)
        assert r.status_code == 403, show(r)
        assert parse_error_xml(r.content)["Code"] == "AccessDenied", show(r)


def test_tampered_presigned_url_is_signature_mismatch(server, scheme, s3, bucket):
    s3.put_object(Bucket=bucket, Key="real", Body=b"x")
    s3.put_object(Bucket=bucket, Key="other", Body=b"y")
    for client in (s3, _v4_client(server, scheme)):
        url = client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "real"}, ExpiresIn=300)
        r = requests.get(url.replace("/real?", "/other?"), verify=server.verify(scheme), timeout=30)
        assert r.status_code == 403, show(r)
        assert parse_error_xml(r.content)["Code"] == "SignatureDoesNotMatch", show(r)
