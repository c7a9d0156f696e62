use std::fs;

use super::*;
use crate::estate::AreaKind;
use crate::input::View;
use crate::input::keymap::{Chord, Lookup, Mode};

fn chord(s: &str) -> Chord {
    Chord::parse(s).unwrap()
}

#[test]
fn shipped_keymaps_load_and_vim_adds_motions_to_default() {
    let dir = tempfile::tempdir().unwrap();
    let default = load("default", dir.path()).unwrap().value;
    assert_eq!(
        default.lookup(Mode::Normal, &[chord("q")]),
        Lookup::Action(&Action::Quit)
    );
    assert_eq!(default.lookup(Mode::Normal, &[chord("j")]), Lookup::None);
    let vim = load("vim", dir.path()).unwrap();
    assert_eq!(vim.layers.len(), 2, "vim is built on default");
    let vim = vim.value;
    assert_eq!(
        vim.lookup(Mode::Normal, &[chord("j")]),
        Lookup::Action(&Action::Down)
    );
    assert_eq!(
        vim.lookup(Mode::Normal, &[chord("q")]),
        Lookup::Action(&Action::Quit)
    );
    assert_eq!(vim.lookup(Mode::Normal, &[chord("g")]), Lookup::Prefix);
    assert_eq!(
        vim.lookup(Mode::Normal, &[chord("g"), chord("g")]),
        Lookup::Action(&Action::Top)
    );
    // Every mode of every shipped keymap has a way out and a description on every binding.
    for mode in Mode::ALL {
        assert!(vim.bindings(mode).iter().all(|b| !b.desc.is_empty()));
        assert!(
            vim.bindings(mode)
                .iter()
                .any(|b| matches!(b.action, Action::Quit | Action::Cancel | Action::Back))
        );
    }
}

#[test]
fn a_user_file_rebinds_and_unbinds_keys_of_the_shipped_keymap() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("keymaps")).unwrap();
    fs::write(
        dir.path().join("keymaps/default.toml"),
        "[normal]\nq = \"unbind\"\nQ = { run = \"quit\", desc = \"Leave\" }\nw = \"view waf\"\n",
    )
    .unwrap();
    let loaded = load("default", dir.path()).unwrap();
    assert_eq!(loaded.layers.len(), 2);
    let km = loaded.value;
    assert_eq!(km.lookup(Mode::Normal, &[chord("q")]), Lookup::None);
    assert_eq!(
        km.lookup(Mode::Normal, &[chord("Q")]),
        Lookup::Action(&Action::Quit)
    );
    assert_eq!(
        km.lookup(Mode::Normal, &[chord("w")]),
        Lookup::Action(&Action::View(View::Area(AreaKind::Waf)))
    );
    let w = km
        .bindings(Mode::Normal)
        .iter()
        .find(|b| b.keys_label() == "w")
        .unwrap();
    assert_eq!(
        w.desc, "Go to WAF",
        "a binding without desc takes the action's description"
    );
}

fn user_keymap_error(text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("keymaps")).unwrap();
    fs::write(dir.path().join("keymaps/mine.toml"), text).unwrap();
    let e = load("mine", dir.path()).unwrap_err().to_string();
    e.replace(&dir.path().display().to_string(), "DIR")
}

#[test]
fn bad_keymaps_point_at_the_line_and_say_what_is_wrong() {
    let e = user_keymap_error("[normal]\nx = \"quit\"\ny = { run = \"quitt\" }\n");
    assert!(
        e.starts_with("DIR/keymaps/mine.toml:3:13: unknown command 'quitt'"),
        "{e}"
    );
    let e = user_keymap_error("[normal]\n\"ctrl-enterr\" = \"quit\"\n");
    assert!(
        e.starts_with("DIR/keymaps/mine.toml:2:1: 'ctrl-enterr' is not a key"),
        "{e}"
    );
    let e = user_keymap_error("[nromal]\nq = \"quit\"\n");
    assert!(
        e.starts_with("DIR/keymaps/mine.toml:1:2: unknown section 'nromal'"),
        "{e}"
    );
    let e = user_keymap_error("[normal]\nq = { run = \"quit\", dsec = \"x\" }\n");
    assert!(
        e.starts_with("DIR/keymaps/mine.toml:2:21: unknown field 'dsec'"),
        "{e}"
    );
    let e = user_keymap_error("[normal]\nq = 3\n");
    assert!(
        e.contains("a binding must be a string or a table, found an integer"),
        "{e}"
    );
    let e = user_keymap_error("[normal\nq = 3\n");
    assert!(e.starts_with("DIR/keymaps/mine.toml:1:"), "{e}");
}

#[test]
fn an_unknown_keymap_lists_the_shipped_ones() {
    let dir = tempfile::tempdir().unwrap();
    let e = load("emacs", dir.path()).unwrap_err().to_string();
    assert!(e.starts_with("no keymap named 'emacs'"), "{e}");
    assert!(e.contains("shipped keymaps: default, vim"), "{e}");
}

#[test]
fn every_view_has_a_key_in_every_shipped_keymap() {
    let dir = tempfile::tempdir().unwrap();
    for (name, _) in SHIPPED {
        let keymap = load(name, dir.path()).unwrap().value;
        // The Logs view opens on a log, with the logs action.
        assert!(
            keymap.key_for(Mode::Normal, &Action::Logs(None)).is_some(),
            "keymap {name} has no key for logs"
        );
        for view in View::all().filter(|v| v.opens_by_name()) {
            assert!(
                keymap.key_for(Mode::Normal, &Action::View(view)).is_some(),
                "keymap {name} has no key for the {} view",
                view.name()
            );
        }
    }
}
