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
///
/// Stops with an error (exit 2) when no row of the input is usable, and
/// warns, even under `-q`, about planned windows that cover most of the data
/// and overrides that match no series (whole-estate checks: not for a shard).
pub fn load_shard(
    inputs: &Inputs,
    shard: Option<ingest::Shard>,
) -> Result<(Ingested, Vec<PlannedRow>)> {
    let files = ingest::expand_inputs(&inputs.paths)?;
    ingest::limits::check(&files, shard, inputs.max_memory)?;
    let ing = ingest::ingest_files(&files, &inputs.config.columns, shard)?;
    no_usable_row(&ing, shard)?;
    let plans = match &inputs.planned {
        Some(p) => planned::read(p, &inputs.config.columns.keys)?,
        None => Vec::new(),
    };
    // A shard sees only its own series: the whole-estate checks are for one run.
    if shard.is_some() {
        return Ok((ing, plans));
    }
    const SHOWN: usize = 10;
    let show = |warnings: Vec<String>, about: &str, say: fn(String)| {
        let n = warnings.len();
        for w in warnings.into_iter().take(SHOWN) {
            say(w);
        }
        if n > SHOWN {
            say(format!("… and {} more warnings about {about}", n - SHOWN));
        }
    };
    let alarm = |m: String| crate::log::alarm(m);
    let warn = |m: String| crate::log::warn(m);
    if let Some(p) = &inputs.planned {
        let file = p.display().to_string();
        show(
            planned::check_coverage(&plans, &ing.set, &file),
            &file,
            alarm,
        );
        show(planned::check(&plans, &ing.set.keys, &file), &file, warn);
    }
    if !inputs.config.overrides.is_empty() {
        let file = inputs
            .config_file
            .as_ref()
            .map_or("(none)".to_string(), |p| p.display().to_string());
        let w = crate::config::unmatched_overrides(
            &inputs.config.overrides,
            &ing.set.key_names,
            &ing.set.keys,
            &file,
        );
        show(w, &file, alarm);
    }
    Ok((ing, plans))
}

/// An error when the input gave no row to analyse: no data rows at all, or
/// every row rejected (then with the first reasons, since no report, and so
/// no `rejected.csv`, is written). A shard whose rows all belong to other
/// shards is not an error.
fn no_usable_row(ing: &Ingested, shard: Option<ingest::Shard>) -> Result<()> {
    const SHOWN: usize = 5;
    let c = &ing.counts;
    if c.rows_kept > 0 || (c.rejected == 0 && c.other_shards > 0) {
        return Ok(());
    }
    let files = if ing.files.len() == 1 {
        ing.files[0].path.clone()
    } else {
        format!("{} input files", ing.files.len())
    };
    if c.rows_read == 0 {
        anyhow::bail!(
            "no usable row in the input ({}): no data rows at all (a header only?)",
            crate::fmt::term(&files)
        );
    }
    let whose = match shard {
        Some(s) if c.other_shards > 0 => format!(" of shard {s}"),
        _ => String::new(),
    };
    // Names and values from the data, shown with control characters escaped.
    let t = |s: &str| crate::fmt::term(s).into_owned();
    let mut msg = format!(
        "no usable row in the input ({}): all {} rows{whose} were rejected; the first:",
        t(&files),
        c.rejected
    );
    for r in ing.rejected.iter().take(SHOWN) {
        let column = if r.column.is_empty() {
            String::new()
        } else {
            format!(", column `{}`", t(&r.column))
        };
        let value = if r.value.is_empty() {
            String::new()
        } else {
            format!(" (value `{}`)", t(&r.value))
        };
        msg.push_str(&format!(
            "\n  {}, line {}{column}: {}{value}",
            t(&r.file),
            r.line,
            r.reason
        ));
    }
    if ing.rejected.len() > SHOWN {
        msg.push_str(&format!("\n  … and {} more", ing.rejected.len() - SHOWN));
    }
    msg.push_str("\nCheck the input and the column names (--time-col, --key-cols, --value-col, [columns] in --config)");
    Err(anyhow::anyhow!(msg))
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
