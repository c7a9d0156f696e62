//! Why an endpoint check found no answer, one sentence each, as the Endpoint checks table shows
//! it. The round decides by kind (a server without TLS is asked again without it, where a
//! password allows); the sentence never carries the password.

use thiserror::Error;

use crate::bastion::error::{LinkError, RemoteError, TunnelError};
use crate::sdk::AwsError;

/// Why no password or token could be had for the checks' database user.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SecretError {
    #[error(
        "the environment variable {0} (db_password = {{ env = \"{0}\" }}) is not set: export it before starting qpconsole"
    )]
    EnvUnset(String),
    #[error(
        "db_password = {{ iam = false }} names no password: use {{ env = \"VAR\" }}, {{ secret_arn = \"ARN\" }} or {{ iam = true }}"
    )]
    NoneNamed,
    #[error("no AWS credentials to sign an IAM database token with")]
    NoCredentials,
    #[error("AWS credentials for the IAM database token: {0}")]
    Credentials(String),
    #[error("no AWS region to sign an IAM database token for")]
    NoRegion,
    #[error("cannot sign the IAM database token: {0}")]
    Signing(String),
    #[error("cannot read secret {arn}: {why}")]
    Unread { arn: String, why: AwsError },
    #[error("secret {0} has no string value")]
    NoString(String),
    #[error("secret {0} is JSON without a \"password\" field")]
    NoPasswordField(String),
}

/// Why one check (a SQL session or a health path) found no answer.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProbeError {
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error(transparent)]
    Remote(#[from] RemoteError),
    #[error(transparent)]
    Tunnel(#[from] TunnelError),
    #[error(transparent)]
    Link(#[from] LinkError),
    #[error(
        "killing a session needs an operator credential: set operator_user and operator_password in the estate's [checks] (a user with CONNECTION ADMIN, or RDS's master user)"
    )]
    NoOperator,
    #[error(
        "measuring a failover needs the probe's credential: set probe_user and probe_password in the estate's [checks] (a user with CREATE, INSERT, UPDATE, SELECT ON qpconsole_probe.*)"
    )]
    NoProbe,
    #[error("an IAM token needs TLS: set tls = \"preferred\" or \"required\" in [checks]")]
    TokenNeedsTls,
    #[error("the server offers no TLS")]
    NoTls,
    #[error(
        "access denied for user {0}: check the password source in [checks] (db_password) and the user's grants"
    )]
    AccessDenied(String),
    #[error("server error {code}: {message}")]
    Server { code: u16, message: String },
    #[error("connection failed: {0}")]
    Connection(String),
    #[error("driver: {0}")]
    Driver(String),
    #[error("no answer in {0} s")]
    NoAnswer(u64),
    #[error("sending the request: {0}")]
    Send(String),
    #[error("reading the answer: {0}")]
    Read(String),
    #[error("the connection closed without an answer")]
    NoStatusLine,
    #[error("not an HTTP answer at line 1, column {column}: {why}: {line:?}")]
    NotHttp {
        column: usize,
        why: String,
        line: String,
    },
}
