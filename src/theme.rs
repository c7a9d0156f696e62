//! Themes: styles by semantic role (ok, crit, writer, selection, …), so views never name a
//! colour. Theme files are read in `config::theme`.

use ratatui::style::Style;

macro_rules! roles {
    ($($role:ident => $doc:literal),+ $(,)?) => {
        /// The styles of a theme, one per role.
        #[derive(Debug, Clone, PartialEq, Eq, Default)]
        pub struct Theme {
            $(#[doc = $doc] pub $role: Style,)+
        }

        impl Theme {
            pub const ROLES: &'static [&'static str] = &[$(stringify!($role)),+];

            pub fn role_mut(&mut self, name: &str) -> Option<&mut Style> {
                match name {
                    $(stringify!($role) => Some(&mut self.$role),)+
                    _ => None,
                }
            }
        }
    };
}

roles! {
    text => "Ordinary text.",
    dim => "Secondary text: ages, units, hints.",
    border => "Panel borders.",
    border_focus => "The border of the focused panel.",
    title => "Panel titles.",
    header => "Table headers.",
    selection => "The selected row or tile.",
    ok => "Healthy.",
    warn => "Degraded.",
    crit => "Critical.",
    unknown => "Unknown or stale.",
    writer => "The cluster's writer.",
    reader => "The cluster's readers.",
    danger => "Mutating actions and their confirmations.",
    readonly_banner => "The READ-ONLY banner.",
    demo_badge => "The DEMO badge.",
    production_header => "The header bar of a production estate: where you are, unmissable.",
    chart_blocked => "Blocked requests in charts.",
    chart_allowed => "Allowed requests in charts.",
    chart_counted => "Counted requests in charts.",
    sparkline => "Sparklines.",
    key => "Key names in help and hints.",
    tab => "Inactive view tabs.",
    tab_active => "The active view tab.",
    input => "Text being typed (palette, filter).",
    highlight => "What a filter matched, in the lines of a log.",
    source_a => "The first source's label in a log of several sources.",
    source_b => "The second source's label.",
    source_c => "The third source's label.",
    source_d => "The fourth source's label (and every fourth after it).",
}
