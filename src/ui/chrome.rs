//! The frame around every view: header, tabs, breadcrumbs and the footer line.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::views;
use super::widgets::{self, health_span, health_style, health_symbol};
use crate::app::{App, Level};
use crate::estate::health::{self, human_duration};
use crate::estate::{AreaMeta, BastionState};
use crate::input::keymap::Mode;
use crate::input::{Action, View};

/// The rows of the screen; `Screen::page` derives table sizes from the same split.
pub struct Screen {
    pub header: Rect,
    pub tabs: Rect,
    pub crumbs: Rect,
    pub body: Rect,
    /// The running plan's progress, above the footer, while a plan runs.
    pub plan: Option<Rect>,
    pub footer: Rect,
}

pub fn screen(area: Rect, plan_row: bool) -> Screen {
    let mut rest = area;
    let header = widgets::take_top(&mut rest, 1);
    let tabs = widgets::take_top(&mut rest, 1);
    let crumbs = widgets::take_top(&mut rest, 1);
    let below = 1 + u16::from(plan_row);
    let body_height = rest.height.saturating_sub(below);
    let body = widgets::take_top(&mut rest, body_height);
    let plan = plan_row.then(|| widgets::take_top(&mut rest, 1));
    Screen {
        header,
        tabs,
        crumbs,
        body,
        plan,
        footer: rest,
    }
}

/// Cells of the plan's progress bar.
const GAUGE_CELLS: usize = 16;

/// The running plan: a bar of the steps done, the step, how long the plan (and a step that
/// waits) has taken, and what the wait sees. The footer offers the key that stops it.
pub fn plan_progress(frame: &mut Frame, area: Rect, app: &App) {
    let Some(p) = &app.plan else { return };
    let t = &app.theme;
    let filled = (p.ratio() * GAUGE_CELLS as f64).round() as usize;
    let bar: String = "█".repeat(filled) + &"░".repeat(GAUGE_CELLS - filled);
    let since = |at: crate::estate::Timestamp| human_duration((app.now - at).num_seconds().max(0));
    let step = (p.index + 1).min(p.total);
    let clocks = if p.step_started > p.started {
        format!("{} (this step {})", since(p.started), since(p.step_started))
    } else {
        since(p.started)
    };
    let spans = vec![
        Span::styled(format!(" ▶ {} ", p.title), t.title),
        Span::styled(bar, t.ok),
        Span::styled(
            format!(
                " step {step}/{} · {clocks} · {}",
                p.total,
                if p.detail.is_empty() {
                    &p.what
                } else {
                    &p.detail
                }
            ),
            t.text,
        ),
    ];
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

pub fn too_small(frame: &mut Frame, area: Rect, app: &App, min: (u16, u16)) {
    let text = format!(
        "Terminal too small: {}x{} — qpconsole needs at least {}x{}",
        area.width, area.height, min.0, min.1
    );
    widgets::centered_text(frame, area, &text, app.theme.text);
}

/// A piece of the header with a shorter form for narrow terminals (empty: leave it out).
struct Piece<'a> {
    full: Vec<Span<'a>>,
    short: Vec<Span<'a>>,
}

impl<'a> Piece<'a> {
    fn fixed(spans: Vec<Span<'a>>) -> Self {
        Self {
            short: spans.clone(),
            full: spans,
        }
    }
}

/// Left pieces: app, estate, badges, region. Right pieces: health, bastion, clock.
const LEFT: usize = 7;
/// Which pieces give way first when the header does not fit, by index: who the console acts
/// as, the words around the health marks, then the region, then the app's own name.
const SHORTEN_ORDER: [usize; 5] = [6, 7, 8, 5, 0];

pub fn header(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let badge = |on: bool, text: &'static str, style: Style| {
        Piece::fixed(if on {
            vec![Span::styled(text, style), Span::raw(" ")]
        } else {
            vec![]
        })
    };
    let overall = health::overall(&app.estate, &app.rules, app.now);
    let pieces = [
        Piece {
            full: vec![Span::styled("qpconsole ", t.title)],
            short: vec![],
        },
        Piece::fixed(vec![Span::styled(
            format!("{} ", app.estate_name),
            t.text.add_modifier(Modifier::BOLD),
        )]),
        badge(app.is_demo(), " DEMO ", t.demo_badge),
        badge(app.readonly, " READ-ONLY ", t.readonly_banner),
        badge(app.production, " PROD ", t.danger),
        Piece {
            full: vec![Span::styled(format!("{} ", app.estate.region), t.dim)],
            short: vec![],
        },
        Piece {
            full: app
                .estate
                .identity
                .iter()
                .map(|id| {
                    // arn:aws:sts::123456789012:assumed-role/Ops/alice → assumed-role/Ops/alice
                    let who = id.arn.rsplit(':').next().unwrap_or(&id.arn);
                    Span::styled(format!("{} {who} ", id.account), t.dim)
                })
                .collect(),
            short: vec![],
        },
        Piece {
            full: vec![
                Span::styled("overall ", t.dim),
                health_span(t, overall),
                Span::raw("  "),
            ],
            short: vec![health_span(t, overall), Span::raw("  ")],
        },
        bastion_piece(app),
        Piece::fixed(vec![Span::styled(
            format!("{} UTC ", widgets::hhmmss(app.now)),
            t.text,
        )]),
    ];
    let width = |short: &[bool]| -> usize {
        pieces
            .iter()
            .zip(short)
            .map(|(p, &s)| if s { &p.short } else { &p.full })
            .flat_map(|spans| spans.iter().map(Span::width))
            .sum::<usize>()
            + 1 // the margin before the app's name
    };
    let mut short = vec![false; pieces.len()];
    for &i in &SHORTEN_ORDER {
        if width(&short) <= usize::from(area.width) {
            break;
        }
        short[i] = true;
    }
    let mut left = vec![Span::raw(" ")];
    let mut right = Vec::new();
    for (i, (p, s)) in pieces.into_iter().zip(short).enumerate() {
        let spans = if s { p.short } else { p.full };
        if i < LEFT {
            left.extend(spans)
        } else {
            right.extend(spans)
        }
    }
    // A production estate's header has a colour of its own, so that nobody mistakes where
    // they are.
    let bar = match app.production {
        true => t.production_header,
        false => Style::default(),
    };
    frame.render_widget(Paragraph::new(Line::from(left)).style(bar), area);
    frame.render_widget(Paragraph::new(Line::from(right).right_aligned()), area);
}

fn bastion_piece(app: &App) -> Piece<'static> {
    let t = &app.theme;
    let b = &app.estate.bastion;
    if b.state == BastionState::NotConfigured {
        return Piece::fixed(vec![Span::styled("no bastion  ", t.dim)]);
    }
    let h = health::bastion(b).health;
    let mark = Span::styled(format!("{} ", health_symbol(h)), health_style(t, h));
    let rtt = b
        .rtt_ms
        .map(|r| format!(" {}", widgets::millis(r)))
        .unwrap_or_default();
    let mut full = vec![
        Span::styled("bastion ", t.dim),
        mark.clone(),
        Span::styled(format!("{}{rtt}", b.state.label()), health_style(t, h)),
    ];
    match &b.state {
        BastionState::Connected { since } => full.push(Span::styled(
            format!(" up {}", widgets::since(app.now, *since)),
            t.dim,
        )),
        BastionState::Reconnecting { attempt, .. } => {
            full.push(Span::styled(format!(" #{attempt}"), health_style(t, h)));
        }
        _ => {}
    }
    full.push(Span::raw("  "));
    let short = vec![
        Span::styled("bastion ", t.dim),
        mark,
        Span::styled(format!("{}  ", rtt.trim()), t.text),
    ];
    Piece { full, short }
}

pub fn tabs(frame: &mut Frame, area: Rect, app: &App) {
    let current = app.view();
    // A tab is labelled with the key the keymap binds to it, so a rebound or unbound key
    // shows as it is.
    let tabs: Vec<(String, bool)> = View::all()
        .filter(|v| v.is_tab() && v.area().is_none_or(|k| app.estate.has(k)))
        .map(|v| {
            let label = match app.keymap.key_for(Mode::Normal, &Action::View(v)) {
                Some(key) => format!(" {key} {} ", v.title()),
                None => format!(" {} ", v.title()),
            };
            (label, v == current)
        })
        .collect();
    let widths: Vec<usize> = tabs.iter().map(|(t, _)| t.chars().count() + 1).collect();
    let (first, last) = shown_tabs(
        &widths,
        tabs.iter().position(|(_, on)| *on).unwrap_or(0),
        usize::from(area.width),
    );
    let style = |on: bool| match on {
        true => app.theme.tab_active,
        false => app.theme.tab,
    };
    let mut spans = Vec::new();
    if first > 0 {
        spans.push(Span::styled("‹ ", app.theme.dim));
    }
    for (text, on) in &tabs[first..last] {
        spans.push(Span::styled(text.as_str(), style(*on)));
        spans.push(Span::raw(" "));
    }
    if last < tabs.len() {
        spans.push(Span::styled("›", app.theme.dim));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// Which tabs fit in `width` columns with the current one among them: all when they fit, else
/// a run from the first that keeps the current one in view, with room for the `‹ ` and `›`
/// that say more are off screen.
fn shown_tabs(widths: &[usize], current: usize, width: usize) -> (usize, usize) {
    if widths.iter().sum::<usize>() <= width {
        return (0, widths.len());
    }
    let room = width.saturating_sub(1);
    let fits = |first: usize, last: usize| {
        let marks = if first > 0 { 2 } else { 0 };
        marks + widths[first..last].iter().sum::<usize>() <= room
    };
    let first = (0..=current)
        .find(|&f| fits(f, current + 1))
        .unwrap_or(current);
    let mut last = current + 1;
    while last < widths.len() && fits(first, last + 1) {
        last += 1;
    }
    (first, last)
}

/// `estate › Overview › Cluster  /filter`, with the current area's freshness on the right.
pub fn breadcrumbs(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let mut spans = vec![Span::styled(format!(" {}", app.estate_name), t.dim)];
    for (i, v) in app.views.iter().enumerate() {
        let style = if i + 1 == app.views.len() {
            t.title
        } else {
            t.dim
        };
        spans.push(Span::styled(" › ", t.dim));
        spans.push(Span::styled(v.title(), style));
    }
    let filter = app.filter(app.view());
    if !filter.is_empty() && app.mode != Mode::Filter {
        spans.push(Span::styled(format!("  /{filter}"), t.input));
    }
    let left = Line::from(spans);
    let room = usize::from(area.width).saturating_sub(left.width() + 4);
    frame.render_widget(Paragraph::new(left), area);
    frame.render_widget(Paragraph::new(freshness(app, room).right_aligned()), area);
}

/// How current the view's data is: its age, or why it cannot be trusted.
fn freshness(app: &App, room: usize) -> Line<'static> {
    let t = &app.theme;
    let text =
        |s: String, style: Style| Line::styled(format!("{} ", widgets::cut(&s, room)), style);
    let view = app.view();
    let Some(kind) = view.area() else {
        let oldest = app
            .estate
            .areas
            .iter()
            .filter_map(|&k| app.estate.meta(k)?.taken_at)
            .min();
        return match oldest {
            Some(at) => text(
                format!("oldest data {} ago", widgets::since(app.now, at)),
                t.dim,
            ),
            None => text("waiting for first data".into(), t.unknown),
        };
    };
    let v = widgets::verdict(app, kind);
    let Some(AreaMeta {
        taken_at: taken,
        error,
    }) = app.estate.meta(kind)
    else {
        return text(v.reason, health_style(t, v.health));
    };
    let stale = taken.is_some_and(|at| (app.now - at).num_seconds() > app.rules.stale_after_secs);
    match (taken, error) {
        (_, Some(e)) => text(
            format!(
                "refresh failed {} ago: {}",
                human_duration((app.now - e.at).num_seconds().max(0)),
                e.message
            ),
            t.crit,
        ),
        (Some(_), None) if stale => text(v.reason, t.unknown),
        (Some(at), None) => text(
            format!("updated {} ago", widgets::since(app.now, at)),
            t.dim,
        ),
        (None, None) => text(v.reason, t.unknown),
    }
}

/// The key hints of each mode, by action, with the word the footer shows.
fn hint_actions(app: &App) -> Vec<(Action, &'static str)> {
    match app.mode {
        Mode::Normal => {
            let mut hints = vec![
                (Action::Help, "help"),
                (Action::Palette, "command"),
                (Action::Filter, "filter"),
            ];
            hints.extend(views::of(app.view()).hints(app));
            if app.plan.is_some() {
                hints.push((Action::CancelPlan, "cancel plan"));
            }
            if app.view() == View::Overview {
                hints.push((Action::Select, "open"));
            } else {
                hints.push((Action::Back, "back"));
            }
            hints.push((Action::NextView, "next view"));
            hints.push((Action::Quit, "quit"));
            hints
        }
        Mode::Palette => vec![
            (Action::Submit, "run"),
            (Action::Complete, "complete"),
            (Action::NextItem, "next"),
            (Action::Cancel, "close"),
        ],
        Mode::Filter => vec![(Action::Submit, "keep filter"), (Action::Cancel, "clear")],
        Mode::Confirm => vec![
            (Action::ToggleChoice, "switch"),
            (Action::Submit, "press"),
            (Action::Cancel, "cancel"),
        ],
        Mode::Prompt => vec![(Action::Submit, "answer"), (Action::Cancel, "decline")],
        Mode::Help | Mode::Messages => vec![(Action::Down, "scroll"), (Action::Back, "close")],
    }
}

pub fn footer(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let hints: Vec<(String, &str)> = hint_actions(app)
        .into_iter()
        .filter_map(|(a, label)| Some((app.keymap.key_for(app.mode, &a)?, label)))
        .collect();
    let hint_line = Line::from(widgets::hints(t, &hints));
    if app.mode == Mode::Filter {
        let filter = app.filter(app.view());
        let input = Line::from(vec![
            Span::styled(" /", t.key),
            Span::styled(filter.to_string(), t.input),
        ]);
        let cursor_x = area.x.saturating_add(input.width() as u16);
        frame.render_widget(Paragraph::new(input), area);
        frame.render_widget(Paragraph::new(hint_line.right_aligned()), area);
        frame.set_cursor_position(Position::new(cursor_x, area.y));
        return;
    }
    let line = match app.notices.current(app.now) {
        Some(n) if n.level == Level::Error => {
            // How to be rid of it, where there is room for it.
            let more = app.notices.unread_errors().saturating_sub(1);
            let how = match (more, app.keymap.key_for(Mode::Normal, &Action::Messages)) {
                (0, Some(key)) => format!("  (esc dismisses · {key} lists messages)"),
                (n, Some(key)) => format!("  (+{n} more: {key} lists them)"),
                (_, None) => String::new(),
            };
            let text = format!(" {}", n.text);
            let room = usize::from(area.width);
            let text = if text.chars().count() + how.chars().count() <= room {
                text + &how
            } else {
                text
            };
            Line::styled(text, t.crit)
        }
        Some(n) => Line::styled(format!(" {}", n.text), t.text),
        None => {
            let mut spans = vec![Span::raw(" ")];
            spans.extend(hint_line.spans);
            Line::from(spans)
        }
    };
    frame.render_widget(Paragraph::new(line), area);
}

#[cfg(test)]
mod tests {
    use super::shown_tabs;

    #[test]
    fn tabs_that_fit_are_all_shown() {
        assert_eq!(shown_tabs(&[10, 10, 10], 2, 30), (0, 3));
    }

    #[test]
    fn a_narrow_bar_keeps_the_current_tab_in_view() {
        let widths = [11, 11, 10, 6, 6, 10, 10, 9, 11];
        // The first tabs, up to what fits with the `›` mark.
        assert_eq!(shown_tabs(&widths, 0, 80), (0, 8));
        // The last one current: the run ends on it, `‹ ` before it.
        let (first, last) = shown_tabs(&widths, 8, 80);
        assert_eq!(last, 9);
        assert!(first > 0);
        assert!(2 + widths[first..last].iter().sum::<usize>() <= 79);
    }
}
