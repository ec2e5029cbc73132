//! One run's findings: the engine over every series (`findings`), then
//! the migrations reconciled across stores (`moves`), sorted by severity,
//! then start, then series. Above both, so that neither imports the other's
//! caller.

use crate::arrival::Arrival;
use crate::config::Thresholds;
use crate::detect::DetectParams;
use crate::findings::{self, Finding};
use crate::ingest::SeriesSet;
use crate::planned::PlannedRow;

/// Every finding of a run with the same thresholds for every series.
pub fn analyze(
    set: &SeriesSet,
    plans: &[PlannedRow],
    params: &DetectParams,
    detected_at: &str,
) -> Vec<Finding> {
    analyze_with(set, plans, &Thresholds::uniform(params), detected_at)
}

/// Like [`analyze`], with per-series thresholds (configuration overrides).
pub fn analyze_with(
    set: &SeriesSet,
    plans: &[PlannedRow],
    thresholds: &Thresholds,
    detected_at: &str,
) -> Vec<Finding> {
    analyze_known(set, plans, thresholds, detected_at, &|_| Vec::new())
}

/// Like [`analyze_with`], where `known` gives the arrivals of moves whose
/// readings before the move are not in `set` (an incremental run's window;
/// [`crate::moves::arrivals`]).
pub fn analyze_known(
    set: &SeriesSet,
    plans: &[PlannedRow],
    thresholds: &Thresholds,
    detected_at: &str,
    known: &dyn Fn(&[String]) -> Vec<Arrival>,
) -> Vec<Finding> {
    let arrivals = crate::moves::arrivals(set, plans, known);
    let mut all = findings::engine_findings(set, plans, &arrivals, thresholds, detected_at);
    // Migrations: what left a source must arrive in its targets.
    crate::moves::apply(set, plans, thresholds, detected_at, &mut all);
    sort(&mut all);
    all
}

/// The order of a run's findings: by severity, then start, then series.
pub fn sort(findings: &mut [Finding]) {
    findings
        .sort_by(|a, b| (a.severity, a.start_ts, &a.key).cmp(&(b.severity, b.start_ts, &b.key)));
}
