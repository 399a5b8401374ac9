//! The key policies KMS writes itself: AWS's default key policy (the account
//! root may do everything, which delegates to the account's IAM policies) and
//! the policy of the AWS managed key `alias/aws/s3` (any principal of the
//! account may use it through S3; the account may read its metadata).

/// The default key policy of CreateKey without `Policy`, laid out as AWS returns it.
pub(crate) fn default_key_policy(account: &str) -> String {
    format!(
        r#"{{
  "Version" : "2012-10-17",
  "Id" : "key-default-1",
  "Statement" : [ {{
    "Sid" : "Enable IAM User Permissions",
    "Effect" : "Allow",
    "Principal" : {{
      "AWS" : "arn:aws:iam::{account}:root"
    }},
    "Action" : "kms:*",
    "Resource" : "*"
  }} ]
}}"#
    )
}

/// The key policy of the account's `alias/aws/s3` key.
pub(crate) fn aws_s3_key_policy(account: &str, region: &str) -> String {
    format!(
        r#"{{
  "Version" : "2012-10-17",
  "Id" : "auto-s3-2",
  "Statement" : [ {{
    "Sid" : "Allow access through S3 for all principals in the account that are authorized to use S3",
    "Effect" : "Allow",
    "Principal" : {{
      "AWS" : "*"
    }},
    "Action" : [ "kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey" ],
    "Resource" : "*",
    "Condition" : {{
      "StringEquals" : {{
        "kms:CallerAccount" : "{account}",
        "kms:ViaService" : "s3.{region}.amazonaws.com"
      }}
    }}
  }}, {{
    "Sid" : "Allow direct access to key metadata to the account",
    "Effect" : "Allow",
    "Principal" : {{
      "AWS" : "arn:aws:iam::{account}:root"
    }},
    "Action" : [ "kms:Describe*", "kms:Get*", "kms:List*" ],
    "Resource" : "*"
  }} ]
}}"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use strongbox_policy::{Policy, PolicyKind};

    #[test]
    fn the_written_policies_are_valid_key_policies() {
        for text in [
            default_key_policy("111122223333"),
            aws_s3_key_policy("111122223333", "us-east-1"),
        ] {
            let parsed = Policy::parse(&text, &PolicyKind::Key);
            assert!(parsed.is_ok(), "{parsed:?}\n{text}");
            assert!(serde_json::from_str::<serde_json::Value>(&text).is_ok());
        }
    }
}
