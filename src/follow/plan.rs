//! A log's name, worked out into the feeds that give its lines.

use crate::config::{Database, DbLogs, EstateConfig};
use crate::estate::{Estate, Instance};
use crate::logs::{DbLog, Feed, LogSpec, Plan};

/// The feeds of `spec` in the estate of `cfg`, whose picture `estate` is (for its instances
/// and members), or the one sentence saying why there are none.
pub fn plan(
    spec: &LogSpec,
    name: &str,
    cfg: &EstateConfig,
    estate: &Estate,
) -> Result<Plan, String> {
    let logs = &cfg.logs;
    let groups = |names: &[String], streams: Option<String>| -> Vec<Feed> {
        names
            .iter()
            .map(|n| Feed::Group {
                name: n.clone(),
                streams: streams.clone(),
            })
            .collect()
    };
    let commands = |list: Vec<&Instance>, command: &str| -> Vec<Feed> {
        list.into_iter()
            .map(|i| Feed::Command {
                instance: i.id.clone(),
                label: match i.name.is_empty() {
                    true => format!("{} {}", i.id, i.az),
                    false => format!("{} {}", i.name, i.az),
                },
                address: i.private_ip.clone(),
                // Quoted for the remote shell: a Name tag is anyone's text.
                command: command
                    .replace("{instance}", &shell_word(&i.id))
                    .replace("{name}", &shell_word(&i.name))
                    .replace("{address}", &shell_word(&i.private_ip)),
            })
            .collect()
    };
    let no_fleet = || {
        format!(
            "estate {name} has no Phoenix instances in view yet: wait for the fleet to be read, or name a log group"
        )
    };
    let feeds = match spec {
        LogSpec::Phoenix if !logs.phoenix.is_empty() => groups(&logs.phoenix, None),
        LogSpec::Phoenix => match &logs.instance_command {
            Some(command) => {
                let all: Vec<&Instance> = estate.instances().collect();
                if all.is_empty() {
                    return Err(no_fleet());
                }
                commands(all, command)
            }
            None => {
                return Err(format!(
                    "estate {name} names no Phoenix log: set logs.phoenix to its log groups, or logs.instance_command to read the instances through the bastion"
                ));
            }
        },
        LogSpec::Instance(who) => {
            let Some(found) = estate.instances().find(|i| i.id == *who || i.name == *who) else {
                return Err(match estate.phoenix.data.is_some() {
                    true => format!(
                        "estate {name} has no Phoenix instance '{who}': give an instance id or Name tag from the Phoenix view"
                    ),
                    false => no_fleet(),
                });
            };
            match (&logs.instance_command, logs.phoenix.is_empty()) {
                (Some(command), _) => commands(vec![found], command),
                (None, false) => groups(&logs.phoenix, Some(found.id.clone())),
                (None, true) => {
                    return Err(format!(
                        "estate {name} names no log of its instances: set logs.instance_command (read through the bastion) or logs.phoenix (groups with a stream per instance)"
                    ));
                }
            }
        }
        LogSpec::Database { kind, member } => {
            let Some(db) = cfg.database() else {
                return Err(format!("estate {name} names no database"));
            };
            if logs.aurora == DbLogs::Off {
                return Err(format!(
                    "estate {name} reads no database log: its logs.aurora is \"off\""
                ));
            }
            let members: Vec<String> = match (&estate.cluster.data, db) {
                (_, Database::Instance(id)) => vec![id.to_string()],
                (Some(_), _) => estate.members().map(|m| m.id.clone()).collect(),
                (None, _) => Vec::new(),
            };
            if let Some(m) = member
                && estate.cluster.data.is_some()
                && !members.contains(m)
            {
                return Err(format!("{} {} has no member '{m}'", db.kind(), db.id()));
            }
            vec![Feed::DbExports {
                database: db.id().to_string(),
                instance: matches!(db, Database::Instance(_)),
                kinds: kind.map_or(DbLog::ALL.to_vec(), |k| vec![k]),
                member: member.clone(),
                members: match member {
                    Some(m) => vec![m.clone()],
                    None => members,
                },
            }]
        }
        LogSpec::Group(group) => {
            let name = logs.groups.get(group).unwrap_or(group);
            groups(std::slice::from_ref(name), None)
        }
    };
    Ok(Plan {
        spec: spec.clone(),
        feeds,
        pattern: None,
    })
}

/// `word` as one word of a POSIX shell: left bare when it is only safe characters, else in
/// single quotes.
fn shell_word(word: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_./:@".contains(c);
    match !word.is_empty() && word.chars().all(safe) {
        true => word.to_string(),
        false => format!("'{}'", word.replace('\'', "'\\''")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estate::fixtures;

    fn cfg(logs: &str) -> EstateConfig {
        let text = format!(
            "[estates.qp]\nregion = \"us-east-1\"\naurora_cluster = \"qp-aurora\"\nphoenix = {{ asg = \"phoenix\" }}\n[estates.qp.logs]\n{logs}"
        );
        let config: crate::config::Config = toml::from_str(&text).unwrap();
        config.estates["qp"].clone()
    }

    #[test]
    fn phoenix_is_its_groups_or_else_its_instances_command() {
        let estate = fixtures::estate();
        let spec = LogSpec::Phoenix;
        let with_groups = cfg("phoenix = [\"/qp/app\"]\ninstance_command = \"journalctl -f\"");
        assert_eq!(
            plan(&spec, "qp", &with_groups, &estate).unwrap().feeds,
            vec![Feed::Group {
                name: "/qp/app".into(),
                streams: None
            }]
        );
        let commands = cfg("instance_command = \"tail -F /var/log/{instance}.log\"");
        let feeds = plan(&spec, "qp", &commands, &estate).unwrap().feeds;
        let ids: Vec<_> = estate.instances().map(|i| &i.id).collect();
        assert_eq!(feeds.len(), ids.len());
        let Feed::Command { command, label, .. } = &feeds[0] else {
            panic!("{feeds:?}")
        };
        assert_eq!(*command, format!("tail -F /var/log/{}.log", ids[0]));
        assert!(label.contains("us-east-1"), "{label}");
        let e = plan(&spec, "qp", &cfg(""), &estate).unwrap_err();
        assert!(e.contains("set logs.phoenix"), "{e}");
    }

    #[test]
    fn what_an_instance_puts_in_its_command_is_one_shell_word() {
        assert_eq!(shell_word("i-0abc"), "i-0abc");
        assert_eq!(shell_word("web (blue)"), "'web (blue)'");
        assert_eq!(shell_word("a'; rm -rf /; '"), "'a'\\''; rm -rf /; '\\'''");
        assert_eq!(shell_word(""), "''");
    }

    #[test]
    fn an_instance_is_found_by_id_or_name_and_read_from_its_streams_without_a_command() {
        let estate = fixtures::estate();
        let first = estate.instances().next().unwrap();
        let groups = cfg("phoenix = [\"/qp/app\"]");
        for who in [&first.id, &first.name] {
            let feeds = plan(&LogSpec::Instance(who.clone()), "qp", &groups, &estate)
                .unwrap()
                .feeds;
            assert_eq!(
                feeds,
                vec![Feed::Group {
                    name: "/qp/app".into(),
                    streams: Some(first.id.clone())
                }]
            );
        }
        let e = plan(&LogSpec::Instance("i-nope".into()), "qp", &groups, &estate).unwrap_err();
        assert!(e.contains("no Phoenix instance 'i-nope'"), "{e}");
    }

    #[test]
    fn the_database_is_read_by_rds_names_unless_turned_off() {
        let estate = fixtures::estate();
        let spec = LogSpec::Database {
            kind: Some(DbLog::Slowquery),
            member: None,
        };
        let feeds = plan(&spec, "qp", &cfg(""), &estate).unwrap().feeds;
        let Feed::DbExports {
            database,
            kinds,
            members,
            ..
        } = &feeds[0]
        else {
            panic!("{feeds:?}")
        };
        assert_eq!(
            Feed::db_prefix(database, false),
            "/aws/rds/cluster/qp-aurora/"
        );
        assert_eq!(*kinds, vec![DbLog::Slowquery]);
        assert!(!members.is_empty());
        let off = plan(&spec, "qp", &cfg("aurora = \"off\""), &estate).unwrap_err();
        assert!(off.contains("\"off\""), "{off}");
        let nobody = LogSpec::Database {
            kind: None,
            member: Some("qp-nope".into()),
        };
        assert!(
            plan(&nobody, "qp", &cfg(""), &estate)
                .unwrap_err()
                .contains("no member 'qp-nope'")
        );
    }
}
