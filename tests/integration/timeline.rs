//! The Timeline view on the DEMO: everything on one axis, newest first, filtered by area or
//! text, and Enter opening an entry's view with its resource selected.

use qpconsole::app::Selection;
use qpconsole::estate::AreaKind;
use qpconsole::input::View;
use qpconsole::source::demo::Scenario;

use crate::common::console::Console;

#[test]
fn the_timeline_is_newest_first_filters_and_enter_opens_the_members_view() {
    let mut c = Console::demo(Scenario::Steady);
    c.press("9");
    assert_eq!(c.app.view(), View::Timeline);
    let all = c.app.timeline();
    assert!(all.len() > 5, "{all:#?}");
    assert!(all.windows(2).all(|w| w[0].at >= w[1].at), "newest first");
    assert!(
        all.iter().any(|e| e.area == Some(AreaKind::Cluster))
            && all.iter().any(|e| e.area == Some(AreaKind::Vpn))
            && all.iter().any(|e| e.area == Some(AreaKind::Backups)),
        "RDS events, tunnels and backups on one axis: {all:#?}"
    );
    c.press("/");
    c.type_text("DB instance restarted");
    c.press("enter");
    let Selection::Entry { area, subject, at } = c.app.selection() else {
        panic!("no entry selected: {:?}", c.app.selection());
    };
    assert_eq!(area, Some(AreaKind::Cluster));
    c.press("enter");
    assert_eq!(c.app.view(), View::Area(AreaKind::Cluster));
    match c.app.selection() {
        Selection::Member { id, .. } => assert_eq!(id, subject, "the entry's member is selected"),
        other => panic!("{other:?}"),
    }
    assert_eq!(c.app.moment(), Some(at), "its charts mark the entry's time");
    c.press("esc");
    assert_eq!(c.app.view(), View::Timeline);
    assert_eq!(
        c.app.moment(),
        None,
        "back on the timeline, no view is marked"
    );
    c.press("tab");
    assert_eq!(c.app.moment(), None, "nor one opened otherwise");
}
