//! Where the bastion connects: an ssh config Host alias or `[user@]host[:port]`, resolved the way
//! `ssh <target>` resolves it (HostName, User, Port, IdentityFile, ProxyJump chains), so the
//! console reaches exactly what the user's own ssh reaches, with the same keys.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ssh2_config::{HostParams, ParseRule, SshConfig};
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
}

/// The hops to make, in order: jump hosts first, the destination last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub hops: Vec<Hop>,
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
    #[error("{}:{line}: {problem} in `{text}`; fix or remove this line", path.display())]
    Parse {
        path: PathBuf,
        line: usize,
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
    #[error("{field} `{value}` for `{alias}` in {config}: {problem}")]
    Value {
        config: String,
        alias: String,
        field: &'static str,
        value: String,
        problem: String,
    },
    #[error(
        "ProxyJump loop in {config}: {chain}; remove the ProxyJump that leads back to `{back}`"
    )]
    Loop {
        config: String,
        chain: String,
        back: String,
    },
}

/// The route to `target` (an ssh config Host alias or `[user@]host[:port]`) through the ssh
/// config `ssh_config` (None: ~/.ssh/config, which may be absent).
pub fn resolve(target: &str, ssh_config: Option<&Path>) -> Result<Route, DestinationError> {
    let resolver = Resolver::load(ssh_config, dirs::home_dir(), local_user())?;
    let hops = resolver.route_to(target, "`bastion` in qpconsole.toml", &mut Vec::new())?;
    Ok(Route { hops })
}

/// The route to `target` behind `route` (a jump shell: the bastion route, then the instance).
/// The target's own ProxyJump is ignored: `route` is its jump.
pub fn resolve_via(
    route: &Route,
    target: &str,
    ssh_config: Option<&Path>,
) -> Result<Route, DestinationError> {
    Resolver::load(ssh_config, dirs::home_dir(), local_user())?.route_via(route, target)
}

/// The login name ssh would use: `$USER`, else `$LOGNAME`, else root.
fn local_user() -> String {
    ["USER", "LOGNAME"]
        .into_iter()
        .filter_map(|var| std::env::var(var).ok())
        .find(|user| !user.is_empty())
        .unwrap_or_else(|| "root".to_string())
}

/// A parsed ssh config and what `~`, `%d` and the default user mean on this machine.
struct Resolver {
    config: SshConfig,
    /// The config file as messages name it.
    shown: String,
    home: Option<PathBuf>,
    local_user: String,
}

impl Resolver {
    fn load(
        explicit: Option<&Path>,
        home: Option<PathBuf>,
        local_user: String,
    ) -> Result<Self, DestinationError> {
        let path = explicit
            .map(Path::to_path_buf)
            .or_else(|| home.as_ref().map(|h| h.join(".ssh").join("config")));
        let Some(path) = path else {
            return Ok(Self {
                config: SshConfig::default(),
                shown: "no ssh config (no home directory)".to_string(),
                home,
                local_user,
            });
        };
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound && explicit.is_none() => String::new(),
            Err(source) => {
                let hint = if source.kind() == io::ErrorKind::NotFound {
                    "fix `ssh_config` in qpconsole.toml or create the file"
                } else {
                    "fix its permissions or point `ssh_config` in qpconsole.toml at another file"
                };
                return Err(DestinationError::Read { path, source, hint });
            }
        };
        Ok(Self {
            config: parse(&text, &path, home.as_deref())?,
            shown: path.display().to_string(),
            home,
            local_user,
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
        let (hop, params) = self.hop(&spec)?;
        let jumps = self.jumps(&spec.host, &params)?;
        chain.push(spec.host);
        let origin = format!("ProxyJump of `{}` in {}", hop.name, self.shown);
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
        Ok(Route { hops })
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
                config: self.shown.clone(),
                chain: names.join(" -> "),
                back: spec.host,
            });
        }
        Ok(spec)
    }

    /// The hop `spec` names, and the config's parameters for it. What the target says
    /// explicitly (`user@`, `:port`) wins over the config, as on ssh's command line.
    fn hop(&self, spec: &Spec) -> Result<(Hop, HostParams), DestinationError> {
        let params = self.config.query(&spec.host);
        let invalid = |field, value: &str, problem: String| DestinationError::Value {
            config: self.shown.clone(),
            alias: spec.host.clone(),
            field,
            value: value.to_string(),
            problem,
        };
        // ssh2-config reads a Match line as an unknown option, and the lines after it as part
        // of the Host block before it: they would apply to hosts the Match does not select.
        if let Some((_, args)) = params
            .ignored_fields
            .iter()
            .find(|(field, _)| field.eq_ignore_ascii_case("match"))
        {
            let problem = "qpconsole's ssh config reader does not understand Match blocks, so \
                           the options after it would apply to this host too; move what this host \
                           needs into Host blocks before any Match, or point `ssh_config` in \
                           qpconsole.toml at a config without Match"
                .to_string();
            return Err(invalid("Match", &args.join(" "), problem));
        }
        let host = match &params.host_name {
            Some(name) => expand_tokens(name, &[('h', &spec.host)])
                .map_err(|problem| invalid("HostName", name, problem))?,
            None => spec.host.clone(),
        };
        let port = match (spec.port, params.port) {
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
            .or_else(|| params.user.clone())
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
        let expand = |field, path: &PathBuf| {
            let text = path.to_string_lossy();
            expand_tokens(&text, &tokens)
                .map(PathBuf::from)
                .map_err(|problem| invalid(field, &text, problem))
        };
        let identity_files = match &params.identity_file {
            Some(files) => files
                .iter()
                .map(|f| expand("IdentityFile", f))
                .collect::<Result<Vec<_>, _>>()?,
            None => self.default_identities(),
        };
        let mut certificate_files = params
            .certificate_file
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
        let server_alive_count_max = match params
            .unsupported_fields
            .get("serveralivecountmax")
            .and_then(|args| args.first())
        {
            Some(count) => count.parse().map_err(|_| {
                let problem = "not a whole number; write a count such as 3".to_string();
                invalid("ServerAliveCountMax", count, problem)
            })?,
            None => 3,
        };
        let hop = Hop {
            name: spec.host.clone(),
            host,
            port,
            user,
            identity_files,
            certificate_files,
            // 0 means "none" for both, as in OpenSSH.
            connect_timeout: params.connect_timeout.filter(|d| !d.is_zero()),
            server_alive_interval: params.server_alive_interval.filter(|d| !d.is_zero()),
            server_alive_count_max,
        };
        Ok((hop, params))
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

    /// The jump hosts configured for `alias`, none for `ProxyJump none`. A ProxyCommand is an
    /// error rather than silently connecting directly: the console cannot run one.
    fn jumps(&self, alias: &str, params: &HostParams) -> Result<Vec<String>, DestinationError> {
        match &params.proxy_jump {
            Some(jumps) if jumps.len() == 1 && jumps[0].eq_ignore_ascii_case("none") => {
                Ok(Vec::new())
            }
            Some(jumps) => Ok(jumps.clone()),
            None => match params.unsupported_fields.get("proxycommand") {
                Some(command) if !command.join(" ").eq_ignore_ascii_case("none") => {
                    Err(DestinationError::Value {
                        config: self.shown.clone(),
                        alias: alias.to_string(),
                        field: "ProxyCommand",
                        value: command.join(" "),
                        problem: "qpconsole connects in-process and cannot run a proxy command; \
                                  use ProxyJump instead"
                            .to_string(),
                    })
                }
                _ => Ok(Vec::new()),
            },
        }
    }
}

/// Parses an ssh config. ssh2-config's errors do not say where, so on failure the culprit is
/// the last line of the shortest prefix of the file that fails too.
fn parse(text: &str, path: &Path, home: Option<&Path>) -> Result<SshConfig, DestinationError> {
    let parse = |source: &str| {
        let config = match home {
            Some(home) => SshConfig::default().home_dir(home),
            None => SshConfig::default(),
        };
        config.parse(&mut source.as_bytes(), RULES)
    };
    parse(text).map_err(|err| {
        let lines: Vec<&str> = text.lines().collect();
        let line = (1..=lines.len())
            .find(|&n| parse(&lines[..n].join("\n")).is_err())
            .unwrap_or(lines.len())
            .max(1);
        DestinationError::Parse {
            path: path.to_path_buf(),
            line,
            text: lines.get(line - 1).map_or("", |l| l.trim()).to_string(),
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
