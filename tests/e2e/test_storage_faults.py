"""Storage faults under a real server: a full disk (a small tmpfs holding the
data dir) and an I/O error on read (a btrfs loop filesystem whose data block
the test corrupts, so btrfs' checksum check fails the read with EIO).
Both mount filesystems, so they run as root (CI and run-tests.sh do)."""

import contextlib
import os
import re
import shutil
import subprocess

import pytest
from botocore.exceptions import ClientError

from s3util import KIB, MIB, assert_s3_error, random_bytes, status_of, unique_bucket
from sse_util import kms_client
from test_iam import iam_client

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a test filesystem needs root")


@contextlib.contextmanager
def mounted(mountpoint, *mount_args):
    mountpoint.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", *mount_args, str(mountpoint)], check=True, capture_output=True)
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], capture_output=True)


def free_bytes(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def fill(path, leave):
    """A filler file that leaves about `leave` bytes free."""
    filler = path / "filler"
    with open(filler, "wb") as f:
        chunk = b"\0" * MIB
        while free_bytes(path) > leave + MIB:
            f.write(chunk)
            f.flush()
        f.write(b"\0" * max(0, free_bytes(path) - leave))
        f.flush()
        os.fsync(f.fileno())
    return filler


def temp_files(data_dir):
    return [p for p in (data_dir / "tmp").rglob("*") if p.is_file()]


def test_disk_full_put_fails_cleanly_and_recovers(spawn_server, tmp_path):
    with mounted(tmp_path / "small", "-t", "tmpfs", "-o", "size=64m", "tmpfs") as mnt:
        srv = spawn_server(data_dir=mnt / "data")
        s3 = srv.client("http")
        bucket = unique_bucket("full")
        s3.create_bucket(Bucket=bucket)
        kept = {f"kept/{i}": random_bytes(n) for i, n in enumerate([3 * KIB, MIB, 2 * MIB])}
        for k, v in kept.items():
            s3.put_object(Bucket=bucket, Key=k, Body=v)

        filler = fill(mnt, leave=1 * MIB)
        big = random_bytes(8 * MIB)
        err = assert_s3_error(s3.put_object, Bucket=bucket, Key="big", Body=big,
                              code="ServiceUnavailable", status=503)
        assert "storage is full" in err["Error"]["Message"], err
        up = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
        assert_s3_error(s3.upload_part, Bucket=bucket, Key="mp", UploadId=up, PartNumber=1,
                        Body=random_bytes(6 * MIB), code="ServiceUnavailable", status=503)

        # Nothing partial is visible, nothing half-written is left behind, and
        # what was stored before reads back byte-exact.
        assert_s3_error(s3.head_object, Bucket=bucket, Key="big", code="404", status=404)
        assert s3.list_parts(Bucket=bucket, Key="mp", UploadId=up).get("Parts", []) == []
        assert sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]) == sorted(kept)
        for k, v in kept.items():
            assert s3.get_object(Bucket=bucket, Key=k)["Body"].read() == v, k
        assert temp_files(srv.data_dir) == []
        assert srv.running(), srv.log_tail()
        assert "storage full" in srv.log_text()

        # With no space at all, IAM and KMS writes fail with their services'
        # internal errors (500), and nothing is half-created.
        with open(mnt / "filler-2", "wb") as f:
            with contextlib.suppress(OSError):
                while True:
                    f.write(b"\0" * 64 * KIB)
                    f.flush()
        iam, kms = iam_client(srv, "http"), kms_client(srv, "http")
        names = [f"full-user-{i}" for i in range(20)]
        failures = []
        for name in names:
            try:
                iam.create_user(UserName=name)
            except ClientError as e:
                failures.append((e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]))
                break
        assert failures == [("ServiceFailure", 500)], failures
        try:
            for _ in range(20):
                kms.create_key(Description="disk full")
            pytest.fail("CreateKey kept succeeding on a full disk")
        except ClientError as e:
            assert (e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]) == \
                ("KMSInternalException", 500), e.response
        (mnt / "filler-2").unlink()

        # Space comes back: the same requests now succeed.
        filler.unlink()
        assert status_of(s3.put_object(Bucket=bucket, Key="big", Body=big)) == 200
        assert s3.get_object(Bucket=bucket, Key="big")["Body"].read() == big
        part = s3.upload_part(Bucket=bucket, Key="mp", UploadId=up, PartNumber=1, Body=b"p" * KIB)
        s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up,
                                     MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
        assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == b"p" * KIB
        srv.stop()
        check = subprocess.run([os.environ.get("STRONGBOX_BIN", "strongbox"), "admin", "fsck",
                                "--data-dir", str(srv.data_dir)], capture_output=True, text=True)
        assert check.returncode == 0 and "fsck: clean" in check.stdout, check.stdout + check.stderr


def corrupt_on_disk(image, blob, offset_in_blob):
    """Overwrite bytes of `blob`'s data on the device image, under btrfs."""
    data = blob.read_bytes()
    raw = image.read_bytes()
    at = raw.find(data[:4096])
    assert at >= 0, "blob data not found in the image"
    with open(image, "r+b") as f:
        f.seek(at + offset_in_blob)
        f.write(b"\xff" * 64)
        f.flush()
        os.fsync(f.fileno())
    subprocess.run(["sync"], check=True)
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3\n")


def test_read_eio_is_a_500_with_the_request_id_logged(spawn_server, tmp_path):
    if shutil.which("mkfs.btrfs") is None:
        pytest.fail("mkfs.btrfs missing (run-tests.sh installs btrfs-progs)")
    image = tmp_path / "btrfs.img"
    with open(image, "wb") as f:
        f.truncate(160 * MIB)
    subprocess.run(["mkfs.btrfs", "-q", str(image)], check=True, capture_output=True)
    with mounted(tmp_path / "btrfs", "-o", "loop", str(image)) as mnt:
        srv = spawn_server(data_dir=mnt / "data")
        s3 = srv.client("http")
        bucket = unique_bucket("eio")
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key="victim", Body=random_bytes(2 * MIB))
        healthy = random_bytes(MIB)
        s3.put_object(Bucket=bucket, Key="healthy", Body=healthy)
        blobs = {p.stat().st_size: p for p in (srv.data_dir / "blobs").rglob("*") if p.is_file()}
        victim = blobs[max(blobs)]
        corrupt_on_disk(image, victim, 8 * KIB)

        err = assert_s3_error(s3.get_object, Bucket=bucket, Key="victim", code="InternalError", status=500)
        request_id = err["ResponseMetadata"]["RequestId"]
        log = re.sub(r"\x1b\[[0-9;]*m", "", srv.log_text())
        assert request_id and re.search(rf'request failed request_id="{request_id}" operation=GetObject status=500',
                                        log), srv.log_tail()
        # The server keeps serving, and other objects are unharmed.
        assert srv.running(), srv.log_tail()
        assert s3.get_object(Bucket=bucket, Key="healthy")["Body"].read() == healthy
        assert "panicked" not in srv.log_text()
        srv.kill()
