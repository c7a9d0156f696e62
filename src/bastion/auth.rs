//! Authentication of one hop, in OpenSSH's order of preference for an operations console:
//! the agent's keys, then identity files (asking for a passphrase when one is encrypted), then
//! OpenSSH certificates, and a password only where the estate allows it. No agent forwarding.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use russh::client::{AuthResult, Handle, Handler, KeyboardInteractiveAuthResponse};
use russh::keys::agent::AgentIdentity;
use russh::keys::agent::client::AgentClient;
use russh::keys::ssh_key::Certificate;
use russh::keys::{PrivateKey, PrivateKeyWithHashAlg};
use thiserror::Error;

use super::destination::Hop;
use super::prompt::{Prompter, Question};

/// What a hop may be authenticated with, besides its identity files.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// The ssh-agent socket (SSH_AUTH_SOCK), if any.
    pub agent: Option<PathBuf>,
    pub password_auth: bool,
    /// Keys whose passphrase was typed once, kept decrypted in memory so that a redial does not
    /// ask again. The passphrase itself is not kept.
    pub keys: KeyCache,
}

/// No way in was found, with what was tried: redialling cannot fix it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{0}")]
pub struct AuthFailed(pub String);

/// Decrypted keys by path, shared by every dial of a console.
#[derive(Debug, Clone, Default)]
pub struct KeyCache(Arc<Mutex<HashMap<PathBuf, Arc<PrivateKey>>>>);

impl KeyCache {
    fn get(&self, path: &Path) -> Option<Arc<PrivateKey>> {
        self.0.lock().ok()?.get(path).cloned()
    }

    fn put(&self, path: &Path, key: Arc<PrivateKey>) {
        if let Ok(mut keys) = self.0.lock() {
            keys.insert(path.to_path_buf(), key);
        }
    }
}

/// How many times a passphrase may be mistyped, as OpenSSH allows.
const PASSPHRASE_TRIES: usize = 3;

/// What was tried, for the error when nothing worked.
struct Tried(Vec<String>);

pub async fn authenticate<H: Handler>(
    session: &mut Handle<H>,
    hop: &Hop,
    label: &str,
    settings: &Credentials,
    prompter: &Prompter,
) -> Result<(), AuthFailed> {
    let user = hop.user.as_str();
    let mut tried = Tried(Vec::new());
    let failed = |e: russh::Error| AuthFailed(format!("{label}: authentication broke off: {e}"));

    if let Some(socket) = &settings.agent {
        match AgentClient::connect_uds(socket).await {
            Ok(mut agent) => {
                let identities = agent.request_identities().await.unwrap_or_default();
                tried.0.push(format!("agent ({} keys)", identities.len()));
                for identity in identities {
                    let ok = match identity {
                        AgentIdentity::PublicKey { key, .. } => {
                            let hash = session.best_supported_rsa_hash().await.ok().flatten();
                            session
                                .authenticate_publickey_with(user, key, hash.flatten(), &mut agent)
                                .await
                        }
                        AgentIdentity::Certificate { certificate, .. } => {
                            session
                                .authenticate_certificate_with(user, certificate, None, &mut agent)
                                .await
                        }
                    };
                    if matches!(ok, Ok(AuthResult::Success)) {
                        return Ok(());
                    }
                }
            }
            Err(e) => tried
                .0
                .push(format!("agent at {} unreachable ({e})", socket.display())),
        }
    }

    let mut loaded = Vec::new();
    for path in &hop.identity_files {
        let Some(key) = load(path, settings, prompter, &mut tried).await else {
            continue;
        };
        let hash = session.best_supported_rsa_hash().await.map_err(failed)?;
        let attempt = PrivateKeyWithHashAlg::new(key.clone(), hash.flatten());
        let result = session
            .authenticate_publickey(user, attempt)
            .await
            .map_err(failed)?;
        tried.0.push(path.display().to_string());
        if result.success() {
            return Ok(());
        }
        loaded.push((path.clone(), key));
    }

    for cert_path in &hop.certificate_files {
        let Some(cert) = certificate(cert_path) else {
            tried
                .0
                .push(format!("{} (not a certificate)", cert_path.display()));
            continue;
        };
        // The certificate's own key: an identity file already loaded, or the file the
        // certificate is named after (`id-cert.pub` certifies `id`).
        let own = loaded
            .iter()
            .find(|(_, k)| k.public_key().key_data() == cert.public_key())
            .map(|(_, k)| k.clone());
        let key = match own {
            Some(k) => Some(k),
            None => match paired_key(cert_path) {
                Some(p) => load(&p, settings, prompter, &mut tried).await,
                None => None,
            },
        };
        let Some(key) = key else {
            tried
                .0
                .push(format!("{} (no private key for it)", cert_path.display()));
            continue;
        };
        let result = session
            .authenticate_openssh_cert(user, key, cert)
            .await
            .map_err(failed)?;
        tried.0.push(format!("certificate {}", cert_path.display()));
        if result.success() {
            return Ok(());
        }
    }

    if settings.password_auth {
        // Keyboard-interactive first, as OpenSSH orders them (PAM asks its own questions
        // there), then a plain password where the server takes one.
        if keyboard_interactive(session, hop, prompter, &mut tried)
            .await
            .map_err(failed)?
        {
            return Ok(());
        }
        let question = Question::Password {
            user: user.to_string(),
            host: hop.host.clone(),
        };
        if let Some(password) = prompter.ask(question).await {
            // russh takes its own copy of the password for the request; ours is wiped.
            let result = session
                .authenticate_password(user, password.as_str())
                .await
                .map_err(failed)?;
            tried.0.push("password".into());
            if result.success() {
                return Ok(());
            }
        }
    }

    Err(AuthFailed(format!(
        "{label}: authentication failed (tried: {}). Load a key into ssh-agent, name one with \
         IdentityFile in the ssh config, or check the server's authorized_keys for user {user}",
        if tried.0.is_empty() {
            "nothing: no agent, no identity files".to_string()
        } else {
            tried.0.join(", ")
        }
    )))
}

/// Keyboard-interactive authentication: each of the server's prompts is put to the person at
/// the keyboard, as it words it. False when the server does not take it, or refuses.
async fn keyboard_interactive<H: Handler>(
    session: &mut Handle<H>,
    hop: &Hop,
    prompter: &Prompter,
    tried: &mut Tried,
) -> Result<bool, russh::Error> {
    let user = hop.user.as_str();
    let mut reply = session
        .authenticate_keyboard_interactive_start(user, None)
        .await?;
    // A server that keeps asking after this many rounds is not going to let us in.
    for _ in 0..5 {
        match reply {
            KeyboardInteractiveAuthResponse::Success => return Ok(true),
            KeyboardInteractiveAuthResponse::Failure { .. } => break,
            KeyboardInteractiveAuthResponse::InfoRequest { prompts, .. } => {
                if tried.0.last().is_none_or(|t| t != "keyboard-interactive") {
                    tried.0.push("keyboard-interactive".into());
                }
                let mut answers = Vec::with_capacity(prompts.len());
                let mut declined = false;
                for p in prompts {
                    if declined {
                        answers.push(String::new());
                        continue;
                    }
                    let question = Question::Challenge {
                        user: user.to_string(),
                        host: hop.host.clone(),
                        prompt: p.prompt,
                        echo: p.echo,
                    };
                    // russh takes its own copies of the answers; ours are wiped. A declined
                    // round is still answered (empty), so that the server ends it.
                    match prompter.ask(question).await {
                        Some(answer) => answers.push(answer.as_str().to_string()),
                        None => {
                            declined = true;
                            answers.push(String::new());
                        }
                    }
                }
                reply = session
                    .authenticate_keyboard_interactive_respond(answers)
                    .await?;
                if declined {
                    return Ok(matches!(reply, KeyboardInteractiveAuthResponse::Success));
                }
            }
        }
    }
    Ok(false)
}

/// Loads an OpenSSH certificate file.
fn certificate(path: &Path) -> Option<Certificate> {
    russh::keys::load_openssh_certificate(path).ok()
}

fn paired_key(cert: &Path) -> Option<PathBuf> {
    let name = cert.file_name()?.to_str()?.strip_suffix("-cert.pub")?;
    Some(cert.with_file_name(name))
}

/// A private key from its file, asking for the passphrase when it is encrypted; `None` (and
/// a note in `tried`) when it cannot be had.
async fn load(
    path: &Path,
    settings: &Credentials,
    prompter: &Prompter,
    tried: &mut Tried,
) -> Option<Arc<PrivateKey>> {
    if let Some(key) = settings.keys.get(path) {
        return Some(key);
    }
    let key = match russh::keys::load_secret_key(path, None) {
        Ok(k) => k,
        Err(russh::keys::Error::KeyIsEncrypted) => {
            let mut key = None;
            for _ in 0..PASSPHRASE_TRIES {
                let question = Question::Passphrase {
                    key: path.to_path_buf(),
                };
                let Some(passphrase) = prompter.ask(question).await else {
                    tried.0.push(format!(
                        "{} (encrypted; no passphrase given)",
                        path.display()
                    ));
                    return None;
                };
                match russh::keys::load_secret_key(path, Some(passphrase.as_str())) {
                    Ok(k) => {
                        key = Some(k);
                        break;
                    }
                    Err(_) => tracing::warn!(key = %path.display(), "wrong passphrase"),
                }
            }
            let Some(k) = key else {
                tried
                    .0
                    .push(format!("{} (wrong passphrase)", path.display()));
                return None;
            };
            k
        }
        Err(e) => {
            // A default identity that does not exist is no news; a named one that cannot be
            // read is.
            if path.exists() {
                tried
                    .0
                    .push(format!("{} (unreadable: {e})", path.display()));
            }
            return None;
        }
    };
    let key = Arc::new(key);
    settings.keys.put(path, key.clone());
    Some(key)
}
