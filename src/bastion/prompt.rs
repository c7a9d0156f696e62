//! Questions the bastion must put to the person at the keyboard (an unknown host key under
//! `ask`, a key's passphrase, a password), answered by whoever holds the terminal: the TUI's
//! prompt overlay, or the headless command's tty. Answers are never stored or logged.

use std::path::PathBuf;

use tokio::sync::{mpsc, oneshot};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Question {
    /// An unknown host under `strict_host_key_checking = "ask"`.
    HostKey {
        host: String,
        /// Algorithm and SHA256 fingerprint, as `ssh-keygen -l` shows them.
        key: String,
        known_hosts: PathBuf,
    },
    Passphrase {
        key: PathBuf,
    },
    Password {
        user: String,
        host: String,
    },
    /// A keyboard-interactive prompt of the server (PAM's "Password:", a one-time code).
    Challenge {
        user: String,
        host: String,
        /// The server's own words.
        prompt: String,
        /// Whether the server lets the answer be shown as it is typed.
        echo: bool,
    },
}

impl Question {
    /// Whether the answer is a secret: typed without echo.
    pub fn is_secret(&self) -> bool {
        match self {
            Question::HostKey { .. } => false,
            Question::Challenge { echo, .. } => !echo,
            Question::Passphrase { .. } | Question::Password { .. } => true,
        }
    }

    pub fn title(&self) -> &'static str {
        match self {
            Question::HostKey { .. } => "Unknown host key",
            Question::Passphrase { .. } => "Key passphrase",
            Question::Password { .. } => "Password",
            Question::Challenge { .. } => "The server asks",
        }
    }

    /// The lines shown above the input.
    pub fn lines(&self) -> Vec<String> {
        match self {
            Question::HostKey {
                host,
                key,
                known_hosts,
            } => vec![
                format!("The authenticity of host {host} can't be established."),
                format!("Its key is {key}."),
                "Check the fingerprint out of band before you trust it.".into(),
                format!(
                    "Type yes to connect and add it to {}.",
                    known_hosts.display()
                ),
            ],
            Question::Passphrase { key } => {
                vec![format!("Enter the passphrase for {}.", key.display())]
            }
            Question::Password { user, host } => vec![format!("Password for {user}@{host}.")],
            Question::Challenge {
                user, host, prompt, ..
            } => {
                vec![format!("{user}@{host} asks: {}", prompt.trim())]
            }
        }
    }

    /// Whether an answer means "go ahead": for a host key only the word yes does.
    pub fn accepts(&self, answer: &str) -> bool {
        match self {
            Question::HostKey { .. } => answer.trim().eq_ignore_ascii_case("yes"),
            _ => true,
        }
    }
}

/// An answer typed at a prompt (a passphrase, a password, a yes): wiped from memory when it
/// is dropped, and never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(zeroize::Zeroizing<String>);

impl Secret {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<String> for Secret {
    /// Takes the string as it is, without a copy left behind.
    fn from(text: String) -> Self {
        Secret(zeroize::Zeroizing::new(text))
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// A question with the way back to whoever asked.
#[derive(Debug)]
pub struct Ask {
    pub question: Question,
    pub reply: oneshot::Sender<Option<Secret>>,
}

/// Puts questions to the person at the keyboard; `none()` when nobody is there (scripts), in
/// which case every question is declined.
#[derive(Debug, Clone)]
pub struct Prompter(Option<mpsc::UnboundedSender<Ask>>);

impl Prompter {
    pub fn none() -> Self {
        Self(None)
    }

    pub fn new(asks: mpsc::UnboundedSender<Ask>) -> Self {
        Self(Some(asks))
    }

    /// The answer, or `None` when declined, cancelled or nobody can be asked.
    pub async fn ask(&self, question: Question) -> Option<Secret> {
        let asks = self.0.as_ref()?;
        let (reply, answer) = oneshot::channel();
        asks.send(Ask { question, reply }).ok()?;
        answer.await.ok().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typed_secret_never_shows_in_debug_output_or_logs() {
        let typed = Secret::from("hunter2-passphrase".to_string());
        assert_eq!(typed.as_str(), "hunter2-passphrase");
        let shown = format!("{typed:?} {:?}", Some(typed.clone()));
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
