//! What earlier nightly runs already reported (`--state`, default
//! `state.json` beside the report folders), so each loss is alerted once:
//! every finding gets a status, `new`, `known` or `updated` (its kind
//! changed: a transient that turned out persistent, a loss later restored).
//! The file is written to a temporary file, fsynced and renamed into place.

use crate::detect::Kind;
use crate::findings::Finding;
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
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
}

/// The state file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// Format version.
    pub version: u32,
    /// Reported findings by identity (series and start).
    pub findings: BTreeMap<String, Reported>,
}

/// Identity of a finding across runs: its series and start.
pub fn identity(key: &[String], start: &str) -> String {
    format!("{}|{start}", key.join("/"))
}

impl State {
    /// Loads the state; a missing file is an empty state.
    pub fn load(path: &Path) -> Result<State> {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text).with_context(|| {
                format!(
                    "state file {} is not valid (move it aside to start afresh)",
                    path.display()
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(State {
                version: 1,
                ..Default::default()
            }),
            Err(e) => Err(e).with_context(|| format!("cannot read state file {}", path.display())),
        }
    }

    /// Sets each finding's `status` and `change`, and records them.
    pub fn classify(&mut self, findings: &mut [Finding], now: &str) {
        for f in findings.iter_mut() {
            let id = identity(&f.key, &f.start);
            match self.findings.get_mut(&id) {
                None => {
                    f.status = "new".into();
                    self.findings.insert(
                        id,
                        Reported {
                            key: f.key.clone(),
                            start: f.start.clone(),
                            kind: f.kind,
                            first_reported: now.into(),
                            last_changed: now.into(),
                        },
                    );
                }
                Some(r) if r.kind == f.kind => f.status = "known".into(),
                Some(r) => {
                    f.status = "updated".into();
                    f.change = format!(
                        "was {}, now {} (first reported {})",
                        r.kind.as_str(),
                        f.kind.as_str(),
                        r.first_reported
                    );
                    r.kind = f.kind;
                    r.last_changed = now.into();
                }
            }
        }
    }

    /// Writes the state atomically: temporary file, fsync, rename, fsync of the folder.
    pub fn save(&self, path: &Path) -> Result<()> {
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        let tmp = dir.join(format!(
            ".{}.tmp-{}",
            path.file_name().and_then(|n| n.to_str()).unwrap_or("state"),
            std::process::id()
        ));
        {
            let mut f = std::fs::File::create(&tmp)
                .with_context(|| format!("cannot write {}", tmp.display()))?;
            f.write_all(serde_json::to_string_pretty(self)?.as_bytes())?;
            f.write_all(b"\n")?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, path)
            .with_context(|| format!("cannot replace {}", path.display()))?;
        if let Ok(d) = std::fs::File::open(dir) {
            d.sync_all().ok();
        }
        Ok(())
    }
}

/// Whether the run must alert (exit code 1): a loss that is new, or a
/// finding that became a loss.
pub fn alerts(findings: &[Finding]) -> usize {
    findings
        .iter()
        .filter(|f| f.kind == Kind::Loss && (f.status == "new" || f.status == "updated"))
        .count()
}
