//! Encrypt, Decrypt, ReEncrypt, GenerateDataKey(WithoutPlaintext),
//! GenerateRandom, context binding, tampering, the quota and the audit log.
use crate::support::*;
use serde_json::json;
use strongbox_kms::{EncryptionContext, KmsConfig, KmsError, read_events};

#[tokio::test]
async fn encrypt_decrypt_round_trip_with_context() {
    let h = harness().await;
    let (id, arn) = h.key().await;
    h.root("CreateAlias", json!({"AliasName": "alias/app", "TargetKeyId": id}))
        .await
        .ok();
    let ctx = json!({"purpose": "test", "tenant": "t1"});
    let e = h
        .root(
            "Encrypt",
            json!({"KeyId": "alias/app", "Plaintext": b64(b"hello kms"), "EncryptionContext": ctx}),
        )
        .await;
    assert_eq!(e.ok()["KeyId"], arn.as_str());
    assert_eq!(e.ok()["EncryptionAlgorithm"], "SYMMETRIC_DEFAULT");
    let blob = e.blob("CiphertextBlob");
    let d = h
        .root(
            "Decrypt",
            json!({"CiphertextBlob": b64(&blob), "EncryptionContext": ctx}),
        )
        .await;
    assert_eq!(d.blob("Plaintext"), b"hello kms");
    assert_eq!(d.ok()["KeyId"], arn.as_str());
    for wrong in [
        json!({}),
        json!({"purpose": "test"}),
        json!({"purpose": "test", "tenant": "t2"}),
    ] {
        let r = h
            .root(
                "Decrypt",
                json!({"CiphertextBlob": b64(&blob), "EncryptionContext": wrong}),
            )
            .await;
        assert_eq!(r.err("InvalidCiphertextException"), "");
    }
    let with_key = json!({"CiphertextBlob": b64(&blob), "EncryptionContext": ctx, "KeyId": "alias/app"});
    h.root("Decrypt", with_key).await.ok();
    let (other, _) = h.key().await;
    let r = h
        .root(
            "Decrypt",
            json!({"CiphertextBlob": b64(&blob), "EncryptionContext": ctx, "KeyId": other}),
        )
        .await;
    assert_eq!(
        r.err("IncorrectKeyException"),
        "The key ID in the request does not identify a CMK that can perform this operation."
    );
    h.root("Encrypt", json!({"KeyId": id, "Plaintext": b64(&[0u8; 4097])}))
        .await
        .err("ValidationException");
    h.root("Encrypt", json!({"KeyId": id, "Plaintext": b64(&[0u8; 4096])}))
        .await
        .ok();
    h.root("Encrypt", json!({"KeyId": id, "Plaintext": ""}))
        .await
        .err("ValidationException");
    h.root("Decrypt", json!({"CiphertextBlob": b64(b"garbage")}))
        .await
        .err("InvalidCiphertextException");
    h.root(
        "Encrypt",
        json!({"KeyId": id, "Plaintext": b64(b"x"), "EncryptionAlgorithm": "RSAES_OAEP_SHA_1"}),
    )
    .await
    .err("UnsupportedOperationException");
}

#[tokio::test]
async fn every_modified_byte_is_refused() {
    let h = harness().await;
    let (id, _) = h.key().await;
    let caller = h.s3_caller(None);
    let ctx: EncryptionContext = [("k".to_owned(), "v".to_owned())].into();
    let generated = h.kms.generate_data_key(&caller, &id, &ctx).await.unwrap();
    let blob = generated.ciphertext_blob.clone();
    assert_eq!(
        h.kms.decrypt(&caller, &blob, &ctx).await.unwrap().plaintext,
        generated.plaintext
    );
    for i in 0..blob.len() {
        for flip in [0x01u8, 0x80] {
            let mut bad = blob.clone();
            bad[i] ^= flip;
            let r = h.kms.decrypt(&caller, &bad, &ctx).await;
            assert_eq!(r.err(), Some(KmsError::InvalidCiphertext), "byte {i} ^ {flip:#x}");
        }
    }
    for len in 0..blob.len() {
        let r = h.kms.decrypt(&caller, &blob[..len], &ctx).await;
        assert_eq!(r.err(), Some(KmsError::InvalidCiphertext), "truncated to {len}");
    }
}

#[tokio::test]
async fn data_keys_and_random() {
    let h = harness().await;
    let (id, arn) = h.key().await;
    let ctx = json!({"bucket": "b"});
    let g = h
        .root(
            "GenerateDataKey",
            json!({"KeyId": id, "KeySpec": "AES_256", "EncryptionContext": ctx}),
        )
        .await;
    assert_eq!(g.ok()["KeyId"], arn.as_str());
    let plain = g.blob("Plaintext");
    assert_eq!(plain.len(), 32);
    let d = h
        .root(
            "Decrypt",
            json!({"CiphertextBlob": b64(&g.blob("CiphertextBlob")), "EncryptionContext": ctx}),
        )
        .await;
    assert_eq!(d.blob("Plaintext"), plain);
    let g = h
        .root("GenerateDataKey", json!({"KeyId": id, "KeySpec": "AES_128"}))
        .await;
    assert_eq!(g.blob("Plaintext").len(), 16);
    let g = h
        .root("GenerateDataKey", json!({"KeyId": id, "NumberOfBytes": 64}))
        .await;
    assert_eq!(g.blob("Plaintext").len(), 64);
    h.root("GenerateDataKey", json!({"KeyId": id}))
        .await
        .err("ValidationException");
    h.root(
        "GenerateDataKey",
        json!({"KeyId": id, "KeySpec": "AES_256", "NumberOfBytes": 32}),
    )
    .await
    .err("ValidationException");
    h.root("GenerateDataKey", json!({"KeyId": id, "NumberOfBytes": 1025}))
        .await
        .err("ValidationException");
    h.root("GenerateDataKey", json!({"KeyId": id, "KeySpec": "AES_512"}))
        .await
        .err("ValidationException");
    let w = h
        .root(
            "GenerateDataKeyWithoutPlaintext",
            json!({"KeyId": id, "KeySpec": "AES_256"}),
        )
        .await;
    assert!(w.ok().get("Plaintext").is_none());
    let d = h
        .root("Decrypt", json!({"CiphertextBlob": b64(&w.blob("CiphertextBlob"))}))
        .await;
    assert_eq!(d.blob("Plaintext").len(), 32);

    let r = h.root("GenerateRandom", json!({"NumberOfBytes": 1024})).await;
    assert_eq!(r.blob("Plaintext").len(), 1024);
    for n in [0, 1025] {
        h.root("GenerateRandom", json!({"NumberOfBytes": n}))
            .await
            .err("ValidationException");
    }
}

#[tokio::test]
async fn re_encrypt_moves_a_ciphertext_to_another_key_and_context() {
    let h = harness().await;
    let (k1, arn1) = h.key().await;
    let (k2, arn2) = h.key().await;
    let e = h
        .root(
            "Encrypt",
            json!({"KeyId": k1, "Plaintext": b64(b"move me"), "EncryptionContext": {"a": "1"}}),
        )
        .await;
    let r = h
        .root(
            "ReEncrypt",
            json!({"CiphertextBlob": b64(&e.blob("CiphertextBlob")), "SourceEncryptionContext": {"a": "1"},
                   "DestinationKeyId": k2, "DestinationEncryptionContext": {"b": "2"}}),
        )
        .await;
    assert_eq!(
        (r.ok()["SourceKeyId"].as_str(), r.ok()["KeyId"].as_str()),
        (Some(arn1.as_str()), Some(arn2.as_str()))
    );
    let blob = r.blob("CiphertextBlob");
    let d = h
        .root(
            "Decrypt",
            json!({"CiphertextBlob": b64(&blob), "EncryptionContext": {"b": "2"}}),
        )
        .await;
    assert_eq!(d.blob("Plaintext"), b"move me");
    assert_eq!(d.ok()["KeyId"], arn2.as_str());
    h.root(
        "ReEncrypt",
        json!({"CiphertextBlob": b64(&blob), "DestinationKeyId": k1, "SourceEncryptionContext": {"b": "3"}}),
    )
    .await
    .err("InvalidCiphertextException");
}

#[tokio::test]
async fn the_quota_throttles_cryptographic_requests_only() {
    let h = harness_with(KmsConfig {
        crypto_requests_per_second: Some(2),
        ..KmsConfig::default()
    })
    .await;
    let (id, _) = h.key().await;
    let encrypt = json!({"KeyId": id, "Plaintext": b64(b"x")});
    let mut outcomes = Vec::new();
    for _ in 0..4 {
        outcomes.push(h.root("Encrypt", encrypt.clone()).await.status.as_u16());
    }
    assert!(outcomes.starts_with(&[200, 200]), "{outcomes:?}");
    assert!(outcomes.contains(&400), "{outcomes:?}");
    let r = h.root("GenerateRandom", json!({"NumberOfBytes": 8})).await;
    if r.status != http::StatusCode::OK {
        let msg = r.err("ThrottlingException");
        assert_eq!(
            msg,
            "You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls."
        );
    }
    let caller = h.s3_caller(None);
    let throttled = h.kms.generate_data_key(&caller, &id, &EncryptionContext::new()).await;
    assert_eq!(
        throttled.err(),
        Some(KmsError::Throttling),
        "S3's calls share the account's bucket"
    );
    h.root("DescribeKey", json!({"KeyId": id})).await.ok();
    h.root("ListKeys", json!({})).await.ok();
    let other = h
        .call(&h.other_root.clone(), "GenerateRandom", json!({"NumberOfBytes": 8}))
        .await;
    other.ok();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    h.root("Encrypt", encrypt).await.ok();
}

#[tokio::test]
async fn every_call_is_audited_without_plaintext() {
    let h = harness().await;
    let (id, arn) = h.key().await;
    let secret = b"top secret plaintext";
    let e = h
        .root(
            "Encrypt",
            json!({"KeyId": id, "Plaintext": b64(secret), "EncryptionContext": {"dept": "eng"}}),
        )
        .await;
    let blob = e.blob("CiphertextBlob");
    h.root(
        "Decrypt",
        json!({"CiphertextBlob": b64(&blob), "EncryptionContext": {"dept": "eng"}}),
    )
    .await
    .ok();
    h.root("Decrypt", json!({"CiphertextBlob": b64(&blob)}))
        .await
        .err("InvalidCiphertextException");
    let events = read_events(h.dir.path(), Some(&id), None).unwrap();
    let names: Vec<&str> = events.iter().map(|e| e["eventName"].as_str().unwrap()).collect();
    assert_eq!(names, ["CreateKey", "Encrypt", "Decrypt", "Decrypt"]);
    let enc = &events[1];
    assert_eq!(enc["eventVersion"], "1.08");
    assert_eq!(enc["eventSource"], "kms.amazonaws.com");
    assert_eq!(enc["awsRegion"], "us-east-1");
    assert_eq!(enc["userIdentity"]["type"], "Root");
    assert_eq!(enc["userIdentity"]["accountId"], ACCOUNT);
    assert_eq!(enc["userIdentity"]["accessKeyId"], h.root.id.as_str());
    assert_eq!(enc["sourceIPAddress"], "192.0.2.7");
    assert_eq!(enc["requestParameters"]["keyId"], id.as_str());
    assert_eq!(enc["requestParameters"]["encryptionContext"], json!({"dept": "eng"}));
    assert_eq!(enc["requestParameters"]["encryptionAlgorithm"], "SYMMETRIC_DEFAULT");
    assert_eq!(
        enc["resources"],
        json!([{"accountId": ACCOUNT, "type": "AWS::KMS::Key", "ARN": arn}])
    );
    assert_eq!(enc["readOnly"], true);
    assert_eq!(enc["eventType"], "AwsApiCall");
    assert_eq!(enc["managementEvent"], true);
    assert_eq!(enc["eventCategory"], "Management");
    assert_eq!(enc["recipientAccountId"], ACCOUNT);
    assert_eq!(enc["requestID"], "req-1");
    assert!(enc["eventTime"].as_str().unwrap().ends_with('Z'));
    assert_eq!(enc["eventID"].as_str().unwrap().len(), 36);
    assert!(enc.get("errorCode").is_none());
    assert_eq!(events[2]["requestParameters"]["keyId"], arn.as_str());
    assert_eq!(events[3]["errorCode"], "InvalidCiphertextException");
    let text = std::fs::read_to_string(h.dir.path().join("audit/kms.log")).unwrap();
    assert!(!text.contains(&b64(secret)) && !text.contains("top secret"));
    let future = time::OffsetDateTime::now_utc() + time::Duration::days(1);
    assert!(read_events(h.dir.path(), None, Some(future)).unwrap().is_empty());
}
