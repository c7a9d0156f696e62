//! Every file here is made by OpenSSH's own tools (ssh-keygen), so the matcher is held to what
//! OpenSSH writes and, through `ssh-keygen -F`, to what OpenSSH itself would find.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

use super::*;

fn ssh_keygen(args: &[&str]) -> Output {
    match Command::new("ssh-keygen").args(args).output() {
        Ok(output) => output,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            panic!("ssh-keygen is not installed: install openssh-client to run these tests")
        }
        Err(e) => panic!("cannot run ssh-keygen {args:?}: {e}"),
    }
}

/// A temporary directory of host keys and known_hosts files.
struct Lab {
    dir: TempDir,
}

/// A host key made by ssh-keygen: the parsed public key and its `.pub` file.
struct HostKey {
    key: PublicKey,
    pub_file: PathBuf,
    /// `algorithm base64`, as a known_hosts line carries it.
    line: String,
}

impl Lab {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn key(&self, name: &str, kind: &str) -> HostKey {
        let private = self.path(name);
        let private = private.to_str().expect("utf-8 path");
        let out = ssh_keygen(&["-q", "-t", kind, "-N", "", "-C", name, "-f", private]);
        assert!(out.status.success(), "ssh-keygen: {out:?}");
        let pub_file = self.path(&format!("{name}.pub"));
        let text = fs::read_to_string(&pub_file).expect("read .pub");
        let key = PublicKey::from_openssh(&text).expect("parse .pub");
        let line = text
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ");
        HostKey {
            key,
            pub_file,
            line,
        }
    }

    fn known_hosts(&self, text: &str) -> PathBuf {
        let path = self.path("known_hosts");
        fs::write(&path, text).expect("write known_hosts");
        path
    }
}

/// Whether `ssh-keygen -F name` finds the name in the file: OpenSSH's own answer.
fn openssh_finds(file: &Path, name: &str) -> bool {
    let out = ssh_keygen(&["-F", name, "-f", file.to_str().expect("utf-8 path")]);
    out.status.success() && !out.stdout.is_empty()
}

#[test]
fn a_plain_entry_is_known_for_its_host_only() {
    let lab = Lab::new();
    let k = lab.key("k", "ed25519");
    let file = lab.known_hosts(&format!("bastion.example.com {}\n", k.line));
    assert_eq!(
        check(&file, "bastion.example.com", 22, &k.key).unwrap(),
        Check::Known
    );
    assert_eq!(
        check(&file, "BASTION.example.com", 22, &k.key).unwrap(),
        Check::Known
    );
    assert_eq!(
        check(&file, "other.example.com", 22, &k.key).unwrap(),
        Check::Unknown
    );
    assert_eq!(
        check(&file, "bastion.example.com", 2222, &k.key).unwrap(),
        Check::Unknown
    );
}

#[test]
fn a_bracketed_entry_is_for_that_port_only_and_port_22_accepts_both_forms() {
    let lab = Lab::new();
    let k = lab.key("k", "ed25519");
    let file = lab.known_hosts(&format!(
        "[127.0.0.1]:2222 {}\n[10.0.0.9]:22 {}\n",
        k.line, k.line
    ));
    assert_eq!(
        check(&file, "127.0.0.1", 2222, &k.key).unwrap(),
        Check::Known
    );
    assert!(openssh_finds(&file, "[127.0.0.1]:2222"));
    assert_eq!(
        check(&file, "127.0.0.1", 22, &k.key).unwrap(),
        Check::Unknown
    );
    assert!(!openssh_finds(&file, "127.0.0.1"));
    assert_eq!(
        check(&file, "127.0.0.1", 2223, &k.key).unwrap(),
        Check::Unknown
    );
    assert_eq!(check(&file, "10.0.0.9", 22, &k.key).unwrap(), Check::Known);
}

#[test]
fn entries_hashed_by_ssh_keygen_are_matched() {
    let lab = Lab::new();
    let k = lab.key("k", "ed25519");
    let file = lab.known_hosts(&format!(
        "[127.0.0.1]:2222 {}\nbastion.example.com {}\n",
        k.line, k.line
    ));
    let out = ssh_keygen(&["-H", "-f", file.to_str().unwrap()]);
    assert!(out.status.success(), "ssh-keygen -H: {out:?}");
    let hashed = fs::read_to_string(&file).unwrap();
    assert!(
        hashed.lines().all(|l| l.starts_with("|1|")),
        "not hashed: {hashed}"
    );
    assert_eq!(
        check(&file, "127.0.0.1", 2222, &k.key).unwrap(),
        Check::Known
    );
    assert_eq!(
        check(&file, "bastion.example.com", 22, &k.key).unwrap(),
        Check::Known
    );
    assert_eq!(
        check(&file, "127.0.0.1", 22, &k.key).unwrap(),
        Check::Unknown
    );
    assert_eq!(
        check(&file, "bastion.example.org", 22, &k.key).unwrap(),
        Check::Unknown
    );
}

#[test]
fn wildcards_and_negation_match_as_openssh_matches_them() {
    let lab = Lab::new();
    let k = lab.key("k", "ed25519");
    let file = lab.known_hosts(&format!(
        "*.example.com,!evil.example.com {}\n10.0.?.* {}\n[10.1.*]:2222 {}\n",
        k.line, k.line, k.line
    ));
    for (host, port, found) in [
        ("a.example.com", 22, true),
        ("deep.a.example.com", 22, true),
        ("evil.example.com", 22, false),
        ("example.com", 22, false),
        ("10.0.3.4", 22, true),
        ("10.0.33.4", 22, false),
        ("10.1.9.9", 2222, true),
        ("10.1.9.9", 22, false),
    ] {
        let expected = if found { Check::Known } else { Check::Unknown };
        assert_eq!(
            check(&file, host, port, &k.key).unwrap(),
            expected,
            "{host}:{port}"
        );
        let name = recorded_name(host, port);
        assert_eq!(openssh_finds(&file, &name), found, "ssh-keygen -F {name}");
    }
}

#[test]
fn a_changed_key_reports_the_first_entry_with_its_line_number_text_and_fingerprint() {
    let lab = Lab::new();
    let old = lab.key("old", "ed25519");
    let older = lab.key("older", "ed25519");
    let new = lab.key("new", "ed25519");
    let recorded = format!("[127.0.0.1]:47110   {}  old-key", old.line);
    let file = lab.known_hosts(&format!(
        "# hosts\n\n   \n\t# indented comment\nother {}\n{recorded}\n[127.0.0.1]:47110 {}\n",
        new.line, older.line
    ));
    let keygen = ssh_keygen(&["-lf", old.pub_file.to_str().unwrap()]);
    let old_fingerprint = String::from_utf8(keygen.stdout).unwrap();
    let old_fingerprint = old_fingerprint.split_whitespace().nth(1).unwrap();
    assert_eq!(
        check(&file, "127.0.0.1", 47110, &new.key).unwrap(),
        Check::Changed {
            line: 6,
            known: KnownEntry {
                line: 6,
                text: recorded,
                fingerprint: old_fingerprint.to_string(),
            },
        }
    );
}

#[test]
fn an_exact_match_anywhere_wins_over_a_changed_entry() {
    let lab = Lab::new();
    let old = lab.key("old", "ed25519");
    let new = lab.key("new", "ed25519");
    let file = lab.known_hosts(&format!("bastion {}\nbastion {}\n", old.line, new.line));
    assert_eq!(check(&file, "bastion", 22, &new.key).unwrap(), Check::Known);
}

#[test]
fn a_key_of_another_algorithm_only_is_unknown_not_changed() {
    let lab = Lab::new();
    let ecdsa = lab.key("ecdsa", "ecdsa");
    let ed25519 = lab.key("ed25519", "ed25519");
    let file = lab.known_hosts(&format!("bastion {}\n", ecdsa.line));
    assert_eq!(
        check(&file, "bastion", 22, &ed25519.key).unwrap(),
        Check::Unknown
    );
}

#[test]
fn a_revoked_key_is_revoked_even_where_it_is_also_known() {
    let lab = Lab::new();
    let k = lab.key("k", "ed25519");
    let file = lab.known_hosts(&format!(
        "bastion {}\n# withdrawn\n@revoked * {}\n",
        k.line, k.line
    ));
    assert_eq!(
        check(&file, "bastion", 22, &k.key).unwrap(),
        Check::Revoked { line: 3 }
    );
}

#[test]
fn cert_authority_lines_are_not_host_keys() {
    let lab = Lab::new();
    let ca = lab.key("ca", "ed25519");
    let file = lab.known_hosts(&format!("@cert-authority *.example.com {}\n", ca.line));
    assert_eq!(
        check(&file, "a.example.com", 22, &ca.key).unwrap(),
        Check::Unknown
    );
}

#[test]
fn unreadable_lines_are_skipped_without_spoiling_the_rest() {
    let lab = Lab::new();
    let k = lab.key("k", "ed25519");
    let old = lab.key("old", "ed25519");
    let base64 = k.line.split_whitespace().nth(1).unwrap();
    let file = lab.known_hosts(&format!(
        "garbage\nbastion ssh-ed25519 !!notbase64!!\nbastion ssh-rsa {base64}\n\
         @future-marker bastion {}\nbastion\nbastion {}\nbastion {}",
        old.line, old.line, k.line
    ));
    assert_eq!(check(&file, "bastion", 22, &k.key).unwrap(), Check::Known);
    let offered = lab.key("new", "ed25519");
    assert!(matches!(
        check(&file, "bastion", 22, &offered.key).unwrap(),
        Check::Changed { line: 6, .. }
    ));
}

#[test]
fn a_missing_file_knows_nothing_and_an_unreadable_one_says_what_to_do() {
    let lab = Lab::new();
    let k = lab.key("k", "ed25519");
    assert_eq!(
        check(&lab.path("absent"), "bastion", 22, &k.key).unwrap(),
        Check::Unknown
    );
    let err = check(lab.dir.path(), "bastion", 22, &k.key).expect_err("a directory");
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "cannot read known_hosts {}: ",
            lab.dir.path().display()
        )),
        "{text}"
    );
    assert!(text.ends_with("point `known_hosts` in qpconsole.toml at another file"));
}

#[test]
fn a_learned_key_is_known_afterwards_and_found_by_ssh_keygen() {
    let lab = Lab::new();
    let k = lab.key("k", "ed25519");
    let e = lab.key("e", "ecdsa");
    let file = lab.path("new-dir/known_hosts");
    learn(&file, "127.0.0.1", 2222, &k.key).unwrap();
    learn(&file, "Bastion.example.com", 22, &e.key).unwrap();
    assert_eq!(
        check(&file, "127.0.0.1", 2222, &k.key).unwrap(),
        Check::Known
    );
    assert_eq!(
        check(&file, "bastion.example.com", 22, &e.key).unwrap(),
        Check::Known
    );
    assert!(openssh_finds(&file, "[127.0.0.1]:2222"));
    assert!(openssh_finds(&file, "bastion.example.com"));
    assert_eq!(
        fs::read_to_string(&file).unwrap(),
        format!(
            "[127.0.0.1]:2222 {}\nbastion.example.com {}\n",
            k.line, e.line
        )
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(lab.path("new-dir"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
    }
}

#[test]
fn learning_after_a_last_line_without_newline_keeps_both_lines() {
    let lab = Lab::new();
    let old = lab.key("old", "ed25519");
    let k = lab.key("k", "ed25519");
    let file = lab.known_hosts(&format!("other {}", old.line));
    learn(&file, "bastion", 22, &k.key).unwrap();
    assert_eq!(
        fs::read_to_string(&file).unwrap(),
        format!("other {}\nbastion {}\n", old.line, k.line)
    );
    assert_eq!(check(&file, "other", 22, &old.key).unwrap(), Check::Known);
    assert_eq!(check(&file, "bastion", 22, &k.key).unwrap(), Check::Known);
}

#[test]
fn fingerprints_are_those_ssh_keygen_prints() {
    let lab = Lab::new();
    for kind in ["ed25519", "ecdsa", "rsa"] {
        let k = lab.key(kind, kind);
        let out = ssh_keygen(&["-lf", k.pub_file.to_str().unwrap()]);
        let printed = String::from_utf8(out.stdout).unwrap();
        assert_eq!(
            Some(fingerprint(&k.key).as_str()),
            printed.split_whitespace().nth(1),
            "{kind}: {printed}"
        );
    }
}

#[test]
fn a_known_key_is_accepted_under_every_policy() {
    let lab = Lab::new();
    let k = lab.key("k", "ed25519");
    let path = lab.path("known_hosts");
    for policy in [
        HostKeyPolicy::Yes,
        HostKeyPolicy::AcceptNew,
        HostKeyPolicy::Ask,
    ] {
        assert_eq!(
            decide(policy, &Check::Known, "bastion", 22, &k.key, &path),
            Decision::Accept
        );
    }
}

#[test]
fn an_unknown_key_is_refused_learned_or_asked_about_as_the_policy_says() {
    let lab = Lab::new();
    let k = lab.key("k", "ed25519");
    let path = lab.path("known_hosts");
    let decide_unknown =
        |policy| decide(policy, &Check::Unknown, "127.0.0.1", 47110, &k.key, &path);
    let p = path.display();
    let f = fingerprint(&k.key);
    let bare = PublicKey::new(k.key.key_data().clone(), "")
        .to_openssh()
        .unwrap();
    assert_eq!(
        decide_unknown(HostKeyPolicy::Yes),
        Decision::Refuse(format!(
            "Host key for [127.0.0.1]:47110 is not known (ED25519 {f}). StrictHostKeyChecking is \
             yes: after checking the fingerprint out of band, add the line \
             `[127.0.0.1]:47110 {bare}` to {p}, or set strict_host_key_checking = \"accept-new\""
        ))
    );
    assert_eq!(decide_unknown(HostKeyPolicy::AcceptNew), Decision::Learn);
    assert_eq!(decide_unknown(HostKeyPolicy::Ask), Decision::Ask);
}

#[test]
fn a_changed_key_is_refused_loudly_under_every_policy() {
    let lab = Lab::new();
    let old = lab.key("old", "ed25519");
    let new = lab.key("new", "ed25519");
    let file = lab.known_hosts(&format!("# lab\n\n[127.0.0.1]:47110 {}\n", old.line));
    let found = check(&file, "127.0.0.1", 47110, &new.key).unwrap();
    let p = file.display();
    let expected = format!(
        "WARNING: the host key for [127.0.0.1]:47110 has CHANGED. Someone could be eavesdropping \
         (man-in-the-middle), or the host key was just replaced. Offered: ED25519 {}. Known: \
         ED25519 {} at {p}:3: [127.0.0.1]:47110 {}. If the change is expected, remove line 3 \
         (ssh-keygen -R '[127.0.0.1]:47110' -f {p}) and connect again.",
        fingerprint(&new.key),
        fingerprint(&old.key),
        old.line
    );
    for policy in [
        HostKeyPolicy::Yes,
        HostKeyPolicy::AcceptNew,
        HostKeyPolicy::Ask,
    ] {
        assert_eq!(
            decide(policy, &found, "127.0.0.1", 47110, &new.key, &file),
            Decision::Refuse(expected.clone())
        );
    }
}

#[test]
fn a_revoked_key_is_refused_under_every_policy() {
    let lab = Lab::new();
    let k = lab.key("k", "ed25519");
    let file = lab.known_hosts(&format!("@revoked * {}\n", k.line));
    let found = check(&file, "bastion", 22, &k.key).unwrap();
    for policy in [
        HostKeyPolicy::Yes,
        HostKeyPolicy::AcceptNew,
        HostKeyPolicy::Ask,
    ] {
        let Decision::Refuse(message) = decide(policy, &found, "bastion", 22, &k.key, &file) else {
            panic!("a revoked key was not refused under {policy:?}");
        };
        assert!(
            message.contains(&format!("is REVOKED at {}:1", file.display())),
            "{message}"
        );
    }
}
