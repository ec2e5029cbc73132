//! `shrinkwatch scan`: the nightly job, as argument glue: take the lock,
//! load the inputs, run the engine over every series, and publish the run
//! (`report::publish`, which also says in what order a run writes, so that
//! a run that fails or is killed is alerted again by the next).

use super::Outcome;
use crate::charts;
use crate::cli::ScanArgs;
use crate::clock;
use crate::findings::Finding;
use crate::fmt;
use crate::incremental::{self, Analysed};
use crate::ingest::timestamp;
use crate::log;
use crate::pipeline::{load, Inputs};
use crate::report::publish::{publish, Destination, Publish};
use crate::report::{self, OutDir};
use crate::state::State;
use anyhow::{bail, Result};
use std::path::PathBuf;
use std::time::Instant;

/// Runs a scan and writes its output folder.
pub fn run(args: &ScanArgs) -> Result<Outcome> {
    let wall = Instant::now();
    // The moment of detection: now, or the night given by --as-of.
    let out = &args.report;
    let now = clock::run_time(out.as_of.as_deref())?;
    let inputs = args.input.resolve()?;
    inputs.check_default()?;
    if args.explain.is_some() || args.explain_all.is_some() {
        return explain(args, &inputs, now);
    }
    let date = clock::date_of(now);
    let target = out.out.clone().unwrap_or_else(|| match args.shard {
        Some(sh) => PathBuf::from("reports").join("shards").join(format!(
            "{date}.shard-{}-of-{}",
            sh.index + 1,
            sh.count
        )),
        None => PathBuf::from("reports").join(&date),
    });
    // A shard reads the nightly state where `merge` keeps it by default.
    let state = out.state.clone().or_else(|| {
        args.shard
            .map(|_| PathBuf::from("reports").join("state.json"))
    });
    crate::report::folder::check_out(&target)?;
    let dest = Destination::new(target, state, out.breach_log.clone());
    // A shard only reads the state (for the same chart choice as one run);
    // `merge` takes the lock and writes state and breach log.
    let _lock = if args.shard.is_none() {
        Some(dest.lock()?)
    } else {
        None
    };
    OutDir::clean_partials(&dest.parent);

    let detected_at = timestamp::format(now, false);
    // The state tells whether tonight can read only a window (a shard reads
    // everything and never writes the state).
    let t = Instant::now();
    let state = match args.shard {
        None => Some(State::load(&dest.state)?),
        Some(_) => None,
    };
    log::debug(format!("state read in {:.3} s", t.elapsed().as_secs_f64()));
    let Analysed {
        mut ing,
        plans,
        findings,
        checkpoint,
        scope,
        timings,
    } = incremental::analyse(
        &inputs,
        args.shard,
        state.as_ref().and_then(|s| s.checkpoint.as_ref()),
        now,
        out.as_of.is_some(),
        args.full.then_some("--full"),
        &detected_at,
    )?;
    if args.strict && !ing.rejected.is_empty() {
        let r = &ing.rejected[0];
        bail!(
            "--strict: {} row(s) rejected; first: {}, line {}, column `{}`: {} (value `{}`)",
            ing.rejected.len(),
            r.file,
            r.line,
            r.column,
            r.reason,
            r.value
        );
    }
    if ing.counts.rejected > 0 {
        log::warn(format!(
            "{} row(s) rejected (see rejected.csv in the report)",
            ing.counts.rejected
        ));
    }
    let run = Publish {
        command: "scan",
        now,
        dest,
        shard: args.shard,
        config: &inputs.config,
        planned: inputs.planned.as_ref().map(|p| p.display().to_string()),
        files: ing.files.clone(),
        counts: ing.counts.clone(),
        rejected: std::mem::take(&mut ing.rejected),
        key_names: ing.set.key_names.clone(),
        data_until: checkpoint
            .as_ref()
            .map_or(ing.set.times.iter().max().copied(), |c| c.data_until),
        flags: out.options(),
        timings,
        wall,
        params: &|f: &Finding| {
            inputs
                .thresholds
                .for_series(&ing.set.key_names, &f.key)
                .into_owned()
        },
        state,
        checkpoint,
        scope,
        enrich: Some(&|dir, findings| {
            crate::inventory::alert::enrich(&inputs.inventories, dir, findings)
        }),
    };
    let opts = charts::ChartOptions {
        detected_at: now,
        recovery_secs: inputs.config.detect.recovery_secs(),
        size: out.chart_size,
    };
    let published = publish(run, findings, &|dir, findings, only| {
        let pb = log::progress(only.iter().filter(|d| **d).count() as u64, "charts");
        charts::render_findings(dir, findings, &ing.set, &plans, &opts, only, &pb)?;
        pb.finish_and_clear();
        Ok(())
    })?;
    Ok(published.into())
}

/// `--explain` / `--explain-all`: no report, no state; the candidates only.
fn explain(args: &ScanArgs, inputs: &Inputs, now: i64) -> Result<Outcome> {
    let (mut ing, plans) = load(inputs)?;
    if args.report.as_of.is_some() {
        ing.set = ing.set.truncated(now);
    }
    if let Some(name) = &args.explain {
        let i = ing.set.find(name).ok_or_else(|| {
            anyhow::anyhow!("--explain: no series `{}` in the input", fmt::term(name))
        })?;
        let rows = crate::explain::explain(&ing.set, &plans, &inputs.thresholds, Some(i));
        crate::outln!(
            "{}: {} candidate reduction(s) examined",
            fmt::term(name),
            rows.len()
        );
        crate::out!("{}", crate::explain::render(&rows));
    }
    if let Some(path) = &args.explain_all {
        let rows = crate::explain::explain(&ing.set, &plans, &inputs.thresholds, None);
        report::write_csv(path, &rows)?;
        crate::outln!(
            "{} candidate reduction(s) in {} series → {}",
            rows.len(),
            ing.counts.series,
            path.display()
        );
    }
    Ok(Outcome::Clean)
}
