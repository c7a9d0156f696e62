//! Host keys checked against a known_hosts file with OpenSSH's meanings (sshd(8), SSH_KNOWN_HOSTS
//! FILE FORMAT): pattern lists with wildcards and negation, `[host]:port`, hashed names, and the
//! @revoked and @cert-authority markers. russh's own checker is not used: one line it cannot read
//! fails the whole check, and it knows no markers or wildcards, so files OpenSSH wrote would be
//! misread.

use std::fs::{self, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use data_encoding::BASE64;
use hmac::{Hmac, KeyInit, Mac};
use russh::keys::ssh_key::certificate::CertType;
use russh::keys::{Algorithm, Certificate, HashAlg, PublicKey};
use sha1::Sha1;
use thiserror::Error;

use crate::config::HostKeyPolicy;

/// What known_hosts says about a host's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// An entry for this host has this key.
    Known,
    /// No entry for this host has a key of this algorithm.
    Unknown,
    /// An entry for this host has a different key of the same algorithm (the first such line),
    /// and none has this key.
    Changed { line: usize, known: KnownEntry },
    /// The key is listed under @revoked.
    Revoked { line: usize },
}

/// What known_hosts says about a host certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertCheck {
    /// Signed by an authority an @cert-authority line trusts for this host, valid now and for
    /// this host.
    Trusted,
    /// No @cert-authority line for this host names the certificate's signer.
    Untrusted,
    /// Signed by a trusted authority, but not good: why.
    Invalid(String),
    /// The authority, or the certificate's own key, is listed under @revoked.
    Revoked { line: usize },
}

/// A recorded host key, as the user will need to find and judge it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownEntry {
    /// 1-based, counting every physical line.
    pub line: usize,
    /// The whole line as in the file.
    pub text: String,
    /// `SHA256:...` of the recorded key.
    pub fingerprint: String,
}

#[derive(Debug, Error)]
pub enum KnownHostsError {
    #[error(
        "cannot read known_hosts {}: {source}; fix its permissions or point `known_hosts` in qpconsole.toml at another file",
        path.display()
    )]
    Read { path: PathBuf, source: io::Error },
    #[error(
        "cannot add the host key to {}: {source}; make the file and its directory writable or point `known_hosts` in qpconsole.toml at another file",
        path.display()
    )]
    Write { path: PathBuf, source: io::Error },
}

/// What to do with an offered host key, given the configured policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Accept,
    /// Accept it and record it with [`learn`].
    Learn,
    /// Show the fingerprint and let the user decide.
    Ask,
    /// Refuse, with the message to show.
    Refuse(String),
}

/// Checks `key`, offered by `host` on `port`, against the known_hosts file at `path`; a missing
/// file knows nothing.
pub fn check(
    path: &Path,
    host: &str,
    port: u16,
    key: &PublicKey,
) -> Result<Check, KnownHostsError> {
    let Some(text) = read(path)? else {
        return Ok(Check::Unknown);
    };
    let mut known = false;
    let mut changed = None;
    for (line, raw, entry) in entries_for(&text, path, host, port) {
        let same = entry.key.key_data() == key.key_data();
        match entry.marker {
            Marker::Revoked if same => return Ok(Check::Revoked { line }),
            Marker::Revoked => {}
            Marker::Host if same => known = true,
            Marker::Host if changed.is_none() && entry.key.algorithm() == key.algorithm() => {
                changed = Some(KnownEntry {
                    line,
                    text: raw.to_string(),
                    fingerprint: fingerprint(&entry.key),
                });
            }
            // An authority's key says nothing of a bare host key.
            Marker::Host | Marker::CertAuthority => {}
        }
    }
    Ok(match changed {
        _ if known => Check::Known,
        Some(known) => Check::Changed {
            line: known.line,
            known,
        },
        None => Check::Unknown,
    })
}

/// Whether an @cert-authority line covers `host` on `port`: then the host is asked for its
/// certificate, as OpenSSH asks.
pub fn trusts_an_authority_for(path: &Path, host: &str, port: u16) -> bool {
    let Ok(Some(text)) = read(path) else {
        return false;
    };
    entries_for(&text, path, host, port).any(|(_, _, e)| e.marker == Marker::CertAuthority)
}

/// Checks a host certificate offered by `host` on `port` (the name it must be valid for: the
/// host, or its HostKeyAlias) against the @cert-authority and @revoked lines of `path`, at
/// `now` (seconds since 1970).
pub fn check_certificate(
    path: &Path,
    host: &str,
    port: u16,
    cert: &Certificate,
    now: u64,
) -> Result<CertCheck, KnownHostsError> {
    let Some(text) = read(path)? else {
        return Ok(CertCheck::Untrusted);
    };
    let mut authority = None;
    for (line, _, entry) in entries_for(&text, path, host, port) {
        let signer = entry.key.key_data() == cert.signature_key();
        let own = entry.key.key_data() == cert.public_key();
        match entry.marker {
            Marker::Revoked if signer || own => return Ok(CertCheck::Revoked { line }),
            Marker::CertAuthority if signer && authority.is_none() => {
                authority = Some(entry.key.fingerprint(HashAlg::Sha256));
            }
            _ => {}
        }
    }
    let Some(authority) = authority else {
        return Ok(CertCheck::Untrusted);
    };
    if cert.cert_type() != CertType::Host {
        return Ok(CertCheck::Invalid("it is a user certificate".into()));
    }
    let principals = cert.valid_principals();
    let wanted = host.to_ascii_lowercase();
    if !principals.is_empty() && !principals.iter().any(|p| p.eq_ignore_ascii_case(&wanted)) {
        return Ok(CertCheck::Invalid(format!(
            "it is valid for {}, not {host}",
            principals.join(", ")
        )));
    }
    Ok(match cert.validate_at(now, [&authority]) {
        Ok(()) => CertCheck::Trusted,
        Err(_) if now < cert.valid_after() => CertCheck::Invalid("it is not valid yet".into()),
        Err(_) if now >= cert.valid_before() => CertCheck::Invalid("it has expired".into()),
        Err(e) => CertCheck::Invalid(format!("it does not verify ({e})")),
    })
}

/// The readable lines of a known_hosts text that name `host` on `port`: each with its number
/// (1-based) and its text. The lines that cannot be read are skipped, as OpenSSH skips them,
/// and logged with their place.
fn entries_for<'a>(
    text: &'a str,
    path: &'a Path,
    host: &str,
    port: u16,
) -> impl Iterator<Item = (usize, &'a str, Entry<'a>)> {
    let names = names(host, port);
    entries(text, path).filter_map(move |entry| match entry {
        Ok((line, raw, entry)) => matches_any(entry.hosts, &names).then_some((line, raw, entry)),
        Err(skipped) => {
            tracing::debug!("{skipped}");
            None
        }
    })
}

/// Every host key line of a known_hosts text with its number and text, or why it is skipped;
/// comments and blank lines are neither.
pub fn entries<'a>(
    text: &'a str,
    path: &'a Path,
) -> impl Iterator<Item = Result<(usize, &'a str, Entry<'a>), Skipped>> {
    text.lines().enumerate().filter_map(move |(index, raw)| {
        let line = index + 1;
        let skipped = |(column, why)| Skipped {
            path: path.to_path_buf(),
            line,
            column,
            why,
        };
        Entry::parse(raw)
            .map_err(skipped)
            .transpose()
            .map(|entry| entry.map(|entry| (line, raw, entry)))
    })
}

/// A known_hosts line that cannot be read, and where.
#[derive(Debug, Error)]
#[error("{}:{line}:{column}: known_hosts line skipped: {why}", path.display())]
pub struct Skipped {
    path: PathBuf,
    line: usize,
    column: usize,
    why: String,
}

/// The file's text; `None` when there is no file (it knows nothing).
fn read(path: &Path) -> Result<Option<String>, KnownHostsError> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(KnownHostsError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Records `key` for `host` on `port` at the end of the known_hosts file at `path`, as ssh does:
/// `host` for port 22, else `[host]:port`. The file and its directory (mode 0700) are created if
/// needed, and the line is on disk when this returns.
pub fn learn(path: &Path, host: &str, port: u16, key: &PublicKey) -> Result<(), KnownHostsError> {
    let failed = |source| KnownHostsError::Write {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_private_dir(dir).map_err(failed)?;
    }
    let line = record_of(host, port, key).map_err(|e| failed(io::Error::other(e)))?;
    let mut file = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)
        .map_err(failed)?;
    // A last line without its newline would otherwise swallow ours.
    let mut record = if ends_without_newline(&mut file).map_err(failed)? {
        "\n".to_string()
    } else {
        String::new()
    };
    record.push_str(&line);
    record.push('\n');
    file.write_all(record.as_bytes()).map_err(failed)?;
    file.flush().map_err(failed)?;
    file.sync_all().map_err(failed)
}

/// The known_hosts line that records `key` for `host` on `port`, without a comment.
fn record_of(
    host: &str,
    port: u16,
    key: &PublicKey,
) -> Result<String, russh::keys::ssh_key::Error> {
    let bare = PublicKey::new(key.key_data().clone(), "").to_openssh()?;
    Ok(format!("{} {bare}", recorded_name(host, port)))
}

/// The key's fingerprint exactly as `ssh-keygen -l` prints it: `SHA256:` and unpadded base64.
pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// Applies `policy` to what [`check`] found. A changed or revoked key is refused whatever the
/// policy: the policy only says what to do about hosts never seen before.
pub fn decide(
    policy: HostKeyPolicy,
    check: &Check,
    host: &str,
    port: u16,
    key: &PublicKey,
    path: &Path,
) -> Decision {
    let name = recorded_name(host, port);
    let offered = format!("{} {}", kind(key), fingerprint(key));
    let file = path.display();
    match check {
        Check::Known => Decision::Accept,
        Check::Revoked { line } => Decision::Refuse(format!(
            "The host key offered by {name} ({offered}) is REVOKED at {file}:{line} and must \
             never be accepted. Someone may be impersonating the host, or it still uses a key \
             that was withdrawn; ask its administrators for the current key."
        )),
        Check::Changed { line, known } => Decision::Refuse(format!(
            "WARNING: the host key for {name} has CHANGED. Someone could be eavesdropping \
             (man-in-the-middle), or the host key was just replaced. Offered: {offered}. \
             Known: {} {} at {file}:{line}: {}. If the change is expected, remove line {line} \
             (ssh-keygen -R '{name}' -f {file}) and connect again.",
            kind(key),
            known.fingerprint,
            known.text,
        )),
        Check::Unknown => match policy {
            HostKeyPolicy::AcceptNew => Decision::Learn,
            HostKeyPolicy::Ask => Decision::Ask,
            HostKeyPolicy::Yes => {
                // The line itself, as ssh would record it: right for a HostKeyAlias too, which
                // an ssh-keyscan of the host would not name.
                let line = record_of(host, port, key)
                    .map(|l| format!(" `{l}`"))
                    .unwrap_or_default();
                Decision::Refuse(format!(
                    "Host key for {name} is not known ({offered}). StrictHostKeyChecking is yes: \
                     after checking the fingerprint out of band, add the line{line} to {file}, \
                     or set strict_host_key_checking = \"accept-new\""
                ))
            }
        },
    }
}

/// The key type as ssh-keygen names it (`ED25519`, `RSA`, ...), for messages.
fn kind(key: &PublicKey) -> String {
    match key.algorithm() {
        Algorithm::Dsa => "DSA".to_string(),
        Algorithm::Ecdsa { .. } => "ECDSA".to_string(),
        Algorithm::Ed25519 => "ED25519".to_string(),
        Algorithm::Rsa { .. } => "RSA".to_string(),
        Algorithm::SkEcdsaSha2NistP256 => "ECDSA-SK".to_string(),
        Algorithm::SkEd25519 => "ED25519-SK".to_string(),
        other => other.as_str().to_string(),
    }
}

/// A key as ssh-keygen -l shows it: `ED25519 SHA256:...`.
pub fn label(key: &PublicKey) -> String {
    format!("{} {}", kind(key), fingerprint(key))
}

/// How ssh records a host: lowercased, in brackets with the port unless it is 22.
pub fn recorded_name(host: &str, port: u16) -> String {
    let host = host.to_ascii_lowercase();
    match port {
        22 => host,
        _ => format!("[{host}]:{port}"),
    }
}

/// The names an entry may record the host under. For port 22 `[host]:22` counts too: some tools
/// write it.
fn names(host: &str, port: u16) -> Vec<String> {
    let bracketed = format!("[{}]:{port}", host.to_ascii_lowercase());
    match port {
        22 => vec![recorded_name(host, port), bracketed],
        _ => vec![bracketed],
    }
}

fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

fn ends_without_newline(file: &mut fs::File) -> io::Result<bool> {
    let len = file.metadata()?.len();
    if len == 0 {
        return Ok(false);
    }
    let mut last = [0u8];
    file.seek(SeekFrom::Start(len - 1))?;
    file.read_exact(&mut last)?;
    Ok(last[0] != b'\n')
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    Host,
    Revoked,
    CertAuthority,
}

/// One host key line: marker, host patterns, key.
pub struct Entry<'a> {
    marker: Marker,
    hosts: &'a str,
    key: PublicKey,
}

impl<'a> Entry<'a> {
    /// None for comments and blank lines; for a line that cannot be read, the column it goes
    /// wrong at (1-based, in characters) and why.
    fn parse(text: &'a str) -> Result<Option<Self>, (usize, String)> {
        let column = |field: &str| {
            text[..field.as_ptr() as usize - text.as_ptr() as usize]
                .chars()
                .count()
                + 1
        };
        let end = text.chars().count() + 1;
        let mut fields = text.split_whitespace();
        let (marker, hosts) = match fields.next() {
            None => return Ok(None),
            Some(first) if first.starts_with('#') => return Ok(None),
            Some(marker @ ("@cert-authority" | "@revoked")) => match fields.next() {
                Some(hosts) if marker == "@revoked" => (Marker::Revoked, hosts),
                Some(hosts) => (Marker::CertAuthority, hosts),
                None => return Err((end, format!("no host patterns after {marker}"))),
            },
            Some(marker) if marker.starts_with('@') => {
                return Err((column(marker), format!("unknown marker {marker}")));
            }
            Some(hosts) => (Marker::Host, hosts),
        };
        let Some(algorithm) = fields.next() else {
            return Err((end, "no key after the host patterns".to_string()));
        };
        let Some(base64) = fields.next() else {
            return Err((end, format!("no key after {algorithm}")));
        };
        match PublicKey::from_openssh(&format!("{algorithm} {base64}")) {
            Ok(key) => Ok(Some(Self { marker, hosts, key })),
            Err(e) => Err((column(algorithm), format!("unreadable key: {e}"))),
        }
    }
}

/// Whether an entry's host field names one of `names`: a hashed name, or a comma-separated
/// pattern list where a negated pattern that matches rules the line out.
fn matches_any(patterns: &str, names: &[String]) -> bool {
    if let Some(hashed) = patterns.strip_prefix("|1|") {
        return names.iter().any(|name| hashed_matches(hashed, name));
    }
    let mut matched = false;
    for pattern in patterns.split(',') {
        let (negated, pattern) = match pattern.strip_prefix('!') {
            Some(pattern) => (true, pattern),
            None => (false, pattern),
        };
        if names
            .iter()
            .any(|name| wildcard_matches(pattern.as_bytes(), name.as_bytes()))
        {
            if negated {
                return false;
            }
            matched = true;
        }
    }
    matched
}

/// `salt|hash`, both base64: the HMAC-SHA1 of the name keyed by the salt.
fn hashed_matches(hashed: &str, name: &str) -> bool {
    let Some((salt, hash)) = hashed.split_once('|') else {
        return false;
    };
    let (Ok(salt), Ok(hash)) = (
        BASE64.decode(salt.as_bytes()),
        BASE64.decode(hash.as_bytes()),
    ) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(&salt) else {
        return false;
    };
    mac.update(name.as_bytes());
    mac.verify_slice(&hash).is_ok()
}

/// OpenSSH's pattern match: `*` any run, `?` any one character, letters compared without case.
fn wildcard_matches(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    // Where the last `*` was and how much of the text it has taken, to backtrack to.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == b'?' || c.eq_ignore_ascii_case(&text[t]) => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((star_p, star_t)) => {
                    star = Some((star_p, star_t + 1));
                    p = star_p + 1;
                    t = star_t + 1;
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests;
