//! The Pre Token Generation trigger as a pool's `LambdaConfig` names it: the function Cognito
//! invokes and the event version it sends; and the function ARN `attach` is given.

use std::fmt;

/// The trigger event version (`PreTokenGenerationLambdaVersionType` in the Amazon Cognito API
/// Reference): `V1_0` customises the ID token only, `V2_0` also the access token, `V3_0` also
/// machine-to-machine access tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LambdaVersion {
    /// ID-token claims only.
    V1_0,
    /// ID and access tokens of users.
    V2_0,
    /// ID and access tokens of users, and machine-to-machine access tokens.
    V3_0,
}

impl LambdaVersion {
    /// Every version, lowest first.
    pub const ALL: [LambdaVersion; 3] = [
        LambdaVersion::V1_0,
        LambdaVersion::V2_0,
        LambdaVersion::V3_0,
    ];

    /// The name the API uses.
    pub fn name(self) -> &'static str {
        match self {
            LambdaVersion::V1_0 => "V1_0",
            LambdaVersion::V2_0 => "V2_0",
            LambdaVersion::V3_0 => "V3_0",
        }
    }

    /// The version called `name`, if it is one.
    pub fn parse(name: &str) -> Option<LambdaVersion> {
        LambdaVersion::ALL.into_iter().find(|v| v.name() == name)
    }
}

impl fmt::Display for LambdaVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A pool's Pre Token Generation trigger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trigger {
    /// The function ARN Cognito invokes.
    pub arn: String,
    /// The event version it sends.
    pub version: LambdaVersion,
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.arn, self.version)
    }
}

/// A Lambda function ARN with a qualifier (an alias or a version): what a pool's trigger must
/// name. Cognito invokes exactly the ARN it is given, and it may invoke it only if the resource
/// policy of that ARN lets `cognito-idp.amazonaws.com` do so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionArn {
    /// The whole ARN, as given.
    pub arn: String,
    /// The ARN without its qualifier.
    pub unqualified: String,
    /// The alias or version.
    pub qualifier: String,
}

impl FunctionArn {
    /// Parses `arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME:QUALIFIER`, refusing a name, an
    /// unqualified ARN and `$LATEST` with why.
    pub fn parse(text: &str) -> Result<FunctionArn, String> {
        let parts: Vec<&str> = text.split(':').collect();
        let shaped = parts.len() >= 7
            && parts[0] == "arn"
            && parts[2] == "lambda"
            && parts[5] == "function"
            && parts.iter().take(7).all(|p| !p.is_empty());
        if !shaped || parts.len() > 8 {
            return Err(format!(
                "`{text}` is not a Lambda function ARN \
                 (arn:aws:lambda:REGION:ACCOUNT:function:NAME:ALIAS)"
            ));
        }
        let qualifier = parts.get(7).copied().unwrap_or_default();
        if qualifier.is_empty() || qualifier == "$LATEST" {
            return Err(format!(
                "`{text}` names no alias: give the alias Cognito is to invoke \
                 (`{}:live`, the stack's FunctionArn output). Without one Cognito invokes \
                 $LATEST, which the live alias's gradual deployments and rollbacks never move, \
                 and the invoke permission is granted on the alias",
                parts[..7].join(":")
            ));
        }
        Ok(FunctionArn {
            arn: text.to_owned(),
            unqualified: parts[..7].join(":"),
            qualifier: qualifier.to_owned(),
        })
    }
}

impl fmt::Display for FunctionArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.arn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_arns_need_an_alias() {
        let arn =
            FunctionArn::parse("arn:aws:lambda:us-east-1:111122223333:function:cm:live").unwrap();
        assert_eq!(
            arn.unqualified,
            "arn:aws:lambda:us-east-1:111122223333:function:cm"
        );
        assert_eq!(arn.qualifier, "live");
        for bad in [
            "arn:aws:lambda:us-east-1:111122223333:function:cm",
            "arn:aws:lambda:us-east-1:111122223333:function:cm:$LATEST",
            "cm",
            "arn:aws:s3:::bucket",
            "arn:aws:lambda:us-east-1:111122223333:function:cm:live:x",
        ] {
            assert!(FunctionArn::parse(bad).is_err(), "{bad}");
        }
        assert!(
            FunctionArn::parse("arn:aws:lambda:us-east-1:111122223333:function:cm")
                .unwrap_err()
                .contains("alias")
        );
    }

    #[test]
    fn versions_order_and_parse() {
        assert!(LambdaVersion::V1_0 < LambdaVersion::V3_0);
        assert_eq!(LambdaVersion::parse("V2_0"), Some(LambdaVersion::V2_0));
        assert_eq!(LambdaVersion::parse("V4_0"), None);
    }
}
