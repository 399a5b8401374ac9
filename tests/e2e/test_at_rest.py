"""Encryption at rest: plaintext object bytes never reach the data directory."""

import secrets

from s3util import MIB, files_containing, tree_size


def test_marker_scanner_finds_plaintext(tmp_path):
    # Control for the test below: the scanner does find a marker that is on disk,
    # including one straddling its internal read-chunk boundary.
    marker = b"SCANNER-CONTROL-" + secrets.token_hex(8).encode()
    (tmp_path / "plain.bin").write_bytes(b"\0" * (8 * MIB - 5) + marker + b"\0" * 10)
    (tmp_path / "other.bin").write_bytes(b"nothing here")
    assert files_containing(tmp_path, marker) == [str(tmp_path / "plain.bin")]


def test_object_bytes_are_not_stored_in_plaintext(server):
    marker = b"STRONGBOX-PLAINTEXT-MARKER-" + secrets.token_hex(16).encode()
    filler = marker + b"|"
    big = filler * (6 * MIB // len(filler))
    small = b"small object <" + marker + b">"
    part1 = (marker + b"#") * (5 * MIB // (len(marker) + 1) + 1)
    part2 = (marker + b"$") * (MIB // (len(marker) + 1))
    pending_part = (marker + b"%") * (5 * MIB // (len(marker) + 1) + 1)

    http, https = server.client("http"), server.client("https")
    bucket = "atrest-" + secrets.token_hex(6)
    http.create_bucket(Bucket=bucket)
    before = tree_size(server.data_dir)

    http.put_object(Bucket=bucket, Key="big.bin", Body=big)
    http.put_object(Bucket=bucket, Key="small.txt", Body=small)
    # Over HTTPS boto3 streams with aws-chunked encoding and a trailing checksum.
    https.put_object(Bucket=bucket, Key="big-https.bin", Body=big)
    up = http.create_multipart_upload(Bucket=bucket, Key="multi.bin")["UploadId"]
    etags = [http.upload_part(Bucket=bucket, Key="multi.bin", UploadId=up, PartNumber=n, Body=d)["ETag"]
             for n, d in ((1, part1), (2, part2))]
    http.complete_multipart_upload(
        Bucket=bucket, Key="multi.bin", UploadId=up,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in zip((1, 2), etags)]})
    http.copy_object(Bucket=bucket, Key="copy.bin", CopySource={"Bucket": bucket, "Key": "big.bin"})
    # A part of an upload that is never completed is stored encrypted too.
    pending = http.create_multipart_upload(Bucket=bucket, Key="pending.bin")["UploadId"]
    http.upload_part(Bucket=bucket, Key="pending.bin", UploadId=pending, PartNumber=1, Body=pending_part)

    # Everything reads back as plaintext...
    assert http.get_object(Bucket=bucket, Key="big.bin")["Body"].read() == big
    assert http.get_object(Bucket=bucket, Key="small.txt")["Body"].read() == small
    assert http.get_object(Bucket=bucket, Key="big-https.bin")["Body"].read() == big
    assert http.get_object(Bucket=bucket, Key="multi.bin")["Body"].read() == part1 + part2
    assert http.get_object(Bucket=bucket, Key="copy.bin")["Body"].read() == big

    # ...the bytes did land in the data dir (so the scan below is meaningful)...
    grown = tree_size(server.data_dir) - before
    assert grown >= 20 * MIB, f"data dir grew by only {grown} bytes; is data stored elsewhere?"

    # ...but nowhere in it in the clear.
    hits = files_containing(server.data_dir, marker)
    assert not hits, f"plaintext marker found in: {hits}"

    http.abort_multipart_upload(Bucket=bucket, Key="pending.bin", UploadId=pending)
    for key in ("big.bin", "small.txt", "big-https.bin", "multi.bin", "copy.bin"):
        http.delete_object(Bucket=bucket, Key=key)
    http.delete_bucket(Bucket=bucket)


def test_every_version_is_stored_encrypted(server):
    """Versioning keeps old bytes: each version (and a suspended-bucket null
    version, a multipart version and a copy of an old version) has its own
    data key, and none is on disk in the clear."""
    marker = b"STRONGBOX-VERSION-MARKER-" + secrets.token_hex(16).encode()
    http = server.client("http")
    bucket = "atrest-v-" + secrets.token_hex(6)
    http.create_bucket(Bucket=bucket)
    http.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    bodies = [b"v%d <" % n + marker + b">" * (1 + n * 40000) for n in range(4)]
    ids = [http.put_object(Bucket=bucket, Key="k", Body=b)["VersionId"] for b in bodies[:3]]
    part = (marker + b"#") * (5 * MIB // (len(marker) + 1) + 1)
    up = http.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    etag = http.upload_part(Bucket=bucket, Key="k", UploadId=up, PartNumber=1, Body=part)["ETag"]
    mp = http.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=up,
                                        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    http.copy_object(Bucket=bucket, Key="k", CopySource={"Bucket": bucket, "Key": "k", "VersionId": ids[0]})
    http.delete_object(Bucket=bucket, Key="k")
    http.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    http.put_object(Bucket=bucket, Key="n", Body=bodies[3])
    for vid, b in zip(ids, bodies):
        got = http.get_object(Bucket=bucket, Key="k", VersionId=vid)
        assert got["Body"].read() == b and got["ServerSideEncryption"] == "AES256"
    assert http.get_object(Bucket=bucket, Key="k", VersionId=mp["VersionId"])["Body"].read() == part
    assert http.get_object(Bucket=bucket, Key="n")["Body"].read() == bodies[3]
    hits = files_containing(server.data_dir, marker)
    assert not hits, f"plaintext of a version found in: {hits}"
