//! The app: its state, the actions that change it, and the event loop that wires the sources,
//! the terminal and the render together.

pub mod confirm;
pub mod event_loop;
pub mod palette;
pub mod rows;
pub mod state;
pub mod terminal;
pub mod update;

pub use state::{Accept, App, Confirm, Effect, Level, Message, Palette, Prompt, TableState};
