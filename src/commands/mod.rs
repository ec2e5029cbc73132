//! One module per subcommand; each owns its `run`.

pub mod chart;
pub mod evaluate;
pub mod generate;
pub mod inventory;
pub mod merge;
pub mod replay;
pub mod scan;
pub mod tune;

use crate::report::publish::Published;
use anyhow::Result;

/// Exit status of a successful command (SPEC "Exit codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 0: success, no new loss.
    Clean,
    /// 1: success, at least one new loss.
    NewLoss,
}

impl From<Published> for Outcome {
    fn from(p: Published) -> Outcome {
        match p {
            Published::Quiet => Outcome::Clean,
            Published::Alert => Outcome::NewLoss,
        }
    }
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
    let target = out.clone().unwrap_or_else(|| {
        std::path::PathBuf::from("reports").join(format!("{name}-{}", crate::clock::today()))
    });
    let folder = crate::report::OutDir::create(&target)?;
    write(folder.path())?;
    let dir = folder.commit()?;
    crate::outln!(
        "wrote {} ({:.1} s in all)",
        dir.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(dir)
}
