"""A tampered ciphertext chunk makes a GET fail (and is logged); it never
returns wrong bytes. Untouched chunks of the same object still read."""

import os

import pytest
from botocore.exceptions import BotoCoreError, ClientError

CHUNK = 64 * 1024


def test_tampered_chunk_fails_the_get_not_silently(spawn_server):
    srv = spawn_server()
    s3 = srv.client("http")
    s3.create_bucket(Bucket="tamper")
    data = os.urandom(3 * CHUNK + 100)
    s3.put_object(Bucket="tamper", Key="obj", Body=data)
    blobs = [p for p in (srv.data_dir / "blobs").rglob("*") if p.is_file()]
    assert len(blobs) == 1, blobs
    blob = blobs[0]
    raw = bytearray(blob.read_bytes())
    raw[len(raw) - 50] ^= 0x01  # inside the last (final) chunk
    blob.write_bytes(bytes(raw))

    # The first chunk is intact: a range inside it still reads correctly.
    first = s3.get_object(Bucket="tamper", Key="obj", Range="bytes=0-999")["Body"].read()
    assert first == data[:1000]
    # The whole object must not come back (neither complete nor altered).
    with pytest.raises((BotoCoreError, ClientError, ConnectionError)):
        body = s3.get_object(Bucket="tamper", Key="obj")["Body"].read()
        assert body == data, "tampered object returned different bytes"
        pytest.fail("tampered object was returned in full")
    assert "object read failed" in srv.log_text(), srv.log_tail()
