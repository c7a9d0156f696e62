//! What a person can ask of the console: the actions and their grammar, the views they name,
//! and the keymaps that bind keys to actions. Plain data: the files keymaps come from are read
//! in `config`, and what an action does is `app`'s.

pub mod action;
pub mod keymap;
pub mod view;

pub use action::Action;
pub use view::View;
