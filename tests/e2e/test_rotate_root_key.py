"""`strongbox admin rotate-root-key` on a dedicated server's data dir: the
root key file changes, no blob file is rewritten, and after a restart every
object (SSE-S3 simple and multipart, SSE-KMS, bucket key, DSSE-KMS, SSE-C),
an SSE-S3 upload begun before the rotation, an IAM user's access key and a
KMS ciphertext made before the rotation all still work. The command refuses
while the server runs; a leftover `root.key.next` is rolled back at start."""

import base64
import json
import os
import re
import subprocess

from harness import server_binary
from test_iam import iam_client
from s3util import MIB, unique_bucket
from sse_util import customer_key, kms_client, new_key, sse_c

BODY = os.urandom(200 * 1024)  # several 64 KiB chunks
PART = os.urandom(5 * MIB)


def admin(data_dir, *args, check=True):
    """Runs `strongbox admin --data-dir D ...` without the caller's STRONGBOX_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRONGBOX_")}
    cmd = [str(server_binary()), "admin", "--data-dir", str(data_dir), *args]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    if check:
        assert result.returncode == 0, f"{cmd} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result


def blob_files(data_dir) -> dict:
    root = data_dir / "blobs"
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def populate(srv, bucket, ssec_key):
    """Objects in every mode, an unfinished SSE-S3 upload, an IAM user, a KMS ciphertext."""
    s3 = srv.client("https")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="default", Body=BODY)
    s3.put_object(Bucket=bucket, Key="aes256", Body=BODY, ServerSideEncryption="AES256")
    up = s3.create_multipart_upload(Bucket=bucket, Key="multipart")
    etags = [s3.upload_part(Bucket=bucket, Key="multipart", UploadId=up["UploadId"], PartNumber=n,
                            Body=body)["ETag"] for n, body in ((1, PART), (2, BODY))]
    s3.complete_multipart_upload(Bucket=bucket, Key="multipart", UploadId=up["UploadId"], MultipartUpload={
        "Parts": [{"PartNumber": n, "ETag": e} for n, e in zip((1, 2), etags)]})
    pending = s3.create_multipart_upload(Bucket=bucket, Key="pending")["UploadId"]
    first = s3.upload_part(Bucket=bucket, Key="pending", UploadId=pending, PartNumber=1, Body=PART)["ETag"]
    s3.put_object(Bucket=bucket, Key="ssec", Body=BODY, **sse_c(ssec_key))

    arn = new_key(srv, "rotation test key")
    s3.put_object(Bucket=bucket, Key="kms", Body=BODY, ServerSideEncryption="aws:kms", SSEKMSKeyId=arn)
    s3.put_object(Bucket=bucket, Key="bucket-key", Body=BODY, ServerSideEncryption="aws:kms",
                  SSEKMSKeyId=arn, BucketKeyEnabled=True)
    s3.put_object(Bucket=bucket, Key="dsse", Body=BODY, ServerSideEncryption="aws:kms:dsse", SSEKMSKeyId=arn)
    blob = kms_client(srv, "https").encrypt(KeyId=arn, Plaintext=b"kms plaintext")["CiphertextBlob"]

    iam = iam_client(srv, "https")
    iam.create_user(UserName="rotator")
    iam.put_user_policy(UserName="rotator", PolicyName="read", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]}))
    key = iam.create_access_key(UserName="rotator")["AccessKey"]
    return {"pending": (pending, first), "kms_blob": blob,
            "user": (key["AccessKeyId"], key["SecretAccessKey"])}


def test_rotation_rewrites_keys_not_data(spawn_server):
    srv = spawn_server()
    bucket = unique_bucket("rotate")
    ssec_key = customer_key()
    made = populate(srv, bucket, ssec_key)

    refused = admin(srv.data_dir, "rotate-root-key", check=False)
    assert refused.returncode != 0 and "in use" in refused.stderr, refused.stderr

    assert srv.stop() == 0
    key_file = srv.data_dir / "root.key"
    old_key = key_file.read_text().strip()
    blobs = blob_files(srv.data_dir)
    assert blobs, "objects are stored as blob files"

    out = admin(srv.data_dir, "rotate-root-key").stdout
    ids = dict(re.findall(r"^(Old|New) root key id: (root-[0-9a-f]{16})$", out, re.M))
    assert set(ids) == {"Old", "New"} and ids["Old"] != ids["New"], out
    counts = {m[0]: int(m[1]) for m in re.findall(r"^(.+?): (\d+)$", out, re.M)}
    assert counts["Credential secrets re-sealed"] >= 2, out  # the root's and the IAM user's
    assert counts["SSE-S3 object data keys re-wrapped"] == 3, out  # default, aes256, multipart
    assert counts["SSE-S3 multipart upload data keys re-wrapped"] == 1, out
    assert counts["KMS key material versions re-sealed"] >= 1, out

    new_key_text = key_file.read_text().strip()
    assert new_key_text != old_key and len(base64.b64decode(new_key_text)) == 32
    assert old_key not in out and new_key_text not in out
    assert (key_file.stat().st_mode & 0o777) == 0o600
    assert not (srv.data_dir / "root.key.next").exists()
    assert blob_files(srv.data_dir) == blobs, "no object data was rewritten"

    srv.start()
    s3 = srv.client("https")
    for key in ("default", "aes256", "kms", "bucket-key", "dsse"):
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == BODY, key
    assert s3.get_object(Bucket=bucket, Key="multipart")["Body"].read() == PART + BODY
    assert s3.get_object(Bucket=bucket, Key="ssec", **sse_c(ssec_key))["Body"].read() == BODY

    pending, first = made["pending"]
    second = s3.upload_part(Bucket=bucket, Key="pending", UploadId=pending, PartNumber=2, Body=BODY)["ETag"]
    s3.complete_multipart_upload(Bucket=bucket, Key="pending", UploadId=pending, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": first}, {"PartNumber": 2, "ETag": second}]})
    assert s3.get_object(Bucket=bucket, Key="pending")["Body"].read() == PART + BODY

    access, secret = made["user"]
    user = srv.client("https", access_key=access, secret_key=secret)
    assert user.get_object(Bucket=bucket, Key="default")["Body"].read() == BODY

    plain = kms_client(srv, "https").decrypt(CiphertextBlob=made["kms_blob"])["Plaintext"]
    assert plain == b"kms plaintext"


def test_leftover_next_key_is_rolled_back_at_start(spawn_server):
    srv = spawn_server()
    s3 = srv.client("https")
    bucket = unique_bucket("rotate-crash")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=BODY)
    assert srv.stop() == 0
    key_file = srv.data_dir / "root.key"
    before = key_file.read_bytes()
    # A crash between writing the new key and committing the re-sealing transaction.
    staged = srv.data_dir / "root.key.next"
    staged.write_text(base64.b64encode(os.urandom(32)).decode() + "\n")
    srv.start()
    assert not staged.exists()
    assert key_file.read_bytes() == before
    assert srv.client("https").get_object(Bucket=bucket, Key="k")["Body"].read() == BODY
