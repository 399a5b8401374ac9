//! Entry points for the cargo-fuzz target `iam_query` (`fuzz/`); not an API.
//! They expose, unchanged, the parameter decoding and validation every IAM
//! action runs on its Query-protocol input, and the error document the
//! endpoint answers with.
pub use crate::params::{
    EXISTING_NAME_MAX, GROUP_NAME_MAX, POLICY_NAME_MAX, Page, Params, USER_NAME_MAX, access_key_id, arn, description,
    document, name, path, path_prefix, version_id,
};

/// The `<ErrorResponse>` document for `e`.
pub fn error_xml(e: &crate::IamError, request_id: &str) -> String {
    crate::xml::error(e, request_id)
}
