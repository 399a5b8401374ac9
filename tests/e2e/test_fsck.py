"""`strongbox admin fsck` through the binary on a real server's data dir: it
refuses while the server runs; after a clean stop a store with inline,
blob-file, multipart and pending-upload data is clean (exit 0, counts); a
stray blob, a temp file, a corrupt header and a deleted blob are reported
by kind (exit 1); `--repair` removes only the stray and temp files, and the
records with missing or corrupt bytes stay reported."""

import os
import re

from s3util import KIB, MIB, unique_bucket
from test_rotate_root_key import admin


def counts(stdout: str) -> dict:
    line = next(l for l in stdout.splitlines() if l.startswith("Problems:"))
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", line)}


def blob_paths(data_dir):
    return sorted(p for p in (data_dir / "blobs").rglob("*") if p.is_file())


def test_fsck_finds_damage_and_repairs_only_garbage(spawn_server):
    srv = spawn_server()
    s3 = srv.client("http")
    bucket = unique_bucket("fsck")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="inline", Body=os.urandom(10 * KIB))
    s3.put_object(Bucket=bucket, Key="big-a", Body=os.urandom(1 * MIB))
    s3.put_object(Bucket=bucket, Key="big-b", Body=os.urandom(1 * MIB))
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key="mp", UploadId=up, PartNumber=1, Body=os.urandom(MIB))["ETag"]
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    pending = s3.create_multipart_upload(Bucket=bucket, Key="pending")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="pending", UploadId=pending, PartNumber=1, Body=os.urandom(KIB))

    refused = admin(srv.data_dir, "fsck", check=False)
    assert refused.returncode != 0 and "in use" in refused.stderr, refused.stderr

    assert srv.stop() == 0
    clean = admin(srv.data_dir, "fsck")
    assert "Objects checked: 4" in clean.stdout, clean.stdout
    assert "Upload parts checked: 1" in clean.stdout, clean.stdout
    assert "Blob files checked: 4" in clean.stdout, clean.stdout
    assert "Inline rows checked: 1" in clean.stdout, clean.stdout
    assert "fsck: clean" in clean.stdout and set(counts(clean.stdout).values()) == {0}

    files = blob_paths(srv.data_dir)
    corrupt, deleted = files[0], files[1]
    raw = bytearray(corrupt.read_bytes())
    raw[4] = 9  # format version
    corrupt.write_bytes(bytes(raw))
    deleted.unlink()
    stray = srv.data_dir / "blobs" / "ee" / ("ee" + "0" * 30)
    stray.parent.mkdir(exist_ok=True)
    stray.write_bytes(b"not referenced")
    temp = srv.data_dir / "tmp" / ("f" * 32 + ".tmp")
    temp.write_bytes(b"half a blob")

    damaged = admin(srv.data_dir, "fsck", check=False)
    assert damaged.returncode == 1, damaged.stdout + damaged.stderr
    c = counts(damaged.stdout)
    assert (c["corrupt_blob"], c["missing_blob"], c["unreferenced_blob"], c["temp_file"]) == (1, 1, 1, 1), c
    assert sum(c.values()) == 4, c
    assert "unsupported" in damaged.stdout.lower() or "version" in damaged.stdout.lower(), damaged.stdout
    assert "problem(s) remain" in damaged.stderr
    assert stray.exists() and temp.exists()

    repaired = admin(srv.data_dir, "fsck", "--repair", check=False)
    assert repaired.returncode == 1, repaired.stdout + repaired.stderr
    assert "repaired unreferenced_blob" in repaired.stdout and "repaired temp_file" in repaired.stdout
    c = counts(repaired.stdout)
    assert (c["corrupt_blob"], c["missing_blob"], c["unreferenced_blob"], c["temp_file"]) == (1, 1, 0, 0), c
    assert not stray.exists() and not temp.exists()
    assert corrupt.exists(), "a corrupt blob a record names is kept for recovery"
