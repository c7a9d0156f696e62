use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tempfile::TempDir;

use super::*;
use crate::bastion::openssh;

/// A fake home directory with an ssh config in it, so `~` and the default keys are the test's.
struct Home {
    dir: TempDir,
}

impl Home {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::create_dir(dir.path().join(".ssh")).expect("mkdir .ssh");
        Self { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn ssh(&self, name: &str) -> PathBuf {
        self.path().join(".ssh").join(name)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.ssh(name);
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(&path, text).expect("write");
        path
    }

    fn resolver(&self) -> Result<Resolver, DestinationError> {
        Resolver::load(
            None,
            Some(self.path().to_path_buf()),
            "me".to_string(),
            None,
        )
    }

    /// The resolver that asks the OpenSSH client, as the console does where one is installed.
    fn openssh(&self) -> Resolver {
        let ssh = openssh::client().expect(
            "no OpenSSH client (ssh) on the PATH: install openssh-client (lab/install does)",
        );
        // The fake home's config, named as an estate's `ssh_config` is: ssh itself reads the
        // real user's.
        let config = self.ssh("config");
        Resolver::load(
            Some(&config),
            Some(self.path().to_path_buf()),
            "me".to_string(),
            Some(ssh),
        )
        .expect("loads")
    }

    fn route(&self, target: &str) -> Result<Vec<Hop>, DestinationError> {
        self.resolver()?.route_to(target, "test", &mut Vec::new())
    }

    fn hop(&self, target: &str) -> Hop {
        let hops = self.route(target).expect("resolves");
        assert_eq!(hops.len(), 1, "{hops:#?}");
        hops.into_iter().next().expect("one hop")
    }
}

fn names(hops: &[Hop]) -> Vec<(&str, &str, u16, &str)> {
    hops.iter()
        .map(|h| (h.name.as_str(), h.host.as_str(), h.port, h.user.as_str()))
        .collect()
}

#[test]
fn an_alias_takes_every_field_from_the_config() {
    let home = Home::new();
    home.write(
        "config",
        "Host bastion\n\
         \x20 HostName 10.0.0.5\n\
         \x20 User ops\n\
         \x20 Port 2222\n\
         \x20 IdentityFile ~/.ssh/bastion_key\n\
         \x20 IdentityFile ~/.ssh/second_key\n\
         \x20 CertificateFile ~/.ssh/issued-cert.pub\n\
         \x20 ConnectTimeout 7\n\
         \x20 ServerAliveInterval 15\n\
         \x20 ServerAliveCountMax 5\n\
         \x20 StrictHostKeyChecking yes\n\
         \x20 UserKnownHostsFile /dev/null\n\
         \x20 SomeFutureOption on\n",
    );
    home.write("bastion_key-cert.pub", "cert");
    let hop = home.hop("bastion");
    assert_eq!(
        hop,
        Hop {
            name: "bastion".to_string(),
            host: "10.0.0.5".to_string(),
            port: 2222,
            user: "ops".to_string(),
            identity_files: vec![home.ssh("bastion_key"), home.ssh("second_key")],
            certificate_files: vec![
                home.ssh("issued-cert.pub"),
                home.ssh("bastion_key-cert.pub")
            ],
            connect_timeout: Some(Duration::from_secs(7)),
            server_alive_interval: Some(Duration::from_secs(15)),
            server_alive_count_max: 5,
            proxy_command: None,
            host_key_alias: None,
            known_hosts_files: vec![PathBuf::from("/dev/null")],
        }
    );
}

#[test]
fn an_unknown_host_gets_the_defaults_and_the_default_keys_that_exist() {
    let home = Home::new();
    home.write("id_rsa", "key");
    home.write("id_rsa-cert.pub", "cert");
    home.write("id_ed25519", "key");
    let hop = home.hop("db.internal");
    assert_eq!(
        hop,
        Hop {
            name: "db.internal".to_string(),
            host: "db.internal".to_string(),
            port: 22,
            user: "me".to_string(),
            identity_files: vec![home.ssh("id_ed25519"), home.ssh("id_rsa")],
            certificate_files: vec![home.ssh("id_rsa-cert.pub")],
            connect_timeout: None,
            server_alive_interval: None,
            server_alive_count_max: 3,
            proxy_command: None,
            host_key_alias: None,
            known_hosts_files: vec![home.ssh("known_hosts")],
        }
    );
}

#[test]
fn user_host_port_works_without_any_config() {
    let home = Home::new();
    assert_eq!(
        names(&home.route("deploy@10.1.2.3:2200").expect("resolves")),
        [("10.1.2.3", "10.1.2.3", 2200, "deploy")]
    );
    assert_eq!(
        names(&home.route("ssh://[::1]:2201").expect("resolves")),
        [("::1", "::1", 2201, "me")]
    );
    assert_eq!(
        names(&home.route("fe80::1").expect("resolves")),
        [("fe80::1", "fe80::1", 22, "me")]
    );
}

#[test]
fn an_explicit_user_and_port_win_over_the_config_as_on_the_ssh_command_line() {
    let home = Home::new();
    home.write(
        "config",
        "Host bastion\n  HostName 10.0.0.5\n  User ops\n  Port 2222\n",
    );
    assert_eq!(
        names(&home.route("root@bastion:22").expect("resolves")),
        [("bastion", "10.0.0.5", 22, "root")]
    );
}

#[test]
fn include_reads_other_files_relative_to_the_ssh_directory_and_under_tilde() {
    let home = Home::new();
    home.write(
        "config",
        "Include conf.d/*.conf\nInclude ~/.ssh/extra\n\nHost *\n  User fallback\n",
    );
    home.write(
        "conf.d/lab.conf",
        "Host lab\n  HostName 192.0.2.10\n  Port 2022\n",
    );
    home.write("extra", "Host other\n  HostName 192.0.2.11\n  User ops\n");
    assert_eq!(
        names(&home.route("lab").expect("resolves")),
        [("lab", "192.0.2.10", 2022, "fallback")]
    );
    assert_eq!(
        names(&home.route("other").expect("resolves")),
        [("other", "192.0.2.11", 22, "ops")]
    );
}

#[test]
fn tilde_and_tokens_in_key_paths_are_expanded() {
    let home = Home::new();
    home.write(
        "config",
        "Host web\n  HostName web.example.com\n  User deploy\n  IdentityFile ~/.ssh/%r@%h\n  IdentityFile %d/keys/%n-%p\n",
    );
    let hop = home.hop("web");
    assert_eq!(
        hop.identity_files,
        [
            home.ssh("deploy@web.example.com"),
            home.path().join("keys/web-22")
        ]
    );
}

#[test]
fn an_unknown_token_is_an_error_naming_the_option_and_the_alias() {
    let home = Home::new();
    let config = home.write("config", "Host web\n  IdentityFile ~/.ssh/%C\n");
    let err = home.route("web").expect_err("%C is not expanded");
    let text = err.to_string();
    assert!(text.starts_with("IdentityFile `"), "{text}");
    assert!(
        text.contains(&format!(
            "for `web` at {}:2:3: unknown token `%C`",
            config.display()
        )),
        "{text}"
    );
}

#[test]
fn proxy_jump_chains_resolve_each_hop_through_the_same_config() {
    let home = Home::new();
    home.write(
        "config",
        "Host app\n  HostName 10.0.1.20\n  ProxyJump jump1,admin@jump2:2200\n\
         Host jump1\n  HostName 203.0.113.1\n  User edge\n  ProxyJump gate\n\
         Host jump2\n  HostName 10.0.0.2\n  User ops\n  ProxyJump ignored-because-jump1-leads-here\n\
         Host gate\n  HostName 198.51.100.7\n  Port 2222\n",
    );
    let hops = home.route("app").expect("resolves");
    assert_eq!(
        names(&hops),
        [
            ("gate", "198.51.100.7", 2222, "me"),
            ("jump1", "203.0.113.1", 22, "edge"),
            ("jump2", "10.0.0.2", 2200, "admin"),
            ("app", "10.0.1.20", 22, "me"),
        ]
    );
    let route = Route {
        hops,
        reader: String::new(),
    };
    assert_eq!(route.destination().host, "10.0.1.20");
}

#[test]
fn proxy_jump_none_connects_directly() {
    let home = Home::new();
    home.write(
        "config",
        "Host gw\n  ProxyJump none\nHost *\n  ProxyJump gw\n",
    );
    assert_eq!(
        names(&home.route("db").expect("resolves")),
        [("gw", "gw", 22, "me"), ("db", "db", 22, "me")]
    );
}

#[test]
fn a_proxy_jump_loop_is_an_error_naming_the_chain() {
    let home = Home::new();
    let config = home.write(
        "config",
        "Host a\n  ProxyJump b\nHost b\n  ProxyJump c\nHost c\n  ProxyJump a\n",
    );
    let err = home.route("a").expect_err("loops");
    assert_eq!(
        err.to_string(),
        format!(
            "ProxyJump loop (ProxyJump of `c` at {}:6:13): a -> b -> c -> a; remove the ProxyJump that leads back to `a`",
            config.display()
        )
    );
}

#[test]
fn a_proxy_command_is_the_hops_transport_with_its_tokens_expanded() {
    let home = Home::new();
    home.write(
        "config",
        "Host i-*\n  User ec2-user\n  ProxyCommand aws ssm start-session --target %h --parameters portNumber=%p --reason %r@%n:100%%\n",
    );
    for resolver in [home.resolver().expect("loads"), home.openssh()] {
        let hops = resolver
            .route_to("i-0abc", "test", &mut Vec::new())
            .expect("resolves");
        assert_eq!(
            hops[0].proxy_command.as_deref(),
            Some(
                "aws ssm start-session --target i-0abc --parameters portNumber=22 --reason ec2-user@i-0abc:100%"
            ),
            "{}",
            resolver.reader_name()
        );
    }
}

#[test]
fn a_match_of_host_patterns_is_a_host_block_for_the_built_in_reader() {
    let home = Home::new();
    home.write(
        "config",
        "Host bastion\n  HostName 10.0.0.5\nMatch host other,another\n  User someone-else\n",
    );
    assert_eq!(
        names(&home.route("bastion").expect("the Match is not for it")),
        [("bastion", "10.0.0.5", 22, "me")]
    );
    assert_eq!(
        names(&home.route("another").expect("the Match is for it")),
        [("another", "another", 22, "someone-else")]
    );
}

#[test]
fn a_match_the_built_in_reader_cannot_evaluate_refuses_only_the_hosts_it_could_apply_to() {
    let home = Home::new();
    let config = home.write(
        "config",
        "Host bastion\n  HostName 10.0.0.5\nHost *\n  ServerAliveInterval 30\nMatch host *.corp exec \"test -e /nonexistent\"\n  User corp\n",
    );
    let err = home.route("db.corp").expect_err("the Match may apply");
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "Match `host *.corp exec \"test -e /nonexistent\"` for `db.corp` at {}:5:7: this Match block may apply to this host",
            config.display()
        )),
        "{text}"
    );
    assert!(text.contains("install the OpenSSH client"), "{text}");
    // Every other host resolves, after the `Host *` block the Match follows.
    let bastion = home.hop("bastion");
    assert_eq!(bastion.host, "10.0.0.5");
    assert_eq!(bastion.server_alive_interval, Some(Duration::from_secs(30)));
    // OpenSSH evaluates it: the exec fails, so the Match does not apply.
    let hops = home
        .openssh()
        .route_to("db.corp", "test", &mut Vec::new())
        .expect("ssh -G evaluates Match");
    assert_eq!((hops[0].port, hops.len()), (22, 1));
    assert_ne!(hops[0].user, "corp");
}

#[test]
fn openssh_applies_a_match_exec_that_selects_the_host() {
    let home = Home::new();
    home.write(
        "config",
        "Host bastion\n  HostName 10.0.0.5\nMatch originalhost bastion exec \"true\"\n  User matched\n  Port 2200\n  HostKeyAlias bastion-key\n",
    );
    let hops = home
        .openssh()
        .route_to("bastion", "test", &mut Vec::new())
        .expect("resolves");
    assert_eq!(names(&hops), [("bastion", "10.0.0.5", 2200, "matched")]);
    assert_eq!(hops[0].host_key_alias.as_deref(), Some("bastion-key"));
}

#[test]
fn openssh_says_which_line_of_a_bad_config_is_wrong() {
    let home = Home::new();
    let config = home.write("config", "Host a\n  NoSuchOption yes\n");
    let err = home
        .openssh()
        .route_to("a", "test", &mut Vec::new())
        .expect_err("bad option");
    let text = err.to_string();
    assert!(
        text.contains(&format!(
            "{}: line 2: Bad configuration option: nosuchoption",
            config.display()
        )),
        "{text}"
    );
}

#[test]
fn a_bad_port_in_the_config_names_the_file_and_line() {
    let home = Home::new();
    let config = home.write(
        "config",
        "# lab\nHost bastion\n  HostName 10.0.0.5\n  Port 99999\n",
    );
    let err = home.route("bastion").expect_err("bad port");
    assert_eq!(
        err.to_string(),
        format!(
            "{}:4:3: expected port number in `Port 99999`; fix or remove this line",
            config.display()
        )
    );
}

#[test]
fn a_bad_port_in_a_target_says_how_to_write_one() {
    let home = Home::new();
    home.write("config", "Host app\n  ProxyJump jump:http\n");
    let err = home.route("app").expect_err("bad port");
    assert_eq!(
        err.to_string(),
        format!(
            "bad ssh destination `jump:http` (ProxyJump of `app` at {}:2:13): port `http` is not a number from 1 to 65535; write an ssh config Host alias or [user@]host[:port]",
            home.ssh("config").display()
        )
    );
    assert!(matches!(
        home.route("host:0"),
        Err(DestinationError::Target { .. })
    ));
}

#[test]
fn a_missing_default_config_is_fine_but_a_missing_named_one_is_an_error() {
    let home = Home::new();
    assert!(home.route("anything").is_ok());
    let missing = home.path().join("nope");
    let err = resolve("bastion", Some(&missing)).expect_err("missing");
    assert_eq!(
        err.to_string(),
        format!(
            "cannot read ssh config {}: No such file or directory (os error 2); fix `ssh_config` in qpconsole.toml or create the file",
            missing.display()
        )
    );
}

#[test]
fn a_jump_shell_goes_through_the_bastion_route_and_ignores_the_instance_proxy_jump() {
    let home = Home::new();
    let config = home.write(
        "config",
        "Host bastion\n  HostName 203.0.113.9\n  User ops\nHost 10.*\n  User ec2-user\n  ProxyJump elsewhere\n",
    );
    let bastion = resolve("bastion", Some(&config)).expect("bastion");
    let shell = resolve_via(&bastion, "10.0.3.4", Some(&config)).expect("shell");
    assert_eq!(
        names(&shell.hops),
        [
            ("bastion", "203.0.113.9", 22, "ops"),
            ("10.0.3.4", "10.0.3.4", 22, "ec2-user")
        ]
    );
}
