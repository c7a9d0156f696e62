//! The rows of each view's main table after its filter: one definition used by `update` (to
//! bound the selection) and by the render (to draw), so the two never disagree.

use crate::estate::{
    Forward, Instance, Member, ProtectedResource, Tunnel, VpnConnection, WafRule, WebAcl,
};

use super::App;
use crate::input::View;

/// Case-insensitive match of `filter` against any of `fields`; an empty filter matches all.
/// Allocation-free for ASCII, since it runs over every row of a 5,000-instance fleet per frame.
pub fn matches(filter: &str, fields: &[&str]) -> bool {
    if filter.is_empty() {
        return true;
    }
    if !filter.is_ascii() {
        let needle = filter.to_lowercase();
        return fields.iter().any(|f| f.to_lowercase().contains(&needle));
    }
    let needle = filter.as_bytes();
    fields.iter().any(|f| {
        f.as_bytes()
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
    })
}

pub fn members(app: &App) -> Vec<&Member> {
    let filter = app.filter(View::Cluster);
    app.estate
        .cluster
        .data
        .iter()
        .flat_map(|c| &c.members)
        .filter(|m| {
            matches(
                filter,
                &[&m.id, m.role.as_str(), &m.az, &m.class, &m.status],
            )
        })
        .collect()
}

/// Phoenix instances, grouped by zone (the source keeps them sorted by zone, then name).
pub fn instances(app: &App) -> Vec<&Instance> {
    let filter = app.filter(View::Phoenix);
    app.estate
        .phoenix
        .data
        .iter()
        .flat_map(|p| &p.instances)
        .filter(|i| {
            matches(
                filter,
                &[
                    &i.id,
                    &i.name,
                    &i.az,
                    &i.instance_type,
                    &i.state,
                    &i.private_ip,
                ],
            )
        })
        .collect()
}

/// WAF rules of every web ACL, most blocking in the last hour first.
pub fn waf_rules(app: &App) -> Vec<(&WebAcl, &WafRule, u64)> {
    let filter = app.filter(View::Waf);
    let hour_ago = app.now - chrono::Duration::hours(1);
    let mut rows: Vec<_> = app
        .estate
        .waf
        .data
        .iter()
        .flatten()
        .flat_map(|acl| {
            acl.top_blocking(hour_ago)
                .into_iter()
                .map(move |(rule, blocked)| (acl, rule, blocked))
        })
        .filter(|(acl, rule, _)| matches(filter, &[&acl.name, &rule.name, &rule.kind.describe()]))
        .collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.2));
    rows
}

/// VPN tunnels with their connection, one row per tunnel (1-based tunnel number).
pub fn tunnels(app: &App) -> Vec<(&VpnConnection, usize, &Tunnel)> {
    let filter = app.filter(View::Vpn);
    app.estate
        .vpn
        .data
        .iter()
        .flatten()
        .flat_map(|c| {
            c.tunnels
                .iter()
                .enumerate()
                .map(move |(i, t)| (c, i + 1, t))
        })
        .filter(|(c, _, t)| {
            matches(
                filter,
                &[&c.id, &c.name, &c.state, &t.outside_ip, t.status.as_str()],
            )
        })
        .collect()
}

pub fn backups(app: &App) -> Vec<&ProtectedResource> {
    let filter = app.filter(View::Backups);
    app.estate
        .backups
        .data
        .iter()
        .flat_map(|b| &b.resources)
        .filter(|r| matches(filter, &[&r.resource, &r.kind]))
        .collect()
}

pub fn forwards(app: &App) -> Vec<&Forward> {
    let filter = app.filter(View::Bastion);
    app.estate
        .bastion
        .forwards
        .iter()
        .filter(|f| matches(filter, &[&f.name, &f.local, &f.remote, f.state.as_str()]))
        .collect()
}

/// How many rows the view's main table has now (the overview counts its tiles).
pub fn count(app: &App, view: View) -> usize {
    match view {
        View::Overview => crate::estate::AreaKind::ALL.len(),
        View::Cluster => members(app).len(),
        View::Phoenix => instances(app).len(),
        View::Waf => waf_rules(app).len(),
        View::Vpn => tunnels(app).len(),
        View::Backups => backups(app).len(),
        View::Bastion => forwards(app).len(),
    }
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn the_filter_ignores_case_and_matches_any_field() {
        assert!(matches("", &["anything"]));
        assert!(matches("1B", &["i-0abc", "us-east-1b"]));
        assert!(!matches("1c", &["i-0abc", "us-east-1b"]));
        assert!(matches("ÉTÉ", &["été"]));
        assert!(!matches("long needle", &["short"]));
    }
}
