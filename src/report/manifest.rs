//! `manifest.json`: what produced a report (tool version, exact
//! configuration, input files with size and SHA-256, row counts, timings), so
//! a report can be reproduced and defended.

use crate::config::Config;
use crate::ingest::{IngestCounts, InputFile};
use serde::Serialize;
use std::collections::BTreeMap;

/// The manifest of one run.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    /// `shrinkwatch`.
    pub tool: &'static str,
    /// Crate version.
    pub version: &'static str,
    /// Command that ran (`scan`, `evaluate`).
    pub command: String,
    /// The command line.
    pub args: Vec<String>,
    /// When the run started (RFC 3339, UTC).
    pub started_at: String,
    /// Effective configuration.
    pub config: Config,
    /// Planned-windows file, if any.
    pub planned: Option<String>,
    /// Input files.
    pub inputs: Vec<InputFile>,
    /// Row accounting.
    pub counts: IngestCounts,
    /// Findings by kind.
    pub findings: BTreeMap<String, usize>,
    /// Latest observation in the data.
    pub data_until: String,
    /// `I/N` when this is one shard of a split scan (`scan --shard`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// For a shard: the digest of the state it classified against
    /// ([`crate::state::State::digest`]); `merge` warns when its own state
    /// differs, since the shard then drew charts for other findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_digest: Option<String>,
    /// Seconds spent per phase.
    pub timings: BTreeMap<String, f64>,
    /// Incremental or full, the window read and what was carried over
    /// (`scan` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<crate::incremental::Scope>,
}
