//! One module per subcommand; each owns its `run`.

pub mod chart;
pub mod evaluate;
pub mod generate;
pub mod replay;
pub mod scan;
pub mod tune;

use crate::cli::Inputs;
use crate::ingest::{self, Ingested};
use crate::planned::{self, PlannedRow};
use anyhow::Result;

/// Exit status of a successful command (SPEC "Exit codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 0: success, no new loss.
    Clean,
    /// 1: success, at least one new loss.
    NewLoss,
}

/// Reads observations and planned windows for a command.
pub fn load(inputs: &Inputs) -> Result<(Ingested, Vec<PlannedRow>)> {
    let ing = ingest::ingest(&inputs.paths, &inputs.config.columns)?;
    let plans = match &inputs.planned {
        Some(p) => planned::read(p, &inputs.config.columns.keys)?,
        None => Vec::new(),
    };
    Ok((ing, plans))
}

/// Today's date in UTC as `YYYY-MM-DD`.
pub fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}
