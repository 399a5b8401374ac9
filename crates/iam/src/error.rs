//! IAM errors: one variant per AWS error code this endpoint returns, with
//! AWS's HTTP status and wording, and the mapping from the store's refusals.
use http::StatusCode;
use strongbox_meta::{Conflict, Refused};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IamError {
    #[error("{0}")]
    NoSuchEntity(String),
    #[error("{0}")]
    EntityAlreadyExists(String),
    #[error("{0}")]
    DeleteConflict(String),
    #[error("{0}")]
    LimitExceeded(String),
    #[error("{0}")]
    MalformedPolicyDocument(String),
    #[error("{0}")]
    ValidationError(String),
    #[error("{0}")]
    InvalidInput(String),
    #[error("{0}")]
    PackedPolicyTooLarge(String),
    #[error("{0}")]
    InvalidAuthenticationCode(String),
    #[error("{0}")]
    InvalidAction(String),
    #[error("The request must contain the parameter Action")]
    MissingAction,
    #[error("{0}")]
    AccessDenied(String),
    #[error("The security token included in the request is invalid.")]
    InvalidClientTokenId,
    #[error("The security token included in the request is expired")]
    ExpiredToken,
    #[error("{0}")]
    SignatureDoesNotMatch(String),
    #[error("{0}")]
    IncompleteSignature(String),
    #[error("Request is missing Authentication Token")]
    MissingAuthenticationToken,
    /// An internal failure; the cause is logged and never sent.
    #[error("The request processing has failed because of an unknown error, exception or failure.")]
    ServiceFailure(String),
}

impl IamError {
    pub fn code(&self) -> &'static str {
        match self {
            IamError::NoSuchEntity(_) => "NoSuchEntity",
            IamError::EntityAlreadyExists(_) => "EntityAlreadyExists",
            IamError::DeleteConflict(_) => "DeleteConflict",
            IamError::LimitExceeded(_) => "LimitExceeded",
            IamError::MalformedPolicyDocument(_) => "MalformedPolicyDocument",
            IamError::ValidationError(_) => "ValidationError",
            IamError::InvalidInput(_) => "InvalidInput",
            IamError::PackedPolicyTooLarge(_) => "PackedPolicyTooLarge",
            IamError::InvalidAuthenticationCode(_) => "InvalidAuthenticationCode",
            IamError::InvalidAction(_) => "InvalidAction",
            IamError::MissingAction => "MissingAction",
            IamError::AccessDenied(_) => "AccessDenied",
            IamError::InvalidClientTokenId => "InvalidClientTokenId",
            IamError::ExpiredToken => "ExpiredToken",
            IamError::SignatureDoesNotMatch(_) => "SignatureDoesNotMatch",
            IamError::IncompleteSignature(_) => "IncompleteSignature",
            IamError::MissingAuthenticationToken => "MissingAuthenticationToken",
            IamError::ServiceFailure(_) => "ServiceFailure",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            IamError::NoSuchEntity(_) => StatusCode::NOT_FOUND,
            IamError::EntityAlreadyExists(_) | IamError::DeleteConflict(_) | IamError::LimitExceeded(_) => {
                StatusCode::CONFLICT
            }
            IamError::MalformedPolicyDocument(_)
            | IamError::ValidationError(_)
            | IamError::InvalidInput(_)
            | IamError::PackedPolicyTooLarge(_)
            | IamError::InvalidAuthenticationCode(_)
            | IamError::InvalidAction(_)
            | IamError::MissingAction
            | IamError::IncompleteSignature(_) => StatusCode::BAD_REQUEST,
            IamError::AccessDenied(_)
            | IamError::InvalidClientTokenId
            | IamError::ExpiredToken
            | IamError::SignatureDoesNotMatch(_)
            | IamError::MissingAuthenticationToken => StatusCode::FORBIDDEN,
            IamError::ServiceFailure(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// `Sender` (the caller's fault) or `Receiver` (ours), the XML `Type`.
    pub fn fault(&self) -> &'static str {
        match self {
            IamError::ServiceFailure(_) => "Receiver",
            _ => "Sender",
        }
    }

    pub(crate) fn internal(cause: impl std::fmt::Display) -> Self {
        IamError::ServiceFailure(cause.to_string())
    }

    /// AWS's wording for an invalid parameter value.
    pub(crate) fn invalid(field: &str, value: Option<&str>, constraint: &str) -> Self {
        let value = value.map_or_else(|| "null".to_owned(), |v| format!("'{v}'"));
        IamError::ValidationError(format!(
            "1 validation error detected: Value {value} at '{field}' failed to satisfy constraint: {constraint}"
        ))
    }
}

impl From<strongbox_meta::MetaError> for IamError {
    fn from(e: strongbox_meta::MetaError) -> Self {
        IamError::internal(e)
    }
}

/// What a refused store call was about, for AWS's messages.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Subject<'a> {
    pub user: Option<&'a str>,
    pub group: Option<&'a str>,
    /// A managed policy ARN.
    pub policy: Option<&'a str>,
    /// A policy name: inline (of the user or, without a user, the group) or managed.
    pub policy_name: Option<&'a str>,
    pub version: Option<&'a str>,
    pub access_key: Option<&'a str>,
    pub role: Option<&'a str>,
    /// An MFA device's serial number.
    pub serial: Option<&'a str>,
}

/// AWS's error for a refusal of the store.
pub(crate) fn refused(r: Refused, s: Subject<'_>) -> IamError {
    let n = |v: Option<&str>| v.unwrap_or_default().to_owned();
    match r {
        Refused::NoSuchUser => IamError::NoSuchEntity(format!("The user with name {} cannot be found.", n(s.user))),
        Refused::NoSuchGroup => IamError::NoSuchEntity(format!("The group with name {} cannot be found.", n(s.group))),
        Refused::NoSuchPolicy => {
            IamError::NoSuchEntity(format!("Policy {} does not exist or is not attachable.", n(s.policy)))
        }
        Refused::NoSuchPolicyVersion => IamError::NoSuchEntity(format!(
            "Policy {} version {} does not exist or is not attachable.",
            n(s.policy),
            n(s.version)
        )),
        Refused::NoSuchRole => IamError::NoSuchEntity(format!("The role with name {} cannot be found.", n(s.role))),
        Refused::NoSuchMfaDevice => {
            IamError::NoSuchEntity(format!("MFA device with serial number {} does not exist.", n(s.serial)))
        }
        Refused::MfaInUse => IamError::EntityAlreadyExists("MFA Device is already in use.".into()),
        Refused::NoSuchInlinePolicy => {
            let kind = match (s.user, s.role) {
                (Some(_), _) => "user",
                (None, Some(_)) => "role",
                _ => "group",
            };
            IamError::NoSuchEntity(format!(
                "The {kind} policy with name {} cannot be found.",
                n(s.policy_name)
            ))
        }
        Refused::NoSuchAccessKey => {
            IamError::NoSuchEntity(format!("The Access Key with id {} cannot be found.", n(s.access_key)))
        }
        Refused::NotAttached => IamError::NoSuchEntity(format!("Policy {} was not found.", n(s.policy))),
        Refused::NotMember => IamError::NoSuchEntity(format!("User {} is not in group {}.", n(s.user), n(s.group))),
        Refused::AlreadyExists => already_exists(s),
        Refused::LimitExceeded => limit_exceeded(s),
        Refused::Conflict(c) => IamError::DeleteConflict(conflict_message(c).to_owned()),
    }
}

fn already_exists(s: Subject<'_>) -> IamError {
    let message = match (s.user, s.group, s.policy_name, s.access_key) {
        (_, _, _, Some(key)) => format!("The Access Key with id {key} already exists."),
        (_, _, Some(policy), _) => format!("A policy called {policy} already exists. Duplicate names are not allowed."),
        _ if s.serial.is_some() => "MFADevice entity at the same path and name already exists.".to_owned(),
        (None, None, None, None) if s.role.is_some() => {
            format!("Role with name {} already exists.", s.role.unwrap_or_default())
        }
        (Some(user), _, _, _) => format!("User with name {user} already exists."),
        (None, Some(group), _, _) => format!("Group with name {group} already exists."),
        _ => "The entity already exists.".to_owned(),
    };
    IamError::EntityAlreadyExists(message)
}

fn limit_exceeded(s: Subject<'_>) -> IamError {
    if s.serial.is_some() {
        return IamError::LimitExceeded("Cannot exceed quota for MFADevicesPerUser: 8".into());
    }
    if let Some(role) = s.role {
        return IamError::LimitExceeded(if s.policy.is_some() {
            "Cannot exceed quota for PoliciesPerRole: 10".to_owned()
        } else {
            format!("Maximum policy size of 10240 bytes exceeded for role {role}")
        });
    }
    let message = match (s.user, s.group, s.policy, s.access_key) {
        (_, _, _, Some(_)) => "Cannot exceed quota for AccessKeysPerUser: 2".to_owned(),
        (Some(_), Some(_), _, _) => "Cannot exceed quota for GroupsPerUser: 10".to_owned(),
        (Some(_), None, Some(_), _) => "Cannot exceed quota for PoliciesPerUser: 10".to_owned(),
        (None, Some(_), Some(_), _) => "Cannot exceed quota for PoliciesPerGroup: 10".to_owned(),
        (None, None, Some(_), _) => {
            "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version."
                .to_owned()
        }
        (Some(user), None, None, _) => {
            format!("Maximum policy size of 2048 bytes exceeded for user {user}")
        }
        (None, Some(group), None, _) => {
            format!("Maximum policy size of 5120 bytes exceeded for group {group}")
        }
        (None, None, None, None) => "Cannot exceed quota.".to_owned(),
    };
    IamError::LimitExceeded(message)
}

fn conflict_message(c: Conflict) -> &'static str {
    match c {
        Conflict::AccessKeys => "Cannot delete entity, must delete access keys first.",
        Conflict::InlinePolicies => "Cannot delete entity, must delete policies first.",
        Conflict::AttachedPolicies => "Cannot delete entity, must detach all policies first.",
        Conflict::GroupMemberships | Conflict::GroupMembers => {
            "Cannot delete entity, must remove users from group first."
        }
        Conflict::PolicyAttached => "Cannot delete a policy attached to entities.",
        Conflict::PolicyVersions => {
            "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy."
        }
        Conflict::DefaultVersion => "Cannot delete the default version of a policy.",
        Conflict::MfaDevices => "Cannot delete entity, must delete MFA device first.",
        Conflict::MfaEnabled => "MFA device is enabled; deactivate it before deleting it.",
    }
}
