//! Where the database password comes from: never the config file. The name of an environment
//! variable, an AWS Secrets Manager secret, or an IAM authentication token signed with the
//! estate's own AWS credentials. A `Secret` never prints itself.

use std::fmt;
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::ProvideCredentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SignatureLocation, SigningSettings};
use aws_sigv4::sign::v4;
use aws_types::SdkConfig;

use super::error::SecretError;
use crate::config::DbPassword;
use crate::sdk::Wording;

/// A password or token: only `expose` gives it out, for the server.
#[derive(Clone)]
pub struct Secret {
    value: String,
    token: bool,
}

impl Secret {
    pub fn password(value: String) -> Self {
        Self {
            value,
            token: false,
        }
    }

    pub fn expose(&self) -> &str {
        &self.value
    }

    /// An IAM token goes to the server in clear text, so only inside TLS.
    pub fn is_token(&self) -> bool {
        self.token
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.token {
            "<iam token>"
        } else {
            "<password>"
        })
    }
}

/// The password for `user` on `host:port` as `source` says where to find it.
pub async fn resolve(
    source: &DbPassword,
    user: &str,
    host: &str,
    port: u16,
    sdk: impl AsyncFnOnce() -> SdkConfig,
) -> Result<Secret, SecretError> {
    match source {
        DbPassword::Env(name) => std::env::var(name)
            .map(Secret::password)
            .map_err(|_| SecretError::EnvUnset(name.clone())),
        DbPassword::SecretArn(arn) => from_secrets_manager(&sdk().await, arn).await,
        DbPassword::Iam(false) => Err(SecretError::NoneNamed),
        DbPassword::Iam(true) => {
            let sdk = sdk().await;
            let creds = sdk
                .credentials_provider()
                .ok_or(SecretError::NoCredentials)?
                .provide_credentials()
                .await
                .map_err(|e| SecretError::Credentials(e.to_string()))?;
            let region = sdk
                .region()
                .map(|r| r.to_string())
                .ok_or(SecretError::NoRegion)?;
            let token = iam_token(host, port, user, &region, creds, SystemTime::now())?;
            Ok(Secret {
                value: token,
                token: true,
            })
        }
    }
}

async fn from_secrets_manager(sdk: &SdkConfig, arn: &str) -> Result<Secret, SecretError> {
    let client = aws_sdk_secretsmanager::Client::new(sdk);
    let out = client
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| SecretError::Unread {
            arn: arn.into(),
            why: Wording::default().error("secretsmanager:GetSecretValue", &e),
        })?;
    let text = out
        .secret_string()
        .ok_or_else(|| SecretError::NoString(arn.into()))?;
    // RDS-managed and most hand-made secrets are JSON with a password field; a plain string is
    // the password itself.
    let password = match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) => v
            .get("password")
            .and_then(|p| p.as_str())
            .map(str::to_string)
            .ok_or_else(|| SecretError::NoPasswordField(arn.into()))?,
        Err(_) => text.to_string(),
    };
    Ok(Secret::password(password))
}

/// How long RDS accepts a token.
const TOKEN_LIFETIME: Duration = Duration::from_secs(900);

/// An RDS IAM authentication token: a SigV4-presigned `connect` request for `user` on
/// `host:port`, without its scheme, as `aws rds generate-db-auth-token` makes it.
pub fn iam_token(
    host: &str,
    port: u16,
    user: &str,
    region: &str,
    creds: aws_credential_types::Credentials,
    at: SystemTime,
) -> Result<String, SecretError> {
    let identity = creds.into();
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(TOKEN_LIFETIME);
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("rds-db")
        .time(at)
        .settings(settings)
        .build()
        .map_err(|e| SecretError::Signing(e.to_string()))?
        .into();
    let url = format!(
        "https://{host}:{port}/?Action=connect&DBUser={}",
        encode(user)
    );
    let request = SignableRequest::new("GET", &url, std::iter::empty(), SignableBody::Bytes(&[]))
        .map_err(|e| SecretError::Signing(e.to_string()))?;
    let (instructions, _) = aws_sigv4::http_request::sign(request, &params)
        .map_err(|e| SecretError::Signing(e.to_string()))?
        .into_parts();
    let mut token = format!("{host}:{port}/?Action=connect&DBUser={}", encode(user));
    for (name, value) in instructions.params() {
        token.push('&');
        token.push_str(name);
        token.push('=');
        token.push_str(&encode(value));
    }
    Ok(token)
}

/// Percent-encoding of a query value, as SigV4 canonicalises it (RFC 3986 unreserved kept).
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> aws_credential_types::Credentials {
        aws_credential_types::Credentials::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            None,
            None,
            "test",
        )
    }

    fn token(user: &str, at: SystemTime) -> String {
        let host = "db.cluster-x.us-east-1.rds.amazonaws.com";
        iam_token(host, 3306, user, "us-east-1", creds(), at).unwrap()
    }

    #[test]
    fn an_iam_token_is_a_presigned_connect_request_for_the_user() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600); // 2026-01-01
        let t = token("ops", at);
        assert!(
            t.starts_with(
                "db.cluster-x.us-east-1.rds.amazonaws.com:3306/?Action=connect&DBUser=ops&"
            ),
            "{t}"
        );
        assert!(t.contains("X-Amz-Algorithm=AWS4-HMAC-SHA256"), "{t}");
        assert!(
            t.contains(
                "X-Amz-Credential=AKIDEXAMPLE%2F20260101%2Fus-east-1%2Frds-db%2Faws4_request"
            ),
            "{t}"
        );
        assert!(t.contains("X-Amz-Date=20260101T000000Z"), "{t}");
        assert!(t.contains("X-Amz-Expires=900"), "{t}");
        assert!(t.contains("X-Amz-Signature="), "{t}");
        assert!(!t.contains("wJalrXUtnFEMI"), "the secret key never appears");
        // Deterministic for the same inputs; another user or time signs differently.
        let again = token("ops", at);
        assert_eq!(t, again);
        let other = token("admin", at);
        assert_ne!(
            t.rsplit("X-Amz-Signature=").next(),
            other.rsplit("X-Amz-Signature=").next()
        );
    }

    #[test]
    fn a_secret_never_prints_itself() {
        let s = Secret::password("hunter2".into());
        assert_eq!(format!("{s:?}"), "<password>");
    }

    #[tokio::test]
    async fn a_missing_environment_variable_is_named_with_what_to_do() {
        let e = resolve(
            &DbPassword::Env("QPCONSOLE_TEST_SURELY_UNSET".into()),
            "ops",
            "h",
            3306,
            async || unreachable!(),
        )
        .await
        .unwrap_err();
        assert_eq!(
            e,
            SecretError::EnvUnset("QPCONSOLE_TEST_SURELY_UNSET".into())
        );
        let said = e.to_string();
        assert!(
            said.contains("QPCONSOLE_TEST_SURELY_UNSET") && said.contains("export it"),
            "{said}"
        );
    }
}
