//! The registry of views: each view is one file of `ui/` holding everything about it (its
//! table's place, its rows and what is selected in them, its key hints, its overview tile, its
//! drawing: [`super::view::ViewUi`]), registered here once. The overview, paging and the footer
//! all come from here, and the app reaches it through [`crate::app::Screen`].

mod alarms;
mod backups;
mod bastion;
mod cluster;
mod dbload;
mod estates;
mod logs;
mod overview;
mod phoenix;
mod security;
mod timeline;
mod vpn;
mod waf;

use super::view::ViewUi;
use crate::estate::AreaKind;
use crate::input::View;

pub fn of(view: View) -> &'static dyn ViewUi {
    match view {
        View::Overview => &overview::Overview,
        View::Area(kind) => area(kind),
        View::Alarms => &alarms::AlarmsView,
        View::DbLoad => &dbload::DbLoadView,
        View::Timeline => &timeline::TimelineView,
        View::Estates => &estates::EstatesView,
        View::Logs => &logs::LogsUi,
    }
}

/// The view of an area.
pub fn area(kind: AreaKind) -> &'static dyn ViewUi {
    match kind {
        AreaKind::Cluster => &cluster::ClusterView,
        AreaKind::Phoenix => &phoenix::PhoenixView,
        AreaKind::Waf => &waf::WafView,
        AreaKind::Vpn => &vpn::VpnView,
        AreaKind::Backups => &backups::BackupsView,
        AreaKind::Security => &security::SecurityView,
        AreaKind::Bastion => &bastion::BastionView,
    }
}
