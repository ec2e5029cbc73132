//! shrinkwatch: a nightly batch analyzer that raises the alarm when stored
//! data suddenly and substantially shrinks.
//!
//! Module map:
//! - [`ingest`]: polars-based reading, validation and splitting into series;
//! - [`detect`]: the engine (pure Rust on slices);
//! - [`findings`]: the output schema and the run over all series;
//! - [`planned`], [`labels`]: the side inputs;
//! - [`analysis`]: one run's findings (the engine over every series, then
//!   migrations reconciled across stores); [`arrival`]: what a migration
//!   brought into a store, set aside to judge the store's own data;
//! - [`evaluate`]: scoring against labels;
//! - [`generate`]: the realistic dataset generator;
//! - [`report`]: output files;
//! - [`cli`], [`config`], [`commands`]: the command line.

pub mod analysis;
pub mod arrival;
pub mod charts;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod config;
pub mod detect;
pub mod evaluate;
pub mod explain;
pub mod failpoint;
pub mod findings;
pub mod fmt;
#[doc(hidden)]
pub mod fuzzing;
pub mod generate;
pub mod hash;
pub mod incremental;
pub mod ingest;
pub mod inventory;
pub mod labels;
pub mod lock;
pub mod log;
pub mod moves;
pub mod pipeline;
pub mod planned;
pub mod report;
pub mod safefs;
pub mod sidefile;
pub mod state;
pub mod tuning;

use cli::{Cli, Command};
use commands::Outcome;

/// Runs a parsed command line.
pub fn run(cli: &Cli) -> anyhow::Result<Outcome> {
    log::set_level(if cli.quiet {
        0
    } else if cli.verbose {
        2
    } else {
        1
    });
    match &cli.command {
        Command::Scan(a) => commands::scan::run(a),
        Command::Evaluate(a) => commands::evaluate::run(a),
        Command::Chart(a) => commands::chart::run(a),
        Command::Replay(a) => commands::replay::run(a),
        Command::Merge(a) => commands::merge::run(a),
        Command::Tune(a) => commands::tune::run(a),
        Command::Generate(a) => commands::generate::run(a),
        Command::Inventory(a) => commands::inventory::run(a),
        Command::Config(a) => {
            if a.print_default {
                crate::out!("{}", config::default_toml());
            } else {
                crate::outln!(
                    "use `shrinkwatch config --print-default` to print the default configuration"
                );
            }
            Ok(Outcome::Clean)
        }
    }
}

/// The text of an error for the operator: its message and then each cause
/// that adds something, joined by `: ` (a cause whose text the message
/// already holds, as when an error repeats its source, is left out, so
/// nothing is printed twice). Control characters are shown escaped; line
/// breaks the message itself has are kept.
pub fn error_text(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let part = cause.to_string();
        if part.is_empty() || text.contains(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text.split('\n')
        .map(|l| fmt::term(l).into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    #[test]
    fn error_text_prints_each_message_once() {
        #[derive(Debug, thiserror::Error)]
        #[error("bad value 72")]
        struct Inner;
        #[derive(Debug, thiserror::Error)]
        #[error("bad value 72")]
        struct Outer(#[source] Inner);
        let e = anyhow::Error::new(Outer(Inner));
        assert_eq!(super::error_text(&e), "bad value 72");
        let e = anyhow::Error::new(Inner).context("reading c.toml");
        assert_eq!(super::error_text(&e), "reading c.toml: bad value 72");
        let e = anyhow::anyhow!("two\nlines \u{1b}[31m");
        assert_eq!(super::error_text(&e), "two\nlines \\x1b[31m");
    }
}
