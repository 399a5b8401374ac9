"""ListObjects (v1) and ListObjectsV2: prefix, delimiter, pagination,
start-after, encoding-type=url, fetch-owner, UTF-8 byte order."""

from concurrent.futures import ThreadPoolExecutor
from urllib.parse import unquote_plus

import pytest

from s3util import show, signed_request


TREE = ["a/1", "a/2", "a/b/3", "b/1", "c", "d/x/y", "e"]


@pytest.fixture
def tree(s3, bucket):
    for k in TREE:
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode())
    return bucket


def keys_of(resp):
    return [o["Key"] for o in resp.get("Contents", [])]


def prefixes_of(resp):
    return [p["Prefix"] for p in resp.get("CommonPrefixes", [])]


def test_list_v2_all_keys_sorted_with_sizes(s3, tree):
    resp = s3.list_objects_v2(Bucket=tree)
    assert keys_of(resp) == TREE, resp
    assert resp["KeyCount"] == len(TREE), resp
    assert resp["IsTruncated"] is False, resp
    assert all(o["Size"] == len(o["Key"]) for o in resp["Contents"]), resp
    assert all(o.get("StorageClass") == "STANDARD" for o in resp["Contents"]), resp
    assert resp.get("Name") == tree


def test_list_v2_prefix(s3, tree):
    assert keys_of(s3.list_objects_v2(Bucket=tree, Prefix="a/")) == ["a/1", "a/2", "a/b/3"]
    assert keys_of(s3.list_objects_v2(Bucket=tree, Prefix="zzz")) == []


def test_list_v2_delimiter_groups_common_prefixes(s3, tree):
    resp = s3.list_objects_v2(Bucket=tree, Delimiter="/")
    assert keys_of(resp) == ["c", "e"], resp
    assert prefixes_of(resp) == ["a/", "b/", "d/"], resp
    assert resp["KeyCount"] == 5, resp

    resp = s3.list_objects_v2(Bucket=tree, Prefix="a/", Delimiter="/")
    assert keys_of(resp) == ["a/1", "a/2"], resp
    assert prefixes_of(resp) == ["a/b/"], resp


def test_list_v2_max_keys_and_continuation_token(s3, tree):
    first = s3.list_objects_v2(Bucket=tree, MaxKeys=3)
    assert keys_of(first) == TREE[:3], first
    assert first["IsTruncated"] is True, first
    assert first["KeyCount"] == 3 and first["MaxKeys"] == 3, first
    token = first["NextContinuationToken"]
    second = s3.list_objects_v2(Bucket=tree, MaxKeys=3, ContinuationToken=token)
    assert second.get("ContinuationToken") == token, second
    assert keys_of(second) == TREE[3:6], second
    third = s3.list_objects_v2(Bucket=tree, MaxKeys=3, ContinuationToken=second["NextContinuationToken"])
    assert keys_of(third) == TREE[6:], third
    assert third["IsTruncated"] is False
    assert "NextContinuationToken" not in third


def test_list_v2_paginating_with_delimiter_never_repeats_prefixes(s3, tree):
    seen, token = [], None
    for _ in range(20):
        kwargs = {"ContinuationToken": token} if token else {}
        page = s3.list_objects_v2(Bucket=tree, Delimiter="/", MaxKeys=1, **kwargs)
        entries = prefixes_of(page) + keys_of(page)
        assert len(entries) <= 1, page
        seen += entries
        if not page["IsTruncated"]:
            break
        token = page["NextContinuationToken"]
    assert seen == ["a/", "b/", "c", "d/", "e"], seen


def test_list_v2_start_after(s3, tree):
    assert keys_of(s3.list_objects_v2(Bucket=tree, StartAfter="b/1")) == ["c", "d/x/y", "e"]
    assert keys_of(s3.list_objects_v2(Bucket=tree, StartAfter="a/15")) == ["a/2", "a/b/3", "b/1", "c", "d/x/y", "e"]


def test_list_v2_fetch_owner(s3, tree):
    with_owner = s3.list_objects_v2(Bucket=tree, FetchOwner=True)
    assert all(o.get("Owner", {}).get("ID") for o in with_owner["Contents"]), with_owner
    without = s3.list_objects_v2(Bucket=tree)
    assert all("Owner" not in o for o in without["Contents"]), without


def test_list_v1_prefix_delimiter_and_marker(s3, tree):
    resp = s3.list_objects(Bucket=tree, Delimiter="/")
    assert keys_of(resp) == ["c", "e"], resp
    assert prefixes_of(resp) == ["a/", "b/", "d/"], resp

    first = s3.list_objects(Bucket=tree, MaxKeys=2)
    assert keys_of(first) == TREE[:2] and first["IsTruncated"] is True, first
    second = s3.list_objects(Bucket=tree, MaxKeys=2, Marker=keys_of(first)[-1])
    assert keys_of(second) == TREE[2:4], second
    assert second.get("Marker") == keys_of(first)[-1], second

    with_delim = s3.list_objects(Bucket=tree, Delimiter="/", MaxKeys=2)
    assert prefixes_of(with_delim) == ["a/", "b/"] and with_delim["IsTruncated"] is True, with_delim
    # NextMarker is returned when a delimiter is given and the listing is truncated.
    assert with_delim.get("NextMarker") in ("b/",), with_delim
    rest = s3.list_objects(Bucket=tree, Delimiter="/", Marker=with_delim["NextMarker"])
    assert keys_of(rest) == ["c", "e"], rest
    # Whether a marker equal to a common prefix repeats that prefix is not
    # documented; everything after it must be there.
    assert prefixes_of(rest) in (["d/"], ["b/", "d/"]), rest

    v1_owner = s3.list_objects(Bucket=tree)
    assert all(o.get("Owner", {}).get("ID") for o in v1_owner["Contents"]), v1_owner


def test_max_keys_zero_is_an_empty_untruncated_page(s3, tree):
    for resp in (s3.list_objects_v2(Bucket=tree, MaxKeys=0), s3.list_objects(Bucket=tree, MaxKeys=0)):
        assert resp["IsTruncated"] is False, resp
        assert resp["MaxKeys"] == 0 and keys_of(resp) == [] and prefixes_of(resp) == [], resp
        assert "NextContinuationToken" not in resp and "NextMarker" not in resp, resp
    v2 = s3.list_objects_v2(Bucket=tree, MaxKeys=0)
    assert v2["KeyCount"] == 0, v2


def test_empty_delimiter_is_no_delimiter_and_not_echoed(server, scheme, tree):
    for query in ("list-type=2&delimiter=", "delimiter="):
        r = signed_request(server, scheme, "GET", f"/{tree}", query=query)
        assert r.status_code == 200, show(r)
        assert b"<Delimiter" not in r.content, r.text
        assert r.text.count("<Key>") == len(TREE) and "<CommonPrefixes>" not in r.text, r.text


UPLOAD_KEYS = ["a/x/1", "a/x/2", "a/y", "b", "c/d", "c/e/f"]


@pytest.fixture
def uploads(s3, bucket):
    return {k: s3.create_multipart_upload(Bucket=bucket, Key=k)["UploadId"] for k in UPLOAD_KEYS}


def test_list_uploads_delimiter_rolls_up_common_prefixes(s3, bucket, uploads):
    resp = s3.list_multipart_uploads(Bucket=bucket, Delimiter="/")
    assert [u["Key"] for u in resp.get("Uploads", [])] == ["b"], resp
    assert prefixes_of(resp) == ["a/", "c/"], resp
    assert resp["Delimiter"] == "/" and resp["IsTruncated"] is False, resp
    resp = s3.list_multipart_uploads(Bucket=bucket, Delimiter="/", Prefix="a/")
    assert [u["Key"] for u in resp.get("Uploads", [])] == ["a/y"], resp
    assert prefixes_of(resp) == ["a/x/"], resp


def test_list_uploads_paged_with_delimiter_visits_each_entry_once(s3, bucket, uploads):
    seen, kwargs = [], {}
    for _ in range(10):
        resp = s3.list_multipart_uploads(Bucket=bucket, Delimiter="/", MaxUploads=1, **kwargs)
        page = [u["Key"] for u in resp.get("Uploads", [])] + prefixes_of(resp)
        assert len(page) == 1, resp
        seen += page
        if not resp["IsTruncated"]:
            break
        kwargs = {"KeyMarker": resp["NextKeyMarker"]}
        if resp.get("NextUploadIdMarker"):
            kwargs["UploadIdMarker"] = resp["NextUploadIdMarker"]
    assert seen == ["a/", "b", "c/"], seen


def test_list_uploads_pages_two_uploads_of_one_key_in_initiation_order(s3, bucket):
    ids = [s3.create_multipart_upload(Bucket=bucket, Key="same")["UploadId"] for _ in range(6)]
    got, kwargs = [], {}
    while True:
        resp = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=2, **kwargs)
        got += [u["UploadId"] for u in resp.get("Uploads", [])]
        if not resp["IsTruncated"]:
            break
        kwargs = {"KeyMarker": resp["NextKeyMarker"], "UploadIdMarker": resp["NextUploadIdMarker"]}
    assert got == ids, (got, ids)


def test_list_uploads_max_zero_and_empty_delimiter(server, scheme, s3, bucket, uploads):
    resp = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=0)
    assert resp["IsTruncated"] is False and resp.get("Uploads", []) == [], resp
    r = signed_request(server, scheme, "GET", f"/{bucket}", query="uploads=&delimiter=")
    assert r.status_code == 200 and b"<Delimiter" not in r.content, r.text
    assert r.text.count("<UploadId>") == len(UPLOAD_KEYS), r.text


def test_list_order_is_utf8_byte_order(s3, bucket):
    keys = ["a", "b", "é", "Z", "ｱ", "😀", "aa", "a/", "A"]
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    expected = sorted(keys, key=lambda k: k.encode("utf-8"))
    assert expected[:4] == ["A", "Z", "a", "a/"]
    assert keys_of(s3.list_objects_v2(Bucket=bucket)) == expected
    assert keys_of(s3.list_objects(Bucket=bucket)) == expected
    # Pagination follows the same order.
    paged = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, PaginationConfig={"PageSize": 2}):
        paged += keys_of(page)
    assert paged == expected


ODD_KEYS = ["sp ace", "plus+sign", "percent%41", "ünï/cødé", "amp&lt<", "ctl\x01char", "new\nline"]


def test_list_encoding_type_url_encodes_keys(s3, bucket):
    for k in ODD_KEYS:
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    expected = sorted(ODD_KEYS, key=lambda k: k.encode())
    for call in (s3.list_objects_v2, s3.list_objects):
        # Passing EncodingType explicitly makes botocore return keys undecoded.
        resp = call(Bucket=bucket, EncodingType="url")
        assert resp.get("EncodingType") == "url", resp
        raw = keys_of(resp)
        for k in raw:
            assert k.isascii() and " " not in k and "\x01" not in k and "\n" not in k, f"not url-encoded: {k!r}"
        assert [unquote_plus(k) for k in raw] == expected, raw


def test_list_default_boto3_listing_decodes_odd_keys(s3, bucket):
    for k in ODD_KEYS:
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    expected = sorted(ODD_KEYS, key=lambda k: k.encode())
    assert keys_of(s3.list_objects_v2(Bucket=bucket)) == expected
    resp = s3.list_objects_v2(Bucket=bucket, Prefix="ünï/", Delimiter="/")
    assert keys_of(resp) == ["ünï/cødé"], resp


def test_list_empty_bucket(s3, bucket):
    resp = s3.list_objects_v2(Bucket=bucket)
    assert resp["KeyCount"] == 0 and "Contents" not in resp and resp["IsTruncated"] is False, resp


def test_paginator_lists_2500_keys_completely(s3_http, bucket_http):
    s3, bucket = s3_http, bucket_http
    keys = [f"many/{i:05d}" for i in range(2500)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda k: s3.put_object(Bucket=bucket, Key=k, Body=b""), keys))

    pages = list(s3.get_paginator("list_objects_v2").paginate(Bucket=bucket))
    got = [k for p in pages for k in keys_of(p)]
    assert got == keys, f"{len(got)} keys listed, first diff at {next((i for i, (a, b) in enumerate(zip(got, keys)) if a != b), None)}"
    assert [len(keys_of(p)) for p in pages] == [1000, 1000, 500], [p["KeyCount"] for p in pages]

    v1 = [k for p in s3.get_paginator("list_objects").paginate(Bucket=bucket) for k in keys_of(p)]
    assert v1 == keys, len(v1)

    small_pages = list(s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix="many/01", PaginationConfig={"PageSize": 333}))
    got = [k for p in small_pages for k in keys_of(p)]
    assert got == [k for k in keys if k.startswith("many/01")], len(got)
