//! Thin binary: parse, run, map the result to an exit code (0, 1 or 2).

use clap::Parser;
use shrinkwatch::cli::Cli;
use shrinkwatch::commands::Outcome;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match shrinkwatch::run(&cli) {
        Ok(Outcome::Clean) => ExitCode::SUCCESS,
        Ok(Outcome::NewLoss) => ExitCode::from(1),
        Err(e) => {
            shrinkwatch::log::err_line(&format!("Error: {}", shrinkwatch::error_text(&e)));
            ExitCode::from(2)
        }
    }
}
