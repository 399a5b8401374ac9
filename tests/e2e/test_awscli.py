"""The AWS CLI (v1) against the server: high-level `aws s3` and `aws s3api`."""

import json
import os

from s3util import MIB, md5_etag, unique_bucket


def test_aws_s3_high_level_commands(aws, tmp_path):
    bucket = unique_bucket("cli")
    small = tmp_path / "small.txt"
    small.write_bytes(b"hello from the aws cli\n")
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(9 * MIB + 5))  # above the CLI's 8 MiB multipart threshold

    out = aws("s3", "mb", f"s3://{bucket}").stdout
    assert f"make_bucket: {bucket}" in out, out
    assert bucket in aws("s3", "ls").stdout

    aws("s3", "cp", str(small), f"s3://{bucket}/dir/small.txt")
    aws("s3", "cp", str(big), f"s3://{bucket}/dir/big.bin")
    listing = aws("s3", "ls", f"s3://{bucket}/dir/").stdout
    assert "small.txt" in listing and "big.bin" in listing, listing
    assert str(9 * MIB + 5) in listing, listing
    top = aws("s3", "ls", f"s3://{bucket}/").stdout
    assert "PRE dir/" in top, top

    down_small, down_big = tmp_path / "down-small.txt", tmp_path / "down-big.bin"
    aws("s3", "cp", f"s3://{bucket}/dir/small.txt", str(down_small))
    aws("s3", "cp", f"s3://{bucket}/dir/big.bin", str(down_big))
    assert down_small.read_bytes() == small.read_bytes()
    assert down_big.read_bytes() == big.read_bytes()

    recursive = aws("s3", "ls", f"s3://{bucket}", "--recursive").stdout
    assert "dir/small.txt" in recursive and "dir/big.bin" in recursive, recursive

    rm = aws("s3", "rm", f"s3://{bucket}", "--recursive").stdout
    assert "delete: s3://" in rm and "dir/big.bin" in rm and "dir/small.txt" in rm, rm
    listed = json.loads(aws("s3api", "list-objects-v2", "--bucket", bucket).stdout or "{}")
    assert not listed.get("Contents"), listed

    out = aws("s3", "rb", f"s3://{bucket}").stdout
    assert f"remove_bucket: {bucket}" in out, out
    gone = aws("s3api", "head-bucket", "--bucket", bucket, check=False)
    assert gone.returncode != 0, gone


def test_aws_s3api_put_and_head_object(aws, tmp_path):
    bucket = unique_bucket("cliapi")
    aws("s3api", "create-bucket", "--bucket", bucket)
    body = tmp_path / "body.json"
    body.write_bytes(b'{"strongbox": true}')
    put = json.loads(aws("s3api", "put-object", "--bucket", bucket, "--key", "docs/a.json",
                         "--body", str(body), "--content-type", "application/json",
                         "--metadata", "origin=cli,purpose=test").stdout)
    assert put["ETag"] == md5_etag(body.read_bytes()), put
    assert put.get("ServerSideEncryption") == "AES256", put

    head = json.loads(aws("s3api", "head-object", "--bucket", bucket, "--key", "docs/a.json").stdout)
    assert head["ContentLength"] == len(body.read_bytes()), head
    assert head["ContentType"] == "application/json", head
    assert head["Metadata"] == {"origin": "cli", "purpose": "test"}, head
    assert head["ETag"] == put["ETag"], head

    missing = aws("s3api", "head-object", "--bucket", bucket, "--key", "nope", check=False)
    assert missing.returncode != 0 and "404" in missing.stderr, missing

    aws("s3api", "delete-object", "--bucket", bucket, "--key", "docs/a.json")
    aws("s3api", "delete-bucket", "--bucket", bucket)


def test_aws_s3_sync_directory(aws, tmp_path):
    bucket = unique_bucket("clisync")
    src = tmp_path / "tree"
    for rel in ("a.txt", "sub/b.txt", "sub/deeper/c.txt", "ünï code.txt"):
        p = src / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(f"content of {rel}\n")
    aws("s3", "mb", f"s3://{bucket}")
    aws("s3", "sync", str(src), f"s3://{bucket}/tree")
    # A second sync has nothing to do (sizes and mtimes match).
    again = aws("s3", "sync", str(src), f"s3://{bucket}/tree").stdout
    assert "upload:" not in again, again
    dst = tmp_path / "back"
    aws("s3", "sync", f"s3://{bucket}/tree", str(dst))
    for rel in ("a.txt", "sub/b.txt", "sub/deeper/c.txt", "ünï code.txt"):
        assert (dst / rel).read_text() == f"content of {rel}\n", rel
    aws("s3", "rb", f"s3://{bucket}", "--force")
