//! The console as its event loop runs it, without a terminal: the app fed its events through
//! the real `Effects`, which start the estate's parts and carry out what the app asks for. On a
//! DEMO estate the runtime's clock is paused, so the demo's time is the test's: a plan that
//! takes minutes plays out at once, and the same every time.

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tokio::runtime::Runtime;
use tokio::sync::mpsc::{self, UnboundedReceiver};

use qpconsole::app::{App, Effect, Event};
use qpconsole::bastion::Ask;
use qpconsole::config::Config;
use qpconsole::input::keymap::Chord;
use qpconsole::ops::progress::{Outcome, PlanStatus};
use qpconsole::source::SourceKind;
use qpconsole::source::demo::{self, DemoClock, DemoOptions, Scenario};
use qpconsole::tui::effects::{Effects, Incoming, Parts, Tagged};

pub struct Console {
    pub app: App,
    effects: Effects,
    rt: Runtime,
    /// Where the app's clock stood when the runtime's did at `began`.
    origin: chrono::DateTime<chrono::Utc>,
    began: tokio::time::Instant,
    events: UnboundedReceiver<Tagged>,
    asks: UnboundedReceiver<Ask>,
    /// Every status a plan reported, in order: the app keeps only the latest.
    pub progress: Vec<PlanStatus>,
    /// Where the Logs view saves (a fresh folder of the test's).
    pub saves: Option<tempfile::TempDir>,
}

impl Console {
    /// The example config's qualitypost estate on the DEMO (seed 42) in `scenario`, from the
    /// tests' fixed start, on a 120x40 terminal, with its first picture on screen.
    pub fn demo(scenario: Scenario) -> Console {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .unwrap();
        let opts = DemoOptions { seed: 42, scenario };
        let mut parts = Parts::demo(
            Box::new(move |name: &str, cfg: &_, _, emit| {
                demo::spawn(
                    name,
                    cfg,
                    opts.clone(),
                    DemoClock::starting(super::start()),
                    emit,
                )
            }),
            42,
        );
        // Saved logs go where the test can read them, never into the user's data directory.
        let saves = tempfile::tempdir().unwrap();
        parts.saved_logs = Some(saves.path().to_path_buf());
        let mut console = Self::start(
            rt,
            super::example(),
            SourceKind::Demo,
            parts,
            super::start(),
        );
        console.saves = Some(saves);
        console.settle();
        console
    }

    /// A live estate of `config` (the lab's, say), its plans journaled in `state_dir`, on the
    /// real clock.
    pub fn live(config: Config, state_dir: &std::path::Path) -> Console {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        Self::start(
            rt,
            config,
            SourceKind::Live,
            Parts::live(Some(state_dir.to_path_buf())),
            chrono::Utc::now(),
        )
    }

    fn start(
        rt: Runtime,
        config: Config,
        kind: SourceKind,
        parts: Parts,
        origin: chrono::DateTime<chrono::Utc>,
    ) -> Console {
        let user_dir = tempfile::tempdir().unwrap();
        let app = App::new(
            config,
            "qualitypost",
            kind,
            qpconsole::config::keymap::load("default", user_dir.path())
                .unwrap()
                .value,
            qpconsole::config::theme::load("default", user_dir.path())
                .unwrap()
                .value,
            origin,
            &qpconsole::ui::SCREEN,
        );
        let (tx, events) = mpsc::unbounded_channel();
        let (asks_tx, asks) = mpsc::unbounded_channel();
        let mut effects = Effects::new(parts, tx, asks_tx);
        {
            let _in = rt.enter();
            effects.open(&app);
        }
        let began = rt.block_on(async { tokio::time::Instant::now() });
        let mut console = Console {
            app,
            effects,
            rt,
            origin,
            began,
            events,
            asks,
            progress: Vec::new(),
            saves: None,
        };
        console.feed(Event::Resize {
            width: 120,
            height: 40,
        });
        console
    }

    /// One event through the app's update, its effects carried out, as the event loop does.
    pub fn feed(&mut self, event: Event) -> Vec<Effect> {
        let _in = self.rt.enter();
        self.effects.apply(&mut self.app, event)
    }

    /// Keys pressed one after another (`"2 down F"`); returns what the app asked for, which is
    /// carried out, and lets the work it started report back.
    pub fn press(&mut self, keys: &str) -> Vec<Effect> {
        let asked = keys
            .split_whitespace()
            .flat_map(|k| {
                let chord = Chord::parse(k).unwrap();
                self.feed(Event::Key(KeyEvent::new(chord.code, chord.mods)))
            })
            .collect();
        self.settle();
        asked
    }

    /// A command typed into the palette (`:` TEXT enter); what enter asked for.
    pub fn command(&mut self, text: &str) -> Vec<Effect> {
        self.press(":");
        self.type_text(text);
        self.press("enter")
    }

    pub fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            self.feed(Event::Key(KeyEvent::new(
                KeyCode::Char(c),
                KeyModifiers::NONE,
            )));
        }
    }

    /// Lets every task do what it can without the clock moving, and hands the app what they
    /// report.
    pub fn settle(&mut self) {
        loop {
            self.rt.block_on(async {
                for _ in 0..100 {
                    tokio::task::yield_now().await;
                }
            });
            if !self.deliver() {
                return;
            }
        }
    }

    /// Runs until `done` holds of the app (moving a paused clock as the tasks wait), or fails
    /// after `within` of the runtime's clock.
    pub fn until(&mut self, within: Duration, done: impl Fn(&App) -> bool) {
        let deadline = self.clock() + within;
        let held = self.run_until(deadline, done);
        assert!(
            held,
            "not so within {within:?}; last message: {:?}",
            self.app.notices.latest()
        );
    }

    /// Runs the console for `span` of the runtime's clock, delivering what comes.
    pub fn run_for(&mut self, span: Duration) {
        let deadline = self.clock() + span;
        self.run_until(deadline, |_| false);
    }

    fn clock(&self) -> tokio::time::Instant {
        self.rt.block_on(async { tokio::time::Instant::now() })
    }

    /// Delivers what the tasks report until `done` holds (true) or `deadline` passes (false).
    fn run_until(&mut self, deadline: tokio::time::Instant, done: impl Fn(&App) -> bool) -> bool {
        loop {
            self.settle();
            if done(&self.app) {
                return true;
            }
            if !self.next(deadline) {
                return done(&self.app);
            }
        }
    }

    /// Waits for the next report (moving a paused clock as the tasks wait) and delivers it;
    /// false when `deadline` came first.
    fn next(&mut self, deadline: tokio::time::Instant) -> bool {
        let (events, asks) = (&mut self.events, &mut self.asks);
        let next = self.rt.block_on(async {
            tokio::select! {
                Some(t) = events.recv() => Some(Ok(t)),
                Some(a) = asks.recv() => Some(Err(a)),
                _ = tokio::time::sleep_until(deadline) => None,
            }
        });
        match next {
            Some(Ok(tagged)) => self.receive(tagged),
            Some(Err(ask)) => self.effects.question(ask),
            None => return false,
        }
        true
    }

    /// Hands the app what has arrived, and the time, as the event loop's clock does; false
    /// when nothing had arrived.
    fn deliver(&mut self) -> bool {
        let elapsed = self.clock() - self.began;
        let now = self.origin + chrono::Duration::from_std(elapsed).unwrap();
        if now != self.app.now {
            self.feed(Event::Tick(now));
        }
        let mut any = false;
        while let Ok(ask) = self.asks.try_recv() {
            any = true;
            self.effects.question(ask);
        }
        while let Ok(tagged) = self.events.try_recv() {
            any = true;
            self.receive(tagged);
        }
        any
    }

    fn receive(&mut self, tagged: Tagged) {
        if let Incoming::Event(Event::Progress(p)) = &tagged.incoming {
            self.progress.push(p.clone());
        }
        let _in = self.rt.enter();
        self.effects.receive(&mut self.app, tagged);
    }

    /// Runs until a plan ends (or fails after `within`), and returns how it ended.
    pub fn until_plan_ends(&mut self, within: Duration) -> PlanStatus {
        let deadline = self.clock() + within;
        loop {
            self.settle();
            let ended = self.progress.iter().find(|p| p.outcome != Outcome::Running);
            if let Some(end) = ended {
                return end.clone();
            }
            assert!(
                self.next(deadline),
                "no plan ended within {within:?}: {:?}; last message: {:?}",
                self.progress.last(),
                self.app.notices.latest()
            );
        }
    }

    /// Confirms the open dialog as a person would: types what it asks to be typed (on a
    /// production estate), then presses Confirm.
    pub fn confirm(&mut self) {
        let typed = self
            .app
            .confirm
            .as_ref()
            .expect("a confirmation")
            .require_typed
            .clone();
        match typed {
            Some(word) => {
                self.type_text(&word);
                self.press("enter");
            }
            None => {
                self.press("y");
            }
        }
    }
}

impl Drop for Console {
    /// The last screen the console would show holds none of the lab's secrets (not checked
    /// while a failure unwinds: a second panic would abort).
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let (w, h) = self.app.viewport;
        let mut terminal =
            ratatui::Terminal::new(ratatui::backend::TestBackend::new(w.max(1), h.max(1))).unwrap();
        terminal
            .draw(|f| qpconsole::ui::render(&self.app, f))
            .unwrap();
        let screen: String = terminal
            .backend()
            .buffer()
            .content()
            .iter()
            .map(|c| c.symbol())
            .collect();
        super::secrets::assert_none_in("the console's screen", &screen);
    }
}
