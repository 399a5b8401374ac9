//! Cryptographic operations: GenerateDataKey, GenerateDataKeyWithoutPlaintext,
//! Encrypt, Decrypt, ReEncrypt, GenerateRandom. All count against the
//! account's request quota. Plaintexts stay in zeroizing buffers and appear
//! only in the response; the audit trail gets key ids, encryption contexts
//! and sizes.
use crate::api::{Input, b64, context_json, field, in_range};
use crate::audit::Trail;
use crate::authz::{self, Identity};
use crate::ops::{SYMMETRIC_DEFAULT, crypto_extra, random_bytes};
use crate::{Kms, KmsCaller, KmsError};
use serde_json::{Value, json};

/// Encrypt's plaintext limit (bytes).
const MAX_PLAINTEXT: usize = 4096;
/// A ciphertext blob's limit (bytes).
const MAX_CIPHERTEXT: usize = 6144;

pub(crate) async fn run(
    kms: &Kms,
    caller: &KmsCaller,
    op: &str,
    input: &Input,
    trail: &mut Trail,
) -> Result<Value, KmsError> {
    kms.check_quota(caller)?;
    let identity = Identity::load(kms, caller).await?;
    match op {
        "GenerateDataKey" => data_key(kms, caller, &identity, input, trail, true).await,
        "GenerateDataKeyWithoutPlaintext" => data_key(kms, caller, &identity, input, trail, false).await,
        "Encrypt" => encrypt(kms, caller, &identity, input, trail).await,
        "Decrypt" => decrypt(kms, caller, &identity, input, trail).await,
        "ReEncrypt" => re_encrypt(kms, caller, &identity, input, trail).await,
        "GenerateRandom" => random(kms, caller, &identity, input, trail),
        other => Err(KmsError::UnknownOperation(format!("{other} is not supported."))),
    }
}

/// `EncryptionAlgorithm`-style parameters: only SYMMETRIC_DEFAULT.
pub(crate) fn algorithm(input: &Input, name: &str, trail: &mut Trail) -> Result<(), KmsError> {
    let value = input.str(name)?.unwrap_or(SYMMETRIC_DEFAULT);
    const KNOWN: [&str; 4] = ["SYMMETRIC_DEFAULT", "RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256", "SM2PKE"];
    if !KNOWN.contains(&value) {
        return Err(KmsError::invalid(
            &field(name),
            Some(value),
            &format!("Member must satisfy enum value set: [{}]", KNOWN.join(", ")),
        ));
    }
    if value != SYMMETRIC_DEFAULT {
        return Err(KmsError::UnsupportedOperation(format!(
            "{value} is not valid for a symmetric encryption KMS key."
        )));
    }
    trail.param(&field(name), SYMMETRIC_DEFAULT);
    Ok(())
}

/// A blob parameter's length limits, with AWS's messages.
fn check_len(name: &str, len: usize, max: usize) -> Result<(), KmsError> {
    if len == 0 {
        return Err(KmsError::Validation(format!(
            "1 validation error detected: Value at '{}' failed to satisfy constraint: Member must have length greater than or equal to 1",
            field(name)
        )));
    }
    if len > max {
        return Err(KmsError::Validation(format!(
            "1 validation error detected: Value at '{}' failed to satisfy constraint: Member must have length less than or equal to {max}",
            field(name)
        )));
    }
    Ok(())
}

/// The data key length from `KeySpec` or `NumberOfBytes` (exactly one of them).
pub(crate) fn data_key_len(input: &Input, trail: &mut Trail) -> Result<usize, KmsError> {
    match (input.str("KeySpec")?, input.int("NumberOfBytes")?) {
        (Some(_), Some(_)) => Err(KmsError::Validation(
            "Please specify either number of bytes or key spec, not both.".into(),
        )),
        (None, None) => Err(KmsError::Validation(
            "Please specify either number of bytes or key spec.".into(),
        )),
        (Some(spec), None) => {
            let len = match spec {
                "AES_256" => 32,
                "AES_128" => 16,
                other => {
                    return Err(KmsError::invalid(
                        "keySpec",
                        Some(other),
                        "Member must satisfy enum value set: [AES_256, AES_128]",
                    ));
                }
            };
            trail.param("keySpec", spec);
            Ok(len)
        }
        (None, Some(n)) => {
            let n = in_range("NumberOfBytes", n, 1, 1024)?;
            trail.param("numberOfBytes", n);
            Ok(usize::try_from(n).unwrap_or(32))
        }
    }
}

async fn data_key(
    kms: &Kms,
    caller: &KmsCaller,
    identity: &Identity,
    input: &Input,
    trail: &mut Trail,
    with_plaintext: bool,
) -> Result<Value, KmsError> {
    let key_id = input.required_str("KeyId")?;
    trail.param("keyId", key_id);
    let len = data_key_len(input, trail)?;
    let context = input.context("EncryptionContext")?;
    trail.param("encryptionContext", context_json(&context));
    let action = if with_plaintext {
        "kms:GenerateDataKey"
    } else {
        "kms:GenerateDataKeyWithoutPlaintext"
    };
    let key = kms
        .usable_key(caller, identity, key_id, action, crypto_extra(&context, false), trail)
        .await?;
    let plaintext = random_bytes(len)?;
    let blob = kms.seal(&key, &context, &plaintext)?;
    let mut out = json!({"CiphertextBlob": b64(&blob), "KeyId": key.arn});
    if let (true, Some(map)) = (with_plaintext, out.as_object_mut()) {
        map.insert("Plaintext".into(), b64(&plaintext));
    }
    Ok(out)
}

async fn encrypt(
    kms: &Kms,
    caller: &KmsCaller,
    identity: &Identity,
    input: &Input,
    trail: &mut Trail,
) -> Result<Value, KmsError> {
    let key_id = input.required_str("KeyId")?;
    trail.param("keyId", key_id);
    let plaintext = input.blob("Plaintext")?.ok_or_else(|| KmsError::missing("plaintext"))?;
    check_len("Plaintext", plaintext.len(), MAX_PLAINTEXT)?;
    let context = input.context("EncryptionContext")?;
    trail.param("encryptionContext", context_json(&context));
    algorithm(input, "EncryptionAlgorithm", trail)?;
    let key = kms
        .usable_key(
            caller,
            identity,
            key_id,
            "kms:Encrypt",
            crypto_extra(&context, true),
            trail,
        )
        .await?;
    let blob = kms.seal(&key, &context, &plaintext)?;
    Ok(json!({"CiphertextBlob": b64(&blob), "KeyId": key.arn, "EncryptionAlgorithm": SYMMETRIC_DEFAULT}))
}

/// The required `CiphertextBlob` parameter, within AWS's size limit.
pub(crate) fn ciphertext_blob(input: &Input) -> Result<zeroize::Zeroizing<Vec<u8>>, KmsError> {
    let blob = input
        .blob("CiphertextBlob")?
        .ok_or_else(|| KmsError::missing("ciphertextBlob"))?;
    check_len("CiphertextBlob", blob.len(), MAX_CIPHERTEXT)?;
    Ok(blob)
}

async fn decrypt(
    kms: &Kms,
    caller: &KmsCaller,
    identity: &Identity,
    input: &Input,
    trail: &mut Trail,
) -> Result<Value, KmsError> {
    let blob = ciphertext_blob(input)?;
    let context = input.context("EncryptionContext")?;
    trail.param("encryptionContext", context_json(&context));
    algorithm(input, "EncryptionAlgorithm", trail)?;
    let expected = input.str("KeyId")?;
    let (plaintext, key) = kms
        .open_blob(caller, identity, &blob, &context, expected, "kms:Decrypt", trail)
        .await?;
    Ok(json!({"KeyId": key.arn, "Plaintext": b64(&plaintext), "EncryptionAlgorithm": SYMMETRIC_DEFAULT}))
}

async fn re_encrypt(
    kms: &Kms,
    caller: &KmsCaller,
    identity: &Identity,
    input: &Input,
    trail: &mut Trail,
) -> Result<Value, KmsError> {
    let blob = ciphertext_blob(input)?;
    let destination = input.required_str("DestinationKeyId")?;
    trail.param("destinationKeyId", destination);
    let source_context = input.context("SourceEncryptionContext")?;
    let destination_context = input.context("DestinationEncryptionContext")?;
    trail.param("sourceEncryptionContext", context_json(&source_context));
    trail.param("destinationEncryptionContext", context_json(&destination_context));
    algorithm(input, "SourceEncryptionAlgorithm", trail)?;
    algorithm(input, "DestinationEncryptionAlgorithm", trail)?;
    let expected = input.str("SourceKeyId")?;
    let (plaintext, source) = kms
        .open_blob(
            caller,
            identity,
            &blob,
            &source_context,
            expected,
            "kms:ReEncryptFrom",
            trail,
        )
        .await?;
    let extra = crypto_extra(&destination_context, true);
    let key = kms
        .usable_key(caller, identity, destination, "kms:ReEncryptTo", extra, trail)
        .await?;
    let new_blob = kms.seal(&key, &destination_context, &plaintext)?;
    Ok(json!({
        "CiphertextBlob": b64(&new_blob),
        "SourceKeyId": source.arn,
        "KeyId": key.arn,
        "SourceEncryptionAlgorithm": SYMMETRIC_DEFAULT,
        "DestinationEncryptionAlgorithm": SYMMETRIC_DEFAULT,
    }))
}

fn random(
    kms: &Kms,
    caller: &KmsCaller,
    identity: &Identity,
    input: &Input,
    trail: &mut Trail,
) -> Result<Value, KmsError> {
    let n = input
        .int("NumberOfBytes")?
        .ok_or_else(|| KmsError::missing("numberOfBytes"))?;
    let n = in_range("NumberOfBytes", n, 1, 1024)?;
    trail.param("numberOfBytes", n);
    if input.str("CustomKeyStoreId")?.is_some() {
        return Err(KmsError::UnsupportedOperation(
            "Custom key stores are not supported by this KMS.".into(),
        ));
    }
    let context = authz::context(caller, kms.region(), None, &Vec::new());
    authz::authorize_account(caller, identity, "kms:GenerateRandom", "*", &context)?;
    let bytes = random_bytes(usize::try_from(n).unwrap_or(0))?;
    Ok(json!({"Plaintext": b64(&bytes)}))
}
