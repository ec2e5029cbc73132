//! Command-line definitions (clap). clap types stop here: [`InputArgs::resolve`]
//! turns them, with the TOML file, into a validated [`Config`].

use crate::config::{self, Config, ConfigFile, ThresholdSet, Thresholds};
use crate::detect::params::{Value, THRESHOLDS};
use crate::ingest::sources::prometheus_api::{Live, TOKEN_ENV};
use crate::ingest::sources::SourceOptions;
use crate::pipeline::{shipped_dir, Inputs};
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
    /// Object inventories: `inventory diff BEFORE AFTER` lists which
    /// objects were lost between two nightly listings of a store.
    Inventory(InventoryArgs),
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
    /// Key columns, comma-separated [default: force,system]. At least one;
    /// an empty list is a usage error.
    #[arg(long, value_name = "A,B", value_parser = config::parse_key_cols)]
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
    /// Also scan, per force (the first key column), the sum of its series as
    /// a derived series `FORCE/(force total)`, so a loss hidden by moves
    /// between its stores still shows (also with --shard: a shard holds
    /// whole forces).
    #[arg(long)]
    pub totals: bool,
    /// Read from a live Prometheus server (its base URL, e.g.
    /// http://prometheus:9090) with the range query --query, besides any
    /// --input files.
    #[arg(long, value_name = "URL", requires = "query")]
    pub prometheus: Option<String>,
    /// PromQL giving bytes per series (with --prometheus), e.g.
    /// 'sum by (force, system) (storage_used_bytes)'.
    #[arg(long, value_name = "PROMQL", requires = "prometheus")]
    pub query: Option<String>,
    /// PromQL giving the object count per series (with --prometheus).
    #[arg(long, value_name = "PROMQL", requires = "prometheus")]
    pub count_query: Option<String>,
    /// Resolution of the range query (30s, 15m, 1h, 1d).
    #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = crate::ingest::sources::parse_duration)]
    pub step: i64,
    /// How far back the range query reaches (e.g. 120d, 1y).
    #[arg(long, value_name = "DURATION", default_value = "120d", value_parser = crate::ingest::sources::parse_duration)]
    pub lookback: i64,
    /// End of the range query (YYYY-MM-DD or RFC 3339) [default: now].
    #[arg(long, value_name = "TIME", requires = "prometheus", value_parser = parse_time)]
    pub query_end: Option<i64>,
    /// File holding a bearer token for --prometheus (else the environment
    /// variable SHRINKWATCH_PROMETHEUS_TOKEN, if set). Never on the command line.
    #[arg(long, value_name = "FILE", requires = "prometheus")]
    pub bearer_token_file: Option<PathBuf>,
    /// PEM file of the certificate authorities to trust for --prometheus over
    /// https [default: the system's roots].
    #[arg(long, value_name = "FILE", requires = "prometheus")]
    pub ca_file: Option<PathBuf>,
    /// Time allowed for one request to --prometheus.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = crate::ingest::sources::parse_duration)]
    pub prometheus_timeout: i64,
    /// Further attempts after a request to --prometheus fails in a way that
    /// may pass (no answer, a 5xx status).
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub prometheus_retries: u32,
    /// Key columns read from other labels (monitoring exports and
    /// --prometheus), e.g. force=job,system=mountpoint [default: labels named
    /// like the key columns].
    #[arg(long, value_name = "COL=LABEL,…", value_parser = parse_key_labels)]
    pub key_labels: Option<KeyLabels>,
    /// CloudWatch exports: one series per bucket and storage class
    /// (`bucket (StandardIAStorage)`) instead of one per bucket.
    #[arg(long)]
    pub keep_storage_classes: bool,
    /// Detection thresholds.
    #[command(flatten)]
    pub thresholds: ThresholdFlags,
}

/// `--key-labels` pairs (key column, label).
#[derive(Debug, Clone, PartialEq)]
pub struct KeyLabels(pub Vec<(String, String)>);

fn parse_key_labels(s: &str) -> Result<KeyLabels, String> {
    crate::ingest::sources::parse_key_labels(s).map(KeyLabels)
}

fn parse_time(s: &str) -> Result<i64, String> {
    crate::ingest::timestamp::parse(s)
        .map_err(|why| format!("`{s}`: {why} (expected YYYY-MM-DD or an RFC 3339 date-time)"))
}

/// Every detection threshold as a flag (`--min-drop-pct PCT`, …), made from
/// the threshold table (`detect::params::THRESHOLDS`), the way ripgrep
/// defines its flags once. Flags win over the configuration file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ThresholdFlags(pub ThresholdSet);

impl clap::FromArgMatches for ThresholdFlags {
    fn from_arg_matches(m: &clap::ArgMatches) -> Result<Self, clap::Error> {
        let mut set = ThresholdSet::default();
        for t in THRESHOLDS {
            if let Some(v) = m.get_one::<Value>(t.name) {
                set.insert(t, *v);
            }
        }
        Ok(ThresholdFlags(set))
    }

    fn update_from_arg_matches(&mut self, m: &clap::ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

impl Args for ThresholdFlags {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        THRESHOLDS.iter().fold(cmd, |cmd, t| {
            let long: &'static str = Box::leak(t.name.replace('_', "-").into_boxed_str());
            let mut arg = clap::Arg::new(t.name).long(long);
            if let Some(alias) = t.alias {
                arg =
                    arg.alias(Box::leak(alias.replace('_', "-").into_boxed_str()) as &'static str);
            }
            cmd.arg(
                arg.value_name(t.unit.value_name())
                    .help(t.help)
                    .value_parser(clap::builder::ValueParser::new(move |s: &str| {
                        t.unit.parse(s)
                    })),
            )
        })
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
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
    /// Scan only shard I of N (1-based): the series whose force (the first
    /// key column) has a stable hash falling in it. Writes its report folder (default
    /// reports/shards/DATE.shard-I-of-N), reads but never writes the state
    /// (--state, default reports/state.json), and exits 0; `shrinkwatch
    /// merge` combines the N folders.
    #[arg(long, value_name = "I/N", value_parser = crate::ingest::Shard::parse)]
    pub shard: Option<crate::ingest::Shard>,
    /// Read the whole history even when the state allows an incremental
    /// run (which reads only the window that can change a verdict).
    #[arg(long)]
    pub full: bool,
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
    /// on a nightly run only tonight's new and changed findings, on a first
    /// run all; losses first, then transients, then planned reductions, the
    /// most recent first. Every finding is still in the table, findings.csv
    /// and findings.json.
    #[arg(long, value_name = "N", default_value_t = 200)]
    pub max_details: usize,
    /// A command (run by `sh -c`) that gets summary.txt on its standard
    /// input when there is something new (a new or changed finding), e.g.
    /// `mail -s "shrinkwatch" dpo@example.org`; the report folder is in
    /// SHRINKWATCH_REPORT. If it fails, the run exits 2 and the next run
    /// notifies again.
    #[arg(long, value_name = "CMD")]
    pub notify_cmd: Option<String>,
}

impl ReportArgs {
    /// What the publishing step needs of these flags.
    pub fn options(&self) -> crate::report::publish::Options {
        crate::report::publish::Options {
            notify_cmd: self.notify_cmd.clone(),
            no_charts: self.no_charts,
            chart_size: self.chart_size,
            max_details: self.max_details,
        }
    }
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
    #[arg(long, default_value = "f1", value_parser = crate::tuning::parse_objective)]
    pub objective: crate::tuning::Objective,
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
    /// Also print, for each drop of this series (its key values joined by
    /// `/`), the night it was first reported as a loss and what it was in
    /// the end; repeatable.
    #[arg(long, value_name = "SERIES")]
    pub follow: Vec<String>,
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
    /// Number of series (default: the realistic UK estate, 3–8 systems for
    /// each force plus the stores of its moves: 199 series with seed 1).
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
    /// Migrations between two stores of one force, each on a pair of
    /// stores of its own (`moved_to` in planned.csv): even ones complete,
    /// odd ones losing 5–20 % of what left; in one night or over up to 10
    /// nights; some targets measured only after the window. 0 = none.
    /// [default: 2 for the UK estate (one complete, one lossy), 0 with
    /// --series]
    #[arg(long, value_name = "N")]
    pub moves: Option<usize>,
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

/// `inventory` subcommands.
#[derive(Debug, Args)]
pub struct InventoryArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: InventoryCommand,
}

/// What `inventory` does.
#[derive(Debug, Subcommand)]
pub enum InventoryCommand {
    /// Which objects were lost or shrunk between two listings of a store:
    /// writes lost-objects.csv, shrunk-objects.csv and by-folder.csv; exit 1
    /// when any object was lost or shrunk, 0 when none, 2 on bad input.
    Diff(InventoryDiffArgs),
}

/// `inventory diff` flags.
#[derive(Debug, Args)]
pub struct InventoryDiffArgs {
    /// The earlier listing: an S3 Inventory manifest.json, an Azure Blob
    /// Inventory <rule>-manifest.json, or a plain listing (.csv, .csv.gz or
    /// .parquet with `key` and `size`).
    #[arg(value_name = "BEFORE")]
    pub before: PathBuf,
    /// The later listing, in any of the same shapes.
    #[arg(value_name = "AFTER")]
    pub after: PathBuf,
    /// Output folder [default: reports/inventory-diff-<YYYY-MM-DD>].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Path segments that make a folder in by-folder.csv.
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub group_depth: usize,
}

/// `config` flags.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Print the full default configuration as commented TOML.
    #[arg(long)]
    pub print_default: bool,
}

impl InputArgs {
    /// Applies defaults, reads `--config`, applies flags and validates.
    pub fn resolve(&self) -> Result<Inputs, config::ConfigError> {
        let shipped = self.input.is_empty() && self.prometheus.is_none();
        // The shipped dataset comes with its inventory map.
        let shipped_config = shipped_dir().join("config.toml");
        let config_path = match (&self.config, shipped && shipped_config.is_file()) {
            (Some(p), _) => Some(p.clone()),
            (None, true) => Some(shipped_config),
            (None, false) => None,
        };
        let file = match &config_path {
            Some(p) => ConfigFile::load(p)?,
            None => ConfigFile::default(),
        };
        let config_dir = config_path
            .as_ref()
            .and_then(|p| p.parent())
            .map(std::path::Path::to_path_buf)
            .unwrap_or_default();
        let inventories = file
            .inventories
            .iter()
            .map(|m| config::InventoryMap {
                series: m.series.clone(),
                path: config_dir.join(&m.path),
            })
            .collect();
        let file_name = self.config.as_ref().map(|p| p.display().to_string());
        let thresholds = Thresholds::resolve(&file, file_name.as_deref(), &self.thresholds.0)?;
        let columns = config::columns(
            &file.columns,
            self.time_col.as_deref(),
            self.key_cols.as_deref(),
            self.value_col.as_deref(),
            self.count_col.as_deref(),
        );
        let paths = if shipped {
            vec![shipped_dir().join("observations.parquet")]
        } else {
            self.input.clone()
        };
        let prometheus = match (&self.prometheus, &self.query) {
            (Some(url), Some(query)) => Some(Live {
                url: url.clone(),
                query: query.clone(),
                count_query: self.count_query.clone(),
                step: self.step,
                lookback: self.lookback,
                end: self.query_end,
                token: std::env::var(TOKEN_ENV)
                    .ok()
                    .filter(|t| !t.trim().is_empty()),
                token_file: self.bearer_token_file.clone(),
                ca_file: self.ca_file.clone(),
                timeout: std::time::Duration::from_secs(self.prometheus_timeout as u64),
                retries: self.prometheus_retries,
            }),
            _ => None,
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
                detect: thresholds.base.clone(),
                overrides: file.overrides,
                columns,
            },
            thresholds,
            max_memory: self.max_memory,
            totals: self.totals,
            config_file: self.config.clone(),
            prometheus,
            sources: SourceOptions {
                key_labels: self.key_labels.clone().map(|k| k.0).unwrap_or_default(),
                keep_storage_classes: self.keep_storage_classes,
            },
            inventories,
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
