"""Bucket operations: create/head/list/delete, naming rules, errors,
location, virtual-hosted-style addressing."""

import secrets
import socket

import pytest

from s3util import assert_s3_error, delete_bucket_quietly, http_headers, status_of, unique_bucket


def test_create_head_list_delete_bucket(s3):
    name = unique_bucket("lifecycle")
    resp = s3.create_bucket(Bucket=name)
    assert status_of(resp) == 200, resp
    try:
        assert status_of(s3.head_bucket(Bucket=name)) == 200

        listed = s3.list_buckets()
        buckets = {b["Name"]: b for b in listed["Buckets"]}
        assert name in buckets, listed
        assert buckets[name]["CreationDate"] is not None
        assert listed.get("Owner", {}).get("ID"), f"ListBuckets lacks Owner/ID: {listed}"
        names = [b["Name"] for b in listed["Buckets"]]
        assert names == sorted(names), f"ListBuckets not sorted by name: {names}"

        resp = s3.delete_bucket(Bucket=name)
        assert status_of(resp) == 204, resp
        assert_s3_error(s3.head_bucket, Bucket=name, code="404", status=404)
        assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    finally:
        delete_bucket_quietly(s3, name)


@pytest.mark.parametrize(
    "name",
    [
        "UPPER",
        "ab",
        "a..b",
        "192.168.1.1",
        "a" * 64,
        "under_score",
        "-leadinghyphen",
        "trailinghyphen-",
        "xn--reserved-prefix",
        "reserved-suffix-s3alias",
    ],
)
def test_invalid_bucket_name_is_rejected(s3, name):
    assert_s3_error(s3.create_bucket, Bucket=name, code="InvalidBucketName", status=400)
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_valid_bucket_name_edge_lengths_and_dots_are_accepted(s3):
    names = [
        secrets.token_hex(2)[:3],  # 3 chars
        ("edge-" + secrets.token_hex(32))[:63],  # 63 chars
        f"dots.in.name-{secrets.token_hex(3)}",
    ]
    try:
        for name in names:
            assert status_of(s3.create_bucket(Bucket=name)) == 200, name
            assert status_of(s3.head_bucket(Bucket=name)) == 200, name
    finally:
        for name in names:
            delete_bucket_quietly(s3, name)


def test_create_bucket_twice_returns_bucket_already_owned_by_you(s3, bucket):
    assert_s3_error(s3.create_bucket, Bucket=bucket, code="BucketAlreadyOwnedByYou", status=409)


def test_delete_non_empty_bucket_returns_bucket_not_empty(s3, bucket):
    s3.put_object(Bucket=bucket, Key="keep", Body=b"x")
    assert_s3_error(s3.delete_bucket, Bucket=bucket, code="BucketNotEmpty", status=409)
    assert status_of(s3.head_bucket(Bucket=bucket)) == 200
    assert s3.get_object(Bucket=bucket, Key="keep")["Body"].read() == b"x"


def test_delete_bucket_with_only_uploads_deletes_them_and_frees_parts(spawn_server):
    """S3 deletes a bucket whose only contents are in-progress multipart
    uploads, and the uploads with it; their part blobs are freed on disk."""
    srv = spawn_server()
    s3 = srv.client("http")
    name = unique_bucket("uploads-only")
    s3.create_bucket(Bucket=name)
    blobs_before = {p for p in (srv.data_dir / "blobs").rglob("*") if p.is_file()}
    ups = [s3.create_multipart_upload(Bucket=name, Key=k)["UploadId"] for k in ("a", "b")]
    for up, key in zip(ups, ("a", "b")):
        for n in (1, 2):
            s3.upload_part(Bucket=name, Key=key, UploadId=up, PartNumber=n, Body=b"p" * 300_000)
    blobs_with_parts = {p for p in (srv.data_dir / "blobs").rglob("*") if p.is_file()}
    assert len(blobs_with_parts - blobs_before) == 4

    assert status_of(s3.delete_bucket(Bucket=name)) == 204
    assert_s3_error(s3.head_bucket, Bucket=name, code="404", status=404)
    assert {p for p in (srv.data_dir / "blobs").rglob("*") if p.is_file()} == blobs_before
    # The name is free again, and the old uploads did not come back with it.
    s3.create_bucket(Bucket=name)
    assert s3.list_multipart_uploads(Bucket=name).get("Uploads", []) == []
    assert_s3_error(s3.list_parts, Bucket=name, Key="a", UploadId=ups[0], code="NoSuchUpload", status=404)


def test_operations_on_missing_bucket_return_no_such_bucket(s3):
    name = unique_bucket("missing")
    assert_s3_error(s3.head_bucket, Bucket=name, code="404", status=404)
    assert_s3_error(s3.list_objects_v2, Bucket=name, code="NoSuchBucket", status=404)
    assert_s3_error(s3.list_objects, Bucket=name, code="NoSuchBucket", status=404)
    assert_s3_error(s3.delete_bucket, Bucket=name, code="NoSuchBucket", status=404)
    assert_s3_error(s3.get_object, Bucket=name, Key="k", code="NoSuchBucket", status=404)
    assert_s3_error(s3.put_object, Bucket=name, Key="k", Body=b"x", code="NoSuchBucket", status=404)
    err = assert_s3_error(s3.get_object, Bucket=name, Key="k", code="NoSuchBucket", status=404)
    assert err["Error"].get("BucketName") in (None, name), err


def test_get_bucket_location_is_us_east_1(s3, bucket):
    resp = s3.get_bucket_location(Bucket=bucket)
    # us-east-1 buckets report an empty LocationConstraint (null).
    assert resp.get("LocationConstraint") in (None, ""), resp


def test_create_bucket_with_foreign_location_constraint_is_rejected(s3):
    # The server is us-east-1 only; AWS rejects a constraint naming another
    # region on a regional endpoint.
    name = unique_bucket("loc")
    try:
        assert_s3_error(
            s3.create_bucket,
            Bucket=name,
            CreateBucketConfiguration={"LocationConstraint": "eu-west-1"},
            code=("IllegalLocationConstraintException", "InvalidLocationConstraint"),
            status=400,
        )
    finally:
        delete_bucket_quietly(s3, name)


def test_virtual_hosted_style_addressing(server, scheme, monkeypatch):
    """http(s)://BUCKET.localhost:PORT/KEY is routed to BUCKET."""
    real_getaddrinfo = socket.getaddrinfo

    def resolve_localhost_subdomains(host, *args, **kwargs):
        # glibc here does not resolve *.localhost; the server is on loopback.
        if isinstance(host, str) and host.endswith(".localhost"):
            host = "127.0.0.1"
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve_localhost_subdomains)
    port = server.http_port if scheme == "http" else server.https_port
    s3v = server.client(
        scheme,
        endpoint=f"{scheme}://localhost:{port}",
        s3={"addressing_style": "virtual"},
    )
    sent_urls = []
    s3v.meta.events.register("before-send.s3.*", lambda request, **kw: sent_urls.append(request.url))

    name = unique_bucket("vhost")
    try:
        s3v.create_bucket(Bucket=name)
        s3v.put_object(Bucket=name, Key="dir/obj.txt", Body=b"virtual hosted")
        assert s3v.get_object(Bucket=name, Key="dir/obj.txt")["Body"].read() == b"virtual hosted"
        listed = s3v.list_objects_v2(Bucket=name)
        assert [o["Key"] for o in listed.get("Contents", [])] == ["dir/obj.txt"], listed
        assert name in [b["Name"] for b in s3v.list_buckets()["Buckets"]]
        # Path-style client sees the same object.
        assert server.client(scheme).get_object(Bucket=name, Key="dir/obj.txt")["Body"].read() == b"virtual hosted"
        assert any(u.startswith(f"{scheme}://{name}.localhost:{port}/dir/obj.txt") for u in sent_urls), sent_urls
        s3v.delete_object(Bucket=name, Key="dir/obj.txt")
        s3v.delete_bucket(Bucket=name)
    finally:
        delete_bucket_quietly(server.client("http"), name)


def test_path_style_via_localhost_hostname(server, scheme):
    port = server.http_port if scheme == "http" else server.https_port
    s3l = server.client(scheme, endpoint=f"{scheme}://localhost:{port}", s3={"addressing_style": "path"})
    name = unique_bucket("pathlocal")
    try:
        s3l.create_bucket(Bucket=name)
        s3l.put_object(Bucket=name, Key="k", Body=b"path style")
        assert s3l.get_object(Bucket=name, Key="k")["Body"].read() == b"path style"
        assert http_headers(s3l.head_object(Bucket=name, Key="k"))["content-length"] == "10"
    finally:
        delete_bucket_quietly(server.client("http"), name)
