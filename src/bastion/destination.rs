//! Where the bastion connects: an ssh config Host alias or `[user@]host[:port]`, resolved the way
//! `ssh <target>` resolves it, so the console reaches exactly what the user's own ssh reaches,
//! with the same keys. Where an OpenSSH client is installed its own answer is used (`ssh -G`,
//! in `openssh`): it evaluates Match, Include, canonicalisation and tokens exactly as `ssh`
//! does. Without one, the built-in reader (ssh2-config) stands in.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ssh2_config::{ParseRule, SshConfig};

use super::openssh;
use thiserror::Error;

/// Unknown options are tolerated (OpenSSH knows more than ssh2-config does), and the ones
/// ssh2-config recognises but does not model are kept, because ServerAliveCountMax and
/// ProxyCommand are among them.
const RULES: ParseRule = ParseRule::ALLOW_UNKNOWN_FIELDS.union(ParseRule::ALLOW_UNSUPPORTED_FIELDS);

/// The keys OpenSSH tries when no IdentityFile is configured, most modern first.
const DEFAULT_IDENTITIES: [&str; 3] = ["id_ed25519", "id_ecdsa", "id_rsa"];

/// One ssh connection of a route, with everything needed to open and keep it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    /// The alias or host as the user wrote it, for messages.
    pub name: String,
    /// HostName, or the name itself.
    pub host: String,
    pub port: u16,
    pub user: String,
    /// As configured; when none are, the OpenSSH default keys that exist.
    pub identity_files: Vec<PathBuf>,
    /// CertificateFile, plus `<identity>-cert.pub` next to each identity file that has one.
    pub certificate_files: Vec<PathBuf>,
    pub connect_timeout: Option<Duration>,
    pub server_alive_interval: Option<Duration>,
    pub server_alive_count_max: u32,
    /// ProxyCommand with its tokens expanded: the hop's transport, when it is the first hop.
    pub proxy_command: Option<String>,
    /// HostKeyAlias: the name the host key is checked and recorded under instead of the host.
    pub host_key_alias: Option<String>,
    /// UserKnownHostsFile, as the ssh config says (OpenSSH's defaults where it says nothing).
    pub known_hosts_files: Vec<PathBuf>,
}

/// The hops to make, in order: jump hosts first, the destination last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub hops: Vec<Hop>,
    /// Which reader resolved it, for `check-config`.
    pub reader: String,
}

impl Route {
    /// The host the route leads to.
    pub fn destination(&self) -> &Hop {
        self.hops
            .last()
            .expect("a route always ends at its destination")
    }
}

/// A destination that cannot be resolved, worded for the person who has to fix it.
#[derive(Debug, Error)]
pub enum DestinationError {
    #[error("cannot read ssh config {}: {source}; {hint}", path.display())]
    Read {
        path: PathBuf,
        source: io::Error,
        hint: &'static str,
    },
    #[error("{}:{line}:{column}: {problem} in `{text}`; fix or remove this line", path.display())]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        text: String,
        problem: String,
    },
    #[error(
        "bad ssh destination `{target}` ({origin}): {problem}; write an ssh config Host alias or [user@]host[:port]"
    )]
    Target {
        target: String,
        origin: String,
        problem: String,
    },
    #[error("{field} `{value}` for `{alias}` at {place}: {problem}")]
    Value {
        /// `file:line:column`, or the line and column of `ssh -G`'s answer.
        place: String,
        alias: String,
        field: &'static str,
        value: String,
        problem: String,
    },
    #[error(
        "`{command}` failed for `{target}`: {problem}; fix that, or set QPCONSOLE_SSH= (empty) to use qpconsole's built-in ssh config reader"
    )]
    OpenSsh {
        command: String,
        target: String,
        problem: String,
    },
    #[error("ProxyJump loop ({origin}): {chain}; remove the ProxyJump that leads back to `{back}`")]
    Loop {
        origin: String,
        chain: String,
        back: String,
    },
}

/// The route to `target` (an ssh config Host alias or `[user@]host[:port]`) through the ssh
/// config `ssh_config` (None: ~/.ssh/config, which may be absent).
pub fn resolve(target: &str, ssh_config: Option<&Path>) -> Result<Route, DestinationError> {
    Resolver::load(
        ssh_config,
        dirs::home_dir(),
        local_user(),
        openssh::client(),
    )?
    .route(target)
}

/// The route to `target` as the built-in reader reads the ssh config at `config`, `~` being
/// `home`: how hostile files reach the reader (`crate::hostile`).
pub fn resolve_built_in(
    target: &str,
    config: &Path,
    home: &Path,
) -> Result<Route, DestinationError> {
    Resolver::load(Some(config), Some(home.to_path_buf()), "qp".into(), None)?.route(target)
}

/// The route to `target` where `ssh -G` answered `answer` for every host: how hostile answers
/// reach their reader (`crate::hostile`).
pub fn resolve_answered(
    target: &str,
    answer: &str,
    home: &Path,
) -> Result<Route, DestinationError> {
    Resolver {
        reader: Reader::Answered(answer.to_string()),
        shown: "the ssh config".into(),
        text: String::new(),
        home: Some(home.to_path_buf()),
        local_user: "qp".into(),
    }
    .route(target)
}

/// The route to `target` behind `route` (a jump shell: the bastion route, then the instance).
/// The target's own ProxyJump is ignored: `route` is its jump.
pub fn resolve_via(
    route: &Route,
    target: &str,
    ssh_config: Option<&Path>,
) -> Result<Route, DestinationError> {
    Resolver::load(
        ssh_config,
        dirs::home_dir(),
        local_user(),
        openssh::client(),
    )?
    .route_via(route, target)
}

/// `~/…` under `home`; anything else as it is.
pub fn under_home(text: &str, home: Option<&Path>) -> String {
    match (text.strip_prefix("~/"), home) {
        (Some(rest), Some(home)) => home.join(rest).to_string_lossy().into_owned(),
        _ => text.to_string(),
    }
}

/// The login name ssh would use: `$USER`, else `$LOGNAME`, else root.
fn local_user() -> String {
    ["USER", "LOGNAME"]
        .into_iter()
        .filter_map(|var| std::env::var(var).ok())
        .find(|user| !user.is_empty())
        .unwrap_or_else(|| "root".to_string())
}

/// Who answers what the ssh config says for a host.
enum Reader {
    /// The OpenSSH client at this path, with `-F` when the estate names a config.
    OpenSsh {
        ssh: PathBuf,
        config: Option<PathBuf>,
    },
    /// The built-in reader, over the config as parsed.
    BuiltIn(SshConfig),
    /// What `ssh -G` printed, given (`resolve_answered`).
    Answered(String),
}

/// What the ssh config says for one host, from either reader: what `Hop` is made of.
#[derive(Debug, Default)]
struct Options {
    host_name: Option<String>,
    port: Option<u16>,
    user: Option<String>,
    /// `None`: not configured (the default keys are tried).
    identity_files: Option<Vec<String>>,
    certificate_files: Vec<String>,
    proxy_jump: Option<Vec<String>>,
    proxy_command: Option<String>,
    host_key_alias: Option<String>,
    known_hosts_files: Vec<String>,
    connect_timeout: Option<Duration>,
    server_alive_interval: Option<Duration>,
    server_alive_count_max: Option<String>,
    /// Set when `ssh -G` answered: its HostName has its tokens expanded already, and its
    /// identity files include the defaults, which are kept only where they exist.
    evaluated: bool,
    /// Where they were read, to point at the line a bad value is on.
    origin: Origin,
}

/// A text options were read from: the ssh config, or what `ssh -G` printed.
#[derive(Debug, Default)]
struct Origin {
    /// The file, or the command whose answer it is.
    name: String,
    text: String,
    answer: bool,
}

impl Origin {
    /// Where `keyword` is set to `value` (the first line setting `keyword` where none holds
    /// `value`): `file:line:column`, or the line and column of an answer. A value that came
    /// from an Included file is not in this text: then only the name.
    fn place(&self, keyword: &str, value: &str) -> String {
        let lines: Vec<(usize, &str, usize)> = self
            .text
            .lines()
            .enumerate()
            .filter_map(|(i, line)| {
                let indent = line.len() - line.trim_start().len();
                let word = line[indent..]
                    .split(|c: char| c.is_whitespace() || c == '=')
                    .next()?;
                word.eq_ignore_ascii_case(keyword)
                    .then_some((i + 1, line, indent))
            })
            .collect();
        let found = lines
            .iter()
            .find_map(|&(n, line, indent)| {
                let after = indent + keyword.len();
                let at = line[after..].find(value).filter(|_| !value.is_empty())?;
                Some((n, line, after + at))
            })
            .or_else(|| lines.first().map(|&(n, line, indent)| (n, line, indent)));
        match found {
            Some((n, line, at)) => {
                let column = line[..at].chars().count() + 1;
                match self.answer {
                    true => format!("line {n}, column {column} of {}", self.name),
                    false => format!("{}:{n}:{column}", self.name),
                }
            }
            None => self.name.clone(),
        }
    }
}

impl Options {
    fn from_answer(a: &openssh::Answer, command: String) -> Options {
        let given = |key| a.one(key).filter(|v| !v.eq_ignore_ascii_case("none"));
        Options {
            host_name: a.one("hostname").map(str::to_string),
            port: a.one("port").and_then(|p| p.parse().ok()),
            user: a.one("user").map(str::to_string),
            identity_files: Some(a.all("identityfile")),
            certificate_files: a.all("certificatefile"),
            proxy_jump: given("proxyjump").map(|v| v.split(',').map(str::to_string).collect()),
            proxy_command: given("proxycommand").map(str::to_string),
            host_key_alias: a.one("hostkeyalias").map(str::to_string),
            known_hosts_files: a
                .one("userknownhostsfile")
                .map(|v| v.split_whitespace().map(str::to_string).collect())
                .unwrap_or_default(),
            connect_timeout: a.seconds("connecttimeout"),
            server_alive_interval: a.seconds("serveraliveinterval"),
            server_alive_count_max: a.one("serveralivecountmax").map(str::to_string),
            evaluated: true,
            origin: Origin {
                name: format!("{command}'s answer"),
                text: a.text().to_string(),
                answer: true,
            },
        }
    }
}

/// The ssh config's reader and what `~`, `%d` and the default user mean on this machine.
struct Resolver {
    reader: Reader,
    /// The config file as messages name it.
    shown: String,
    /// Its text, as written (the built-in reader's errors point into it).
    text: String,
    home: Option<PathBuf>,
    local_user: String,
}

impl Resolver {
    /// With `ssh`, OpenSSH's own answer; without, the built-in reader.
    fn load(
        explicit: Option<&Path>,
        home: Option<PathBuf>,
        local_user: String,
        ssh: Option<PathBuf>,
    ) -> Result<Self, DestinationError> {
        let path = explicit
            .map(Path::to_path_buf)
            .or_else(|| home.as_ref().map(|h| h.join(".ssh").join("config")));
        let Some(path) = path else {
            return Ok(Self {
                reader: Reader::BuiltIn(SshConfig::default()),
                shown: "no ssh config (no home directory)".to_string(),
                text: String::new(),
                home,
                local_user,
            });
        };
        // A missing default config is an empty one, as for OpenSSH; a named one must exist.
        let text = match fs::read(&path) {
            Ok(bytes) => Some(utf8(&path, bytes)?),
            Err(e) if e.kind() == io::ErrorKind::NotFound && explicit.is_none() => None,
            Err(source) => {
                let hint = if source.kind() == io::ErrorKind::NotFound {
                    "fix `ssh_config` in qpconsole.toml or create the file"
                } else {
                    "fix its permissions or point `ssh_config` in qpconsole.toml at another file"
                };
                return Err(DestinationError::Read { path, source, hint });
            }
        };
        let reader = match ssh {
            // `-F` only for a config the estate names: without it ssh reads what it always
            // reads, the user's ~/.ssh/config and the system's /etc/ssh/ssh_config.
            Some(ssh) => Reader::OpenSsh {
                ssh,
                config: explicit.map(Path::to_path_buf),
            },
            None => Reader::BuiltIn(parse(
                text.as_deref().unwrap_or_default(),
                &path,
                home.as_deref(),
            )?),
        };
        Ok(Self {
            reader,
            shown: path.display().to_string(),
            text: text.unwrap_or_default(),
            home,
            local_user,
        })
    }

    fn reader_name(&self) -> String {
        match &self.reader {
            Reader::OpenSsh { ssh, .. } => format!("OpenSSH (`{} -G`)", ssh.display()),
            Reader::BuiltIn(_) => {
                "qpconsole's built-in reader (no OpenSSH client found)".to_string()
            }
            Reader::Answered(_) => "the given `ssh -G` answer".to_string(),
        }
    }

    fn route(&self, target: &str) -> Result<Route, DestinationError> {
        let hops = self.route_to(target, "`bastion` in qpconsole.toml", &mut Vec::new())?;
        Ok(Route {
            hops,
            reader: self.reader_name(),
        })
    }

    /// What the config says for `spec`.
    fn options(&self, spec: &Spec) -> Result<Options, DestinationError> {
        match &self.reader {
            Reader::OpenSsh { ssh, config } => openssh::ask(
                ssh,
                config.as_deref(),
                &spec.host,
                spec.user.as_deref(),
                spec.port,
            )
            .map(|answer| {
                Options::from_answer(&answer, format!("`{} -G {}`", ssh.display(), spec.host))
            })
            .map_err(|problem| DestinationError::OpenSsh {
                command: format!("{} -G", ssh.display()),
                target: spec.host.clone(),
                problem,
            }),
            Reader::BuiltIn(config) => self.built_in(config, spec),
            Reader::Answered(text) => Ok(Options::from_answer(
                &openssh::Answer::parse(text),
                format!("`ssh -G {}`", spec.host),
            )),
        }
    }

    fn built_in(&self, config: &SshConfig, spec: &Spec) -> Result<Options, DestinationError> {
        let params = config.query(&spec.host);
        let origin = Origin {
            name: self.shown.clone(),
            text: self.text.clone(),
            answer: false,
        };
        // A Match block the reader cannot evaluate stands as a Host block for the hosts it
        // could apply to (`match_as_host`), carrying its Match line: only those are refused.
        if let Some((_, args)) = params
            .ignored_fields
            .iter()
            .find(|(field, _)| field.eq_ignore_ascii_case("match"))
        {
            let value = args.join(" ");
            return Err(DestinationError::Value {
                place: origin.place("Match", &value),
                alias: spec.host.clone(),
                field: "Match",
                value,
                problem: "this Match block may apply to this host, and qpconsole's built-in \
                          reader cannot evaluate it; install the OpenSSH client (ssh), whose \
                          `ssh -G` qpconsole then asks, or give this host what it needs in a \
                          Host block"
                    .to_string(),
            });
        }
        let field = |name: &str| {
            params
                .unsupported_fields
                .get(name)
                .or_else(|| params.ignored_fields.get(name))
                .map(|args| args.join(" "))
        };
        let path_text = |p: &PathBuf| p.to_string_lossy().into_owned();
        Ok(Options {
            host_name: params.host_name.clone(),
            port: params.port,
            user: params.user.clone(),
            identity_files: params
                .identity_file
                .as_ref()
                .map(|files| files.iter().map(path_text).collect()),
            certificate_files: params.certificate_file.iter().map(path_text).collect(),
            proxy_jump: params.proxy_jump.clone(),
            proxy_command: field("proxycommand").filter(|c| !c.eq_ignore_ascii_case("none")),
            host_key_alias: field("hostkeyalias"),
            known_hosts_files: field("userknownhostsfile")
                .map(|f| f.split_whitespace().map(str::to_string).collect())
                .unwrap_or_default(),
            connect_timeout: params.connect_timeout,
            server_alive_interval: params.server_alive_interval,
            server_alive_count_max: field("serveralivecountmax"),
            evaluated: false,
            origin,
        })
    }

    /// The hops to `target`: its ProxyJump chain, then itself. `chain` holds the names whose
    /// jumps are being resolved, to catch a jump that leads back to one of them.
    fn route_to(
        &self,
        target: &str,
        origin: &str,
        chain: &mut Vec<String>,
    ) -> Result<Vec<Hop>, DestinationError> {
        let spec = self.spec(target, origin, chain)?;
        let (hop, jumps, jumps_at) = self.hop(&spec)?;
        chain.push(spec.host);
        let origin = format!("ProxyJump of `{}` at {jumps_at}", hop.name);
        let mut hops = Vec::new();
        // As `ssh -J a,b` does: `a` is reached by its own route, `b` only through `a`.
        if let Some((first, rest)) = jumps.split_first() {
            hops = self.route_to(first, &origin, chain)?;
            for jump in rest {
                hops.push(self.hop(&self.spec(jump, &origin, chain)?)?.0);
            }
        }
        chain.pop();
        hops.push(hop);
        Ok(hops)
    }

    fn route_via(&self, route: &Route, target: &str) -> Result<Route, DestinationError> {
        let spec = self.spec(target, "the jump shell target", &[])?;
        let mut hops = route.hops.clone();
        hops.push(self.hop(&spec)?.0);
        Ok(Route {
            hops,
            reader: self.reader_name(),
        })
    }

    fn spec(&self, target: &str, origin: &str, chain: &[String]) -> Result<Spec, DestinationError> {
        let spec = Spec::parse(target).map_err(|problem| DestinationError::Target {
            target: target.to_string(),
            origin: origin.to_string(),
            problem,
        })?;
        if chain.contains(&spec.host) {
            let mut names = chain.to_vec();
            names.push(spec.host.clone());
            return Err(DestinationError::Loop {
                origin: origin.to_string(),
                chain: names.join(" -> "),
                back: spec.host,
            });
        }
        Ok(spec)
    }

    /// The hop `spec` names, its jumps, and where they are set. What the target says
    /// explicitly (`user@`, `:port`) wins over the config, as on ssh's command line.
    fn hop(&self, spec: &Spec) -> Result<(Hop, Vec<String>, String), DestinationError> {
        let options = self.options(spec)?;
        let invalid = |field, value: &str, problem: String| DestinationError::Value {
            place: options.origin.place(field, value),
            alias: spec.host.clone(),
            field,
            value: value.to_string(),
            problem,
        };
        let host = match &options.host_name {
            Some(name) if options.evaluated => name.clone(),
            Some(name) => expand_tokens(name, &[('h', &spec.host)])
                .map_err(|problem| invalid("HostName", name, problem))?,
            None => spec.host.clone(),
        };
        let port = match (spec.port, options.port) {
            (Some(port), _) | (None, Some(port @ 1..)) => port,
            (None, Some(_)) => {
                let problem = "not a port from 1 to 65535".to_string();
                return Err(invalid("Port", "0", problem));
            }
            (None, None) => 22,
        };
        let user = spec
            .user
            .clone()
            .or_else(|| options.user.clone())
            .unwrap_or_else(|| self.local_user.clone());

        let home = self.home.as_deref().map(Path::to_string_lossy);
        let port_text = port.to_string();
        let tokens = [
            ('d', home.as_deref().unwrap_or("~")),
            ('h', host.as_str()),
            ('n', spec.host.as_str()),
            ('p', port_text.as_str()),
            ('r', user.as_str()),
            ('u', self.local_user.as_str()),
        ];
        let expand = |field, text: &str| {
            expand_tokens(&self.tilde(text), &tokens)
                .map(PathBuf::from)
                .map_err(|problem| invalid(field, text, problem))
        };
        let identity_files = match &options.identity_files {
            // ssh -G lists the defaults too: like ssh, skip the ones that do not exist.
            Some(files) if options.evaluated => files
                .iter()
                .map(|f| expand("IdentityFile", f))
                .filter(|f| f.as_ref().map_or(true, |p| p.is_file()))
                .collect::<Result<Vec<_>, _>>()?,
            Some(files) => files
                .iter()
                .map(|f| expand("IdentityFile", f))
                .collect::<Result<Vec<_>, _>>()?,
            None => self.default_identities(),
        };
        let mut certificate_files = options
            .certificate_files
            .iter()
            .map(|f| expand("CertificateFile", f))
            .collect::<Result<Vec<_>, _>>()?;
        for identity in &identity_files {
            let mut cert = identity.clone().into_os_string();
            cert.push("-cert.pub");
            let cert = PathBuf::from(cert);
            if cert.is_file() && !certificate_files.contains(&cert) {
                certificate_files.push(cert);
            }
        }
        let server_alive_count_max = match &options.server_alive_count_max {
            Some(count) => count.parse().map_err(|_| {
                let problem = "not a whole number; write a count such as 3".to_string();
                invalid("ServerAliveCountMax", count, problem)
            })?,
            None => 3,
        };
        // ProxyCommand's tokens, as ssh expands them: %h %p %r %n and %%.
        let proxy_tokens = [
            ('h', host.as_str()),
            ('n', spec.host.as_str()),
            ('p', port_text.as_str()),
            ('r', user.as_str()),
        ];
        let proxy_command = options
            .proxy_command
            .as_deref()
            .map(|c| {
                expand_tokens(c, &proxy_tokens)
                    .map_err(|problem| invalid("ProxyCommand", c, problem))
            })
            .transpose()?;
        let known_hosts_files = match options.known_hosts_files.is_empty() {
            true => vec!["~/.ssh/known_hosts".to_string()],
            false => options.known_hosts_files.clone(),
        }
        .iter()
        .map(|f| expand("UserKnownHostsFile", f))
        .collect::<Result<Vec<_>, _>>()?;
        let jumps = match &options.proxy_jump {
            Some(jumps) if jumps.len() == 1 && jumps[0].eq_ignore_ascii_case("none") => Vec::new(),
            Some(jumps) => jumps.clone(),
            None => Vec::new(),
        };
        let jumps_at = options
            .origin
            .place("ProxyJump", jumps.first().map_or("", String::as_str));
        let hop = Hop {
            name: spec.host.clone(),
            host,
            port,
            user,
            identity_files,
            certificate_files,
            // 0 means "none" for both, as in OpenSSH.
            connect_timeout: options.connect_timeout.filter(|d| !d.is_zero()),
            server_alive_interval: options.server_alive_interval.filter(|d| !d.is_zero()),
            server_alive_count_max,
            // ProxyJump, when both are given, wins, as it does for ssh (the first one read).
            proxy_command: proxy_command.filter(|_| jumps.is_empty()),
            host_key_alias: options.host_key_alias.clone(),
            known_hosts_files,
        };
        Ok((hop, jumps, jumps_at))
    }

    fn tilde(&self, text: &str) -> String {
        under_home(text, self.home.as_deref())
    }

    fn default_identities(&self) -> Vec<PathBuf> {
        let Some(home) = &self.home else {
            return Vec::new();
        };
        DEFAULT_IDENTITIES
            .iter()
            .map(|name| home.join(".ssh").join(name))
            .filter(|path| path.is_file())
            .collect()
    }
}

/// The config with each `Match` line made a `Host` line, for the built-in reader, which has no
/// Match. A Match of only `host`/`originalhost` patterns (or `all`) is exactly a Host block of
/// those patterns. Any other Match (exec, user, localnetwork, canonical, …) cannot be evaluated
/// here: it becomes a Host block for the hosts it could apply to (its first host patterns, or
/// every host), keeping its Match line, so that `built_in` refuses those hosts and no others.
fn match_as_host(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let trimmed = line.trim_start();
        let (keyword, rest) = trimmed
            .split_once(|c: char| c.is_whitespace() || c == '=')
            .unwrap_or((trimmed, ""));
        if !keyword.eq_ignore_ascii_case("match") {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let words = shell_words(rest);
        let mut patterns: Vec<String> = Vec::new();
        let mut decidable = true;
        let mut i = 0;
        while i < words.len() {
            let criterion = words[i].to_ascii_lowercase();
            match criterion.as_str() {
                "all" => i += 1,
                "host" | "originalhost" if i + 1 < words.len() => {
                    decidable &= patterns.is_empty();
                    if patterns.is_empty() {
                        patterns = words[i + 1].split(',').map(str::to_string).collect();
                    }
                    i += 2;
                }
                "canonical" | "final" => {
                    decidable = false;
                    i += 1;
                }
                _ => {
                    decidable = false;
                    i += 2;
                }
            }
        }
        let hosts = match patterns.is_empty() {
            true => "*".to_string(),
            false => patterns.join(" "),
        };
        out.push_str(&format!("Host {hosts}\n"));
        if !decidable {
            out.push_str(&format!("  Match {}\n", rest.trim()));
        }
    }
    out
}

/// Words as ssh's config splits them: on whitespace, with double quotes grouping.
fn shell_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let (mut quoted, mut any) = (false, false);
    for c in text.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    words.push(std::mem::take(&mut word));
                    any = false;
                }
            }
            c => {
                word.push(c);
                any = true;
            }
        }
    }
    if any {
        words.push(word);
    }
    words
}

/// A config's bytes as text; where they are not UTF-8, the place of the first byte that is not.
fn utf8(path: &Path, bytes: Vec<u8>) -> Result<String, DestinationError> {
    crate::config::Diagnostic::utf8(path, bytes).map_err(|place| DestinationError::Parse {
        path: path.to_path_buf(),
        line: place.line,
        column: place.column,
        text: place.snippet.map(|(line, _)| line).unwrap_or_default(),
        problem: "a byte that is not UTF-8 text".to_string(),
    })
}

/// Parses an ssh config (its Match lines made Host lines). ssh2-config's errors do not say
/// where, so on failure the culprit is the last line of the shortest prefix of the file that
/// fails too, found by halving: a line that does not parse fails every prefix that holds it.
fn parse(text: &str, path: &Path, home: Option<&Path>) -> Result<SshConfig, DestinationError> {
    let parse = |source: &str| {
        let config = match home {
            Some(home) => SshConfig::default().home_dir(home),
            None => SshConfig::default(),
        };
        config.parse(&mut match_as_host(source).as_bytes(), RULES)
    };
    parse(text).map_err(|err| {
        let lines: Vec<&str> = text.lines().collect();
        let (mut good, mut bad) = (0, lines.len());
        while bad - good > 1 {
            let mid = (good + bad) / 2;
            match parse(&lines[..mid].join("\n")) {
                Ok(_) => good = mid,
                Err(_) => bad = mid,
            }
        }
        let line = bad.max(1);
        let raw = lines.get(line - 1).copied().unwrap_or("");
        DestinationError::Parse {
            path: path.to_path_buf(),
            line,
            column: raw[..raw.len() - raw.trim_start().len()].chars().count() + 1,
            text: raw.trim().to_string(),
            problem: err.to_string(),
        }
    })
}

/// Expands OpenSSH's `%x` tokens from `tokens`, and `%%`; any other token is an error naming
/// the ones that work.
fn expand_tokens(text: &str, tokens: &[(char, &str)]) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let token = chars.next();
        match token.and_then(|t| tokens.iter().find(|(name, _)| *name == t)) {
            Some((_, value)) => out.push_str(value),
            None if token == Some('%') => out.push('%'),
            None => {
                let known: Vec<String> = tokens.iter().map(|(t, _)| format!("%{t}")).collect();
                let token = token.map_or("%".to_string(), |t| format!("%{t}"));
                return Err(format!(
                    "unknown token `{token}`; qpconsole expands {} and %%",
                    known.join(" ")
                ));
            }
        }
    }
    Ok(out)
}

/// `[user@]host[:port]`, also as ProxyJump writes it (`ssh://` URIs and `[v6]:port` included).
#[derive(Debug)]
struct Spec {
    user: Option<String>,
    host: String,
    port: Option<u16>,
}

impl Spec {
    fn parse(text: &str) -> Result<Self, String> {
        let rest = text.strip_prefix("ssh://").unwrap_or(text);
        if rest.is_empty() {
            return Err("it is empty".to_string());
        }
        if rest.contains(char::is_whitespace) {
            return Err("it contains whitespace".to_string());
        }
        let (user, host_port) = match rest.rsplit_once('@') {
            Some(("", _)) => return Err("the user before `@` is empty".to_string()),
            Some((user, host_port)) => (Some(user.to_string()), host_port),
            None => (None, rest),
        };
        let (host, port) = if let Some(bracketed) = host_port.strip_prefix('[') {
            let (host, after) = bracketed
                .split_once(']')
                .ok_or("`[` without a closing `]`")?;
            match after {
                "" => (host, None),
                _ => match after.strip_prefix(':') {
                    Some(port) => (host, Some(port)),
                    None => return Err(format!("unexpected `{after}` after `]`")),
                },
            }
        } else {
            match host_port.split_once(':') {
                // More than one colon: a bare IPv6 address, without a port.
                Some((host, port)) if !port.contains(':') => (host, Some(port)),
                _ => (host_port, None),
            }
        };
        if host.is_empty() {
            return Err("the host is empty".to_string());
        }
        let port = port
            .map(|port| {
                port.parse::<u16>()
                    .ok()
                    .filter(|&p| p != 0)
                    .ok_or_else(|| format!("port `{port}` is not a number from 1 to 65535"))
            })
            .transpose()?;
        Ok(Self {
            user,
            host: host.to_string(),
            port,
        })
    }
}

#[cfg(test)]
mod tests;
