//! Shell completions and the man page, generated from the command line's own definition, so
//! they never disagree with it.

use clap::CommandFactory;
use clap_complete::Shell;

use super::Cli;

/// The completion script for `shell`.
pub fn completions(shell: Shell) -> Vec<u8> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "qpconsole", &mut out);
    out
}

/// The man page, in roff.
pub fn man_page() -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut out)?;
    Ok(out)
}
