"""Multipart uploads: lifecycle, listing, validation errors, UploadPartCopy."""

import pytest

from s3util import KIB, MIB, assert_s3_error, md5_etag, multipart_etag, random_bytes, status_of

PART = 5 * MIB


@pytest.fixture(scope="module")
def parts():
    """Two full-size parts and a small tail."""
    return [random_bytes(PART), random_bytes(PART), random_bytes(700 * KIB + 3)]


def _upload(s3, bucket, key, upload_id, datas, start=1):
    out = []
    for n, data in enumerate(datas, start=start):
        resp = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=n, Body=data)
        assert resp["ETag"] == md5_etag(data), resp
        out.append({"PartNumber": n, "ETag": resp["ETag"]})
    return out


def test_multipart_upload_lifecycle(s3, bucket, parts):
    key = "mp/object.bin"
    created = s3.create_multipart_upload(Bucket=bucket, Key=key, ContentType="application/x-mp",
                                         Metadata={"kind": "multipart"})
    upload_id = created["UploadId"]
    assert upload_id and created["Key"] == key and created["Bucket"] == bucket, created

    listed = s3.list_multipart_uploads(Bucket=bucket)
    assert [(u["Key"], u["UploadId"]) for u in listed.get("Uploads", [])] == [(key, upload_id)], listed

    datas = [parts[0], parts[2]]
    done_parts = _upload(s3, bucket, key, upload_id, datas)

    lp = s3.list_parts(Bucket=bucket, Key=key, UploadId=upload_id)
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in lp["Parts"]] == [
        (1, md5_etag(datas[0]), len(datas[0])),
        (2, md5_etag(datas[1]), len(datas[1])),
    ], lp
    assert lp["IsTruncated"] is False

    page = s3.list_parts(Bucket=bucket, Key=key, UploadId=upload_id, MaxParts=1)
    assert [p["PartNumber"] for p in page["Parts"]] == [1] and page["IsTruncated"] is True, page
    rest = s3.list_parts(Bucket=bucket, Key=key, UploadId=upload_id,
                         PartNumberMarker=int(page["NextPartNumberMarker"]))
    assert [p["PartNumber"] for p in rest["Parts"]] == [2], rest

    # The object does not exist before completion.
    assert_s3_error(s3.head_object, Bucket=bucket, Key=key, code="404", status=404)

    done = s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id,
                                        MultipartUpload={"Parts": done_parts})
    assert status_of(done) == 200, done
    assert done["Key"] == key and done["Bucket"] == bucket, done
    assert done["ETag"].strip('"').endswith("-2"), done
    assert done.get("ServerSideEncryption") == "AES256", done

    got = s3.get_object(Bucket=bucket, Key=key)
    assert got["Body"].read() == datas[0] + datas[1]
    assert got["ContentLength"] == len(datas[0]) + len(datas[1])
    assert got["ETag"] == done["ETag"]
    assert got["ContentType"] == "application/x-mp", got
    assert got["Metadata"] == {"kind": "multipart"}, got
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    assert_s3_error(s3.list_parts, Bucket=bucket, Key=key, UploadId=upload_id, code="NoSuchUpload", status=404)


def test_multipart_etag_is_md5_of_part_md5s_with_part_count(s3, bucket, parts):
    key = "mp/etag"
    up = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    done = s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=up,
                                        MultipartUpload={"Parts": _upload(s3, bucket, key, up, parts)})
    assert done["ETag"] == multipart_etag(parts), done
    assert s3.head_object(Bucket=bucket, Key=key)["ETag"] == multipart_etag(parts)


def test_single_small_part_upload_completes(s3, bucket):
    key = "mp/single"
    data = b"only part, smaller than 5 MiB is fine when last"
    up = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    done = s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=up,
                                        MultipartUpload={"Parts": _upload(s3, bucket, key, up, [data])})
    assert done["ETag"].strip('"').endswith("-1"), done
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == data


def test_reuploading_a_part_number_replaces_it(s3, bucket, parts):
    key = "mp/replace"
    up = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    _upload(s3, bucket, key, up, [b"old contents of part one"])
    done_parts = _upload(s3, bucket, key, up, [b"new part one"])
    s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=up, MultipartUpload={"Parts": done_parts})
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"new part one"


def test_non_contiguous_part_numbers_are_allowed(s3, bucket, parts):
    key = "mp/gaps"
    up = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    p = _upload(s3, bucket, key, up, [parts[0]], start=3) + _upload(s3, bucket, key, up, [b"tail"], start=10)
    s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=up, MultipartUpload={"Parts": p})
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == parts[0] + b"tail"


def test_abort_multipart_upload(s3, bucket):
    key = "mp/aborted"
    up = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    _upload(s3, bucket, key, up, [b"some data"])
    resp = s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=up)
    assert status_of(resp) == 204, resp
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    assert_s3_error(s3.list_parts, Bucket=bucket, Key=key, UploadId=up, code="NoSuchUpload", status=404)
    assert_s3_error(s3.upload_part, Bucket=bucket, Key=key, UploadId=up, PartNumber=2, Body=b"x",
                    code="NoSuchUpload", status=404)
    assert_s3_error(s3.head_object, Bucket=bucket, Key=key, code="404", status=404)


def test_unknown_upload_id_is_no_such_upload(s3, bucket):
    bogus = "bm90LWEtcmVhbC11cGxvYWQtaWQ"
    assert_s3_error(s3.upload_part, Bucket=bucket, Key="k", UploadId=bogus, PartNumber=1, Body=b"x",
                    code="NoSuchUpload", status=404)
    assert_s3_error(s3.list_parts, Bucket=bucket, Key="k", UploadId=bogus, code="NoSuchUpload", status=404)
    assert_s3_error(s3.complete_multipart_upload, Bucket=bucket, Key="k", UploadId=bogus,
                    MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": md5_etag(b"x")}]},
                    code="NoSuchUpload", status=404)
    assert_s3_error(s3.abort_multipart_upload, Bucket=bucket, Key="k", UploadId=bogus,
                    code="NoSuchUpload", status=404)


def test_complete_retried_after_success_returns_the_same_result(s3, bucket, parts):
    """SDKs retry CompleteMultipartUpload after a timeout; S3 answers 200 with
    the same result while the completed object is unchanged."""
    key = "mp/retried"
    up = s3.create_multipart_upload(Bucket=bucket, Key=key, ChecksumAlgorithm="CRC32")["UploadId"]
    done = []
    for n, data in enumerate([parts[0], parts[2]], start=1):
        r = s3.upload_part(Bucket=bucket, Key=key, UploadId=up, PartNumber=n, Body=data, ChecksumAlgorithm="CRC32")
        done.append({"PartNumber": n, "ETag": r["ETag"], "ChecksumCRC32": r["ChecksumCRC32"]})
    first = s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=up, MultipartUpload={"Parts": done})
    again = s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=up, MultipartUpload={"Parts": done})
    assert status_of(again) == 200
    for field in ("ETag", "Key", "Bucket", "ChecksumCRC32", "ServerSideEncryption"):
        assert again.get(field) == first.get(field), (field, first, again)
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == parts[0] + parts[2]

    # A different part list is not the same request: the upload is gone.
    assert_s3_error(s3.complete_multipart_upload, Bucket=bucket, Key=key, UploadId=up,
                    MultipartUpload={"Parts": done[:1]}, code="NoSuchUpload", status=404)
    # Once the object is replaced, the old upload no longer describes it.
    s3.put_object(Bucket=bucket, Key=key, Body=b"replaced")
    assert_s3_error(s3.complete_multipart_upload, Bucket=bucket, Key=key, UploadId=up,
                    MultipartUpload={"Parts": done}, code="NoSuchUpload", status=404)
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"replaced"


def test_upload_id_is_bound_to_its_key(s3, bucket):
    up = s3.create_multipart_upload(Bucket=bucket, Key="right-key")["UploadId"]
    assert_s3_error(s3.upload_part, Bucket=bucket, Key="wrong-key", UploadId=up, PartNumber=1, Body=b"x",
                    code="NoSuchUpload", status=404)


def test_small_non_last_part_is_entity_too_small(s3, bucket):
    key = "mp/small"
    up = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    p = _upload(s3, bucket, key, up, [random_bytes(1 * MIB), random_bytes(1 * MIB)])
    assert_s3_error(s3.complete_multipart_upload, Bucket=bucket, Key=key, UploadId=up,
                    MultipartUpload={"Parts": p}, code="EntityTooSmall", status=400)
    assert_s3_error(s3.head_object, Bucket=bucket, Key=key, code="404", status=404)


def test_wrong_part_etag_is_invalid_part(s3, bucket, parts):
    key = "mp/badetag"
    up = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    p = _upload(s3, bucket, key, up, parts[:2])
    bad = [p[0], {"PartNumber": 2, "ETag": '"0123456789abcdef0123456789abcdef"'}]
    assert_s3_error(s3.complete_multipart_upload, Bucket=bucket, Key=key, UploadId=up,
                    MultipartUpload={"Parts": bad}, code="InvalidPart", status=400)
    missing = p + [{"PartNumber": 7, "ETag": p[0]["ETag"]}]
    assert_s3_error(s3.complete_multipart_upload, Bucket=bucket, Key=key, UploadId=up,
                    MultipartUpload={"Parts": missing}, code="InvalidPart", status=400)
    # A failed completion leaves the upload usable.
    done = s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=up, MultipartUpload={"Parts": p})
    assert done["ETag"] == multipart_etag(parts[:2]), done


def test_parts_out_of_order_is_invalid_part_order(s3, bucket, parts):
    key = "mp/order"
    up = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    p = _upload(s3, bucket, key, up, parts[:2])
    assert_s3_error(s3.complete_multipart_upload, Bucket=bucket, Key=key, UploadId=up,
                    MultipartUpload={"Parts": [p[1], p[0]]}, code="InvalidPartOrder", status=400)
    assert_s3_error(s3.head_object, Bucket=bucket, Key=key, code="404", status=404)


def test_part_number_out_of_range_is_rejected(s3, bucket):
    up = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    for n in (0, 10001):
        assert_s3_error(s3.upload_part, Bucket=bucket, Key="k", UploadId=up, PartNumber=n, Body=b"x",
                        code=("InvalidArgument", "InvalidPartNumber"), status=400)


def test_upload_part_copy_with_ranges(s3, bucket):
    src = random_bytes(PART + 123 * KIB)
    s3.put_object(Bucket=bucket, Key="copy-src", Body=src)
    key = "mp/from-copy"
    up = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    r1 = s3.upload_part_copy(Bucket=bucket, Key=key, UploadId=up, PartNumber=1,
                             CopySource={"Bucket": bucket, "Key": "copy-src"},
                             CopySourceRange=f"bytes=0-{PART - 1}")
    r2 = s3.upload_part_copy(Bucket=bucket, Key=key, UploadId=up, PartNumber=2,
                             CopySource={"Bucket": bucket, "Key": "copy-src"},
                             CopySourceRange=f"bytes={PART}-{len(src) - 1}")
    assert r1["CopyPartResult"]["ETag"] == md5_etag(src[:PART]), r1
    assert r2["CopyPartResult"]["ETag"] == md5_etag(src[PART:]), r2
    parts = [{"PartNumber": 1, "ETag": r1["CopyPartResult"]["ETag"]},
             {"PartNumber": 2, "ETag": r2["CopyPartResult"]["ETag"]}]
    done = s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=up, MultipartUpload={"Parts": parts})
    assert done["ETag"] == multipart_etag([src[:PART], src[PART:]]), done
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == src


def test_upload_part_copy_range_beyond_source_is_invalid_range(s3, bucket):
    s3.put_object(Bucket=bucket, Key="tiny-src", Body=b"0123456789")
    up = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    assert_s3_error(s3.upload_part_copy, Bucket=bucket, Key="k", UploadId=up, PartNumber=1,
                    CopySource={"Bucket": bucket, "Key": "tiny-src"}, CopySourceRange="bytes=5-50",
                    code=("InvalidRange", "InvalidArgument"), status=(400, 416))
