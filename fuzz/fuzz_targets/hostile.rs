//! One libFuzzer target for every harness: `QPCONSOLE_FUZZ_HARNESS` names which (`lab/fuzz`
//! runs each in turn). A panic, or a rejection that does not say where, is a crash.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use qpconsole::hostile::{self, Harness};

static HARNESS: LazyLock<&'static Harness> = LazyLock::new(|| {
    let name = std::env::var("QPCONSOLE_FUZZ_HARNESS").unwrap_or_default();
    hostile::named(&name).unwrap_or_else(|| {
        panic!(
            "QPCONSOLE_FUZZ_HARNESS={name:?} names no harness; harnesses: {}",
            hostile::names()
        )
    })
});

fuzz_target!(|input: &[u8]| HARNESS.feed(input));
