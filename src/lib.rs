//! shrinkwatch: a nightly batch analyzer that raises the alarm when stored
//! data suddenly and substantially shrinks.
//!
//! Module map:
//! - [`ingest`]: polars-based reading, validation and splitting into series;
//! - [`detect`]: the engine (pure Rust on slices);
//! - [`findings`]: the output schema and the run over all series;
//! - [`planned`], [`labels`]: the side inputs;
//! - [`evaluate`]: scoring against labels;
//! - [`generate`]: the realistic dataset generator;
//! - [`report`]: output files;
//! - [`cli`], [`config`], [`commands`]: the command line.

pub mod charts;
pub mod cli;
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
pub mod ingest;
pub mod labels;
pub mod lock;
pub mod log;
pub mod planned;
pub mod report;
pub mod safefs;
pub mod sidefile;
pub mod state;

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
        Command::Config(a) => {
            if a.print_default {
                print!("{}", config::default_toml());
            } else {
                println!(
                    "use `shrinkwatch config --print-default` to print the default configuration"
                );
            }
            Ok(Outcome::Clean)
        }
    }
}
