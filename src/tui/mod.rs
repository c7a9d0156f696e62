//! The running console: the terminal it owns, the event loop that feeds the app its events and
//! draws it, and the effects the app asks for, carried out.

pub mod effects;
pub mod event_loop;
pub mod terminal;
