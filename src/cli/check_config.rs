//! `qpconsole check-config`: loads everything the console would load and says from where.

use crate::config::files::{EXAMPLE_CONFIG, estate_names};

use super::setup::Setup;

pub fn report(setup: &Setup) -> String {
    let mut out = String::from("configuration is valid\n");
    let width = setup.layers.iter().map(|l| l.what.len()).max().unwrap_or(0);
    for layer in &setup.layers {
        out += &format!("  {:width$}  {}\n", layer.what, layer.origin);
    }
    out += &format!(
        "  estates: {} (opening {})\n",
        estate_names(&setup.config),
        setup.estate
    );
    out += &format!("  user directory: {}\n", setup.user_dir.display());
    out
}

pub fn example() -> &'static str {
    EXAMPLE_CONFIG
}
