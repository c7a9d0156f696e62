//! The views of the console: the names the grammar and the keymaps use for them.

/// The views of the console, in their tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum View {
    Overview,
    Cluster,
    Phoenix,
    Waf,
    Vpn,
    Backups,
    Bastion,
}

impl View {
    pub const ALL: [View; 7] = [
        View::Overview,
        View::Cluster,
        View::Phoenix,
        View::Waf,
        View::Vpn,
        View::Backups,
        View::Bastion,
    ];

    pub fn name(self) -> &'static str {
        match self {
            View::Overview => "overview",
            View::Cluster => "cluster",
            View::Phoenix => "phoenix",
            View::Waf => "waf",
            View::Vpn => "vpn",
            View::Backups => "backups",
            View::Bastion => "bastion",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            View::Overview => "Overview",
            View::Cluster => "Cluster",
            View::Phoenix => "Phoenix",
            View::Waf => "WAF",
            View::Vpn => "VPN",
            View::Backups => "Backups",
            View::Bastion => "Bastion",
        }
    }

    pub fn from_name(name: &str) -> Option<View> {
        View::ALL.into_iter().find(|v| v.name() == name)
    }
}
