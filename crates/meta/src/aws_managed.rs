//! The AWS managed policies Strongbox knows (`arn:aws:iam::aws:policy/...`),
//! with AWS's own documents, so they can be attached like in AWS. Kept here
//! because `user_policies` resolves them; the IAM layer lists them from here.

/// A built-in AWS managed policy (its default version only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AwsManagedPolicy {
    pub name: &'static str,
    pub arn: &'static str,
    pub policy_id: &'static str,
    pub description: &'static str,
    pub version_id: &'static str,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub document: &'static str,
}

/// Every built-in AWS managed policy, by name.
pub fn aws_managed_policies() -> &'static [AwsManagedPolicy] {
    &POLICIES
}

/// The built-in policy with this ARN (ASCII case-insensitive, as IAM names are).
pub fn aws_managed_policy(arn: &str) -> Option<&'static AwsManagedPolicy> {
    POLICIES.iter().find(|p| p.arn.eq_ignore_ascii_case(arn))
}

/// The account part of AWS managed policy ARNs.
pub const AWS_POLICY_ARN_PREFIX: &str = "arn:aws:iam::aws:policy/";

const POLICIES: [AwsManagedPolicy; 5] = [
    AwsManagedPolicy {
        name: "AdministratorAccess",
        arn: "arn:aws:iam::aws:policy/AdministratorAccess",
        policy_id: "ANPAIWMBCKSKIEE64ZLYK",
        description: "Provides full access to AWS services and resources.",
        version_id: "v1",
        created_ms: 1_423_247_986_000,
        updated_ms: 1_423_247_986_000,
        document: r#"{
  "Version" : "2012-10-17",
  "Statement" : [
    {
      "Effect" : "Allow",
      "Action" : "*",
      "Resource" : "*"
    }
  ]
}"#,
    },
    AwsManagedPolicy {
        name: "AmazonS3FullAccess",
        arn: "arn:aws:iam::aws:policy/AmazonS3FullAccess",
        policy_id: "ANPAIFIR6V6BVTRAHWINE",
        description: "Provides full access to all buckets via the AWS Management Console.",
        version_id: "v2",
        created_ms: 1_423_248_058_000,
        updated_ms: 1_632_773_797_000,
        document: r#"{
  "Version" : "2012-10-17",
  "Statement" : [
    {
      "Effect" : "Allow",
      "Action" : [
        "s3:*",
        "s3-object-lambda:*"
      ],
      "Resource" : "*"
    }
  ]
}"#,
    },
    AwsManagedPolicy {
        name: "AmazonS3ReadOnlyAccess",
        arn: "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
        policy_id: "ANPAIZTJ4DXE7G6AGAE6M",
        description: "Provides read only access to all buckets via the AWS Management Console.",
        version_id: "v3",
        created_ms: 1_423_248_059_000,
        updated_ms: 1_691_703_099_000,
        document: r#"{
  "Version" : "2012-10-17",
  "Statement" : [
    {
      "Effect" : "Allow",
      "Action" : [
        "s3:Get*",
        "s3:List*",
        "s3:Describe*",
        "s3-object-lambda:Get*",
        "s3-object-lambda:List*"
      ],
      "Resource" : "*"
    }
  ]
}"#,
    },
    AwsManagedPolicy {
        name: "IAMFullAccess",
        arn: "arn:aws:iam::aws:policy/IAMFullAccess",
        policy_id: "ANPAI7XKCFMBPM3QQRRVQ",
        description: "Provides full access to IAM via the AWS Management Console.",
        version_id: "v2",
        created_ms: 1_423_248_038_000,
        updated_ms: 1_561_146_000_000,
        document: r#"{
  "Version" : "2012-10-17",
  "Statement" : [
    {
      "Effect" : "Allow",
      "Action" : [
        "iam:*",
        "organizations:DescribeAccount",
        "organizations:DescribeOrganization",
        "organizations:DescribeOrganizationalUnit",
        "organizations:DescribePolicy",
        "organizations:ListChildren",
        "organizations:ListParents",
        "organizations:ListPoliciesForTarget",
        "organizations:ListRoots",
        "organizations:ListPolicies",
        "organizations:ListTargetsForPolicy"
      ],
      "Resource" : "*"
    }
  ]
}"#,
    },
    AwsManagedPolicy {
        name: "IAMReadOnlyAccess",
        arn: "arn:aws:iam::aws:policy/IAMReadOnlyAccess",
        policy_id: "ANPAJKSO7NDY4T57MWDSQ",
        description: "Provides read only access to IAM via the AWS Management Console.",
        version_id: "v4",
        created_ms: 1_423_248_039_000,
        updated_ms: 1_516_907_487_000,
        document: r#"{
  "Version" : "2012-10-17",
  "Statement" : [
    {
      "Effect" : "Allow",
      "Action" : [
        "iam:GenerateCredentialReport",
        "iam:GenerateServiceLastAccessedDetails",
        "iam:Get*",
        "iam:List*",
        "iam:SimulateCustomPolicy",
        "iam:SimulatePrincipalPolicy"
      ],
      "Resource" : "*"
    }
  ]
}"#,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_is_case_insensitive_and_documents_are_json() {
        let p = aws_managed_policy("arn:aws:iam::aws:policy/amazons3readonlyaccess");
        assert_eq!(p.map(|p| p.name), Some("AmazonS3ReadOnlyAccess"));
        assert!(aws_managed_policy("arn:aws:iam::aws:policy/Nope").is_none());
        for p in aws_managed_policies() {
            assert!(
                serde_json::from_str::<serde_json::Value>(p.document).is_ok(),
                "{}",
                p.name
            );
            assert_eq!(p.arn, format!("{AWS_POLICY_ARN_PREFIX}{}", p.name));
        }
    }
}
