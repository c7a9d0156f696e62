//! The app state: one value holding everything the screen shows. Only `update` changes it; the
//! UI only reads it.

use std::collections::{BTreeMap, HashMap};

use crate::config::{Config, EstateConfig};
use crate::estate::{Estate, Rules, Timestamp};
use crate::input::keymap::{Chord, Keymap, Mode};
use crate::source::SourceKind;
use crate::theme::Theme;

use super::notices::Notices;
use super::screen::{Screen, Selection};
use crate::input::View;

/// Scroll and filter state of a view's main table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableState {
    pub selected: usize,
    /// First row shown; kept by `update` so scrolling is stable.
    pub offset: usize,
    /// Case-insensitive substring filter; empty shows every row.
    pub filter: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Palette {
    pub input: String,
    /// The highlighted suggestion, if the user moved into the list.
    pub selected: Option<usize>,
}

/// A question before a mutating action: starts on Cancel, names the target and the change, and
/// on production estates wants the resource id typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirm {
    pub title: String,
    pub lines: Vec<String>,
    pub accept: Accept,
    /// Whether the Confirm button (rather than Cancel) has the focus.
    pub on_confirm: bool,
    /// The text the user must type before Confirm works (a resource id), if any.
    pub require_typed: Option<String>,
    pub typed: String,
    /// Why the plan goes past the gates that hold it back, typed after the id; None when no
    /// gate holds it back.
    pub reason: Option<String>,
}

impl Confirm {
    /// Whether characters typed go into the dialog's text rather than to the keymap.
    pub fn takes_text(&self) -> bool {
        self.require_typed.is_some() || self.reason.is_some()
    }

    fn id_typed(&self) -> bool {
        self.require_typed
            .as_ref()
            .is_none_or(|id| *id == self.typed)
    }

    /// Whether everything the dialog asks for has been typed: the id, then a reason.
    pub fn complete(&self) -> bool {
        self.id_typed() && self.reason.as_ref().is_none_or(|r| !r.trim().is_empty())
    }

    /// Types into the id until it is whole, then into the reason.
    pub fn push(&mut self, c: char) {
        let into_reason = self.id_typed();
        match self.reason.as_mut() {
            Some(reason) if into_reason => reason.push(c),
            _ => self.typed.push(c),
        }
        // Typing all that is asked is the deliberate act: it moves the focus to Confirm.
        self.on_confirm = self.complete();
    }

    /// Erases from the reason first, then from the id.
    pub fn pop(&mut self) {
        match self.reason.as_mut() {
            Some(reason) if !reason.is_empty() => {
                reason.pop();
            }
            _ => {
                self.typed.pop();
            }
        }
        self.on_confirm = false;
    }
}

/// What confirming does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accept {
    LeaveReadonly,
    /// Run this plan, exactly as shown.
    Run(Box<crate::ops::plan::Plan>),
    /// Continue the journal's unfinished plan.
    Resume,
    /// Quit although a plan runs.
    Quit,
}

/// A question from the bastion (a passphrase, an unknown host key), answered in a dialog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub title: String,
    pub lines: Vec<String>,
    /// Typed without echo.
    pub secret: bool,
    pub input: String,
    /// The mode to go back to: a question may come while the palette or a confirmation is
    /// open, and answering it must not lose them.
    pub after: Mode,
}

/// Work the app asks for; `update` never performs it itself (the console's effects do).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    Source(crate::source::Request),
    Bastion(crate::bastion::Command),
    /// Run the endpoint checks now.
    Checks,
    /// Run them now without saying so: the DB load view's next look.
    LookAgain,
    /// Keep what the console saw change in the timeline's store.
    Remember(Vec<crate::estate::timeline::Entry>),
    /// An interactive shell on an instance, through the bastion.
    Shell {
        instance: String,
        address: String,
    },
    /// The answer to the bastion's question; `None` declines it.
    Answer(Option<crate::bastion::Secret>),
    SwitchEstate(String),
    /// Plan a change on the estate's cloud; the plan comes back to be confirmed.
    Plan(crate::ops::change::Change),
    /// Run a plan the user confirmed, exactly as shown.
    Run(Box<crate::ops::plan::Plan>),
    /// Stop the running plan after the step that runs; it stays resumable.
    CancelPlan,
    /// Continue the journal's unfinished plan.
    Resume,
    /// Set the journal's unfinished plan aside.
    Abandon,
    /// Start reading a log for the Logs view (replacing the readers before), from `from`.
    FollowLogs {
        plan: Box<crate::logs::Plan>,
        from: Timestamp,
        generation: u64,
    },
    /// Stop the Logs view's readers (closing the instances' channels).
    StopLogs,
    /// Write the Logs view's lines to a file named after `name` in the user's data directory.
    SaveLogs {
        name: String,
        text: String,
    },
    /// Put text on the clipboard, through the terminal (OSC 52).
    Clipboard(String),
    Quit,
}

#[derive(Debug, Clone)]
pub struct App {
    pub config: Config,
    /// The estate on screen, by name, and its latest picture.
    pub estate_name: String,
    pub estate: Estate,
    /// The estates not open, as their background sources last saw them (slower, and without
    /// their bastions): what the home view shows of them.
    pub glances: BTreeMap<String, Estate>,
    pub source: SourceKind,
    pub rules: Rules,
    /// The clock the screen is drawn at: set by events, never read inside render.
    pub now: Timestamp,
    /// Terminal size, from resize events; scrolling needs to know how many rows fit.
    pub viewport: (u16, u16),
    pub readonly: bool,
    /// `--readonly`: every estate opens read-only, whatever its config says.
    pub readonly_on_entry: bool,
    pub production: bool,
    /// Breadcrumbs: the views opened, the current one last. Never empty.
    pub views: Vec<View>,
    /// The timeline entry's time the view on top was opened for (see `App::moment`).
    pub moment: Option<Moment>,
    pub mode: Mode,
    pub tables: HashMap<View, TableState>,
    pub overview_tile: usize,
    pub palette: Palette,
    pub confirm: Option<Confirm>,
    pub prompt: Option<Prompt>,
    /// The plan running on the estate, as its source last reported it.
    pub plan: Option<crate::ops::progress::PlanStatus>,
    /// A live bastion reports the bastion panel itself; the source's pictures then leave it be.
    pub bastion_reported: bool,
    pub help_scroll: usize,
    /// The log the Logs view follows, while it is open.
    pub logs: Option<super::LogsView>,
    /// How many log readers were started: each reader's reports carry its number.
    pub logs_started: u64,
    /// What this console saw change that AWS keeps nowhere (target health, check verdicts,
    /// spikes) and its own plans' ends: the timeline's own part, newest last.
    pub seen: Vec<crate::estate::timeline::Entry>,
    /// The member the DB load view shows (the writer when none was chosen).
    pub db_member: Option<String>,
    /// When the DB load view last asked the checks for a fresh look.
    pub load_asked: Option<Timestamp>,
    /// What the console has said, and the footer's word of it.
    pub notices: Notices,
    pub notices_scroll: usize,
    /// The estate-wide reason every area failed for, as last told, so it is told once.
    pub told_cause: Option<String>,
    /// Keys of a sequence typed so far (`g` of `g g`).
    pub pending_keys: Vec<Chord>,
    pub keymap: Keymap,
    pub theme: Theme,
    /// What the app knows of the screen through the UI that draws it.
    pub screen: &'static dyn Screen,
    pub quit: bool,
}

impl App {
    /// A new app showing `estate_name` (which must be in `config`), with nothing received yet.
    pub fn new(
        config: Config,
        estate_name: &str,
        source: SourceKind,
        keymap: Keymap,
        theme: Theme,
        now: Timestamp,
        screen: &'static dyn Screen,
    ) -> Self {
        let mut app = Self {
            config,
            estate_name: String::new(),
            estate: Estate::empty("", ""),
            glances: BTreeMap::new(),
            source,
            rules: Rules::default(),
            now,
            viewport: (120, 40),
            readonly: false,
            readonly_on_entry: false,
            production: false,
            views: vec![View::Overview],
            moment: None,
            mode: Mode::Normal,
            tables: HashMap::new(),
            overview_tile: 0,
            palette: Palette::default(),
            confirm: None,
            prompt: None,
            plan: None,
            bastion_reported: false,
            help_scroll: 0,
            logs: None,
            logs_started: 0,
            seen: Vec::new(),
            db_member: None,
            load_asked: None,
            notices: Notices::default(),
            notices_scroll: 0,
            told_cause: None,
            pending_keys: Vec::new(),
            keymap,
            theme,
            screen,
            quit: false,
        };
        app.enter_estate(estate_name);
        app
    }

    /// Shows another configured estate from scratch: its own flags, rules and an empty picture
    /// until its source reports.
    pub fn enter_estate(&mut self, name: &str) {
        let cfg = self.estate_config(name).cloned();
        let (region, readonly, production, rules) = cfg
            .as_ref()
            .map(|c| (c.region.clone(), c.readonly, c.production, c.rules()))
            .unwrap_or_default();
        self.estate_name = name.to_string();
        let areas = cfg.as_ref().map(|c| c.areas()).unwrap_or_default();
        self.estate = Estate::empty(name, region).with_areas(areas);
        // The bastion is dialled as the estate opens; its reports take over from here.
        if let Some(target) = cfg.as_ref().and_then(|c| c.bastion.clone()) {
            self.estate.bastion.target = Some(target);
            self.estate.bastion.state = crate::estate::BastionState::Connecting;
        }
        self.bastion_reported = false;
        self.readonly = self.readonly_on_entry || readonly;
        self.production = production;
        self.rules = rules;
        self.tables.clear();
        self.overview_tile = 0;
        self.views = vec![View::Overview];
        self.plan = None;
        // The old estate's dialogs go with it (its bastion's questions are declined).
        self.prompt = None;
        self.confirm = None;
        self.mode = Mode::Normal;
    }

    /// The home view on top of the open estate's overview.
    pub fn show_home(&mut self) {
        self.views = vec![View::Overview, View::Estates];
    }

    /// Makes this and every estate opened later start read-only.
    pub fn force_readonly(&mut self) {
        self.readonly_on_entry = true;
        self.readonly = true;
    }

    pub fn estate_config(&self, name: &str) -> Option<&EstateConfig> {
        self.config.estates.get(name)
    }

    /// The views this estate has, in tab order: the overview and each area it names.
    pub fn shown_views(&self) -> Vec<View> {
        View::all()
            .filter(|v| v.is_tab() && v.area().is_none_or(|k| self.estate.has(k)))
            .collect()
    }

    /// The latest picture of a configured estate: the open one's, else its glance.
    pub fn picture(&self, name: &str) -> Option<&Estate> {
        match name == self.estate_name {
            true => Some(&self.estate),
            false => self.glances.get(name),
        }
    }

    pub fn view(&self) -> View {
        *self.views.last().expect("the view stack is never empty")
    }

    pub fn table(&self, view: View) -> TableState {
        self.tables.get(&view).cloned().unwrap_or_default()
    }

    /// Whether the estate on screen is the DEMO simulator's, which the screen says everywhere.
    pub fn is_demo(&self) -> bool {
        self.source == SourceKind::Demo
    }

    /// What the current view's selected row is.
    pub fn selection(&self) -> Selection {
        let view = self.view();
        self.screen.selected(self, view, self.table(view).selected)
    }

    pub fn filter(&self, view: View) -> &str {
        self.tables.get(&view).map_or("", |t| t.filter.as_str())
    }
}

impl App {
    /// The last health-path check of an instance, if the checks ran.
    pub fn http_check(&self, instance: &str) -> Option<&crate::estate::HttpCheck> {
        self.estate
            .checks
            .data
            .as_ref()?
            .http
            .iter()
            .find(|c| c.instance == instance)
    }

    /// The last SQL check of an endpoint kind (and member, for a member's own endpoint).
    pub fn endpoint_check(
        &self,
        kind: crate::estate::EndpointKind,
        member: Option<&str>,
    ) -> Option<&crate::estate::EndpointCheck> {
        self.estate
            .checks
            .data
            .as_ref()?
            .endpoints
            .iter()
            .find(|c| c.kind == kind && c.member.as_deref() == member)
    }
}

/// A view opened from a timeline entry: at which depth of the breadcrumbs, and the entry's time.
#[derive(Debug, Clone, PartialEq)]
pub struct Moment {
    pub depth: usize,
    pub view: View,
    pub at: Timestamp,
}
