"""Versioning (issue 13): the bucket state machine and the null version,
delete markers and restores, version-specific reads, copies and tagging,
and ListObjectVersions pagination, with boto3 and the awscli over HTTP and
HTTPS, as AWS documents them."""

import json
import time
import xml.etree.ElementTree as ET
from urllib.parse import quote

import boto3
import pytest

from harness import AwsCli
from s3util import assert_s3_error, http_headers, signed_request, unique_bucket

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def versions_of(s3, bucket, key=None):
    """(key, version id, is latest, marker) of every version, in the order the
    server's XML lists them (boto3 splits Versions and DeleteMarkers apart)."""
    server, scheme = s3._strongbox
    out, marker = [], ""
    while True:
        resp = signed_request(server, scheme, "GET", f"/{bucket}", query="versions=" + marker)
        assert resp.status_code == 200, resp.content
        root = ET.fromstring(resp.content)
        for el in root:
            tag = el.tag.removeprefix(NS)
            if tag in ("Version", "DeleteMarker"):
                out.append((el.findtext(NS + "Key"), el.findtext(NS + "VersionId"),
                            el.findtext(NS + "IsLatest") == "true", tag == "DeleteMarker"))
        if root.findtext(NS + "IsTruncated") != "true":
            break
        marker = "&key-marker=" + quote(root.findtext(NS + "NextKeyMarker"), safe="") + \
            "&version-id-marker=" + root.findtext(NS + "NextVersionIdMarker")
    if key is not None:
        out = [v for v in out if v[0] == key]
    return out


@pytest.fixture
def s3(server, scheme):
    client = server.client(scheme)
    client._strongbox = (server, scheme)
    return client


def enable(s3, bucket, status="Enabled"):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": status})


def test_get_bucket_versioning_states_and_no_way_back(s3, bucket):
    got = s3.get_bucket_versioning(Bucket=bucket)
    assert "Status" not in got and "MFADelete" not in got
    enable(s3, bucket)
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    enable(s3, bucket, "Suspended")
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"
    # There is no "unversioned" status to return to.
    assert_s3_error(s3.put_bucket_versioning, Bucket=bucket,
                    VersioningConfiguration={"Status": "Disabled"}, code="MalformedXML", status=400)
    assert_s3_error(s3.get_bucket_versioning, Bucket=bucket + "-missing", code="NoSuchBucket", status=404)


def test_null_version_rules(s3, bucket):
    # Unversioned: no version id header, the object is the null version.
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"v0")
    assert "VersionId" not in put
    enable(s3, bucket)
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"v1")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="k", Body=b"v2")["VersionId"]
    assert len({v1, v2, "null"}) == 3 and len(v1) <= 1024
    assert [v[1] for v in versions_of(s3, bucket, "k")] == [v2, v1, "null"]
    assert s3.get_object(Bucket=bucket, Key="k", VersionId="null")["Body"].read() == b"v0"
    # Suspended: a PUT overwrites the null version only; versions stay.
    enable(s3, bucket, "Suspended")
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"s1")
    assert put["VersionId"] == "null"
    assert [v[1] for v in versions_of(s3, bucket, "k")] == ["null", v2, v1]
    s3.put_object(Bucket=bucket, Key="k", Body=b"s2")
    assert [v[1] for v in versions_of(s3, bucket, "k")] == ["null", v2, v1]
    got = s3.get_object(Bucket=bucket, Key="k")
    assert got["Body"].read() == b"s2" and got["VersionId"] == "null"
    assert s3.get_object(Bucket=bucket, Key="k", VersionId=v1)["Body"].read() == b"v1"
    # Re-enabled: the null version stays in the stack below new versions.
    enable(s3, bucket)
    v3 = s3.put_object(Bucket=bucket, Key="k", Body=b"v3")["VersionId"]
    assert [v[1] for v in versions_of(s3, bucket, "k")] == [v3, "null", v2, v1]


def test_delete_markers_and_restore(s3, bucket):
    enable(s3, bucket)
    v1 = s3.put_object(Bucket=bucket, Key="doc", Body=b"one")["VersionId"]
    d = s3.delete_object(Bucket=bucket, Key="doc")
    assert d["DeleteMarker"] is True and d["VersionId"] not in (v1, "null")
    marker = d["VersionId"]
    err = assert_s3_error(s3.get_object, Bucket=bucket, Key="doc", code="NoSuchKey", status=404)
    h = http_headers(err)
    assert h["x-amz-delete-marker"] == "true" and h["x-amz-version-id"] == marker
    err = assert_s3_error(s3.head_object, Bucket=bucket, Key="doc", code="404", status=404)
    assert http_headers(err)["x-amz-delete-marker"] == "true"
    # A marker asked for by id: 405, Allow: DELETE.
    err = assert_s3_error(s3.get_object, Bucket=bucket, Key="doc", VersionId=marker,
                          code="MethodNotAllowed", status=405)
    assert http_headers(err)["allow"] == "DELETE" and http_headers(err)["x-amz-delete-marker"] == "true"
    # The data is still there, and not listed.
    assert s3.get_object(Bucket=bucket, Key="doc", VersionId=v1)["Body"].read() == b"one"
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    assert versions_of(s3, bucket) == [("doc", marker, True, True), ("doc", v1, False, False)]
    # Deleting the marker restores the version.
    d = s3.delete_object(Bucket=bucket, Key="doc", VersionId=marker)
    assert d["DeleteMarker"] is True and d["VersionId"] == marker
    assert s3.get_object(Bucket=bucket, Key="doc")["Body"].read() == b"one"
    assert versions_of(s3, bucket) == [("doc", v1, True, False)]
    # Deleting a version for good; a missing (well-formed) version is no error.
    s3.delete_object(Bucket=bucket, Key="doc", VersionId=v1)
    assert versions_of(s3, bucket) == []
    s3.delete_object(Bucket=bucket, Key="doc", VersionId=v1)
    assert_s3_error(s3.get_object, Bucket=bucket, Key="doc", VersionId=v1, code="NoSuchVersion", status=404)
    assert_s3_error(s3.get_object, Bucket=bucket, Key="doc", VersionId="not-a-version",
                    code="InvalidArgument", status=400)
    # Suspended: DELETE adds the null marker, replacing the null version.
    enable(s3, bucket, "Suspended")
    s3.put_object(Bucket=bucket, Key="n", Body=b"null data")
    d = s3.delete_object(Bucket=bucket, Key="n")
    assert d["DeleteMarker"] is True and d["VersionId"] == "null"
    assert versions_of(s3, bucket, "n") == [("n", "null", True, True)]


def test_delete_objects_with_versions(s3, bucket):
    enable(s3, bucket)
    va = s3.put_object(Bucket=bucket, Key="a", Body=b"a")["VersionId"]
    s3.put_object(Bucket=bucket, Key="b", Body=b"b")
    out = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "a", "VersionId": va}, {"Key": "b"}]})
    by_key = {d["Key"]: d for d in out["Deleted"]}
    assert by_key["a"]["VersionId"] == va and "DeleteMarker" not in by_key["a"]
    assert by_key["b"]["DeleteMarker"] is True and by_key["b"]["DeleteMarkerVersionId"]
    assert [v[0] for v in versions_of(s3, bucket)] == ["b", "b"]
    marker = by_key["b"]["DeleteMarkerVersionId"]
    out = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "b", "VersionId": marker}]})
    assert out["Deleted"][0]["DeleteMarker"] is True and out["Deleted"][0]["VersionId"] == marker
    assert s3.get_object(Bucket=bucket, Key="b")["Body"].read() == b"b"


def test_version_specific_head_copy_and_tagging(s3, bucket):
    enable(s3, bucket)
    v1 = s3.put_object(Bucket=bucket, Key="src", Body=b"first", Tagging="gen=1")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="src", Body=b"second!")["VersionId"]
    head = s3.head_object(Bucket=bucket, Key="src", VersionId=v1)
    assert head["ContentLength"] == 5 and head["VersionId"] == v1
    assert s3.head_object(Bucket=bucket, Key="src")["VersionId"] == v2
    # CopyObject from an older version, and restoring it onto the same key.
    cp = s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src", "VersionId": v1})
    assert cp["CopySourceVersionId"] == v1 and cp["VersionId"] not in (v1, v2)
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == b"first"
    restored = s3.copy_object(Bucket=bucket, Key="src", CopySource={"Bucket": bucket, "Key": "src", "VersionId": v1})
    assert s3.get_object(Bucket=bucket, Key="src")["Body"].read() == b"first"
    assert [v[1] for v in versions_of(s3, bucket, "src")] == [restored["VersionId"], v2, v1]
    # Tagging by version.
    assert s3.get_object_tagging(Bucket=bucket, Key="src", VersionId=v1)["TagSet"] == [{"Key": "gen", "Value": "1"}]
    assert s3.get_object_tagging(Bucket=bucket, Key="src", VersionId=v2)["TagSet"] == []
    s3.put_object_tagging(Bucket=bucket, Key="src", VersionId=v2, Tagging={"TagSet": [{"Key": "gen", "Value": "2"}]})
    assert s3.get_object_tagging(Bucket=bucket, Key="src", VersionId=v2)["TagSet"] == [{"Key": "gen", "Value": "2"}]
    assert s3.get_object_tagging(Bucket=bucket, Key="src", VersionId=v1)["TagSet"] == [{"Key": "gen", "Value": "1"}]
    s3.delete_object_tagging(Bucket=bucket, Key="src", VersionId=v1)
    assert s3.get_object_tagging(Bucket=bucket, Key="src", VersionId=v1)["TagSet"] == []
    # Multipart completions get versions too; the older version still reads.
    up = s3.create_multipart_upload(Bucket=bucket, Key="src")["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key="src", UploadId=up, PartNumber=1, Body=b"multipart")
    done = s3.complete_multipart_upload(Bucket=bucket, Key="src", UploadId=up,
                                        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert done["VersionId"] not in ("null", v1, v2)
    assert s3.get_object(Bucket=bucket, Key="src")["Body"].read() == b"multipart"
    assert s3.get_object(Bucket=bucket, Key="src", VersionId=done["VersionId"])["Body"].read() == b"multipart"
    assert s3.get_object(Bucket=bucket, Key="src", VersionId=v2)["Body"].read() == b"second!"


def test_list_object_versions_pagination_2500_versions(s3, bucket):
    enable(s3, bucket)
    expected = {}
    # 2,500 versions: 5 keys of 300 under p/, 1,000 of one key under q/.
    for i in range(5):
        for _ in range(300):
            expected.setdefault(f"p/{i}", []).append(s3.put_object(Bucket=bucket, Key=f"p/{i}", Body=b"x")["VersionId"])
    for _ in range(1000):
        expected.setdefault("q/one", []).append(s3.put_object(Bucket=bucket, Key="q/one", Body=b"y")["VersionId"])
    want = [(k, v) for k in sorted(expected) for v in reversed(expected[k])]
    for page_size in (1000, 333):
        got, pages = [], 0
        kw = {"Bucket": bucket, "MaxKeys": page_size}
        while True:
            page = s3.list_object_versions(**kw)
            pages += 1
            got += [(v["Key"], v["VersionId"]) for v in page.get("Versions", [])]
            if not page["IsTruncated"]:
                break
            kw["KeyMarker"], kw["VersionIdMarker"] = page["NextKeyMarker"], page["NextVersionIdMarker"]
        assert got == want and pages == -(-2500 // page_size)
    latest = [v for v in versions_of(s3, bucket) if v[2]]
    assert [(k, v) for k, v, _, _ in latest] == [(k, expected[k][-1]) for k in sorted(expected)]
    # Prefix and delimiter.
    rolled = s3.list_object_versions(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in rolled["CommonPrefixes"]] == ["p/", "q/"] and "Versions" not in rolled
    only_q = s3.list_object_versions(Bucket=bucket, Prefix="q/", MaxKeys=5)
    assert [v["VersionId"] for v in only_q["Versions"]] == list(reversed(expected["q/one"]))[:5]
    # A version marker without a key marker is refused, as AWS.
    assert_s3_error(s3.list_object_versions, Bucket=bucket, VersionIdMarker=expected["q/one"][0],
                    code="InvalidArgument", status=400)


def test_list_object_versions_url_encoding_and_owner(s3, bucket, server):
    enable(s3, bucket)
    s3.put_object(Bucket=bucket, Key="a b/ü", Body=b"1")
    page = s3.list_object_versions(Bucket=bucket, EncodingType="url")
    # An explicit EncodingType is left to the caller to decode (boto3 decodes only its own).
    assert page["Versions"][0]["Key"] == "a%20b/%C3%BC" and page["EncodingType"] == "url"
    assert page["Versions"][0]["Owner"]["ID"]
    assert page["Versions"][0]["StorageClass"] == "STANDARD"


def test_awscli_versioning_round_trip(aws, s3, bucket, tmp_path):
    aws("s3api", "put-bucket-versioning", "--bucket", bucket, "--versioning-configuration", "Status=Enabled")
    status = json.loads(aws("s3api", "get-bucket-versioning", "--bucket", bucket).stdout)
    assert status["Status"] == "Enabled"
    f = tmp_path / "f"
    ids = []
    for body in (b"one", b"two"):
        f.write_bytes(body)
        ids.append(json.loads(aws("s3api", "put-object", "--bucket", bucket, "--key", "k", "--body", str(f)).stdout)["VersionId"])
    listed = json.loads(aws("s3api", "list-object-versions", "--bucket", bucket).stdout)
    assert [v["VersionId"] for v in listed["Versions"]] == list(reversed(ids))
    out = tmp_path / "out"
    aws("s3api", "get-object", "--bucket", bucket, "--key", "k", "--version-id", ids[0], str(out))
    assert out.read_bytes() == b"one"
    aws("s3", "rm", f"s3://{bucket}/k")
    listed = json.loads(aws("s3api", "list-object-versions", "--bucket", bucket).stdout)
    assert len(listed["DeleteMarkers"]) == 1 and listed["DeleteMarkers"][0]["IsLatest"] is True
    aws("s3api", "delete-object", "--bucket", bucket, "--key", "k", "--version-id", listed["DeleteMarkers"][0]["VersionId"])
    aws("s3", "cp", f"s3://{bucket}/k", str(out))
    assert out.read_bytes() == b"two"


def test_a_versioned_bucket_with_versions_is_not_empty(s3, bucket):
    enable(s3, bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"1")
    s3.delete_object(Bucket=bucket, Key="k")
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    assert_s3_error(s3.delete_bucket, Bucket=bucket, code="BucketNotEmpty", status=409)


def enable_root_mfa(server, account):
    """The account root's MFA device from the admin CLI: (serial, pyotp.TOTP).
    Enabling it uses the current 30 s step's code."""
    import subprocess
    import pyotp
    from harness import server_binary

    proc = subprocess.Popen(
        [str(server_binary()), "admin", "--data-dir", str(server.data_dir), "account", "mfa", "enable", account],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = {}
    while "URI" not in lines:
        line = proc.stdout.readline()
        assert line, proc.stderr.read()
        if ": " in line:
            k, v = line.rstrip("\n").split(": ", 1)
            lines[k] = v
    totp = pyotp.TOTP(lines["Base32 seed"])
    now = time.time()
    _, err = proc.communicate(f"{totp.at(now - 30)}\n{totp.at(now)}\n", timeout=60)
    assert proc.returncode == 0, err
    return lines["Serial number"], totp


def next_step():
    """Sleeps into the next 30 s TOTP step (each code is accepted once)."""
    time.sleep(30 - time.time() % 30 + 0.3)


def test_mfa_delete_enabled_by_the_root_with_a_totp_code(server):
    from test_accounts import create_account

    acct = create_account(server, f"mfadel-{int(time.time() * 1000) % 100000}")
    account = acct["Account id"]
    root = server.client("https", access_key=acct["Root access key id"], secret_key=acct["Root secret access key"])
    root_http = server.client("http", access_key=acct["Root access key id"], secret_key=acct["Root secret access key"])
    iam = boto3.session.Session().client(
        "iam", endpoint_url=server.endpoint("https"), region_name="us-east-1", verify=server.verify("https"),
        aws_access_key_id=acct["Root access key id"], aws_secret_access_key=acct["Root secret access key"])
    iam.create_user(UserName="admin")
    iam.put_user_policy(UserName="admin", PolicyName="all", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
    key = iam.create_access_key(UserName="admin")["AccessKey"]
    admin = server.client("https", access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"])
    bucket = unique_bucket("mfadelete")
    root.create_bucket(Bucket=bucket)
    enable(root, bucket)
    v1 = root.put_object(Bucket=bucket, Key="k", Body=b"precious")["VersionId"]
    serial, totp = enable_root_mfa(server, account)
    next_step()
    code = totp.now()
    # An IAM user with s3:* cannot turn MFA Delete on, even with the root's code.
    assert_s3_error(admin.put_bucket_versioning, Bucket=bucket, MFA=f"{serial} {code}",
                    VersioningConfiguration={"Status": "Enabled", "MFADelete": "Enabled"},
                    code="AccessDenied", status=403)
    # x-amz-mfa is refused over HTTP.
    assert_s3_error(root_http.put_bucket_versioning, Bucket=bucket, MFA=f"{serial} {code}",
                    VersioningConfiguration={"Status": "Enabled", "MFADelete": "Enabled"},
                    code="InvalidRequest", status=400)
    # Without a code: refused.
    err = assert_s3_error(root.put_bucket_versioning, Bucket=bucket,
                          VersioningConfiguration={"Status": "Enabled", "MFADelete": "Enabled"},
                          code="AccessDenied", status=403)
    assert err["Error"]["Message"] == "Mfa Authentication must be used for this request"
    # The root with a real code, through the awscli.
    cli = AwsCli(server, "https", credentials={"AccessKeyId": acct["Root access key id"],
                                               "SecretAccessKey": acct["Root secret access key"]})
    cli("s3api", "put-bucket-versioning", "--bucket", bucket,
        "--versioning-configuration", "Status=Enabled,MFADelete=Enabled", "--mfa", f"{serial} {code}")
    got = root.get_bucket_versioning(Bucket=bucket)
    assert (got["Status"], got["MFADelete"]) == ("Enabled", "Enabled")
    # Now a version delete needs a code: none, or the one just used, is refused.
    err = assert_s3_error(root.delete_object, Bucket=bucket, Key="k", VersionId=v1, code="AccessDenied", status=403)
    assert err["Error"]["Message"] == "Mfa Authentication must be used for this request"
    assert_s3_error(root.delete_object, Bucket=bucket, Key="k", VersionId=v1, MFA=f"{serial} {code}",
                    code="AccessDenied", status=403)
    assert_s3_error(admin.delete_objects, Bucket=bucket, Delete={"Objects": [{"Key": "k", "VersionId": v1}]},
                    code="AccessDenied", status=403)
    assert_s3_error(root.put_bucket_versioning, Bucket=bucket, VersioningConfiguration={"Status": "Suspended"},
                    code="AccessDenied", status=403)
    # A plain DELETE (a marker) and listing need none.
    marker = admin.delete_object(Bucket=bucket, Key="k")["VersionId"]
    assert len(admin.list_object_versions(Bucket=bucket)["Versions"]) == 1
    assert root.get_object(Bucket=bucket, Key="k", VersionId=v1)["Body"].read() == b"precious"
    # A fresh code allows the version delete.
    next_step()
    root.delete_object(Bucket=bucket, Key="k", VersionId=v1, MFA=f"{serial} {totp.now()}")
    assert_s3_error(root.get_object, Bucket=bucket, Key="k", VersionId=v1, code="NoSuchVersion", status=404)
    # And another turns MFA Delete off again.
    next_step()
    root.put_bucket_versioning(Bucket=bucket, MFA=f"{serial} {totp.now()}",
                               VersioningConfiguration={"Status": "Enabled", "MFADelete": "Disabled"})
    assert "MFADelete" not in root.get_bucket_versioning(Bucket=bucket) or \
        root.get_bucket_versioning(Bucket=bucket)["MFADelete"] == "Disabled"
    root.delete_object(Bucket=bucket, Key="k", VersionId=marker)
    root.delete_bucket(Bucket=bucket)


def test_existing_object_tag_condition_reads_the_named_version(s3, bucket):
    """s3:ExistingObjectTag/* is the tag of the version a request names."""
    enable(s3, bucket)
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"secret", Tagging="class=secret")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="k", Body=b"public", Tagging="class=public")["VersionId"]
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": ["s3:GetObject", "s3:GetObjectVersion"],
         "Resource": f"arn:aws:s3:::{bucket}/*",
         "Condition": {"StringEquals": {"s3:ExistingObjectTag/class": "secret"}}}]}))
    try:
        assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"public"
        assert s3.get_object(Bucket=bucket, Key="k", VersionId=v2)["Body"].read() == b"public"
        assert_s3_error(s3.get_object, Bucket=bucket, Key="k", VersionId=v1, code="AccessDenied", status=403)
    finally:
        s3.delete_bucket_policy(Bucket=bucket)
