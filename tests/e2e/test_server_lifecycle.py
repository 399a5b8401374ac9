"""Process lifecycle on dedicated servers: SIGKILL mid-upload (crash
consistency and temp cleanup), graceful SIGTERM, restart persistence,
listener switches."""

import hashlib
import os
import socket
import time

import requests

from s3util import MIB, assert_s3_error, encode_key, md5_etag, show, sign, tree_size

STREAM_TOTAL = 256 * MIB  # declared Content-Length of the interrupted upload
STREAM_SENT = 48 * MIB  # bytes actually sent before the crash
SLACK = 4 * MIB  # metadata/WAL noise tolerated when comparing data dir sizes


class StreamingPut:
    """A raw HTTP/1.1 PUT with a declared Content-Length whose body is sent
    piecemeal, so the server can be killed while it is receiving it."""

    def __init__(self, server, bucket, key, total):
        self.path = f"/{bucket}/{encode_key(key)}"
        url = server.http_endpoint + self.path
        headers = sign(server, "PUT", url, headers={"Content-Length": str(total)}, unsigned_payload=True)
        self.sock = socket.create_connection(("127.0.0.1", server.http_port), timeout=30)
        head = f"PUT {self.path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        self.sock.sendall(head.encode())
        self.sent = 0
        self.block = os.urandom(MIB)

    def send(self, n):
        """Send n more body bytes; on a send error return the server's reply."""
        while n > 0:
            piece = self.block[: min(n, len(self.block))]
            try:
                self.sock.sendall(piece)
            except OSError as e:
                return self.reply(f"send failed after {self.sent} bytes: {e}")
            self.sent += len(piece)
            n -= len(piece)
        return None

    def reply(self, why=""):
        self.sock.settimeout(2)
        data = b""
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                data += chunk
        except OSError:
            pass
        return f"{why}\nserver replied: {data[:2000]!r}"

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def _wait_for_size(path, predicate, timeout):
    deadline = time.monotonic() + timeout
    size = tree_size(path)
    while not predicate(size) and time.monotonic() < deadline:
        time.sleep(0.1)
        size = tree_size(path)
    return size


def _crash_during_put(srv, bucket, key):
    """Stream part of a large PUT to key, then SIGKILL the server.
    Returns (data dir size before the upload, size at the moment of the kill)."""
    baseline = tree_size(srv.data_dir)
    put = StreamingPut(srv, bucket, key, STREAM_TOTAL)
    try:
        failure = put.send(STREAM_SENT)
        assert failure is None, f"server refused the streaming PUT: {failure}"
        # Give the server a moment to write what it has received.
        at_kill = _wait_for_size(srv.data_dir, lambda s: s >= baseline + STREAM_SENT // 2, 5)
        srv.kill()
    finally:
        put.close()
    print(f"data dir size: {baseline} before the upload, {at_kill} when killed")
    return baseline, at_kill


def test_kill_during_overwrite_keeps_previous_version(spawn_server):
    srv = spawn_server()
    s3 = srv.client("http")
    s3.create_bucket(Bucket="crash")
    v1 = os.urandom(MIB + 123)
    s3.put_object(Bucket="crash", Key="doc.bin", Body=v1)

    baseline, at_kill = _crash_during_put(srv, "crash", "doc.bin")
    srv.start()
    s3 = srv.client("http")
    got = s3.get_object(Bucket="crash", Key="doc.bin")
    body = got["Body"].read()
    assert len(body) == len(v1) and hashlib.sha256(body).digest() == hashlib.sha256(v1).digest(), (
        f"after crash the key holds {len(body)} bytes, not v1 ({len(v1)} bytes)")
    assert got["ETag"] == md5_etag(v1)
    listed = s3.list_objects_v2(Bucket="crash")["Contents"]
    assert [(o["Key"], o["Size"]) for o in listed] == [("doc.bin", len(v1))], listed

    after = _wait_for_size(srv.data_dir, lambda s: s <= baseline + SLACK, 10)
    assert after <= baseline + SLACK, (
        f"data dir holds {after} bytes after restart, {baseline} before the interrupted upload "
        f"({at_kill} at the kill): partial upload data was not cleaned up")
    assert srv.stop() == 0


def test_kill_during_new_key_upload_leaves_no_object(spawn_server):
    srv = spawn_server()
    s3 = srv.client("http")
    s3.create_bucket(Bucket="crash")
    s3.put_object(Bucket="crash", Key="other", Body=b"unrelated")

    baseline, at_kill = _crash_during_put(srv, "crash", "fresh/new.bin")
    srv.start()
    s3 = srv.client("http")
    assert_s3_error(s3.get_object, Bucket="crash", Key="fresh/new.bin", code="NoSuchKey", status=404)
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="crash")["Contents"]] == ["other"]
    assert s3.get_object(Bucket="crash", Key="other")["Body"].read() == b"unrelated"
    after = _wait_for_size(srv.data_dir, lambda s: s <= baseline + SLACK, 10)
    assert after <= baseline + SLACK, (
        f"data dir holds {after} bytes after restart, {baseline} before the interrupted upload "
        f"({at_kill} at the kill): partial upload data was not cleaned up")
    # The store is fully usable after recovery.
    s3.put_object(Bucket="crash", Key="fresh/new.bin", Body=b"now complete")
    assert s3.get_object(Bucket="crash", Key="fresh/new.bin")["Body"].read() == b"now complete"
    assert srv.stop() == 0


def test_acknowledged_writes_survive_sigkill(spawn_server):
    srv = spawn_server()
    s3 = srv.client("http")
    s3.create_bucket(Bucket="durable")
    bodies = {f"k{i}": os.urandom(1000 * (i + 1)) for i in range(5)}
    for k, b in bodies.items():
        s3.put_object(Bucket="durable", Key=k, Body=b, Metadata={"n": k})
    s3.delete_object(Bucket="durable", Key="k0")
    s3.put_object_tagging(Bucket="durable", Key="k1", Tagging={"TagSet": [{"Key": "t", "Value": "v"}]})
    srv.kill()
    srv.start()
    s3 = srv.client("http")
    assert_s3_error(s3.head_object, Bucket="durable", Key="k0", code="404", status=404)
    for k in ("k1", "k2", "k3", "k4"):
        got = s3.get_object(Bucket="durable", Key=k)
        assert got["Body"].read() == bodies[k], k
        assert got["Metadata"] == {"n": k}, got
    assert s3.get_object_tagging(Bucket="durable", Key="k1")["TagSet"] == [{"Key": "t", "Value": "v"}]
    assert srv.stop() == 0


def test_sigterm_exits_zero(spawn_server):
    srv = spawn_server()
    srv.client("http").list_buckets()
    assert srv.stop() == 0, srv.log_tail()


def test_sigterm_lets_in_flight_request_finish(spawn_server):
    srv = spawn_server()
    s3 = srv.client("http")
    s3.create_bucket(Bucket="drain")
    total = 8 * MIB
    put = StreamingPut(srv, "drain", "in-flight.bin", total)
    try:
        assert put.send(total // 2) is None
        srv.proc.send_signal(15)
        time.sleep(0.5)
        failure = put.send(total - put.sent)
        assert failure is None, f"connection dropped after SIGTERM: {failure}"
        reply = put.reply()
        assert "HTTP/1.1 200" in reply, reply
    finally:
        put.close()
    srv.proc.wait(15)
    assert srv.proc.returncode == 0, srv.log_tail()
    srv.start()
    head = srv.client("http").head_object(Bucket="drain", Key="in-flight.bin")
    assert head["ContentLength"] == total, head
    assert srv.stop() == 0


def test_restart_keeps_data_and_tls_certificate(spawn_server):
    srv = spawn_server()
    s3 = srv.client("http")
    s3.create_bucket(Bucket="persist")
    s3.put_object(Bucket="persist", Key="a", Body=b"alpha", ContentType="text/x-alpha")
    up = s3.create_multipart_upload(Bucket="persist", Key="pending")["UploadId"]
    s3.upload_part(Bucket="persist", Key="pending", UploadId=up, PartNumber=1, Body=b"part one")
    cert = srv.cert_path.read_bytes()
    assert b"BEGIN CERTIFICATE" in cert
    assert srv.stop() == 0

    srv.start()
    assert srv.cert_path.read_bytes() == cert, "TLS certificate was regenerated on restart"
    for scheme in ("http", "https"):
        s3 = srv.client(scheme)
        got = s3.get_object(Bucket="persist", Key="a")
        assert got["Body"].read() == b"alpha" and got["ContentType"] == "text/x-alpha", got
    parts = s3.list_parts(Bucket="persist", Key="pending", UploadId=up)["Parts"]
    assert [(p["PartNumber"], p["Size"]) for p in parts] == [(1, 8)], parts
    assert srv.stop() == 0


def test_https_listener_can_be_disabled(spawn_server):
    srv = spawn_server(https=False)
    assert srv.https_port is None
    s3 = srv.client("http")
    s3.create_bucket(Bucket="httponly")
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["httponly"]
    assert srv.stop() == 0


def test_http_listener_can_be_disabled(spawn_server):
    srv = spawn_server(http=False)
    assert srv.http_port is None
    s3 = srv.client("https")
    s3.create_bucket(Bucket="tlsonly")
    r = requests.get(srv.https_endpoint + "/health/live", verify=str(srv.cert_path), timeout=10)
    assert r.status_code == 200, show(r)
    assert srv.stop() == 0


def test_tls_certificate_covers_localhost_names(spawn_server):
    srv = spawn_server(http=False)
    for host in ("127.0.0.1", "localhost"):
        r = requests.get(f"https://{host}:{srv.https_port}/health/ready", verify=str(srv.cert_path), timeout=10)
        assert r.status_code == 200, show(r)
    assert srv.stop() == 0
