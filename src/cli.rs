//! Command-line definitions (clap). clap types stop here: [`InputArgs::resolve`]
//! turns them, with the TOML file, into a validated [`Config`].

use crate::config::{self, Config, ConfigFile};
use crate::detect::DetectParams;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// shrinkwatch: raise the alarm when stored data suddenly and substantially shrinks.
#[derive(Debug, Parser)]
#[command(name = "shrinkwatch", version, about, long_about = None)]
pub struct Cli {
    /// Only errors and the one-line summary.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Details on standard error (phase timings, files).
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The nightly job: scan storage-volume series and write findings.
    Scan(ScanArgs),
    /// Score the detector (and a naive rule) against labelled events.
    Evaluate(EvaluateArgs),
    /// Sweep the thresholds against labelled history and recommend a configuration.
    Tune(TuneArgs),
    /// Run the nightly logic night by night over history: when would each loss have been reported?
    Replay(ReplayArgs),
    /// Combine the report folders of `scan --shard 1/N … N/N` into one
    /// report, state and breach log, as one scan would have written them.
    Merge(MergeArgs),
    /// Draw one series over a date range with its findings marked.
    Chart(ChartArgs),
    /// Generate a realistic labelled dataset.
    Generate(GenerateArgs),
    /// Print the default configuration.
    Config(ConfigArgs),
}

/// Flags shared by every command that reads observations.
#[derive(Debug, Clone, Args)]
pub struct InputArgs {
    /// Observation file (.csv or .parquet) or folder of them; repeatable.
    /// Default: the shipped dataset in datasets/.
    #[arg(long = "input", short = 'i', value_name = "PATH")]
    pub input: Vec<PathBuf>,
    /// Planned windows CSV. Default: the shipped planned.csv when --input is
    /// the default, otherwise none.
    #[arg(long, value_name = "FILE")]
    pub planned: Option<PathBuf>,
    /// Timestamp column [default: timestamp].
    #[arg(long, value_name = "NAME")]
    pub time_col: Option<String>,
    /// Key columns, comma-separated [default: force,system].
    #[arg(long, value_name = "A,B")]
    pub key_cols: Option<String>,
    /// Bytes column [default: bytes].
    #[arg(long, value_name = "NAME")]
    pub value_col: Option<String>,
    /// Object-count column; naming it makes it required [default: objects, if present].
    #[arg(long, value_name = "NAME")]
    pub count_col: Option<String>,
    /// TOML configuration file (see `shrinkwatch config --print-default`).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Memory the run may use, e.g. 8G or 512M. Before reading, the input's
    /// rows are counted (Parquet) or estimated (CSV); a run that would need
    /// more stops at once with a message instead of exhausting the machine.
    /// [default: 90% of the memory available when the run starts]
    #[arg(long, value_name = "SIZE", value_parser = crate::ingest::limits::parse_size)]
    pub max_memory: Option<u64>,
    /// Detection thresholds.
    #[command(flatten)]
    pub thresholds: ThresholdArgs,
}

/// Every detection threshold as a flag (overrides the configuration file);
/// the same fields, all optional, form the `set` table of a per-system
/// override in the configuration file.
#[derive(Debug, Clone, Default, PartialEq, Args, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdArgs {
    /// Smallest reduction that counts, in percent.
    #[arg(long, value_name = "PCT")]
    pub min_drop_pct: Option<f64>,
    /// Smallest reduction that counts, in bytes.
    #[arg(long, value_name = "BYTES")]
    pub min_drop_bytes: Option<u64>,
    /// Significance level of the one-sided test.
    #[arg(long, value_name = "P")]
    pub alpha: Option<f64>,
    /// A sudden reduction happens within at most this many samples.
    #[arg(long, value_name = "N")]
    pub max_drop_samples: Option<usize>,
    /// Samples after a drop within which a recovery makes it transient.
    #[arg(long, value_name = "N")]
    pub recovery_samples: Option<usize>,
    /// Share of the drop that must come back to count as recovered (0-1].
    #[arg(long, value_name = "F")]
    pub recovery_fraction: Option<f64>,
    /// Days of history used to learn each series' normal change.
    #[arg(long, value_name = "DAYS")]
    pub baseline_days: Option<f64>,
    /// Fewest usable changes before a series is tested.
    #[arg(long, value_name = "N")]
    pub min_history: Option<usize>,
    /// Robust standard deviations below expectation for a sample to be part of a drop.
    #[arg(long, value_name = "Z")]
    pub step_z: Option<f64>,
    /// A drop must be this many times worse than the worst normal change in the baseline window (0 = off).
    #[arg(long, value_name = "X")]
    pub extreme_margin: Option<f64>,
    /// Model the weekly pattern (true/false).
    #[arg(long, value_name = "BOOL")]
    pub weekly: Option<bool>,
    /// Percentage points a reduction may exceed its plan and still be planned.
    #[arg(long, value_name = "PCT")]
    pub planned_tolerance_pct: Option<f64>,
    /// Relative tolerance on a plan's expected size (0.2 = a fifth).
    #[arg(long, value_name = "F")]
    pub planned_tolerance_rel: Option<f64>,
}

impl ThresholdArgs {
    /// Applies the flags that were given over `p`.
    pub fn apply(&self, p: &mut DetectParams) {
        macro_rules! set {
            ($($f:ident),*) => { $( if let Some(v) = self.$f { p.$f = v; } )* };
        }
        set!(
            min_drop_pct,
            min_drop_bytes,
            alpha,
            max_drop_samples,
            recovery_samples,
            recovery_fraction,
            baseline_days,
            min_history,
            step_z,
            extreme_margin,
            weekly,
            planned_tolerance_pct,
            planned_tolerance_rel
        );
    }
}

/// `scan` flags.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Input flags.
    #[command(flatten)]
    pub input: InputArgs,
    /// Output flags.
    #[command(flatten)]
    pub report: ReportArgs,
    /// Any rejected row is an error (exit code 2).
    #[arg(long)]
    pub strict: bool,
    /// Instead of a report, show every candidate reduction in this series
    /// (KEY1/KEY2) with the value each test saw against its threshold.
    #[arg(long, value_name = "SERIES", conflicts_with = "explain_all")]
    pub explain: Option<String>,
    /// Instead of a report, write every candidate reduction of every series to this CSV file.
    #[arg(long, value_name = "FILE")]
    pub explain_all: Option<PathBuf>,
    /// Scan only shard I of N (1-based): the series whose stable key hash
    /// falls in it. Writes its report folder (default
    /// reports/shards/DATE.shard-I-of-N), reads but never writes the state
    /// (--state, default reports/state.json), and exits 0; `shrinkwatch
    /// merge` combines the N folders.
    #[arg(long, value_name = "I/N", value_parser = crate::ingest::Shard::parse)]
    pub shard: Option<crate::ingest::Shard>,
}

/// Where and how a report is written (`scan` and `merge`).
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Output folder [default: reports/<YYYY-MM-DD>].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Report as if it were the night of this date (or this date-time): later
    /// observations are ignored and this is the detection time.
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
    /// What earlier runs reported, so each loss alerts once [default:
    /// state.json beside the output folder]. A lock file `<state>.lock`
    /// keeps two runs from using it at once.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Append-only breach log [default: breach-log.csv beside the output folder].
    #[arg(long, value_name = "FILE")]
    pub breach_log: Option<PathBuf>,
    /// No charts (faster; the report then has none).
    #[arg(long)]
    pub no_charts: bool,
    /// Chart size in pixels, WIDTHxHEIGHT.
    #[arg(long, value_name = "WxH", default_value = "1600x900", value_parser = crate::charts::style::parse_size)]
    pub chart_size: (u32, u32),
    /// Findings that get a chart and a section of their own in the report:
    /// new losses first, then known losses, transients and planned
    /// reductions, most severe first. Every finding is still in the table,
    /// findings.csv and findings.json.
    #[arg(long, value_name = "N", default_value_t = 200)]
    pub max_details: usize,
}

/// `evaluate` flags.
#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// Input flags.
    #[command(flatten)]
    pub input: InputArgs,
    /// Labels CSV (force,system,timestamp,kind[,end]). Default: the shipped
    /// labels.csv when --input is the default.
    #[arg(long, value_name = "FILE")]
    pub labels: Option<PathBuf>,
    /// Output folder [default: reports/evaluate-<YYYY-MM-DD>].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Threshold of the naive baseline rule, in percent.
    #[arg(long, value_name = "PCT", default_value_t = 1.0)]
    pub naive_pct: f64,
}

/// `tune` flags.
#[derive(Debug, Args)]
pub struct TuneArgs {
    /// Input flags (the starting point of the sweep is --config / the flags).
    #[command(flatten)]
    pub input: InputArgs,
    /// Labels CSV [default: the shipped labels.csv with the shipped input].
    #[arg(long, value_name = "FILE")]
    pub labels: Option<PathBuf>,
    /// `f1` (highest loss F1) or `recall=R` (fewest false alarms that still find at least R of the losses).
    #[arg(long, default_value = "f1", value_parser = crate::commands::tune::parse_objective)]
    pub objective: crate::commands::tune::Objective,
    /// Share of the series kept out of tuning and used to score the recommendation (0 = off).
    #[arg(long, default_value_t = 0.3)]
    pub holdout: f64,
    /// Output folder [default: reports/tune-<date>].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Size of tune.png, WIDTHxHEIGHT.
    #[arg(long, value_name = "WxH", default_value = "1600x900", value_parser = crate::charts::style::parse_size)]
    pub chart_size: (u32, u32),
}

/// `merge` flags.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The N shard report folders (any order).
    #[arg(required = true, value_name = "SHARD_DIR")]
    pub shards: Vec<PathBuf>,
    /// Output flags.
    #[command(flatten)]
    pub report: ReportArgs,
}

/// `replay` flags.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// Input flags.
    #[command(flatten)]
    pub input: InputArgs,
    /// First night (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub from: String,
    /// Last night (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub to: String,
    /// Labels, to list the labelled losses never reported [default: the
    /// shipped labels.csv with the shipped input].
    #[arg(long, value_name = "FILE")]
    pub labels: Option<PathBuf>,
    /// Output folder [default: reports/replay-<date>].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// `chart` flags.
#[derive(Debug, Args)]
pub struct ChartArgs {
    /// Input flags.
    #[command(flatten)]
    pub input: InputArgs,
    /// The series, as its key values joined by `/` (e.g. "South Yorkshire Police/Body-worn video").
    #[arg(long, value_name = "KEYS")]
    pub series: String,
    /// First day shown [default: the series' first observation].
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Last day shown [default: the series' last observation].
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
    /// PNG file to write [default: reports/charts/<series>-<from>-<to>.png].
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Chart size in pixels, WIDTHxHEIGHT.
    #[arg(long, value_name = "WxH", default_value = "1600x900", value_parser = crate::charts::style::parse_size)]
    pub chart_size: (u32, u32),
}

/// `generate` flags.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Seed of the random generator.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Number of series (default: the realistic UK estate, ~260 series).
    #[arg(long)]
    pub series: Option<usize>,
    /// Days to simulate.
    #[arg(long, default_value_t = 1095)]
    pub days: usize,
    /// First day (YYYY-MM-DD).
    #[arg(long, default_value = "2021-01-01")]
    pub start: chrono::NaiveDate,
    /// Multiply every series' noise (harder data; events keep their size).
    #[arg(long, default_value_t = 1.0)]
    pub noise: f64,
    /// Sample every series every this many hours (1, 2, 3, 4, 6, 8, 12 or 24);
    /// default: daily, with some series every 6 hours.
    #[arg(long, value_parser = parse_interval)]
    pub interval_hours: Option<u32>,
    /// Multiply the rate of missing samples and outages.
    #[arg(long, default_value_t = 1.0)]
    pub gaps: f64,
    /// Give every series a routine weekly expiry job.
    #[arg(long)]
    pub weekly_jobs: bool,
    /// Sample every series every this many minutes (a divisor of 1440, e.g.
    /// 5 with --days 63 for nine weeks of 5-minute data); wins over
    /// --interval-hours.
    #[arg(long, value_name = "MIN", value_parser = crate::generate::parse_interval_minutes)]
    pub interval_minutes: Option<u32>,
    /// Events last days in time, not samples: dips of 1–3 days, losses in
    /// 1–3 nightly steps within 3 days, starting at any hour.
    #[arg(long)]
    pub day_events: bool,
    /// Every series runs a nightly retention purge (a daily sawtooth of
    /// 2–10 %): normal, never a finding.
    #[arg(long)]
    pub sawtooth: bool,
    /// Every series changes cadence half-way: daily → sub-daily (the
    /// interval given, hourly by default) or the reverse.
    #[arg(long)]
    pub cadence_switch: bool,
    /// Multiply the rate of every kind of event (for short histories).
    #[arg(long, default_value_t = 1.0)]
    pub event_rate: f64,
    /// Output format.
    #[arg(long, value_enum, default_value = "parquet")]
    pub format: Format,
    /// Output folder.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// File formats `generate` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// observations.parquet
    Parquet,
    /// observations.csv
    Csv,
    /// both
    Both,
}

/// `config` flags.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Print the full default configuration as commented TOML.
    #[arg(long)]
    pub print_default: bool,
}

/// The shipped dataset folder: `datasets/` under the current directory, else
/// the one beside the crate's sources.
pub fn shipped_dir() -> PathBuf {
    let local = PathBuf::from("datasets");
    if local.join("observations.parquet").is_file() {
        local
    } else {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("datasets")
    }
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
    pub thresholds: crate::config::Thresholds,
    /// `--max-memory`, in bytes.
    pub max_memory: Option<u64>,
}

impl InputArgs {
    /// Applies defaults, reads `--config`, applies flags and validates.
    pub fn resolve(&self) -> Result<Inputs, config::ConfigError> {
        let file = match &self.config {
            Some(p) => ConfigFile::load(p)?,
            None => ConfigFile::default(),
        };
        let mut detect = file.detect.clone();
        self.thresholds.apply(&mut detect);
        let thresholds = crate::config::Thresholds {
            base: detect.clone(),
            overrides: file.overrides.clone(),
            flags: self.thresholds.clone(),
        };
        thresholds.validate()?;
        let columns = config::columns(
            &file.columns,
            self.time_col.as_deref(),
            self.key_cols.as_deref(),
            self.value_col.as_deref(),
            self.count_col.as_deref(),
        );
        let shipped = self.input.is_empty();
        let paths = if shipped {
            vec![shipped_dir().join("observations.parquet")]
        } else {
            self.input.clone()
        };
        let planned = match (&self.planned, shipped) {
            (Some(p), _) => Some(p.clone()),
            (None, true) => Some(shipped_dir().join("planned.csv")),
            (None, false) => None,
        };
        Ok(Inputs {
            paths,
            planned,
            shipped,
            config: Config {
                detect,
                overrides: file.overrides,
                columns,
            },
            thresholds,
            max_memory: self.max_memory,
        })
    }
}

fn parse_interval(s: &str) -> Result<u32, String> {
    match s.parse::<u32>() {
        Ok(h) if h > 0 && h <= 24 && 24 % h == 0 => Ok(h),
        _ => Err(format!(
            "`{s}` must be a number of hours that divides 24 (1, 2, 3, 4, 6, 8, 12 or 24)"
        )),
    }
}
