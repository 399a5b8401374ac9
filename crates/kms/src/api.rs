//! The KMS JSON 1.1 protocol: `POST /` with `X-Amz-Target:
//! TrentService.<Operation>` and a JSON body; blobs are base64 strings and
//! dates epoch seconds. Errors are `{"__type": CODE, "message": ...}` with
//! the code in `x-amzn-ErrorType` too. Every operation that reaches a caller
//! is audited, refused ones included.
use crate::audit::Trail;
use crate::{EncryptionContext, Kms, KmsCaller, KmsError, KmsRequest, KmsResponse};
use crate::{api_aliases, api_crypto, api_keys, auth};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};
use zeroize::Zeroizing;

/// The operations this endpoint serves, with whether CloudTrail calls them read-only.
const OPERATIONS: &[(&str, bool)] = &[
    ("CreateKey", false),
    ("DescribeKey", true),
    ("ListKeys", true),
    ("UpdateKeyDescription", false),
    ("EnableKey", false),
    ("DisableKey", false),
    ("ScheduleKeyDeletion", false),
    ("CancelKeyDeletion", false),
    ("EnableKeyRotation", false),
    ("DisableKeyRotation", false),
    ("GetKeyRotationStatus", true),
    ("RotateKeyOnDemand", false),
    ("ListKeyRotations", true),
    ("GetKeyPolicy", true),
    ("PutKeyPolicy", false),
    ("ListKeyPolicies", true),
    ("TagResource", false),
    ("UntagResource", false),
    ("ListResourceTags", true),
    ("CreateAlias", false),
    ("ListAliases", true),
    ("DeleteAlias", false),
    ("UpdateAlias", false),
    ("GenerateDataKey", true),
    ("GenerateDataKeyWithoutPlaintext", true),
    ("Encrypt", true),
    ("Decrypt", true),
    ("ReEncrypt", true),
    ("GenerateRandom", true),
];

pub(crate) async fn handle(kms: &Kms, req: KmsRequest<'_>) -> KmsResponse {
    let target = req
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let name = target.strip_prefix("TrentService.").unwrap_or(target);
    let Some(&(op, read_only)) = OPERATIONS.iter().find(|(n, _)| *n == name) else {
        return error(&KmsError::UnknownOperation(String::new()), req.request_id);
    };
    let caller = match auth::authenticate(kms, &req).await {
        Ok(c) => c,
        Err(e) => return error(&e, req.request_id),
    };
    let mut trail = Trail::new(op, read_only);
    let result = match Input::parse(req.body) {
        Ok(input) => run(kms, &caller, op, &input, &mut trail).await,
        Err(e) => Err(e),
    };
    kms.record(&caller, &trail, result.as_ref().err());
    match result {
        Ok(value) => KmsResponse {
            status: http::StatusCode::OK,
            body: value.to_string(),
            error_type: None,
        },
        Err(e) => error(&e, req.request_id),
    }
}

async fn run(kms: &Kms, caller: &KmsCaller, op: &str, input: &Input, trail: &mut Trail) -> Result<Value, KmsError> {
    match op {
        "CreateAlias" | "ListAliases" | "DeleteAlias" | "UpdateAlias" => {
            api_aliases::run(kms, caller, op, input, trail).await
        }
        "GenerateDataKey"
        | "GenerateDataKeyWithoutPlaintext"
        | "Encrypt"
        | "Decrypt"
        | "ReEncrypt"
        | "GenerateRandom" => api_crypto::run(kms, caller, op, input, trail).await,
        _ => api_keys::run(kms, caller, op, input, trail).await,
    }
}

pub(crate) fn error(e: &KmsError, request_id: &str) -> KmsResponse {
    match e {
        KmsError::Internal(cause) => tracing::error!(request_id, %cause, "kms request failed"),
        other => tracing::info!(request_id, code = other.code(), "kms request refused"),
    }
    let mut body = Map::new();
    body.insert("__type".into(), e.code().into());
    let message = e.message();
    if !message.is_empty() {
        body.insert("message".into(), message.into());
    }
    KmsResponse {
        status: e.status(),
        body: Value::Object(body).to_string(),
        error_type: Some(e.code()),
    }
}

/// A request body: a JSON object (an empty body counts as `{}`).
pub(crate) struct Input(Map<String, Value>);

impl Input {
    pub(crate) fn parse(body: &[u8]) -> Result<Input, KmsError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Input(Map::new()));
        }
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => Ok(Input(map)),
            Ok(_) => Err(KmsError::Serialization(
                "Start of structure or map found where not expected.".into(),
            )),
            Err(_) => Err(KmsError::Serialization(
                "Unexpected content in the request body.".into(),
            )),
        }
    }

    fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    pub fn str(&self, name: &str) -> Result<Option<&str>, KmsError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(wrong_type(name)),
        }
    }

    pub fn required_str(&self, name: &str) -> Result<&str, KmsError> {
        self.str(name)?.ok_or_else(|| KmsError::missing(&field(name)))
    }

    pub fn int(&self, name: &str) -> Result<Option<i64>, KmsError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => v.as_i64().map(Some).ok_or_else(|| wrong_type(name)),
        }
    }

    pub fn bool(&self, name: &str) -> Result<Option<bool>, KmsError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(wrong_type(name)),
        }
    }

    /// A base64 blob, zeroized on drop (it may be a plaintext).
    pub fn blob(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>, KmsError> {
        let Some(text) = self.str(name)? else {
            return Ok(None);
        };
        STANDARD
            .decode(text.as_bytes())
            .map(|b| Some(Zeroizing::new(b)))
            .map_err(|_| KmsError::Serialization(format!("Base64 encoded data expected for {name}.")))
    }

    pub fn context(&self, name: &str) -> Result<EncryptionContext, KmsError> {
        match self.get(name) {
            None => Ok(EncryptionContext::new()),
            Some(Value::Object(map)) => map
                .iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Ok((k.clone(), s.clone())),
                    _ => Err(wrong_type(name)),
                })
                .collect(),
            Some(_) => Err(wrong_type(name)),
        }
    }

    pub fn strings(&self, name: &str) -> Result<Vec<String>, KmsError> {
        match self.get(name) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_owned).ok_or_else(|| wrong_type(name)))
                .collect(),
            Some(_) => Err(wrong_type(name)),
        }
    }

    /// `[{"TagKey": .., "TagValue": ..}]`.
    pub fn tags(&self, name: &str) -> Result<Vec<(String, String)>, KmsError> {
        match self.get(name) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|t| {
                    match (
                        t.get("TagKey").and_then(Value::as_str),
                        t.get("TagValue").and_then(Value::as_str),
                    ) {
                        (Some(k), Some(v)) => Ok((k.to_owned(), v.to_owned())),
                        _ => Err(wrong_type(name)),
                    }
                })
                .collect(),
            Some(_) => Err(wrong_type(name)),
        }
    }

    /// `Limit` (1 to `max`, default `default`) and `Marker`.
    pub fn page(&self, default: usize, max: i64) -> Result<(usize, Option<&str>), KmsError> {
        let limit = match self.int("Limit")? {
            None => default,
            Some(n) if (1..=max).contains(&n) => usize::try_from(n).unwrap_or(default),
            Some(n) if n < 1 => {
                return Err(KmsError::invalid(
                    "limit",
                    Some(&n.to_string()),
                    "Member must have value greater than or equal to 1",
                ));
            }
            Some(n) => {
                return Err(KmsError::invalid(
                    "limit",
                    Some(&n.to_string()),
                    &format!("Member must have value less than or equal to {max}"),
                ));
            }
        };
        Ok((limit, self.str("Marker")?))
    }
}

/// The name AWS's validation messages use for a parameter (`KeyId` -> `keyId`).
pub(crate) fn field(name: &str) -> String {
    let mut chars = name.chars();
    chars
        .next()
        .map(|c| c.to_ascii_lowercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

fn wrong_type(name: &str) -> KmsError {
    KmsError::Serialization(format!("Unexpected value type for {name}."))
}

/// An encryption context for an audit record.
pub(crate) fn context_json(context: &EncryptionContext) -> Value {
    Value::Object(
        context
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

/// Epoch seconds with milliseconds, as AWS's JSON protocols send dates.
pub(crate) fn date(ms: i64) -> Value {
    #[expect(clippy::cast_precision_loss, reason = "epoch milliseconds fit a double exactly")]
    let secs = ms as f64 / 1000.0;
    json!(secs)
}

pub(crate) fn b64(bytes: &[u8]) -> Value {
    Value::String(STANDARD.encode(bytes))
}

/// A page of a listing: the items, `Truncated`, and `NextMarker` when truncated.
pub(crate) fn page(name: &str, items: Vec<Value>, next_marker: Option<String>) -> Value {
    let mut out = Map::new();
    out.insert(name.to_owned(), Value::Array(items));
    out.insert("Truncated".into(), next_marker.is_some().into());
    if let Some(m) = next_marker {
        out.insert("NextMarker".into(), m.into());
    }
    Value::Object(out)
}

/// Checks an integer parameter's range with AWS's message.
pub(crate) fn in_range(name: &str, value: i64, min: i64, max: i64) -> Result<i64, KmsError> {
    let shown = value.to_string();
    if value < min {
        return Err(KmsError::invalid(
            &field(name),
            Some(&shown),
            &format!("Member must have value greater than or equal to {min}"),
        ));
    }
    if value > max {
        return Err(KmsError::invalid(
            &field(name),
            Some(&shown),
            &format!("Member must have value less than or equal to {max}"),
        ));
    }
    Ok(value)
}
