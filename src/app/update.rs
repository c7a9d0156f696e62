//! `update`: the only place the app state changes. Keys become actions through the keymap;
//! actions change the state and may return `Effect`s for the event loop to carry out.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::{
    Accept, App, Confirm, Effect, Event, Level, Page, Prompt, Selection, confirm, palette,
};
use zeroize::Zeroize;

use crate::bastion::{Command, Question, Report, Secret};
use crate::estate::AreaKind;
use crate::estate::Role;
use crate::estate::health::human_duration;
use crate::input::action::mutating_words;
use crate::input::keymap::{Chord, Lookup, Mode};
use crate::input::{Action, View};
use crate::ops::change::Change;
use crate::ops::progress::{Outcome, PlanStatus};
use crate::ops::step::RuleMode;
use crate::source::{Request, Update};

impl App {
    /// The one way in: every event the console hears changes the state here, and what the
    /// app needs done comes back as effects.
    pub fn update(&mut self, event: Event) -> Vec<Effect> {
        let mut effects = self.handle(event);
        // However the Logs view was left (back, another view, another estate), its readers
        // stop with it.
        if self.logs.is_some() && !self.views.contains(&View::Logs) {
            self.logs = None;
            effects.push(Effect::StopLogs);
        }
        effects
    }

    fn handle(&mut self, event: Event) -> Vec<Effect> {
        match event {
            Event::Key(key) => return self.key(key),
            Event::Resize { width, height } => {
                self.viewport = (width, height);
                self.clamp_every_view();
            }
            Event::Tick(now) => {
                self.now = now;
                return self.look_again();
            }
            Event::Terminate => {
                self.quit = true;
                return vec![Effect::Quit];
            }
            Event::Source(update) => {
                let before = self.watched();
                self.source_update(update);
                return self.watch(&before);
            }
            Event::Glance(Update::Estate(estate)) => {
                // Nobody watches a background estate's bastion: it is left out of its health.
                let mut estate = *estate;
                estate.areas.retain(|&k| k != AreaKind::Bastion);
                if estate.name != self.estate_name {
                    self.glances.insert(estate.name.clone(), estate);
                }
            }
            Event::Bastion(Report::Bastion(b)) => {
                self.bastion_reported = true;
                self.estate.bastion = b;
                self.clamp_selection(View::Area(AreaKind::Bastion));
            }
            Event::Bastion(Report::Notice { ok, message }) | Event::Notice { ok, message } => {
                self.notice(ok, message)
            }
            Event::Checks { checks, at } => {
                let before = self.watched();
                self.estate.checks.record_ok(checks, at);
                return self.watch(&before);
            }
            Event::Logs { generation, report } => {
                let page = self.page_rows();
                if let Some(logs) = self.logs.as_mut().filter(|l| l.generation == generation) {
                    logs.apply(report);
                    logs.keep_in_window(page);
                }
            }
            Event::Question(question) => self.show_prompt(&question),
            Event::Planned(Ok(plan)) => {
                if self.readonly {
                    self.error("read-only: the plan was not offered");
                } else {
                    self.ask(confirm::plan(self, *plan));
                }
            }
            Event::Planned(Err(why)) => self.error(why),
            Event::Progress(status) => return self.progress(status),
            Event::Unfinished { plan, summary } => {
                if self.readonly {
                    self.info(format!(
                        "plan \"{}\" is unfinished ({summary}): leave read-only, then :resume",
                        plan.title
                    ));
                } else {
                    self.ask(confirm::resume(self, &plan, &summary));
                }
            }
        }
        Vec::new()
    }

    /// A new picture of the estate, or a source's word.
    fn source_update(&mut self, update: Update) {
        match update {
            Update::Estate(estate) => {
                let mut estate = *estate;
                // Grouped by zone on screen; sorting once here keeps each frame cheap.
                if let Some(p) = estate.phoenix.data.as_mut() {
                    p.instances
                        .sort_by(|a, b| (&a.az, &a.name, &a.id).cmp(&(&b.az, &b.name, &b.id)));
                }
                // The live source does not watch the bastion (the demo simulates one): until
                // the bastion reports, what the console set on entering the estate stands.
                if self.bastion_reported || estate.bastion.target.is_none() {
                    estate.bastion = std::mem::take(&mut self.estate.bastion);
                }
                // The checks come from the probes, not the sources (the demo simulates its own).
                if estate.checks.data.is_none() && estate.checks.last_error.is_none() {
                    estate.checks = std::mem::take(&mut self.estate.checks);
                }
                self.estate = estate;
                self.clamp_every_view();
                // Every area failing for one reason is said once, not at every refresh.
                let cause = self.estate.shared_cause().map(str::to_string);
                if cause != self.told_cause {
                    if let Some(c) = &cause {
                        self.error(c.clone());
                    }
                    self.told_cause = cause;
                }
            }
        }
    }

    /// `address` into (`block`) or out of the IP set a blocking rule of the web ACLs matches.
    fn block(&mut self, address: String, block: bool) -> Vec<Effect> {
        let ip_set = self
            .estate_config(&self.estate_name)
            .and_then(|c| c.waf_block_ip_set.clone());
        self.plan_change(Change::Block {
            address,
            ip_set,
            block,
        })
    }

    /// A failover to `target` (the selected reader when none is named); `rehearse`: and back.
    fn failover(&mut self, target: Option<String>, rehearse: bool) -> Vec<Effect> {
        let target = target.or_else(|| confirm::selected_member(self, Some(Role::Reader)));
        self.plan_change(Change::Failover { target, rehearse })
    }

    /// How far the running plan has got; its end is told in the message line.
    fn progress(&mut self, status: PlanStatus) -> Vec<Effect> {
        match &status.outcome {
            Outcome::Running => {
                self.plan = Some(status);
                Vec::new()
            }
            Outcome::Done => {
                self.plan = None;
                let took = human_duration((self.now - status.started).num_seconds().max(0));
                // What each failover cost, as the probe measured it, stays in the timeline.
                let felt: String = status.measured.iter().map(|m| format!("; {m}")).collect();
                self.info(format!(
                    "done: {} ({} steps in {took}){felt}",
                    status.title, status.total
                ));
                self.plan_ended(&status.title, &format!("done in {took}{felt}"))
            }
            Outcome::Stopped(why) => {
                self.plan = None;
                self.error(why.clone());
                self.plan_ended(&status.title, &format!("stopped: {why}"))
            }
        }
    }

    /// Puts the bastion's question on screen, above whatever was open.
    fn show_prompt(&mut self, question: &Question) {
        self.prompt = Some(Prompt {
            title: question.title().to_string(),
            lines: question.lines(),
            secret: question.is_secret(),
            input: String::new(),
            after: self.mode,
        });
        self.mode = Mode::Prompt;
    }

    fn clamp_every_view(&mut self) {
        for view in View::all() {
            self.clamp_selection(view);
        }
    }

    /// A key press: looked up in the active mode's keymap, with multi-key sequences and text
    /// entry in the palette, the filter and typed confirmations.
    fn key(&mut self, event: KeyEvent) -> Vec<Effect> {
        let Some(chord) = Chord::from_event(&event) else {
            return Vec::new();
        };
        if self.pending_keys.is_empty() {
            self.notices.key_pressed();
        }
        // While a resource id or a reason is being typed, characters are text even where the
        // confirm keymap binds them (an id may well contain the `y` of "yes").
        if let (Some(c), true) = (
            typed_char(&chord),
            self.confirm.as_ref().is_some_and(Confirm::takes_text),
        ) {
            self.type_char(c);
            return Vec::new();
        }
        self.pending_keys.push(chord);
        match self.keymap.lookup(self.mode, &self.pending_keys) {
            Lookup::Action(action) => {
                let action = action.clone();
                self.pending_keys.clear();
                self.dispatch(action)
            }
            Lookup::Prefix => Vec::new(),
            Lookup::None => {
                let keys = std::mem::take(&mut self.pending_keys);
                if let ([only], Some(c)) = (keys.as_slice(), typed_char(&chord)) {
                    debug_assert_eq!(*only, chord);
                    self.type_char(c);
                }
                Vec::new()
            }
        }
    }

    /// Runs an action in the current mode.
    fn dispatch(&mut self, action: Action) -> Vec<Effect> {
        match self.mode {
            Mode::Normal => self.normal(action),
            Mode::Palette => self.in_palette(action),
            Mode::Filter => self.in_filter(action),
            Mode::Confirm => self.in_confirm(action),
            Mode::Prompt => self.in_prompt(action),
            Mode::Help => self.in_help(action),
            Mode::Messages => self.in_messages(action),
        }
    }

    fn normal(&mut self, action: Action) -> Vec<Effect> {
        // What the declaration says changes the estate is refused here, whatever asked for it:
        // a key, the palette, a keymap entry.
        if self.readonly && action.is_mutating() {
            let how = self
                .keymap
                .key_for(Mode::Normal, &Action::ToggleReadonly)
                .map(|k| format!("{k} or "))
                .unwrap_or_default();
            self.error(format!(
                "read-only: {} is disabled ({how}:readonly to leave read-only)",
                action.command().word
            ));
            return Vec::new();
        }
        match action {
            Action::Quit if self.plan.is_some() => self.ask(confirm::quit_mid_plan(self)),
            Action::Quit => {
                self.quit = true;
                return vec![Effect::Quit];
            }
            Action::Back => self.back(),
            Action::Help => {
                self.mode = Mode::Help;
                self.help_scroll = 0;
            }
            Action::Messages => {
                // Seen in the list is read: the footer lets go of the errors.
                self.notices.dismiss();
                self.mode = Mode::Messages;
                self.notices_scroll = 0;
            }
            Action::Palette => {
                self.mode = Mode::Palette;
                self.palette = Default::default();
            }
            Action::Filter => {
                if self.view() == View::Overview {
                    self.error("the overview has no table to filter: open a view first");
                } else {
                    self.mode = Mode::Filter;
                }
            }
            Action::Up
            | Action::Down
            | Action::Top
            | Action::Bottom
            | Action::PageUp
            | Action::PageDown
                if self.view() == View::Logs =>
            {
                self.scroll_logs(&action)
            }
            Action::DbLoad(_) | Action::KillQuery | Action::KillSession => {
                return self.dbload_action(action);
            }
            Action::Logs(_)
            | Action::LogsPattern(_)
            | Action::LogsSince(_)
            | Action::Wrap
            | Action::Timestamps
            | Action::KeepUnmatched
            | Action::SaveLogs
            | Action::Yank => return self.logs_action(action),
            Action::Up | Action::Down | Action::Left | Action::Right => self.step(&action),
            Action::Top => self.select(0),
            Action::Bottom => self.select(usize::MAX),
            Action::PageUp | Action::PageDown => {
                let page = self.page_rows().max(1);
                let sel = self.table(self.view()).selected;
                self.select(if action == Action::PageUp {
                    sel.saturating_sub(page)
                } else {
                    sel.saturating_add(page)
                });
            }
            Action::Select => match (self.view(), self.selection()) {
                (View::Overview, _) if !self.estate.areas.is_empty() => {
                    let areas = &self.estate.areas;
                    let area = areas[self.overview_tile.min(areas.len() - 1)];
                    self.views.push(View::Area(area));
                }
                (View::Estates, Selection::Estate { name }) if name == self.estate_name => {
                    self.go_to(View::Overview);
                }
                (View::Estates, Selection::Estate { name }) => {
                    return self.normal(Action::Estate(name));
                }
                (View::Timeline, Selection::Entry { area, subject, at }) => {
                    self.open_entry(area, &subject, at)
                }
                _ => {}
            },
            Action::NextView | Action::PrevView => {
                let views = self.shown_views();
                let i = views.iter().position(|v| *v == self.view()).unwrap_or(0);
                let n = views.len();
                let next = if action == Action::NextView {
                    (i + 1) % n
                } else {
                    (i + n - 1) % n
                };
                self.go_to(views[next]);
            }
            Action::View(v) => self.go_to(v),
            Action::Refresh => {
                self.info("refreshing every area");
                return vec![Effect::Source(Request::Refresh)];
            }
            Action::Estate(_) if self.plan.is_some() => {
                // The plan belongs to this estate's source: leaving would orphan it.
                self.error(format!(
                    "a plan is running on {}: wait for it, or cancel it (:cancel-plan), then switch",
                    self.estate_name
                ));
            }
            Action::Estate(name) => {
                if name == self.estate_name {
                    self.info(format!("already on estate {name}"));
                } else if self.config.estates.contains_key(&name) {
                    self.enter_estate(&name);
                    return vec![Effect::SwitchEstate(name)];
                } else {
                    let known = crate::config::files::estate_names(&self.config);
                    self.error(format!("no estate '{name}'; configured: {known}"));
                }
            }
            Action::ToggleReadonly => {
                if self.readonly {
                    self.ask(confirm::leave_readonly(self));
                } else {
                    self.readonly = true;
                    self.info(format!("read-only: {} are disabled", mutating_words()));
                }
            }
            Action::TunnelOpen(name) => return self.tunnel(Command::Open(name)),
            Action::TunnelClose(name) => return self.tunnel(Command::Close(name)),
            Action::TunnelToggle => match self.selection() {
                Selection::Forward { name, listening } => {
                    return self.tunnel(if listening {
                        Command::Close(name)
                    } else {
                        Command::Open(name)
                    });
                }
                _ if self.view() != View::Area(AreaKind::Bastion) => {
                    self.error("tunnels are opened from the Bastion view (or :tunnel-open NAME)")
                }
                _ => {
                    self.error("no tunnel selected: add [[estates.NAME.tunnels]] to qpconsole.toml")
                }
            },
            Action::Reconnect => return self.tunnel(Command::Reconnect),
            Action::Check => {
                if !self.has_live_bastion() {
                    return Vec::new();
                }
                return vec![Effect::Checks];
            }
            Action::Shell => match self.selection() {
                Selection::Instance { id, address } if address.is_empty() => {
                    self.error(format!("{id} has no private address to reach"))
                }
                Selection::Instance { id, address } => {
                    if self.has_live_bastion() {
                        return vec![Effect::Shell {
                            instance: id,
                            address,
                        }];
                    }
                }
                _ if self.view() != View::Area(AreaKind::Phoenix) => {
                    self.error("shells are opened on the selected instance of the Phoenix view")
                }
                _ => self.error("no instance selected"),
            },
            Action::Failover(target) => return self.failover(target, false),
            Action::Rehearse(target) => return self.failover(target, true),
            Action::Resize(r) => {
                return self.plan_change(Change::resize(&self.estate, &r.target, &r.size));
            }
            Action::Reboot(member) => {
                let Some(member) = member.or_else(|| confirm::selected_member(self, None)) else {
                    self.error("select a member on the Cluster view, or name one: :reboot MEMBER");
                    return Vec::new();
                };
                return self.plan_change(Change::Reboot { member });
            }
            Action::Block(address) => {
                let selected = match self.selection() {
                    Selection::Client { address } => Some(address),
                    _ => None,
                };
                let Some(address) = address.or(selected) else {
                    self.error(
                        "select a sampled request on the WAF view, or name an address: :block ADDRESS",
                    );
                    return Vec::new();
                };
                return self.block(address, true);
            }
            Action::Unblock(address) => return self.block(address, false),
            Action::RuleCount(rule) => {
                let to = RuleMode::Count;
                return self.plan_change(Change::RuleMode { rule, to });
            }
            Action::RuleBlock(rule) => {
                let to = RuleMode::Block;
                return self.plan_change(Change::RuleMode { rule, to });
            }
            Action::Resume => return vec![Effect::Resume],
            Action::AbandonPlan => return vec![Effect::Abandon],
            Action::CancelPlan => {
                if self.plan.is_none() {
                    self.error("no plan is running");
                    return Vec::new();
                }
                return vec![Effect::CancelPlan];
            }
            // Text and dialog actions mean nothing outside their modes.
            Action::Submit
            | Action::Cancel
            | Action::Complete
            | Action::NextItem
            | Action::PrevItem
            | Action::DeleteChar
            | Action::ClearInput
            | Action::Yes
            | Action::ToggleChoice => {}
        }
        Vec::new()
    }

    fn in_palette(&mut self, action: Action) -> Vec<Effect> {
        let candidates = palette::candidates(self);
        match action {
            Action::Submit => {
                let line = self
                    .palette
                    .selected
                    .and_then(|i| candidates.get(i).cloned())
                    .unwrap_or_else(|| self.palette.input.clone());
                self.mode = Mode::Normal;
                if line.trim().is_empty() {
                    return Vec::new();
                }
                match Action::parse(&line) {
                    Ok(action) => return self.normal(action),
                    Err(e) => self.error(e),
                }
            }
            Action::Cancel | Action::Back => self.mode = Mode::Normal,
            Action::Complete => {
                let chosen = match self.palette.selected {
                    Some(i) => candidates.get(i).cloned(),
                    None if candidates.len() == 1 => candidates.first().cloned(),
                    None => palette::common_prefix(&candidates),
                };
                if let Some(text) = chosen {
                    let whole = candidates.contains(&text);
                    self.palette.input = if whole { format!("{text} ") } else { text };
                    self.palette.selected = None;
                }
            }
            Action::NextItem | Action::PrevItem if !candidates.is_empty() => {
                let n = candidates.len();
                self.palette.selected = Some(match (self.palette.selected, &action) {
                    (None, Action::NextItem) => 0,
                    (None, _) => n - 1,
                    (Some(i), Action::NextItem) => (i + 1) % n,
                    (Some(i), _) => (i + n - 1) % n,
                });
            }
            Action::DeleteChar => {
                self.palette.input.pop();
                self.palette.selected = None;
            }
            Action::ClearInput => self.palette = Default::default(),
            Action::Quit => return self.normal(Action::Quit),
            _ => {}
        }
        Vec::new()
    }

    fn in_filter(&mut self, action: Action) -> Vec<Effect> {
        let view = self.view();
        match action {
            Action::Submit => self.mode = Mode::Normal,
            Action::Cancel | Action::Back => {
                self.set_filter(view, String::new());
                self.mode = Mode::Normal;
            }
            Action::DeleteChar => {
                let mut f = self.filter(view).to_string();
                f.pop();
                self.set_filter(view, f);
            }
            Action::ClearInput => self.set_filter(view, String::new()),
            Action::Quit => return self.normal(Action::Quit),
            _ => {}
        }
        Vec::new()
    }

    fn in_confirm(&mut self, action: Action) -> Vec<Effect> {
        let Some(confirm) = self.confirm.as_mut() else {
            self.mode = Mode::Normal;
            return Vec::new();
        };
        match action {
            Action::Yes => return self.accept(),
            Action::Submit if confirm.on_confirm => return self.accept(),
            Action::Submit | Action::Cancel | Action::Back => self.close_confirm("cancelled"),
            Action::ToggleChoice => confirm.on_confirm = !confirm.on_confirm,
            Action::DeleteChar => confirm.pop(),
            Action::Quit => return self.normal(Action::Quit),
            _ => {}
        }
        Vec::new()
    }

    fn in_prompt(&mut self, action: Action) -> Vec<Effect> {
        let after = self.prompt.as_ref().map_or(Mode::Normal, |p| p.after);
        let answer = match action {
            // The typed text moves into the answer, which wipes it when dropped.
            Action::Submit => self.prompt.take().map(|p| Secret::from(p.input)),
            Action::Cancel | Action::Back | Action::Quit => {
                if let Some(mut p) = self.prompt.take() {
                    p.input.zeroize();
                }
                None
            }
            Action::DeleteChar => {
                if let Some(p) = self.prompt.as_mut() {
                    p.input.pop();
                }
                return Vec::new();
            }
            Action::ClearInput => {
                if let Some(p) = self.prompt.as_mut() {
                    p.input.zeroize();
                }
                return Vec::new();
            }
            _ => return Vec::new(),
        };
        self.mode = after;
        if answer.is_none() {
            self.info("declined: the bastion was not given an answer");
        }
        vec![Effect::Answer(answer)]
    }

    fn in_help(&mut self, action: Action) -> Vec<Effect> {
        let lines = self.screen.help_lines(self);
        let (scroll, effects) = self.overlay(action, Action::Help, self.help_scroll, lines);
        self.help_scroll = scroll;
        effects
    }

    fn in_messages(&mut self, action: Action) -> Vec<Effect> {
        let lines = self.notices.len();
        let (scroll, effects) = self.overlay(action, Action::Messages, self.notices_scroll, lines);
        self.notices_scroll = scroll;
        effects
    }

    /// Keys in an overlay of `lines` lines scrolled to `scroll` (the help, the messages):
    /// moves close it with `opened_by`, esc or cancel, scroll it otherwise. The new scroll.
    fn overlay(
        &mut self,
        action: Action,
        opened_by: Action,
        scroll: usize,
        lines: usize,
    ) -> (usize, Vec<Effect>) {
        if matches!(action, Action::Back | Action::Cancel) || action == opened_by {
            self.mode = Mode::Normal;
            return (0, Vec::new());
        }
        let last = lines.saturating_sub(1);
        let page = usize::from(self.viewport.1.saturating_sub(6)).max(1);
        let scroll = match action {
            Action::Quit => return (scroll, self.normal(Action::Quit)),
            Action::Up => scroll.saturating_sub(1),
            Action::Down => scroll + 1,
            Action::PageUp => scroll.saturating_sub(page),
            Action::PageDown => scroll + page,
            Action::Top => 0,
            Action::Bottom => last,
            _ => scroll,
        };
        (scroll.min(last), Vec::new())
    }

    fn accept(&mut self) -> Vec<Effect> {
        let Some(confirm) = self.confirm.clone() else {
            return Vec::new();
        };
        if let Some(expected) = &confirm.require_typed
            && confirm.typed != *expected
        {
            self.error(format!("type {expected} to confirm, or Esc to cancel"));
            return Vec::new();
        }
        if !confirm.complete() {
            self.error("type why the plan goes past the gates that hold it back, or Esc to cancel");
            return Vec::new();
        }
        self.confirm = None;
        self.mode = Mode::Normal;
        match confirm.accept {
            Accept::LeaveReadonly => {
                self.readonly = false;
                self.info("read-only left: every change still shows its plan and asks");
                Vec::new()
            }
            Accept::Run(mut plan) => {
                if let Some(reason) = &confirm.reason {
                    let held: Vec<_> = plan.held_back_by().iter().map(|g| g.kind).collect();
                    plan.override_gates(&held, reason.trim());
                }
                self.info(format!("starting: {}", plan.title));
                vec![Effect::Run(plan)]
            }
            Accept::Resume => vec![Effect::Resume],
            Accept::Quit => {
                self.quit = true;
                vec![Effect::Quit]
            }
        }
    }

    /// Asks the source for the plan of a change; the plan comes back to be confirmed.
    fn plan_change(&mut self, change: Change) -> Vec<Effect> {
        self.info("planning…");
        vec![Effect::Plan(change)]
    }

    /// Whether a real bastion can carry work; says why not otherwise (the DEMO estate only
    /// simulates one).
    fn has_live_bastion(&mut self) -> bool {
        if self.is_demo() {
            self.error("the DEMO bastion is simulated: tunnels and shells need a live estate");
            return false;
        }
        if self
            .estate_config(&self.estate_name)
            .and_then(|c| c.bastion.as_ref())
            .is_none()
        {
            self.error(format!(
                "estate {} names no bastion: set `bastion` in qpconsole.toml",
                self.estate_name
            ));
            return false;
        }
        true
    }

    fn tunnel(&mut self, command: Command) -> Vec<Effect> {
        if !self.has_live_bastion() {
            return Vec::new();
        }
        vec![Effect::Bastion(command)]
    }

    fn type_char(&mut self, c: char) {
        match self.mode {
            Mode::Palette => {
                self.palette.input.push(c);
                self.palette.selected = None;
            }
            Mode::Filter => {
                let view = self.view();
                let f = format!("{}{c}", self.filter(view));
                self.set_filter(view, f);
            }
            Mode::Prompt => {
                if let Some(p) = self.prompt.as_mut() {
                    p.input.push(c);
                }
            }
            Mode::Confirm => {
                if let Some(confirm) = self.confirm.as_mut() {
                    confirm.push(c);
                }
            }
            Mode::Normal | Mode::Help | Mode::Messages => {}
        }
    }

    /// Opens a confirmation; behind a bastion's question when one is open, so the question
    /// keeps the keyboard and the confirmation shows once it is answered.
    pub(super) fn ask(&mut self, confirm: super::Confirm) {
        self.confirm = Some(confirm);
        match self.prompt.as_mut() {
            Some(p) if self.mode == Mode::Prompt => p.after = Mode::Confirm,
            _ => self.mode = Mode::Confirm,
        }
    }

    fn close_confirm(&mut self, why: &str) {
        if let Some(c) = self.confirm.take() {
            self.info(format!("{}: {why}", c.title.trim_end_matches('?')));
        }
        self.mode = Mode::Normal;
    }

    /// Esc: clear the view's filter first, then go back one breadcrumb.
    fn back(&mut self) {
        let view = self.view();
        let error_shown = self
            .notices
            .current(self.now)
            .is_some_and(|n| n.level == Level::Error);
        if error_shown {
            self.notices.dismiss();
        } else if !self.filter(view).is_empty() {
            self.set_filter(view, String::new());
        } else if self.views.len() > 1 {
            self.views.pop();
        }
    }

    fn go_to(&mut self, view: View) {
        if let Some(kind) = view.area()
            && !self.estate.has(kind)
        {
            self.error(format!(
                "estate {} has no {}: its config does not name one",
                self.estate_name,
                kind.title()
            ));
            return;
        }
        self.views = if view == View::Overview {
            vec![View::Overview]
        } else {
            vec![View::Overview, view]
        };
    }

    fn step(&mut self, action: &Action) {
        let view = self.view();
        if view == View::Overview {
            let n = self.estate.areas.len().max(1);
            let cols = self.page(view).columns.max(1);
            let i = self.overview_tile;
            self.overview_tile = match action {
                Action::Left => i.saturating_sub(1),
                Action::Right => (i + 1).min(n - 1),
                Action::Up => i.checked_sub(cols).unwrap_or(i),
                _ => {
                    if i + cols < n {
                        i + cols
                    } else {
                        i
                    }
                }
            };
            return;
        }
        let sel = self.table(view).selected;
        match action {
            Action::Up => self.select(sel.saturating_sub(1)),
            Action::Down => self.select(sel + 1),
            _ => {}
        }
    }

    /// Moves the current view's selection, keeping it on screen.
    fn select(&mut self, row: usize) {
        let view = self.view();
        if view == View::Overview {
            self.overview_tile = row.min(self.estate.areas.len().saturating_sub(1));
            return;
        }
        self.tables.entry(view).or_default().selected = row;
        self.clamp_selection(view);
    }

    fn clamp_selection(&mut self, view: View) {
        let n = self.screen.rows(self, view);
        let page = self.page(view).rows.max(1);
        let t = self.tables.entry(view).or_default();
        t.selected = t.selected.min(n.saturating_sub(1));
        if t.selected < t.offset {
            t.offset = t.selected;
        } else if t.selected >= t.offset + page {
            t.offset = t.selected + 1 - page;
        }
        t.offset = t.offset.min(n.saturating_sub(page));
    }

    pub(super) fn page_rows(&self) -> usize {
        self.page(self.view()).rows
    }

    /// How much of `view` the terminal shows now.
    fn page(&self, view: View) -> Page {
        self.screen.page(view, self.viewport, self.plan.is_some())
    }

    fn set_filter(&mut self, view: View, filter: String) {
        if let (View::Logs, Some(logs)) = (view, self.logs.as_mut()) {
            logs.set_filter(&filter);
        }
        let t = self.tables.entry(view).or_default();
        t.filter = filter;
        t.selected = 0;
        t.offset = 0;
    }

    fn notice(&mut self, ok: bool, text: String) {
        if ok {
            self.info(text)
        } else {
            self.error(text)
        }
    }

    pub(super) fn info(&mut self, text: impl Into<String>) {
        self.notices.push(Level::Info, text, self.now);
    }

    pub(super) fn error(&mut self, text: impl Into<String>) {
        self.notices.push(Level::Error, text, self.now);
    }
}

/// The character a key types into a text field, if it is a plain character.
fn typed_char(chord: &Chord) -> Option<char> {
    match chord.code {
        KeyCode::Char(c)
            if !chord
                .mods
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
        {
            Some(c)
        }
        _ => None,
    }
}
