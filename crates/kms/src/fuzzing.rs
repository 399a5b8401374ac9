//! Entry point for the cargo-fuzz target `kms_json` (`fuzz/`); not an API.
//! It runs, unchanged, the request decoding each KMS operation does on its
//! JSON body before touching a key: the body parse, then every parameter
//! the operation reads, with its type and range checks.
use crate::KmsError;
use crate::api::{self, Input};
use crate::api_crypto::{algorithm, ciphertext_blob, data_key_len};
use crate::api_keys::{KEY_SPECS, KEY_USAGES, ORIGINS, only, validate_tags};
use crate::audit::Trail;

/// The operations `decode` knows, as `X-Amz-Target: TrentService.<op>` names them.
pub const OPERATIONS: &[&str] = &[
    "CreateKey",
    "DescribeKey",
    "ListKeys",
    "UpdateKeyDescription",
    "EnableKey",
    "DisableKey",
    "ScheduleKeyDeletion",
    "CancelKeyDeletion",
    "EnableKeyRotation",
    "DisableKeyRotation",
    "GetKeyRotationStatus",
    "RotateKeyOnDemand",
    "ListKeyRotations",
    "GetKeyPolicy",
    "PutKeyPolicy",
    "ListKeyPolicies",
    "TagResource",
    "UntagResource",
    "ListResourceTags",
    "CreateAlias",
    "ListAliases",
    "DeleteAlias",
    "UpdateAlias",
    "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
    "Encrypt",
    "Decrypt",
    "ReEncrypt",
    "GenerateRandom",
];

/// Decodes `body` as operation `op`'s request: the parameters that
/// operation reads, with the same getters and checks, before any key lookup.
pub fn decode(op: &str, body: &[u8]) -> Result<(), KmsError> {
    let input = Input::parse(body)?;
    let mut trail = Trail::new("Fuzz", true);
    match op {
        "CreateKey" => {
            input.str("Description")?;
            only(&input, "KeyUsage", &KEY_USAGES, "ENCRYPT_DECRYPT")?;
            only(&input, "KeySpec", &KEY_SPECS, "SYMMETRIC_DEFAULT")?;
            only(&input, "CustomerMasterKeySpec", &KEY_SPECS, "SYMMETRIC_DEFAULT")?;
            only(&input, "Origin", &ORIGINS, "AWS_KMS")?;
            input.str("CustomKeyStoreId")?;
            input.bool("MultiRegion")?;
            validate_tags(&input.tags("Tags")?)?;
            input.str("Policy")?;
            input.bool("BypassPolicyLockoutSafetyCheck")?;
        }
        "ListKeys" => {
            input.page(100, 1000)?;
        }
        "ListKeyRotations" => {
            input.required_str("KeyId")?;
            input.page(100, 1000)?;
        }
        "ListResourceTags" => {
            input.required_str("KeyId")?;
            input.page(50, 50)?;
        }
        "UpdateKeyDescription" => {
            input.required_str("KeyId")?;
            input.required_str("Description")?;
        }
        "ScheduleKeyDeletion" => {
            input.required_str("KeyId")?;
            input.int("PendingWindowInDays")?;
        }
        "EnableKeyRotation" => {
            input.required_str("KeyId")?;
            input.int("RotationPeriodInDays")?;
        }
        "GetKeyPolicy" | "PutKeyPolicy" => {
            input.required_str("KeyId")?;
            input.str("PolicyName")?;
            if op == "PutKeyPolicy" {
                input.required_str("Policy")?;
                input.bool("BypassPolicyLockoutSafetyCheck")?;
            }
        }
        "TagResource" => {
            input.required_str("KeyId")?;
            validate_tags(&input.tags("Tags")?)?;
        }
        "UntagResource" => {
            input.required_str("KeyId")?;
            input.strings("TagKeys")?;
        }
        "CreateAlias" | "UpdateAlias" => {
            input.required_str("AliasName")?;
            input.required_str("TargetKeyId")?;
        }
        "DeleteAlias" => {
            input.required_str("AliasName")?;
        }
        "ListAliases" => {
            input.page(100, 100)?;
            input.str("KeyId")?;
        }
        "GenerateDataKey" | "GenerateDataKeyWithoutPlaintext" => {
            input.required_str("KeyId")?;
            data_key_len(&input, &mut trail)?;
            input.context("EncryptionContext")?;
        }
        "Encrypt" => {
            input.required_str("KeyId")?;
            input.blob("Plaintext")?;
            input.context("EncryptionContext")?;
            algorithm(&input, "EncryptionAlgorithm", &mut trail)?;
        }
        "Decrypt" => {
            ciphertext_blob(&input)?;
            input.context("EncryptionContext")?;
            algorithm(&input, "EncryptionAlgorithm", &mut trail)?;
            input.str("KeyId")?;
        }
        "ReEncrypt" => {
            ciphertext_blob(&input)?;
            input.required_str("DestinationKeyId")?;
            input.context("SourceEncryptionContext")?;
            input.context("DestinationEncryptionContext")?;
            algorithm(&input, "SourceEncryptionAlgorithm", &mut trail)?;
            algorithm(&input, "DestinationEncryptionAlgorithm", &mut trail)?;
            input.str("SourceKeyId")?;
        }
        "GenerateRandom" => {
            input.int("NumberOfBytes")?;
            input.str("CustomKeyStoreId")?;
        }
        // DescribeKey, EnableKey, DisableKey, CancelKeyDeletion, DisableKeyRotation,
        // GetKeyRotationStatus, RotateKeyOnDemand, ListKeyPolicies.
        _ => {
            input.required_str("KeyId")?;
        }
    }
    Ok(())
}

/// The JSON error body and `x-amzn-ErrorType` the endpoint answers `e` with.
pub fn error_body(e: &KmsError) -> (String, Option<&'static str>) {
    let r = api::error(e, "fuzz");
    (r.body, r.error_type)
}
