//! What earlier nightly runs already reported (`--state`, default
//! `state.json` beside the report folders), so each loss is alerted once:
//! every finding gets a status, `new`, `known` or `updated` (its kind
//! changed: a transient that turned out persistent, a loss later restored,
//! a loss that deepened).
//!
//! A finding's identity is the tuple of its key values and its start, never
//! a joined string (`A/B`,`C` and `A`,`B/C` are different series). The file
//! is written last in a run, after every alerting output (report, breach
//! log) is durable, to a temporary file created exclusively with an
//! unpredictable name, fsynced and renamed into place: a run that did not
//! finish leaves the previous state, so the next run alerts again (at least
//! once, never lost).

use crate::detect::{DetectParams, Kind};
use crate::findings::{Finding, Status};
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// A finding as last reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reported {
    /// Key values of the series.
    pub key: Vec<String>,
    /// First reduced observation.
    pub start: String,
    /// Kind when last reported.
    pub kind: Kind,
    /// When it was first reported.
    pub first_reported: String,
    /// When it was last reported as changed.
    pub last_changed: String,
    /// Reduction in percent when last alerted (a loss that deepens
    /// materially beyond it is alerted again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drop_pct: Option<f64>,
}

/// The state format this build writes.
pub const VERSION: u32 = 2;

/// The state file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// Format version.
    pub version: u32,
    /// Reported findings by identity (series and start).
    pub findings: BTreeMap<String, Reported>,
    /// What the last scan leaves for the next one to read only a window
    /// (`crate::incremental`); absent after a merge or an older version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<crate::incremental::Checkpoint>,
}

/// Identity of a finding across runs: the tuple of its key values and its
/// start, written as a JSON array (`["A/B","C","2021-04-10"]`), so no two
/// different tuples share an identity whatever characters the names hold.
pub fn identity(key: &[String], start: &str) -> String {
    let mut t: Vec<&str> = key.iter().map(String::as_str).collect();
    t.push(start);
    serde_json::to_string(&t).unwrap_or_default()
}

impl State {
    /// Loads the state; a missing file is an empty state. A symbolic link
    /// is refused (the state is never read or written through a link), a
    /// state of version 1 (identities as joined text) is re-keyed by tuple,
    /// and a version newer than this build knows gives a warning.
    pub fn load(path: &Path) -> Result<State> {
        let empty = State {
            version: VERSION,
            ..Default::default()
        };
        let text = match crate::safefs::read_regular(path, MAX_STATE_BYTES) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(empty),
            Err(e) => {
                return Err(e).with_context(|| format!("cannot read state file {}", path.display()))
            }
        };
        let mut state: State = serde_json::from_str(&text).with_context(|| {
            format!(
                "state file {} is not valid (move it aside to start afresh)",
                path.display()
            )
        })?;
        if state.version > VERSION {
            crate::log::alarm(format!(
                "state file {} has format version {}, newer than this shrinkwatch knows ({VERSION}); \
                 reading what it can: findings it cannot match are alerted again",
                path.display(),
                state.version
            ));
        }
        // Re-key by tuple (version 1 joined the key with `/`).
        state.findings = std::mem::take(&mut state.findings)
            .into_values()
            .map(|r| (identity(&r.key, &r.start), r))
            .collect();
        state.version = VERSION;
        Ok(state)
    }

    /// Sets each finding's `status` and `change`, and records them.
    /// `params` gives the thresholds of a finding's series: a known loss
    /// that has deepened by their measure ([`DetectParams::deepened`])
    /// becomes `updated`.
    pub fn classify(
        &mut self,
        findings: &mut [Finding],
        now: &str,
        params: &dyn Fn(&Finding) -> DetectParams,
    ) {
        for f in findings.iter_mut() {
            let id = identity(&f.key, &f.start);
            match self.findings.get_mut(&id) {
                None => {
                    f.status = Status::New;
                    self.findings.insert(
                        id,
                        Reported {
                            key: f.key.clone(),
                            start: f.start.clone(),
                            kind: f.kind,
                            first_reported: now.into(),
                            last_changed: now.into(),
                            drop_pct: Some(f.drop_pct),
                        },
                    );
                }
                Some(r) if r.kind == f.kind => {
                    let was = *r.drop_pct.get_or_insert(f.drop_pct);
                    if f.kind == Kind::Loss && params(f).deepened(was, f.drop_pct) {
                        f.status = Status::Updated;
                        f.change = format!(
                            "deepened from {was:.1}% to {:.1}% (first reported {})",
                            f.drop_pct, r.first_reported
                        );
                        r.drop_pct = Some(f.drop_pct);
                        r.last_changed = now.into();
                    } else {
                        f.status = Status::Known;
                    }
                }
                Some(r) => {
                    f.status = Status::Updated;
                    f.change = format!(
                        "was {}, now {} (first reported {})",
                        r.kind.as_str(),
                        f.kind.as_str(),
                        r.first_reported
                    );
                    r.kind = f.kind;
                    r.drop_pct = Some(f.drop_pct);
                    r.last_changed = now.into();
                }
            }
        }
    }

    /// A short digest of what the state records (findings, kinds, depths):
    /// two runs that classified against the same state have the same digest
    /// (a shard records it, so `merge` can tell when a shard saw another).
    pub fn digest(&self) -> String {
        let text = serde_json::to_string(&self.findings).unwrap_or_default();
        format!("{:016x}", crate::hash::fnv1a(text.as_bytes()))
    }

    /// When a finding was first reported (as the state records it).
    pub fn first_reported(&self, key: &[String], start: &str) -> Option<&str> {
        self.findings
            .get(&identity(key, start))
            .map(|r| r.first_reported.as_str())
    }

    /// Writes the state atomically: a temporary file created exclusively
    /// (unpredictable name) beside it, fsync, rename, fsync of the folder.
    /// A symbolic link in the state's place is replaced, with a warning;
    /// nothing is ever written through it.
    pub fn save(&self, path: &Path) -> Result<()> {
        crate::failpoint::hit("state")
            .with_context(|| format!("cannot write {}", path.display()))?;
        let mut text = serde_json::to_string_pretty(self)?;
        text.push('\n');
        if crate::safefs::is_link(path) {
            crate::log::alarm(format!(
                "{} was a symbolic link; it is replaced by the state file (nothing was written through it)",
                path.display()
            ));
        }
        crate::safefs::replace_file_as(path, text.as_bytes(), "state-write")
            .with_context(|| format!("cannot write state file {}", path.display()))
    }
}

/// Largest state file read (a state of 10 million findings is ~3 GB; far
/// beyond any real estate's, and a `/dev/zero` in its place stops here).
const MAX_STATE_BYTES: u64 = 4 << 30;

/// Whether the run must alert (exit code 1): a loss that is new, or a
/// finding that became a loss.
pub fn alerts(findings: &[Finding]) -> usize {
    findings
        .iter()
        .filter(|f| {
            f.kind == Kind::Loss && (f.status == Status::New || f.status == Status::Updated)
        })
        .count()
}
