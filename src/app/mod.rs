//! The app: its state, the events it hears and the one `update` that changes it, and the
//! effects it asks for. No I/O happens here: `tui` carries the effects out and feeds the events
//! in, `ui` draws the state.

pub mod confirm;
mod dbload;
pub mod event;
pub mod logs;
pub mod notices;
pub mod palette;
pub mod screen;
pub mod state;
mod timeline;
pub mod update;

pub use event::Event;
pub use logs::LogsView;
pub use notices::{Level, Notice, Notices};
pub use screen::{Page, Screen, Selection};
pub use state::{Accept, App, Confirm, Effect, Palette, Prompt, TableState};
