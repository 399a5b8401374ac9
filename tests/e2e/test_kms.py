"""The built-in KMS through the AWS KMS JSON 1.1 API, driven by boto3's kms
client and `aws kms`, over HTTP and HTTPS: key lifecycle and aliases,
encrypt/decrypt/re-encrypt with encryption contexts, data keys, random bytes,
rotation, key policies and tags, AWS's errors, IAM users under the default key
policy, the request quota, and `strongbox audit kms`."""

import base64
import json
import os
import subprocess
import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from harness import REGION, server_binary
from test_iam import doc, iam_client, new_user


def kms_client(server, scheme, access_key=None, secret_key=None, validate=True):
    """A boto3 kms client without retries; `validate=False` lets out-of-range
    values reach the server, to see its ValidationException."""
    return boto3.session.Session().client(
        "kms",
        endpoint_url=server.endpoint(scheme),
        aws_access_key_id=access_key or server.access_key,
        aws_secret_access_key=secret_key or server.secret_key,
        region_name=REGION,
        verify=server.verify(scheme) if scheme == "https" else None,
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}, parameter_validation=validate),
    )


def kms_error(fn, *args, code, **kwargs) -> str:
    """Calls fn, expects the KMS error `code` with status 400; returns its message."""
    try:
        fn(*args, **kwargs)
    except ClientError as e:
        err = e.response
        assert err["Error"]["Code"] == code, err
        assert err["ResponseMetadata"]["HTTPStatusCode"] == 400, err
        return err["Error"].get("Message", "")
    raise AssertionError(f"expected {code}, but the call succeeded")


@pytest.fixture
def kms(server, scheme):
    return kms_client(server, scheme)


def new_key(kms, **kwargs):
    return kms.create_key(**kwargs)["KeyMetadata"]


def unique(prefix):
    return f"alias/{prefix}-{os.urandom(4).hex()}"


# ---------------------------------------------------------------- lifecycle


def test_key_lifecycle_and_aliases(kms):
    meta = new_key(kms, Description="lifecycle", Tags=[{"TagKey": "team", "TagValue": "storage"}])
    key_id, arn = meta["KeyId"], meta["Arn"]
    assert arn == f"arn:aws:kms:{REGION}:{meta['AWSAccountId']}:key/{key_id}"
    assert (meta["KeyState"], meta["Enabled"], meta["KeyManager"]) == ("Enabled", True, "CUSTOMER")
    assert (meta["KeySpec"], meta["KeyUsage"], meta["Origin"]) == ("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", "AWS_KMS")
    alias = unique("life")
    kms.create_alias(AliasName=alias, TargetKeyId=key_id)
    alias_arn = f"arn:aws:kms:{REGION}:{meta['AWSAccountId']}:{alias}"
    for name in (key_id, arn, alias, alias_arn):
        assert kms.describe_key(KeyId=name)["KeyMetadata"]["Arn"] == arn
    assert key_id in [k["KeyId"] for k in kms.get_paginator("list_keys").paginate().build_full_result()["Keys"]]
    listed = kms.list_aliases(KeyId=key_id)["Aliases"]
    assert [(a["AliasName"], a["TargetKeyId"], a["AliasArn"]) for a in listed] == [(alias, key_id, alias_arn)]
    kms_error(kms.create_alias, AliasName=alias, TargetKeyId=key_id, code="AlreadyExistsException")

    kms_error(kms.disable_key, KeyId=alias, code="NotFoundException")  # key id or ARN only, as in AWS
    kms.disable_key(KeyId=arn)
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Disabled"
    msg = kms_error(kms.encrypt, KeyId=key_id, Plaintext=b"x", code="DisabledException")
    assert msg == f"{arn} is disabled."
    kms.enable_key(KeyId=key_id)
    kms.encrypt(KeyId=key_id, Plaintext=b"x")

    scheduled = kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    assert (scheduled["KeyId"], scheduled["KeyState"], scheduled["PendingWindowInDays"]) == (arn, "PendingDeletion", 7)
    described = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    assert described["KeyState"] == "PendingDeletion" and "DeletionDate" in described
    msg = kms_error(kms.encrypt, KeyId=key_id, Plaintext=b"x", code="KMSInvalidStateException")
    assert msg == f"{arn} is pending deletion."
    assert kms.cancel_key_deletion(KeyId=key_id)["KeyId"] == arn
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Disabled"
    kms.enable_key(KeyId=key_id)
    kms.update_alias(AliasName=alias, TargetKeyId=new_key(kms)["KeyId"])
    assert kms.describe_key(KeyId=alias)["KeyMetadata"]["KeyId"] != key_id
    kms.delete_alias(AliasName=alias)
    kms_error(kms.describe_key, KeyId=alias, code="NotFoundException")
    kms_error(kms.create_alias, AliasName="alias/aws/mine", TargetKeyId=key_id, code="NotAuthorizedException")


# ---------------------------------------------------------------- cryptography


def test_encrypt_decrypt_reencrypt_with_context(kms):
    k1, k2 = new_key(kms), new_key(kms)
    context = {"purpose": "e2e", "tenant": "t1"}
    enc = kms.encrypt(KeyId=k1["KeyId"], Plaintext=b"attack at dawn", EncryptionContext=context)
    assert enc["KeyId"] == k1["Arn"] and enc["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    blob = enc["CiphertextBlob"]
    dec = kms.decrypt(CiphertextBlob=blob, EncryptionContext=context)
    assert dec["Plaintext"] == b"attack at dawn" and dec["KeyId"] == k1["Arn"]
    for wrong in ({}, {"purpose": "e2e"}, {"purpose": "e2e", "tenant": "t2"}):
        kms_error(kms.decrypt, CiphertextBlob=blob, EncryptionContext=wrong, code="InvalidCiphertextException")
    tampered = bytearray(blob)
    tampered[-1] ^= 1
    kms_error(kms.decrypt, CiphertextBlob=bytes(tampered), EncryptionContext=context,
              code="InvalidCiphertextException")
    kms_error(kms.decrypt, CiphertextBlob=blob, EncryptionContext=context, KeyId=k2["KeyId"],
              code="IncorrectKeyException")
    re = kms.re_encrypt(CiphertextBlob=blob, SourceEncryptionContext=context,
                        DestinationKeyId=k2["KeyId"], DestinationEncryptionContext={"moved": "yes"})
    assert (re["SourceKeyId"], re["KeyId"]) == (k1["Arn"], k2["Arn"])
    again = kms.decrypt(CiphertextBlob=re["CiphertextBlob"], EncryptionContext={"moved": "yes"})
    assert again["Plaintext"] == b"attack at dawn" and again["KeyId"] == k2["Arn"]


def test_data_keys_and_random(spawn_server, scheme):
    # A server of its own: its audit log gets the event name
    # GenerateDataKeyWithoutPlaintext and AWS's "Value at 'plaintext'" message,
    # which test_sse_kms's scan of the shared server's log for the word rejects.
    kms = kms_client(spawn_server(), scheme)
    key = new_key(kms)
    context = {"bucket": "b"}
    dk = kms.generate_data_key(KeyId=key["KeyId"], KeySpec="AES_256", EncryptionContext=context)
    assert len(dk["Plaintext"]) == 32 and dk["KeyId"] == key["Arn"]
    assert kms.decrypt(CiphertextBlob=dk["CiphertextBlob"], EncryptionContext=context)["Plaintext"] == dk["Plaintext"]
    assert len(kms.generate_data_key(KeyId=key["KeyId"], KeySpec="AES_128")["Plaintext"]) == 16
    assert len(kms.generate_data_key(KeyId=key["KeyId"], NumberOfBytes=48)["Plaintext"]) == 48
    kms_error(kms.generate_data_key, KeyId=key["KeyId"], code="ValidationException")
    bare = kms.generate_data_key_without_plaintext(KeyId=key["KeyId"], KeySpec="AES_256")
    assert "Plaintext" not in bare
    assert len(kms.decrypt(CiphertextBlob=bare["CiphertextBlob"])["Plaintext"]) == 32
    r1, r2 = kms.generate_random(NumberOfBytes=64), kms.generate_random(NumberOfBytes=64)
    assert len(r1["Plaintext"]) == 64 and r1["Plaintext"] != r2["Plaintext"]
    kms_error(kms.generate_random, NumberOfBytes=2000, code="ValidationException")  # botocore has no max
    kms_error(kms.encrypt, KeyId=key["KeyId"], Plaintext=b"x" * 4097, code="ValidationException")


def test_rotation_keeps_old_ciphertexts_decryptable(server):
    kms = kms_client(server, "http")
    key = new_key(kms)
    assert kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"] is False
    kms.enable_key_rotation(KeyId=key["KeyId"], RotationPeriodInDays=180)
    status = kms.get_key_rotation_status(KeyId=key["KeyId"])
    assert status["KeyRotationEnabled"] is True and status["RotationPeriodInDays"] == 180
    assert "NextRotationDate" in status
    old = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"before")["CiphertextBlob"]
    assert kms.rotate_key_on_demand(KeyId=key["KeyId"])["KeyId"] == key["Arn"]
    new = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"after")["CiphertextBlob"]
    assert old[17:21] != new[17:21], "a new material version encrypts"
    assert kms.decrypt(CiphertextBlob=old)["Plaintext"] == b"before"
    assert kms.decrypt(CiphertextBlob=new)["Plaintext"] == b"after"
    rotations = kms.list_key_rotations(KeyId=key["KeyId"])["Rotations"]
    assert [r["RotationType"] for r in rotations] == ["ON_DEMAND"]
    kms.disable_key_rotation(KeyId=key["KeyId"])
    assert kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"] is False
    unchecked = kms_client(server, "http", validate=False)
    kms_error(unchecked.enable_key_rotation, KeyId=key["KeyId"], RotationPeriodInDays=30, code="ValidationException")


def test_key_policy_tags_and_errors(server):
    kms = kms_client(server, "http")
    key = new_key(kms)
    policy = json.loads(kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"])
    account = key["AWSAccountId"]
    assert policy["Statement"][0]["Sid"] == "Enable IAM User Permissions"
    assert policy["Statement"][0]["Principal"] == {"AWS": f"arn:aws:iam::{account}:root"}
    assert kms.list_key_policies(KeyId=key["KeyId"])["PolicyNames"] == ["default"]
    policy["Statement"][0]["Sid"] = "RootAdmin"
    kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=json.dumps(policy))
    assert json.loads(kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"]) == policy
    kms_error(kms.put_key_policy, KeyId=key["KeyId"], PolicyName="default", Policy="{\"Statement\": 1}",
              code="MalformedPolicyDocumentException")

    kms.tag_resource(KeyId=key["KeyId"], Tags=[{"TagKey": "b", "TagValue": "2"}, {"TagKey": "a", "TagValue": "1"}])
    kms.untag_resource(KeyId=key["KeyId"], TagKeys=["b"])
    assert kms.list_resource_tags(KeyId=key["KeyId"])["Tags"] == [{"TagKey": "a", "TagValue": "1"}]
    kms_error(kms.tag_resource, KeyId=key["KeyId"], Tags=[{"TagKey": "aws:x", "TagValue": "1"}],
              code="TagException")

    missing = "1234abcd-12ab-34cd-56ef-1234567890ab"
    msg = kms_error(kms.describe_key, KeyId=missing, code="NotFoundException")
    assert msg == f"Key 'arn:aws:kms:{REGION}:{account}:key/{missing}' does not exist"
    kms_error(kms.describe_key, KeyId="alias/does-not-exist", code="NotFoundException")
    kms_error(kms.schedule_key_deletion, KeyId=key["KeyId"], PendingWindowInDays=5, code="ValidationException")
    kms_error(kms.create_key, KeySpec="RSA_2048", code="UnsupportedOperationException")


# ---------------------------------------------------------------- IAM users


def test_iam_user_needs_an_iam_policy_under_the_default_key_policy(server, scheme):
    kms = kms_client(server, scheme)
    key = new_key(kms)
    iam = iam_client(server, "http")
    name, user_arn, ak, sk = new_user(iam)
    user_kms = kms_client(server, scheme, ak, sk)
    msg = kms_error(user_kms.encrypt, KeyId=key["KeyId"], Plaintext=b"x", code="AccessDeniedException")
    assert msg == (f"User: {user_arn} is not authorized to perform: kms:Encrypt on resource: {key['Arn']} "
                   "because no identity-based policy allows the kms:Encrypt action")
    iam.put_user_policy(UserName=name, PolicyName="use-key", PolicyDocument=doc(
        {"Effect": "Allow", "Action": ["kms:Encrypt", "kms:Decrypt"], "Resource": key["Arn"]}))
    blob = user_kms.encrypt(KeyId=key["KeyId"], Plaintext=b"mine")["CiphertextBlob"]
    assert user_kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"mine"
    kms_error(user_kms.disable_key, KeyId=key["KeyId"], code="AccessDeniedException")
    kms_error(user_kms.create_key, code="AccessDeniedException")


# ---------------------------------------------------------------- quota


def test_request_quota_throttles(spawn_server):
    srv = spawn_server(start=False, https=False)
    # The harness starts the server in its log directory, where it reads ./strongbox.toml.
    (srv.log_dir / "strongbox.toml").write_text("[kms]\nrequests_per_second = 2\n")
    srv.start()
    kms = kms_client(srv, "http")
    key = new_key(kms)
    codes = []
    for _ in range(8):
        try:
            kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x")
            codes.append("ok")
        except ClientError as e:
            codes.append(e.response["Error"]["Code"])
            assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 400
            assert e.response["Error"]["Message"] == (
                "You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls.")
    assert codes[0] == "ok" and "ThrottlingException" in codes, codes
    kms.describe_key(KeyId=key["KeyId"])  # management calls are not throttled
    time.sleep(1.2)
    kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x")


# ---------------------------------------------------------------- awscli and audit


def test_aws_cli_kms(aws, tmp_path):
    meta = json.loads(aws("kms", "create-key", "--description", "cli").stdout)["KeyMetadata"]
    alias = unique("cli")
    aws("kms", "create-alias", "--alias-name", alias, "--target-key-id", meta["KeyId"])
    plain = tmp_path / "plain.bin"
    plain.write_bytes(b"from the aws cli")
    enc = json.loads(aws("kms", "encrypt", "--key-id", alias, "--plaintext", f"fileb://{plain}",
                         "--encryption-context", "app=cli").stdout)
    assert enc["KeyId"] == meta["Arn"]
    blob = tmp_path / "blob.bin"
    blob.write_bytes(base64.b64decode(enc["CiphertextBlob"]))
    out = aws("kms", "decrypt", "--ciphertext-blob", f"fileb://{blob}", "--encryption-context", "app=cli",
              "--query", "Plaintext", "--output", "text").stdout.strip()
    assert base64.b64decode(out) == b"from the aws cli"
    bad = aws("kms", "decrypt", "--ciphertext-blob", f"fileb://{blob}", check=False)
    assert bad.returncode != 0 and "InvalidCiphertextException" in bad.stderr
    missing = aws("kms", "describe-key", "--key-id", "alias/nope-" + os.urandom(3).hex(), check=False)
    assert missing.returncode != 0 and "NotFoundException" in missing.stderr
    rnd = json.loads(aws("kms", "generate-random", "--number-of-bytes", "16").stdout)
    assert len(base64.b64decode(rnd["Plaintext"])) == 16
    aliases = json.loads(aws("kms", "list-aliases", "--key-id", meta["KeyId"]).stdout)["Aliases"]
    assert [a["AliasName"] for a in aliases] == [alias]


def audit(server, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRONGBOX_")}
    out = subprocess.run([str(server_binary()), "audit", "kms", "--data-dir", str(server.data_dir), *args],
                         capture_output=True, text=True, timeout=60, env=env, cwd=server.log_dir)
    assert out.returncode == 0, out.stderr
    return [json.loads(line) for line in out.stdout.splitlines()]


def test_audit_kms_shows_key_use_without_plaintext(server):
    kms = kms_client(server, "http")
    key = new_key(kms)
    secret = b"audited secret plaintext"
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=secret, EncryptionContext={"dept": "eng"})["CiphertextBlob"]
    kms.decrypt(CiphertextBlob=blob, EncryptionContext={"dept": "eng"})
    kms_error(kms.decrypt, CiphertextBlob=blob, code="InvalidCiphertextException")
    events = audit(server, "--key", key["KeyId"])
    names = [e["eventName"] for e in events]
    assert names == ["CreateKey", "Encrypt", "Decrypt", "Decrypt"], names
    enc, dec, failed = events[1], events[2], events[3]
    assert enc["requestParameters"]["keyId"] == key["KeyId"]
    assert enc["requestParameters"]["encryptionContext"] == {"dept": "eng"}
    assert dec["requestParameters"]["keyId"] == key["Arn"]
    assert dec["requestParameters"]["encryptionContext"] == {"dept": "eng"}
    for e in (enc, dec):
        assert e["eventSource"] == "kms.amazonaws.com" and e["eventVersion"] == "1.08"
        assert e["userIdentity"]["type"] == "Root" and e["userIdentity"]["accessKeyId"] == server.access_key
        assert e["resources"] == [{"accountId": key["AWSAccountId"], "type": "AWS::KMS::Key", "ARN": key["Arn"]}]
        assert e["sourceIPAddress"] == "127.0.0.1" and e["readOnly"] is True and "errorCode" not in e
    assert failed["errorCode"] == "InvalidCiphertextException"
    text = (server.data_dir / "audit" / "kms.log").read_text()
    assert base64.b64encode(secret).decode() not in text and "audited secret" not in text
    later = audit(server, "--key", key["KeyId"], "--since", "2999-01-01T00:00:00Z")
    assert later == []
