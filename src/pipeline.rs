//! The pipeline between the commands and the parts: the inputs of a run
//! after defaults ([`Inputs`], made by the command line), and loading them
//! (observations, planned windows, whole-estate checks). Commands are
//! argument glue around it; the engine runs over every series in
//! `analysis::analyze_with`, and a run is published by `report::publish`.

use crate::config::{Config, Thresholds};
use crate::ingest::{self, Ingested};
use crate::planned::{self, PlannedRow};
use anyhow::bail;
use anyhow::Result;
use std::path::PathBuf;

/// The default input folder: `datasets/` under the current directory, and
/// only there (never a path compiled into the binary: a run on another
/// machine or in another folder must not scan the build tree's data).
pub fn shipped_dir() -> PathBuf {
    PathBuf::from("datasets")
}

/// Inputs after defaults are applied.
#[derive(Debug, Clone)]
pub struct Inputs {
    /// Observation files or folders.
    pub paths: Vec<PathBuf>,
    /// Planned windows file, if any.
    pub planned: Option<PathBuf>,
    /// True when the shipped dataset is used.
    pub shipped: bool,
    /// The validated configuration.
    pub config: Config,
    /// The thresholds per series.
    pub thresholds: Thresholds,
    /// `--max-memory`, in bytes.
    pub max_memory: Option<u64>,
    /// `--totals`: add each force's total as a derived series.
    pub totals: bool,
    /// The configuration file (`--config`), if any, for messages.
    pub config_file: Option<PathBuf>,
    /// A live Prometheus range query (`--prometheus`), read after the files.
    pub prometheus: Option<ingest::sources::prometheus_api::Live>,
    /// Options of the monitoring-system formats (`--key-labels`, …).
    pub sources: ingest::sources::SourceOptions,
    /// Object inventories of some series (`[[inventory]]`), paths resolved.
    pub inventories: Vec<crate::config::InventoryMap>,
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
    load_files(inputs, shard, &inputs.files()?, None)
}

/// [`load_shard`] on the files listed by [`Inputs::files`], reading only
/// what `window` says (an incremental run, see `crate::incremental`).
pub fn load_files(
    inputs: &Inputs,
    shard: Option<ingest::Shard>,
    files: &[PathBuf],
    window: Option<&ingest::Window>,
) -> Result<(Ingested, Vec<PlannedRow>)> {
    ingest::limits::check(files, shard, inputs.max_memory)?;
    let mut ing = ingest::ingest_window(
        files,
        inputs.prometheus.as_ref(),
        &inputs.config.columns,
        shard,
        &inputs.sources,
        window,
    )?;
    no_usable_row(&ing, shard)?;
    // A shard holds whole forces (`Shard::holds`), so its totals are whole.
    if inputs.totals {
        let (set, added) = ing.set.with_totals();
        ing.set = set;
        ing.counts.series = ing.set.len() as u64;
        crate::log::debug(format!("{added} force total(s) added as derived series"));
    }
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
        // An incremental run reads only recent data: a window that ended
        // before it was checked by the full run that read its series (a
        // store emptied and retired long ago is not a misspelt name).
        let checked: std::borrow::Cow<[PlannedRow]> = match window {
            Some(w) => plans
                .iter()
                .filter(|r| r.window.end >= w.since)
                .cloned()
                .collect::<Vec<_>>()
                .into(),
            None => plans.as_slice().into(),
        };
        show(
            planned::check_coverage(&checked, &ing.set, &file),
            &file,
            alarm,
        );
        show(planned::check(&checked, &ing.set.keys, &file), &file, warn);
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

impl Inputs {
    /// The observation files to read: folders expanded (none for a live
    /// query alone); the default input must exist (see
    /// [`Inputs::check_default`]).
    pub fn files(&self) -> Result<Vec<PathBuf>> {
        self.check_default()?;
        Ok(if self.paths.is_empty() {
            Vec::new()
        } else {
            ingest::expand_inputs(&self.paths)?
        })
    }

    /// Without `--input`, the default input must be in the current folder:
    /// an error naming it (and the folder) when it is not.
    pub fn check_default(&self) -> Result<()> {
        if !self.shipped {
            return Ok(());
        }
        if let Some(p) = self.paths.iter().find(|p| !p.exists()) {
            let here = std::env::current_dir().map_or(String::new(), |d| {
                crate::fmt::term(&d.display().to_string()).into_owned()
            });
            bail!(
                "no --input given, and the default input {} is not in the current folder ({here}): name your observations with --input PATH, or run where datasets/ is",
                p.display()
            );
        }
        Ok(())
    }

    /// The labels file: the one given, else the shipped labels with the
    /// shipped data, else none.
    pub fn labels(&self, given: &Option<PathBuf>) -> Option<PathBuf> {
        match (given, self.shipped) {
            (Some(p), _) => Some(p.clone()),
            (None, true) => Some(shipped_dir().join("labels.csv")),
            (None, false) => None,
        }
    }

    /// [`Inputs::labels`] for a command that cannot work without them.
    pub fn labels_required(&self, given: &Option<PathBuf>) -> Result<PathBuf> {
        self.check_default()?;
        match self.labels(given) {
            Some(p) => Ok(p),
            None => bail!("--labels FILE is required with --input"),
        }
    }
}
