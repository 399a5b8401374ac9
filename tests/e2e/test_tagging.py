"""Object and bucket tagging."""

from s3util import assert_s3_error, status_of


def _tagset(resp):
    return sorted((t["Key"], t["Value"]) for t in resp["TagSet"])


def test_object_tagging_put_get_delete(s3, bucket):
    s3.put_object(Bucket=bucket, Key="tagged", Body=b"x")
    assert s3.get_object_tagging(Bucket=bucket, Key="tagged")["TagSet"] == []
    tags = [{"Key": "project", "Value": "strongbox"}, {"Key": "env", "Value": "test env"},
            {"Key": "empty", "Value": ""}]
    resp = s3.put_object_tagging(Bucket=bucket, Key="tagged", Tagging={"TagSet": tags})
    assert status_of(resp) == 200, resp
    assert _tagset(s3.get_object_tagging(Bucket=bucket, Key="tagged")) == sorted(
        (t["Key"], t["Value"]) for t in tags)
    assert s3.head_object(Bucket=bucket, Key="tagged").get("TagCount") in (None, 3)
    assert s3.get_object(Bucket=bucket, Key="tagged").get("TagCount") == 3
    # Putting again replaces the whole set.
    s3.put_object_tagging(Bucket=bucket, Key="tagged", Tagging={"TagSet": [{"Key": "only", "Value": "1"}]})
    assert _tagset(s3.get_object_tagging(Bucket=bucket, Key="tagged")) == [("only", "1")]
    resp = s3.delete_object_tagging(Bucket=bucket, Key="tagged")
    assert status_of(resp) == 204, resp
    assert s3.get_object_tagging(Bucket=bucket, Key="tagged")["TagSet"] == []


def test_put_object_with_tagging_header(s3, bucket):
    s3.put_object(Bucket=bucket, Key="hdr", Body=b"x", Tagging="a=1&b=two%20words")
    assert _tagset(s3.get_object_tagging(Bucket=bucket, Key="hdr")) == [("a", "1"), ("b", "two words")]


def test_eleven_object_tags_are_rejected(s3, bucket):
    s3.put_object(Bucket=bucket, Key="many", Body=b"x")
    tags = [{"Key": f"k{i}", "Value": str(i)} for i in range(11)]
    assert_s3_error(s3.put_object_tagging, Bucket=bucket, Key="many", Tagging={"TagSet": tags},
                    code=("BadRequest", "InvalidTag"), status=400)
    assert s3.get_object_tagging(Bucket=bucket, Key="many")["TagSet"] == []
    ten = tags[:10]
    s3.put_object_tagging(Bucket=bucket, Key="many", Tagging={"TagSet": ten})
    assert len(s3.get_object_tagging(Bucket=bucket, Key="many")["TagSet"]) == 10


def test_invalid_object_tags_are_rejected(s3, bucket):
    s3.put_object(Bucket=bucket, Key="bad", Body=b"x")
    for tagset in (
        [{"Key": "k" * 129, "Value": "v"}],  # key longer than 128
        [{"Key": "k", "Value": "v" * 257}],  # value longer than 256
        [{"Key": "dup", "Value": "1"}, {"Key": "dup", "Value": "2"}],
    ):
        assert_s3_error(s3.put_object_tagging, Bucket=bucket, Key="bad", Tagging={"TagSet": tagset},
                        code="InvalidTag", status=400)


def test_object_tagging_on_missing_key_is_no_such_key(s3, bucket):
    assert_s3_error(s3.get_object_tagging, Bucket=bucket, Key="absent", code="NoSuchKey", status=404)
    assert_s3_error(s3.put_object_tagging, Bucket=bucket, Key="absent",
                    Tagging={"TagSet": [{"Key": "a", "Value": "b"}]}, code="NoSuchKey", status=404)


def test_bucket_tagging_put_get_delete(s3, bucket):
    assert_s3_error(s3.get_bucket_tagging, Bucket=bucket, code="NoSuchTagSet", status=404)
    tags = [{"Key": "team", "Value": "storage"}, {"Key": "cost-center", "Value": "42"}]
    resp = s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tags})
    assert status_of(resp) in (200, 204), resp
    assert _tagset(s3.get_bucket_tagging(Bucket=bucket)) == sorted((t["Key"], t["Value"]) for t in tags)
    resp = s3.delete_bucket_tagging(Bucket=bucket)
    assert status_of(resp) == 204, resp
    assert_s3_error(s3.get_bucket_tagging, Bucket=bucket, code="NoSuchTagSet", status=404)
