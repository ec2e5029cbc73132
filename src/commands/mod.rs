//! One module per subcommand; each owns its `run`.

pub mod chart;
pub mod evaluate;
pub mod generate;
pub mod merge;
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
    load_shard(inputs, None)
}

/// [`load`] for one shard of the series (all of them for `None`).
pub fn load_shard(
    inputs: &Inputs,
    shard: Option<ingest::Shard>,
) -> Result<(Ingested, Vec<PlannedRow>)> {
    let files = ingest::expand_inputs(&inputs.paths)?;
    ingest::limits::check(&files, shard, inputs.max_memory)?;
    let ing = ingest::ingest_files(&files, &inputs.config.columns, shard)?;
    let plans = match &inputs.planned {
        Some(p) => planned::read(p, &inputs.config.columns.keys)?,
        None => Vec::new(),
    };
    // A shard sees only its own series: the whole-estate checks are for one run.
    if let (Some(p), None) = (&inputs.planned, shard) {
        const SHOWN: usize = 10;
        let warnings = planned::check(&plans, &ing.set.keys, &p.display().to_string());
        for w in warnings.iter().take(SHOWN) {
            crate::log::warn(w);
        }
        if warnings.len() > SHOWN {
            crate::log::warn(format!(
                "… and {} more warnings about {}",
                warnings.len() - SHOWN,
                p.display()
            ));
        }
    }
    Ok((ing, plans))
}

/// Writes an analysis output folder atomically: `out`, or
/// `reports/<name>-<today>` by default; `write` fills it. Prints and returns
/// where it went.
pub fn write_folder(
    out: &Option<std::path::PathBuf>,
    name: &str,
    started: std::time::Instant,
    write: impl FnOnce(&std::path::Path) -> Result<()>,
) -> Result<std::path::PathBuf> {
    let target = out
        .clone()
        .unwrap_or_else(|| std::path::PathBuf::from("reports").join(format!("{name}-{}", today())));
    let folder = crate::report::OutDir::create(&target)?;
    write(folder.path())?;
    let dir = folder.commit()?;
    println!(
        "wrote {} ({:.1} s in all)",
        dir.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(dir)
}

/// Today's date in UTC as `YYYY-MM-DD`.
pub fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}
