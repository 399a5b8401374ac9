"""Real third-party clients as users run them: rclone (Go's HTTP/2 client,
which rejects a HEAD response carrying DATA frames), s3cmd, boto3 with SigV2
(`signature_version='s3'`) and boto3 with virtual-hosted addressing through
`<bucket>.localhost` (needs nss-myhostname, which run-tests.sh sets up)."""

import os
import shutil
import subprocess

import boto3
import pytest
from botocore.config import Config

from s3util import assert_s3_error, delete_bucket_quietly, random_bytes, status_of, unique_bucket

REGION = "us-east-1"


def tool(name):
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed (run-tests.sh installs it)")
    return path


def rclone(server, scheme, *args, timeout=120):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RCLONE_"))}
    env.update(
        RCLONE_CONFIG_SB_TYPE="s3",
        RCLONE_CONFIG_SB_PROVIDER="Other",
        RCLONE_CONFIG_SB_ACCESS_KEY_ID=server.access_key,
        RCLONE_CONFIG_SB_SECRET_ACCESS_KEY=server.secret_key,
        RCLONE_CONFIG_SB_ENDPOINT=server.endpoint(scheme),
        RCLONE_CONFIG_SB_REGION=REGION,
        SSL_CERT_FILE=str(server.cert_path),
    )
    cmd = [tool("rclone"), "--config", "/dev/null", "--low-level-retries", "1", "--retries", "1", *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("scheme,protocol", [("https", "HTTP/2.0"), ("http", "HTTP/1.1")])
def test_rclone_round_trip_with_heads_on_both_protocols(server, s3, tmp_path, scheme, protocol):
    bucket = unique_bucket("rclone")
    s3.create_bucket(Bucket=bucket)
    try:
        src = tmp_path / "src"
        src.mkdir()
        files = {"a.bin": random_bytes(300_000), "dir/b.txt": b"hello rclone\n", "empty": b""}
        for name, data in files.items():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            (src / name).write_bytes(data)
        # copy HEADs every destination object first (404), then again after upload.
        copied = rclone(server, scheme, "copy", str(src), f"sb:{bucket}/up", "-vv", "--dump", "headers")
        assert copied.returncode == 0, copied.stderr[-3000:]
        assert "protocol error" not in copied.stderr, copied.stderr[-3000:]
        assert f"{protocol} 200" in copied.stderr or f"{protocol} 404" in copied.stderr, copied.stderr[-2000:]
        again = rclone(server, scheme, "copy", str(src), f"sb:{bucket}/up", "-v")
        assert again.returncode == 0 and "protocol error" not in again.stderr, again.stderr[-3000:]
        checked = rclone(server, scheme, "check", str(src), f"sb:{bucket}/up", "--download")
        assert checked.returncode == 0, checked.stderr[-3000:]
        listed = rclone(server, scheme, "lsf", "-R", f"sb:{bucket}/up")
        assert sorted(l for l in listed.stdout.split() if not l.endswith("/")) == sorted(files), listed
        cat = rclone(server, scheme, "cat", f"sb:{bucket}/up/dir/b.txt")
        assert cat.stdout == files["dir/b.txt"].decode()
        deleted = rclone(server, scheme, "purge", f"sb:{bucket}/up")
        assert deleted.returncode == 0, deleted.stderr[-3000:]
        assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0
    finally:
        delete_bucket_quietly(s3, bucket)


def s3cmd(server, scheme, tmp_path, *args):
    host = server.endpoint(scheme).split("://", 1)[1]
    cfg = tmp_path / "s3cfg"
    cfg.write_text(
        "[default]\n"
        f"access_key = {server.access_key}\nsecret_key = {server.secret_key}\n"
        f"host_base = {host}\nhost_bucket = {host}\n"
        f"use_https = {scheme == 'https'}\nca_certs_file = {server.cert_path}\n"
        "bucket_location = us-east-1\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return subprocess.run([tool("s3cmd"), "-c", str(cfg), *args], env=env, capture_output=True, text=True,
                          timeout=120)


def test_s3cmd_bucket_and_object_lifecycle(server, scheme, s3, tmp_path):
    bucket = unique_bucket("s3cmd")
    data = random_bytes(70_000)
    (tmp_path / "f.bin").write_bytes(data)
    steps = [
        ["mb", f"s3://{bucket}"],
        ["put", str(tmp_path / "f.bin"), f"s3://{bucket}/d/f.bin"],
        ["ls", "-r", f"s3://{bucket}"],
        ["get", "--force", f"s3://{bucket}/d/f.bin", str(tmp_path / "g.bin")],
        ["info", f"s3://{bucket}/d/f.bin"],
        ["del", f"s3://{bucket}/d/f.bin"],
        ["rb", f"s3://{bucket}"],
    ]
    try:
        out = {}
        for step in steps:
            p = s3cmd(server, scheme, tmp_path, *step)
            assert p.returncode == 0, (step, p.stdout, p.stderr)
            out[step[0]] = p.stdout
        assert f"s3://{bucket}/d/f.bin" in out["ls"], out["ls"]
        assert (tmp_path / "g.bin").read_bytes() == data
        assert_s3_error(s3.head_bucket, Bucket=bucket, code="404", status=404)
    finally:
        delete_bucket_quietly(s3, bucket)


def sigv2_client(server, scheme, secret=None, user_agent=None):
    c = boto3.session.Session().client(
        "s3", endpoint_url=server.endpoint(scheme), region_name=REGION,
        aws_access_key_id=server.access_key, aws_secret_access_key=secret or server.secret_key,
        verify=server.verify(scheme) if scheme == "https" else None,
        config=Config(signature_version="s3", s3={"addressing_style": "path"},
                      retries={"total_max_attempts": 1}))
    if user_agent is not None:
        def set_ua(request, **_):
            request.headers["User-Agent"] = user_agent
        c.meta.events.register_first("before-sign.s3", set_ua)
    return c


@pytest.mark.parametrize("user_agent", [None, ""])
def test_sigv2_bucket_lifecycle_with_any_user_agent(server, scheme, user_agent):
    """botocore signs path-style bucket calls as `/bucket/`; SigV2 never
    signs the User-Agent."""
    c = sigv2_client(server, scheme, user_agent=user_agent)
    bucket = unique_bucket("sigv2")
    assert status_of(c.create_bucket(Bucket=bucket)) == 200
    try:
        c.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
        assert c.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "k", "Value": "v"}]
        c.put_object(Bucket=bucket, Key="a b/c", Body=b"sigv2 body")
        assert c.get_object(Bucket=bucket, Key="a b/c")["Body"].read() == b"sigv2 body"
        assert [o["Key"] for o in c.list_objects(Bucket=bucket, Prefix="a b/")["Contents"]] == ["a b/c"]
        c.delete_object(Bucket=bucket, Key="a b/c")
        assert status_of(c.delete_bucket(Bucket=bucket)) == 204
    finally:
        delete_bucket_quietly(server.client("http"), bucket)


def test_sigv2_with_a_wrong_secret_is_still_refused(server, scheme, bucket):
    c = sigv2_client(server, scheme, secret="not-the-secret-key-at-all")
    for call, kwargs in [(c.create_bucket, {"Bucket": unique_bucket("nope")}),
                         (c.get_bucket_tagging, {"Bucket": bucket}),
                         (c.put_object, {"Bucket": bucket, "Key": "k", "Body": b"x"})]:
        assert_s3_error(call, **kwargs, code="SignatureDoesNotMatch", status=403)


def test_boto3_virtual_hosted_addressing(server, scheme):
    """`<bucket>.localhost` resolves through nss-myhostname; the self-signed
    certificate covers *.localhost."""
    port = server.endpoint(scheme).rsplit(":", 1)[1]
    vh = server.client(scheme, endpoint=f"{scheme}://localhost:{port}", s3={"addressing_style": "virtual"})
    sent = []
    vh.meta.events.register("before-send.s3", lambda request, **_: sent.append(request.url))
    bucket = unique_bucket("vhost")
    vh.create_bucket(Bucket=bucket)
    try:
        vh.put_object(Bucket=bucket, Key="dir/k", Body=b"virtual")
        assert vh.get_object(Bucket=bucket, Key="dir/k")["Body"].read() == b"virtual"
        assert [o["Key"] for o in vh.list_objects_v2(Bucket=bucket)["Contents"]] == ["dir/k"]
        vh.delete_object(Bucket=bucket, Key="dir/k")
        assert sent and all(u.startswith(f"{scheme}://{bucket}.localhost:{port}/") for u in sent), sent
    finally:
        delete_bucket_quietly(server.client("http"), bucket)
