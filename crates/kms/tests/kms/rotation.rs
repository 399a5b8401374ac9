//! Automatic (lazy) and on-demand rotation: new material encrypts, every
//! old version still decrypts.
use crate::support::*;
use serde_json::json;

/// The material version a blob names (bytes 17..21, big-endian).
fn material_version(blob: &[u8]) -> u32 {
    u32::from_be_bytes(blob[17..21].try_into().unwrap())
}

#[tokio::test]
async fn rotation_status_on_demand_and_automatic() {
    let h = harness().await;
    let (id, arn) = h.key().await;
    let status = h.root("GetKeyRotationStatus", json!({"KeyId": id})).await;
    assert_eq!(status.ok()["KeyRotationEnabled"], false);
    assert_eq!(status.ok()["KeyId"], arn.as_str());
    h.root("EnableKeyRotation", json!({"KeyId": id, "RotationPeriodInDays": 89}))
        .await
        .err("ValidationException");
    h.root("EnableKeyRotation", json!({"KeyId": id, "RotationPeriodInDays": 2561}))
        .await
        .err("ValidationException");
    h.root("EnableKeyRotation", json!({"KeyId": id, "RotationPeriodInDays": 90}))
        .await
        .ok();
    let status = h.root("GetKeyRotationStatus", json!({"KeyId": id})).await;
    let s = status.ok();
    assert_eq!(
        (s["KeyRotationEnabled"].clone(), s["RotationPeriodInDays"].clone()),
        (json!(true), json!(90))
    );
    let next = s["NextRotationDate"].as_f64().unwrap();
    let now = h.clock.load(std::sync::atomic::Ordering::SeqCst) as f64 / 1000.0;
    assert!((next - now - 90.0 * 86400.0).abs() < 5.0, "{next} {now}");

    let encrypt = |text: &'static [u8]| json!({"KeyId": id, "Plaintext": b64(text), "EncryptionContext": {"c": "1"}});
    let c1 = h.root("Encrypt", encrypt(b"one")).await.blob("CiphertextBlob");
    assert_eq!(material_version(&c1), 1);
    let r = h.root("RotateKeyOnDemand", json!({"KeyId": id})).await;
    assert_eq!(r.ok()["KeyId"], arn.as_str());
    let c2 = h.root("Encrypt", encrypt(b"two")).await.blob("CiphertextBlob");
    assert_eq!(material_version(&c2), 2);
    let status = h.root("GetKeyRotationStatus", json!({"KeyId": id})).await;
    assert_eq!(
        status.ok()["NextRotationDate"].as_f64(),
        Some(next),
        "on demand keeps the schedule"
    );

    h.advance_days(91);
    let c3 = h.root("Encrypt", encrypt(b"three")).await.blob("CiphertextBlob");
    assert_eq!(material_version(&c3), 3, "rotated lazily when used past the date");
    let c4 = h.root("Encrypt", encrypt(b"four")).await.blob("CiphertextBlob");
    assert_eq!(material_version(&c4), 3, "once");
    for (blob, text) in [(&c1, &b"one"[..]), (&c2, b"two"), (&c3, b"three")] {
        let d = h
            .root(
                "Decrypt",
                json!({"CiphertextBlob": b64(blob), "EncryptionContext": {"c": "1"}}),
            )
            .await;
        assert_eq!(d.blob("Plaintext"), text);
    }
    let list = h.root("ListKeyRotations", json!({"KeyId": id})).await;
    let kinds: Vec<&str> = list.ok()["Rotations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["RotationType"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["ON_DEMAND", "AUTOMATIC"]);
    let page = h.root("ListKeyRotations", json!({"KeyId": id, "Limit": 1})).await;
    assert_eq!(page.ok()["Truncated"], true);
    let rest = h
        .root(
            "ListKeyRotations",
            json!({"KeyId": id, "Limit": 1, "Marker": page.ok()["NextMarker"]}),
        )
        .await;
    assert_eq!(rest.ok()["Rotations"][0]["RotationType"], "AUTOMATIC");

    h.root("DisableKeyRotation", json!({"KeyId": id})).await.ok();
    let status = h.root("GetKeyRotationStatus", json!({"KeyId": id})).await;
    assert_eq!(status.ok()["KeyRotationEnabled"], false);
    assert!(status.ok().get("NextRotationDate").is_none());
    h.advance_days(400);
    let c5 = h.root("Encrypt", encrypt(b"five")).await.blob("CiphertextBlob");
    assert_eq!(material_version(&c5), 3, "no rotation while disabled");
}

#[tokio::test]
async fn rotation_needs_an_enabled_key_and_on_demand_is_limited() {
    let h = harness().await;
    let (id, arn) = h.key().await;
    h.root("DisableKey", json!({"KeyId": id})).await.ok();
    let msg = h
        .root("EnableKeyRotation", json!({"KeyId": id}))
        .await
        .err("DisabledException");
    assert_eq!(msg, format!("{arn} is disabled."));
    h.root("RotateKeyOnDemand", json!({"KeyId": id}))
        .await
        .err("DisabledException");
    h.root("EnableKey", json!({"KeyId": id})).await.ok();
    h.root("EnableKeyRotation", json!({"KeyId": id})).await.ok();
    let status = h.root("GetKeyRotationStatus", json!({"KeyId": id})).await;
    assert_eq!(status.ok()["RotationPeriodInDays"], 365, "the default period");
    for _ in 0..10 {
        h.root("RotateKeyOnDemand", json!({"KeyId": id})).await.ok();
    }
    h.root("RotateKeyOnDemand", json!({"KeyId": id}))
        .await
        .err("LimitExceededException");
}
