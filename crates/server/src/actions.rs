//! Which IAM actions an S3 operation needs, on which resource: AWS's
//! "Actions, resources, and condition keys for Amazon S3" table, written once.
//! The authorization gate looks every operation up here; an operation missing
//! from the table is denied, never allowed by default.

/// What an action applies to (which ARN the policy's Resource must match).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    /// `*` (ListAllMyBuckets and other account-level actions).
    Account,
    /// `arn:aws:s3:::bucket`
    Bucket,
    /// `arn:aws:s3:::bucket/key`
    Object,
}

/// One IAM action an operation requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Required {
    pub action: &'static str,
    pub resource: ResourceKind,
}

const fn on(action: &'static str, resource: ResourceKind) -> Required {
    Required { action, resource }
}

use ResourceKind::{Account, Bucket, Object};

/// `(operation, without versionId, with versionId)`. The versioned column
/// differs where AWS authorizes a specific version with its own action.
/// CopyObject and UploadPartCopy also need `s3:GetObject` on the source;
/// DeleteObjects needs `s3:DeleteObject` per key: callers authorize those.
const TABLE: &[(&str, &[Required], &[Required])] = &[
    ("ListBuckets", &[on("s3:ListAllMyBuckets", Account)], &[]),
    ("CreateBucket", &[on("s3:CreateBucket", Bucket)], &[]),
    ("DeleteBucket", &[on("s3:DeleteBucket", Bucket)], &[]),
    ("HeadBucket", &[on("s3:ListBucket", Bucket)], &[]),
    ("GetBucketLocation", &[on("s3:GetBucketLocation", Bucket)], &[]),
    ("ListObjects", &[on("s3:ListBucket", Bucket)], &[]),
    ("ListObjectsV2", &[on("s3:ListBucket", Bucket)], &[]),
    ("ListObjectVersions", &[on("s3:ListBucketVersions", Bucket)], &[]),
    (
        "ListMultipartUploads",
        &[on("s3:ListBucketMultipartUploads", Bucket)],
        &[],
    ),
    (
        "GetObject",
        &[on("s3:GetObject", Object)],
        &[on("s3:GetObjectVersion", Object)],
    ),
    (
        "HeadObject",
        &[on("s3:GetObject", Object)],
        &[on("s3:GetObjectVersion", Object)],
    ),
    (
        "GetObjectAttributes",
        &[on("s3:GetObject", Object), on("s3:GetObjectAttributes", Object)],
        &[
            on("s3:GetObjectVersion", Object),
            on("s3:GetObjectVersionAttributes", Object),
        ],
    ),
    ("SelectObjectContent", &[on("s3:GetObject", Object)], &[]),
    ("PutObject", &[on("s3:PutObject", Object)], &[]),
    ("PostObject", &[on("s3:PutObject", Object)], &[]),
    ("CopyObject", &[on("s3:PutObject", Object)], &[]),
    (
        "DeleteObject",
        &[on("s3:DeleteObject", Object)],
        &[on("s3:DeleteObjectVersion", Object)],
    ),
    ("DeleteObjects", &[on("s3:DeleteObject", Bucket)], &[]),
    ("RestoreObject", &[on("s3:RestoreObject", Object)], &[]),
    ("CreateMultipartUpload", &[on("s3:PutObject", Object)], &[]),
    ("UploadPart", &[on("s3:PutObject", Object)], &[]),
    ("UploadPartCopy", &[on("s3:PutObject", Object)], &[]),
    ("CompleteMultipartUpload", &[on("s3:PutObject", Object)], &[]),
    ("AbortMultipartUpload", &[on("s3:AbortMultipartUpload", Object)], &[]),
    ("ListParts", &[on("s3:ListMultipartUploadParts", Object)], &[]),
    (
        "GetObjectTagging",
        &[on("s3:GetObjectTagging", Object)],
        &[on("s3:GetObjectVersionTagging", Object)],
    ),
    (
        "PutObjectTagging",
        &[on("s3:PutObjectTagging", Object)],
        &[on("s3:PutObjectVersionTagging", Object)],
    ),
    (
        "DeleteObjectTagging",
        &[on("s3:DeleteObjectTagging", Object)],
        &[on("s3:DeleteObjectVersionTagging", Object)],
    ),
    (
        "GetObjectAcl",
        &[on("s3:GetObjectAcl", Object)],
        &[on("s3:GetObjectVersionAcl", Object)],
    ),
    (
        "PutObjectAcl",
        &[on("s3:PutObjectAcl", Object)],
        &[on("s3:PutObjectVersionAcl", Object)],
    ),
    ("GetObjectRetention", &[on("s3:GetObjectRetention", Object)], &[]),
    ("PutObjectRetention", &[on("s3:PutObjectRetention", Object)], &[]),
    ("GetObjectLegalHold", &[on("s3:GetObjectLegalHold", Object)], &[]),
    ("PutObjectLegalHold", &[on("s3:PutObjectLegalHold", Object)], &[]),
    ("GetObjectTorrent", &[on("s3:GetObject", Object)], &[]),
    ("GetBucketTagging", &[on("s3:GetBucketTagging", Bucket)], &[]),
    ("PutBucketTagging", &[on("s3:PutBucketTagging", Bucket)], &[]),
    ("DeleteBucketTagging", &[on("s3:PutBucketTagging", Bucket)], &[]),
    ("GetBucketPolicy", &[on("s3:GetBucketPolicy", Bucket)], &[]),
    ("PutBucketPolicy", &[on("s3:PutBucketPolicy", Bucket)], &[]),
    ("DeleteBucketPolicy", &[on("s3:DeleteBucketPolicy", Bucket)], &[]),
    ("GetBucketPolicyStatus", &[on("s3:GetBucketPolicyStatus", Bucket)], &[]),
    ("GetBucketAcl", &[on("s3:GetBucketAcl", Bucket)], &[]),
    ("PutBucketAcl", &[on("s3:PutBucketAcl", Bucket)], &[]),
    ("GetBucketVersioning", &[on("s3:GetBucketVersioning", Bucket)], &[]),
    ("PutBucketVersioning", &[on("s3:PutBucketVersioning", Bucket)], &[]),
    (
        "GetBucketEncryption",
        &[on("s3:GetEncryptionConfiguration", Bucket)],
        &[],
    ),
    (
        "PutBucketEncryption",
        &[on("s3:PutEncryptionConfiguration", Bucket)],
        &[],
    ),
    (
        "DeleteBucketEncryption",
        &[on("s3:PutEncryptionConfiguration", Bucket)],
        &[],
    ),
    ("GetBucketCors", &[on("s3:GetBucketCORS", Bucket)], &[]),
    ("PutBucketCors", &[on("s3:PutBucketCORS", Bucket)], &[]),
    ("DeleteBucketCors", &[on("s3:PutBucketCORS", Bucket)], &[]),
    (
        "GetPublicAccessBlock",
        &[on("s3:GetBucketPublicAccessBlock", Bucket)],
        &[],
    ),
    (
        "PutPublicAccessBlock",
        &[on("s3:PutBucketPublicAccessBlock", Bucket)],
        &[],
    ),
    (
        "DeletePublicAccessBlock",
        &[on("s3:PutBucketPublicAccessBlock", Bucket)],
        &[],
    ),
    (
        "GetBucketOwnershipControls",
        &[on("s3:GetBucketOwnershipControls", Bucket)],
        &[],
    ),
    (
        "PutBucketOwnershipControls",
        &[on("s3:PutBucketOwnershipControls", Bucket)],
        &[],
    ),
    (
        "DeleteBucketOwnershipControls",
        &[on("s3:PutBucketOwnershipControls", Bucket)],
        &[],
    ),
    (
        "GetObjectLockConfiguration",
        &[on("s3:GetBucketObjectLockConfiguration", Bucket)],
        &[],
    ),
    (
        "PutObjectLockConfiguration",
        &[on("s3:PutBucketObjectLockConfiguration", Bucket)],
        &[],
    ),
    ("GetBucketLogging", &[on("s3:GetBucketLogging", Bucket)], &[]),
    ("PutBucketLogging", &[on("s3:PutBucketLogging", Bucket)], &[]),
    (
        "GetBucketLifecycleConfiguration",
        &[on("s3:GetLifecycleConfiguration", Bucket)],
        &[],
    ),
    (
        "PutBucketLifecycleConfiguration",
        &[on("s3:PutLifecycleConfiguration", Bucket)],
        &[],
    ),
    (
        "DeleteBucketLifecycle",
        &[on("s3:PutLifecycleConfiguration", Bucket)],
        &[],
    ),
    ("GetBucketWebsite", &[on("s3:GetBucketWebsite", Bucket)], &[]),
    ("PutBucketWebsite", &[on("s3:PutBucketWebsite", Bucket)], &[]),
    ("DeleteBucketWebsite", &[on("s3:DeleteBucketWebsite", Bucket)], &[]),
    (
        "GetBucketNotificationConfiguration",
        &[on("s3:GetBucketNotification", Bucket)],
        &[],
    ),
    (
        "PutBucketNotificationConfiguration",
        &[on("s3:PutBucketNotification", Bucket)],
        &[],
    ),
    (
        "GetBucketReplication",
        &[on("s3:GetReplicationConfiguration", Bucket)],
        &[],
    ),
    (
        "PutBucketReplication",
        &[on("s3:PutReplicationConfiguration", Bucket)],
        &[],
    ),
    (
        "DeleteBucketReplication",
        &[on("s3:PutReplicationConfiguration", Bucket)],
        &[],
    ),
    (
        "GetBucketRequestPayment",
        &[on("s3:GetBucketRequestPayment", Bucket)],
        &[],
    ),
    (
        "PutBucketRequestPayment",
        &[on("s3:PutBucketRequestPayment", Bucket)],
        &[],
    ),
    (
        "GetBucketAccelerateConfiguration",
        &[on("s3:GetAccelerateConfiguration", Bucket)],
        &[],
    ),
    (
        "PutBucketAccelerateConfiguration",
        &[on("s3:PutAccelerateConfiguration", Bucket)],
        &[],
    ),
    (
        "WriteGetObjectResponse",
        &[on("s3-object-lambda:WriteGetObjectResponse", Account)],
        &[],
    ),
];

/// The actions `operation` requires; `versioned` when the request names a
/// `versionId`. None: not in the table (the caller denies).
pub fn required(operation: &str, versioned: bool) -> Option<&'static [Required]> {
    let (_, plain, with_version) = TABLE.iter().find(|(op, _, _)| *op == operation)?;
    Some(if versioned && !with_version.is_empty() {
        with_version
    } else {
        plain
    })
}

/// The ARN a policy's Resource is matched against. Account-level actions
/// (ListAllMyBuckets) match both `*` and `arn:aws:s3:::*`, the two forms
/// AWS's examples use for them.
pub fn resource_arn(kind: ResourceKind, bucket: Option<&str>, key: Option<&str>) -> String {
    match (kind, bucket, key) {
        (Account, _, _) | (_, None, _) => "arn:aws:s3:::*".to_owned(),
        (Bucket, Some(b), _) | (Object, Some(b), None) => format!("arn:aws:s3:::{b}"),
        (Object, Some(b), Some(k)) => format!("arn:aws:s3:::{b}/{k}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actions(op: &str, versioned: bool) -> Vec<&'static str> {
        required(op, versioned)
            .unwrap_or_default()
            .iter()
            .map(|r| r.action)
            .collect()
    }

    #[test]
    fn examples_from_the_aws_table() {
        assert_eq!(actions("HeadObject", false), ["s3:GetObject"]);
        assert_eq!(actions("GetObject", true), ["s3:GetObjectVersion"]);
        assert_eq!(actions("GetObject", false), ["s3:GetObject"]);
        assert_eq!(actions("ListObjectsV2", false), ["s3:ListBucket"]);
        assert_eq!(required("ListObjectsV2", false).map(|r| r[0].resource), Some(Bucket));
        assert_eq!(actions("CopyObject", false), ["s3:PutObject"]);
        assert_eq!(actions("UploadPart", false), ["s3:PutObject"]);
        assert_eq!(actions("ListParts", false), ["s3:ListMultipartUploadParts"]);
        assert_eq!(actions("ListBuckets", false), ["s3:ListAllMyBuckets"]);
        assert_eq!(actions("DeleteBucketTagging", false), ["s3:PutBucketTagging"]);
        assert_eq!(actions("DeleteObject", true), ["s3:DeleteObjectVersion"]);
        assert_eq!(
            actions("PutBucketPolicy", true),
            ["s3:PutBucketPolicy"],
            "no versioned form: falls back"
        );
        assert_eq!(required("NoSuchOperation", false), None);
    }

    #[test]
    fn every_implemented_operation_is_in_the_table_once() {
        let implemented = [
            "ListBuckets",
            "CreateBucket",
            "HeadBucket",
            "DeleteBucket",
            "GetBucketLocation",
            "PutBucketTagging",
            "GetBucketTagging",
            "DeleteBucketTagging",
            "PutObject",
            "GetObject",
            "HeadObject",
            "DeleteObject",
            "DeleteObjects",
            "CopyObject",
            "PutObjectTagging",
            "GetObjectTagging",
            "DeleteObjectTagging",
            "ListObjects",
            "ListObjectsV2",
            "CreateMultipartUpload",
            "UploadPart",
            "UploadPartCopy",
            "CompleteMultipartUpload",
            "AbortMultipartUpload",
            "ListParts",
            "ListMultipartUploads",
        ];
        for op in implemented {
            assert!(required(op, false).is_some_and(|r| !r.is_empty()), "{op} missing");
        }
        for (i, (op, plain, _)) in TABLE.iter().enumerate() {
            assert!(!plain.is_empty(), "{op} has no action");
            assert!(
                TABLE.iter().skip(i + 1).all(|(other, _, _)| other != op),
                "{op} listed twice"
            );
            assert!(
                plain.iter().all(|r| r.action.contains(':')),
                "{op}: actions are service:Name"
            );
        }
    }

    #[test]
    fn resource_arns() {
        assert_eq!(
            resource_arn(Object, Some("b"), Some("a/b.txt")),
            "arn:aws:s3:::b/a/b.txt"
        );
        assert_eq!(resource_arn(Bucket, Some("b"), Some("k")), "arn:aws:s3:::b");
        assert_eq!(resource_arn(Account, Some("b"), None), "arn:aws:s3:::*");
    }
}
