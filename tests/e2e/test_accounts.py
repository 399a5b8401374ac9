"""Accounts: `strongbox admin account create/list`, and that the owner rule
separates accounts (a second account's root gets AccessDenied on the first
account's bucket, as AWS does without a policy granting access)."""

import subprocess

from harness import server_binary
from s3util import assert_s3_error, unique_bucket


def admin(server, *args, check=True):
    proc = subprocess.run(
        [str(server_binary()), "admin", "--data-dir", str(server.data_dir), *args],
        capture_output=True, text=True, timeout=60,
    )
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def create_account(server, name, *extra):
    out = admin(server, "account", "create", name, *extra).stdout
    fields = dict(line.split(": ", 1) for line in out.strip().splitlines())
    return fields


def test_account_create_prints_id_and_working_credentials(server, scheme):
    acct = create_account(server, "analytics")
    assert len(acct["Account id"]) == 12 and acct["Account id"].isdigit()
    assert acct["Root access key id"].startswith("AKIA")
    other = server.client(scheme, access_key=acct["Root access key id"], secret_key=acct["Root secret access key"])
    listed = other.list_buckets()
    assert listed["Buckets"] == [], "a new account owns no buckets"
    assert listed["Owner"]["ID"] == acct["Canonical user id"]
    assert listed["Owner"]["DisplayName"] == "analytics"
    assert other.list_buckets()["Owner"]["ID"] == listed["Owner"]["ID"], "owner id is stable"
    assert listed["Owner"]["ID"] != server.client(scheme).list_buckets()["Owner"]["ID"]
    names = [line.split("\t")[1] for line in admin(server, "account", "list").stdout.splitlines()]
    assert "analytics" in names and names[0] == "root", names


def test_other_accounts_root_is_denied_on_a_bucket_it_does_not_own(server, scheme):
    owner = server.client(scheme)
    bucket = unique_bucket("owned")
    owner.create_bucket(Bucket=bucket)
    owner.put_object(Bucket=bucket, Key="secret.txt", Body=b"owner data")
    acct = create_account(server, "intruder")
    other = server.client(scheme, access_key=acct["Root access key id"], secret_key=acct["Root secret access key"])
    assert_s3_error(other.get_object, Bucket=bucket, Key="secret.txt", code="AccessDenied", status=403)
    assert_s3_error(other.put_object, Bucket=bucket, Key="x", Body=b"y", code="AccessDenied", status=403)
    assert_s3_error(other.list_objects_v2, Bucket=bucket, code="AccessDenied", status=403)
    assert_s3_error(other.delete_bucket, Bucket=bucket, code="AccessDenied", status=403)
    assert_s3_error(other.create_bucket, Bucket=bucket, code="BucketAlreadyExists", status=409)
    # Copying out of a bucket one cannot read is denied too.
    mine = unique_bucket("mine")
    other.create_bucket(Bucket=mine)
    assert_s3_error(other.copy_object, Bucket=mine, Key="stolen", CopySource={"Bucket": bucket, "Key": "secret.txt"},
                    code="AccessDenied", status=403)
    assert [b["Name"] for b in other.list_buckets()["Buckets"]] == [mine]
    assert_s3_error(owner.get_object, Bucket=mine, Key="stolen", code="AccessDenied", status=403)
    assert owner.get_object(Bucket=bucket, Key="secret.txt")["Body"].read() == b"owner data"


def test_account_create_with_given_keys_and_duplicate_key_refused(server):
    acct = create_account(server, "fixed", "--access-key", "AKIAFIXEDKEY0000001", "--secret-key", "fixed-secret-123456")
    assert acct["Root access key id"] == "AKIAFIXEDKEY0000001"
    client = server.client("http", access_key="AKIAFIXEDKEY0000001", secret_key="fixed-secret-123456")
    assert client.list_buckets()["Owner"]["DisplayName"] == "fixed"
    again = admin(server, "account", "create", "dup", "--access-key", "AKIAFIXEDKEY0000001",
                  "--secret-key", "another-secret-123", check=False)
    assert again.returncode != 0 and "already in use" in again.stderr
    assert client.list_buckets()["Owner"]["DisplayName"] == "fixed", "the existing key still maps to its account"
