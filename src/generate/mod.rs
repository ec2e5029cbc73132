//! `shrinkwatch generate`: a deterministic, labelled, realistic estate of
//! storage-volume series (see README, "The shipped dataset").
//!
//! Each series is simulated step by step: working-day ingest with a weekly
//! pattern and multiplicative noise, routine churn (some days shrink a
//! little), a routine weekly expiry job on a fixed weekday for some systems
//! (e.g. non-evidential body-worn video deleted after 31 days), measurement
//! jitter, and labelled events: unexplained losses, transient dips (including
//! zero readings), planned disposals and migrations, slow declines and bulk
//! ingestion. Then the collector's faults are applied: missing samples,
//! outages, duplicated rows, late rows and day-major row order.
//!
//! Shapes for cadence work (off by default, so the shipped dataset is
//! unchanged): any cadence down to minutes (`interval_minutes`), events that
//! last days in time (`day_events`: dips of 1–3 days, losses landing in up to
//! three nightly steps within 3 days, at any hour), a nightly retention purge
//! that makes a daily sawtooth (`sawtooth`), and a cadence switch in the
//! middle of each series (`cadence_switch`: daily → sub-daily or the reverse).

pub mod inventories;
mod names;
pub mod rng;

use chrono::{Datelike, Duration, NaiveDate};
use names::SystemProfile;
pub use names::{FORCES, MOVE_STORES, SYSTEMS};
use rng::Rng;

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenOptions {
    /// Seed of the random generator.
    pub seed: u64,
    /// Number of series; `None` = the realistic UK estate (3–8 systems per force).
    pub series: Option<usize>,
    /// Days simulated.
    pub days: usize,
    /// First day.
    pub start: NaiveDate,
    /// Multiplies every series' noise (measurement jitter, ingest and churn
    /// variation) without making labelled events larger: > 1 is harder.
    pub noise: f64,
    /// Samples every this many hours for all series (default: daily, some
    /// series every 6 hours). Must divide 24.
    pub interval_hours: Option<u32>,
    /// Multiplies the rate of missing samples and outages.
    pub gaps: f64,
    /// Give every series a routine weekly expiry job.
    pub weekly_jobs: bool,
    /// Samples every this many minutes for all series (must divide 1440);
    /// wins over `interval_hours`.
    pub interval_minutes: Option<u32>,
    /// Events last days in time, not samples: dips of 1–3 days, losses in 1–3
    /// nightly steps within 3 days (consecutive nights or with a quiet day
    /// between), starting at any hour.
    pub day_events: bool,
    /// Every series runs a nightly retention purge of scratch data ingested
    /// during the day (a daily sawtooth of 2–10 %), not a finding.
    pub sawtooth: bool,
    /// Every series changes cadence half-way: even series daily → sub-daily
    /// (the interval given, hourly by default), odd series the reverse.
    pub cadence_switch: bool,
    /// Multiplies the rate of every kind of event (short histories).
    pub event_rate: f64,
    /// Migrations between two stores of one force (`moved_to` in the
    /// planned file), on pairs of stores added to the estate: even ones
    /// complete, odd ones lossy (5–20 % of what left never arrives), in one
    /// night or spread over up to 10 nights, some targets only measured
    /// after the window.
    pub moves: usize,
}

/// Moves in the default dataset (the UK estate): one complete, one lossy.
pub const DEFAULT_MOVES: usize = 2;

impl Default for GenOptions {
    fn default() -> Self {
        GenOptions {
            seed: 1,
            series: None,
            days: 1095,
            start: NaiveDate::from_ymd_opt(2021, 1, 1).expect("valid date"),
            noise: 1.0,
            interval_hours: None,
            gaps: 1.0,
            weekly_jobs: false,
            interval_minutes: None,
            day_events: false,
            sawtooth: false,
            cadence_switch: false,
            event_rate: 1.0,
            moves: DEFAULT_MOVES,
        }
    }
}

/// One observation row as a collector would write it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ObsRow {
    /// Seconds since the Unix epoch (UTC).
    pub ts: i64,
    /// Index into [`Dataset::series`].
    pub series: u32,
    /// Bytes stored.
    pub bytes: u64,
    /// Objects stored, if the collector counts them.
    pub objects: Option<u64>,
}

/// A row of `planned.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedRow {
    /// Force, or `*`.
    pub force: String,
    /// System, or `*`.
    pub system: String,
    /// First day (inclusive).
    pub start: NaiveDate,
    /// Last day (inclusive).
    pub end: NaiveDate,
    /// Expected reduction in percent; `None` = unknown size.
    pub expected_drop_pct: Option<f64>,
    /// Why.
    pub reason: String,
    /// Where a migration moves the data (`SYSTEM` of the same force or
    /// `FORCE/SYSTEM`); empty for ordinary windows.
    pub moved_to: String,
}

/// A row of `labels.csv`: the truth about one event.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelRow {
    /// Series index.
    pub series: u32,
    /// First observation at the reduced level (for gradual: first declining sample).
    pub ts: i64,
    /// `loss`, `transient`, `planned`, `moved`, `gradual` or `step_up`.
    pub kind: &'static str,
    /// Last sample of the event.
    pub end: i64,
    /// Size of the change in percent (negative for growth).
    pub drop_pct: f64,
    /// Objects removed, when the series counts objects.
    pub objects_lost: Option<u64>,
    /// A few words on what happened.
    pub note: String,
}

/// A generated dataset.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    /// (force, system) of each series.
    pub series: Vec<(String, String)>,
    /// Which series are sampled every 6 hours.
    pub sub_daily: Vec<bool>,
    /// Observation rows in collector order.
    pub rows: Vec<ObsRow>,
    /// Planned windows.
    pub planned: Vec<PlannedRow>,
    /// Ground truth.
    pub labels: Vec<LabelRow>,
}

const DAY: i64 = 86_400;
const BURN_IN_DAYS: usize = 60;

/// `--interval-minutes`: a number of minutes that divides a day.
pub fn parse_interval_minutes(s: &str) -> Result<u32, String> {
    match s.parse::<u32>() {
        Ok(m) if m > 0 && m <= 1440 && 1440 % m == 0 => Ok(m),
        _ => Err(format!(
            "`{s}` must be a number of minutes that divides 1440 (e.g. 1, 5, 15, 60)"
        )),
    }
}

impl GenOptions {
    /// Samples per day of a series given every series the same cadence, if
    /// the options say so.
    fn fixed_steps_per_day(&self) -> Option<usize> {
        if let Some(m) = self.interval_minutes {
            return Some((1440 / m.clamp(1, 1440)) as usize);
        }
        if let Some(h) = self.interval_hours {
            return Some((24 / h.clamp(1, 24)) as usize);
        }
        self.cadence_switch.then_some(24)
    }
}

impl Dataset {
    /// Each series as (times, bytes, objects with NaN = unknown), sorted by
    /// time with duplicate timestamps dropped: ready for the engine
    /// (benchmarks).
    pub fn per_series(&self) -> Vec<(Vec<i64>, Vec<f64>, Vec<f64>)> {
        let mut per: Vec<(Vec<i64>, Vec<f64>, Vec<f64>)> =
            vec![Default::default(); self.series.len()];
        let mut rows = self.rows.clone();
        rows.sort_by_key(|r| (r.series, r.ts));
        rows.dedup_by_key(|r| (r.series, r.ts));
        for r in &rows {
            let s = &mut per[r.series as usize];
            s.0.push(r.ts);
            s.1.push(r.bytes as f64);
            s.2.push(r.objects.map_or(f64::NAN, |o| o as f64));
        }
        per
    }
}

/// Builds the dataset for `opts`.
pub fn generate(opts: &GenOptions) -> Dataset {
    let root = Rng::new(opts.seed);
    let mut ds = Dataset::default();
    let specs = estate(opts, &mut root.fork(0xE57A7E));
    let start_secs = opts
        .start
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc()
        .timestamp();
    let mut per_series: Vec<Vec<ObsRow>> = Vec::with_capacity(specs.len());
    for (idx, spec) in specs.iter().enumerate() {
        let mut rng = root.fork(idx as u64 + 1);
        let sim = simulate(spec, idx as u32, opts, start_secs, &mut rng);
        ds.series.push((spec.force.to_string(), spec.name.clone()));
        ds.sub_daily.push(spec.steps_per_day > 1);
        ds.labels.extend(sim.labels);
        ds.planned.extend(sim.planned);
        per_series.push(sim.rows);
    }
    // Force-wide planned windows with a `*` system (e.g. a platform upgrade that
    // should lose nothing), as information managers write them.
    let mut frng = root.fork(0xF0CE);
    for _ in 0..(opts.days / 365).max(1) {
        let f = frng.pick(FORCES).0;
        let d = frng.int(30, opts.days as i64 - 30).max(0);
        let s = opts.start + Duration::days(d);
        ds.planned.push(PlannedRow {
            force: f.to_string(),
            system: "*".into(),
            start: s,
            end: s + Duration::days(frng.int(1, 3)),
            expected_drop_pct: Some(0.0),
            reason: "Storage platform firmware upgrade (no data change expected)".into(),
            moved_to: String::new(),
        });
    }
    ds.rows = collector_order(per_series, &mut root.fork(0xC011EC7));
    // Moves, on store pairs of their own (the rest of the estate and its
    // rows are the same with or without them).
    let move_rows = moves(opts, start_secs, &root, &mut ds);
    if !move_rows.is_empty() {
        let extra = collector_order(move_rows, &mut root.fork(0x30E5_C011));
        ds.rows = merge_by_time(std::mem::take(&mut ds.rows), extra);
    }
    ds.labels.sort_by_key(|l| (l.series, l.ts));
    ds
}

/// Simulates `opts.moves` migrations, each between a pair of stores added
/// to one force: the source is simulated first (what leaves it each night
/// is recorded), then the target receives what arrives. Adds the series,
/// planned windows (with `moved_to`) and labels to `ds`; returns the rows.
fn moves(opts: &GenOptions, start_secs: i64, root: &Rng, ds: &mut Dataset) -> Vec<Vec<ObsRow>> {
    let mut rows = Vec::new();
    let mut mrng = root.fork(0x30E5);
    let lead = if opts.days >= 200 { 90 } else { 45 };
    let spd = opts.fixed_steps_per_day().unwrap_or(1);
    for j in 0..opts.moves {
        let lossy = j % 2 == 1;
        let nights = if mrng.chance(0.5) {
            1
        } else {
            mrng.int(2, 10) as usize
        };
        let share = if mrng.chance(0.5) {
            1.0
        } else {
            mrng.range(0.6, 0.95)
        };
        let loss = if lossy { mrng.range(0.05, 0.2) } else { 0.0 };
        let late = mrng.chance(0.3);
        let last_day_extra = mrng.int(0, 2) as usize;
        let hi = opts.days as i64 - 20 - (nights + last_day_extra) as i64;
        if hi <= lead {
            continue;
        }
        let day = mrng.int(lead, hi) as usize;
        let last_day = day + nights - 1 + last_day_extra;
        let (force, scale) = *mrng.pick(FORCES);
        let (src_name, dst_name) = MOVE_STORES[j % MOVE_STORES.len()];
        let round = j / MOVE_STORES.len();
        let numbered = |n: &str| {
            if round == 0 {
                n.to_string()
            } else {
                format!("{n} {}", round + 1)
            }
        };
        let (src_name, dst_name) = (numbered(src_name), numbered(dst_name));
        let target_level = mrng.log_range(20e12, 300e12) * scale;
        let source_level = target_level * mrng.range(0.6, 1.2);
        let moved_to = if mrng.chance(0.3) {
            format!("{force}/{dst_name}")
        } else {
            dst_name.clone()
        };
        let spec = |name: &str, level: f64, role: MoveRole| SeriesSpec {
            force,
            system: names::MIGRATION_STORE,
            name: name.to_string(),
            scale,
            steps_per_day: spd,
            commissioned: 0,
            has_objects: true,
            syp: false,
            level: Some(level),
            role: Some(role),
        };
        let src = spec(
            &src_name,
            source_level,
            MoveRole::Source {
                day,
                nights,
                last_day,
                share,
                loss,
            },
        );
        let idx = ds.series.len() as u32;
        let sim = simulate(
            &src,
            idx,
            opts,
            start_secs,
            &mut root.fork(0x30E5_0000 + 2 * j as u64),
        );
        let arrivals: Vec<(usize, f64, f64)> = sim
            .moved
            .iter()
            .map(|&(s, b, o)| (s, b * (1.0 - loss), o * (1.0 - loss)))
            .collect();
        ds.series.push((force.to_string(), src_name.clone()));
        ds.sub_daily.push(spd > 1);
        ds.labels.extend(sim.labels);
        ds.planned.extend(sim.planned);
        rows.push(sim.rows);
        let dst = spec(
            &dst_name,
            target_level,
            MoveRole::Target {
                day,
                last_day,
                late,
                arrivals,
            },
        );
        let sim = simulate(
            &dst,
            idx + 1,
            opts,
            start_secs,
            &mut root.fork(0x30E5_0001 + 2 * j as u64),
        );
        ds.series.push((force.to_string(), dst_name.clone()));
        ds.sub_daily.push(spd > 1);
        ds.labels.extend(sim.labels);
        ds.planned.extend(sim.planned);
        rows.push(sim.rows);
        let date = |d: usize| opts.start + Duration::days(d as i64);
        ds.planned.push(PlannedRow {
            force: force.to_string(),
            system: src_name,
            start: date(day),
            end: date(last_day),
            expected_drop_pct: Some((100.0 * share).round()),
            reason: format!("Migration to {dst_name} (nothing to be lost)"),
            moved_to,
        });
    }
    rows
}

/// Merges two row streams, each in collector order, by time (the first
/// stream's order is kept).
fn merge_by_time(a: Vec<ObsRow>, b: Vec<ObsRow>) -> Vec<ObsRow> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let mut b = b.into_iter().peekable();
    for r in a {
        while b.peek().is_some_and(|x| x.ts < r.ts) {
            out.extend(b.next());
        }
        out.push(r);
    }
    out.extend(b);
    out
}

/// A store's part in a migration.
#[derive(Debug, Clone)]
enum MoveRole {
    /// Moves `share` of its data away, in equal parts on `nights`
    /// consecutive nights from `day`; `loss` of what leaves never arrives.
    /// The store takes no new data during the window (`last_day`
    /// inclusive); a complete move (`share` 1) retires it.
    Source {
        day: usize,
        nights: usize,
        last_day: usize,
        share: f64,
        loss: f64,
    },
    /// Receives `arrivals` (step, bytes, objects); `late`: not measured
    /// from `day` to `last_day` (the window), only after it.
    Target {
        day: usize,
        last_day: usize,
        late: bool,
        arrivals: Vec<(usize, f64, f64)>,
    },
}

/// One series to simulate.
struct SeriesSpec {
    force: &'static str,
    system: SystemProfile,
    /// Name in the `system` column (the profile's name, numbered when an
    /// estate has more series than forces × systems).
    name: String,
    scale: f64,
    steps_per_day: usize,
    /// Day the system went live (0 = before the data starts).
    commissioned: usize,
    has_objects: bool,
    syp: bool,
    /// Stored bytes at the start, overriding the profile's size.
    level: Option<f64>,
    /// The store's part in a migration.
    role: Option<MoveRole>,
}

fn estate(opts: &GenOptions, rng: &mut Rng) -> Vec<SeriesSpec> {
    let mut out = Vec::new();
    let mut push =
        |force: &'static str, scale: f64, system: SystemProfile, copy: usize, rng: &mut Rng| {
            let syp =
                copy == 0 && force == "South Yorkshire Police" && system.name == "Body-worn video";
            let late = !syp && opts.days > 400 && rng.chance(0.12);
            out.push(SeriesSpec {
                force,
                system,
                name: if copy == 0 {
                    system.name.to_string()
                } else {
                    format!("{} {}", system.name, copy + 1)
                },
                scale,
                steps_per_day: match opts.fixed_steps_per_day() {
                    Some(spd) if !syp => spd,
                    _ if !syp && rng.chance(system.sub_daily) => 4,
                    _ => 1,
                },
                commissioned: if late {
                    rng.int(90, opts.days as i64 - 250) as usize
                } else {
                    0
                },
                has_objects: syp || rng.chance(0.85),
                syp,
                level: None,
                role: None,
            });
        };
    match opts.series {
        None => {
            for &(force, scale) in FORCES {
                let k =
                    (3 + rng.int(0, 2) + (scale.ln().max(0.0) * 2.0) as i64).clamp(3, 8) as usize;
                // Body-worn video and digital evidence everywhere, the rest at random.
                let mut chosen: Vec<usize> = vec![0, 1];
                while chosen.len() < k {
                    let s = rng.int(2, SYSTEMS.len() as i64 - 1) as usize;
                    if !chosen.contains(&s) {
                        chosen.push(s);
                    }
                }
                chosen.sort_unstable();
                for s in chosen {
                    push(force, scale, SYSTEMS[s], 0, rng);
                }
            }
        }
        Some(n) => {
            for i in 0..n {
                let (force, scale) = FORCES[i % FORCES.len()];
                let system = SYSTEMS[(i / FORCES.len()) % SYSTEMS.len()];
                push(
                    force,
                    scale,
                    system,
                    i / (FORCES.len() * SYSTEMS.len()),
                    rng,
                );
            }
        }
    }
    out
}

struct Simulated {
    rows: Vec<ObsRow>,
    labels: Vec<LabelRow>,
    planned: Vec<PlannedRow>,
    /// What a migration's source moved away: (step, bytes, objects).
    moved: Vec<(usize, f64, f64)>,
}

/// What happens at a step, beyond routine behaviour.
#[derive(Clone, Copy, Default)]
struct StepEvents {
    /// Fraction of stored data removed at this step.
    cut: f64,
    /// Fraction added at this step (bulk ingestion).
    up: f64,
    /// Extra log-decline per step (gradual).
    decline: f64,
    /// Multiplier on the observation only (transient glitch / restore).
    obs_mult: Option<f64>,
    /// Objects removed exactly at this step (the South Yorkshire scenario).
    objects_cut: Option<f64>,
    /// Bytes and objects arriving at this step (a migration's target).
    arrive: (f64, f64),
}

/// A scheduled event, resolved into a label after faults are applied.
struct PendingLabel {
    step: usize,
    end_step: usize,
    kind: &'static str,
    note: String,
    drop_pct: f64,
    /// Objects removed, when the event removes an exact number of files.
    objects_exact: Option<u64>,
}

const DISPOSAL_REASONS: &[&str] = &[
    "MoPI review: disposal of records past retention",
    "Retention schedule backlog cleared",
    "Decommissioning legacy archive share",
    "Deduplication of duplicate evidence copies",
    "Tiering to archive storage",
];

#[allow(clippy::too_many_lines)]
fn simulate(
    spec: &SeriesSpec,
    idx: u32,
    opts: &GenOptions,
    start_secs: i64,
    rng: &mut Rng,
) -> Simulated {
    let sys = spec.system;
    let spd = spec.steps_per_day;
    let days = opts.days;
    let steps = days * spd;
    let step_secs = DAY / spd as i64;
    // Series character.
    let mut growth = rng.range(sys.growth.0, sys.growth.1);
    let ingest_noise = rng.range(0.15, 0.7);
    let weekend = rng.range(0.2, 0.6);
    let jitter = rng.log_range(2e-5, 1.5e-3);
    let churn = rng.range(sys.churn.0, sys.churn.1);
    let expiry = rng.chance(sys.expiry) || spec.syp || opts.weekly_jobs;
    let mut expiry_share = if sys.expiry_share.1 > 0.0 {
        rng.range(sys.expiry_share.0, sys.expiry_share.1)
    } else {
        rng.range(0.05, 0.3)
    };
    let expiry_weekday = if spec.syp { 6 } else { rng.int(0, 6) as usize };
    let mut obj_size = rng.range(sys.object_size.0, sys.object_size.1);
    let mut level = rng.log_range(sys.size.0, sys.size.1) * spec.scale;
    if spec.syp {
        // About 0.4 PB and 2 million files by July 2023, so 96,174 files are
        // a loss of roughly 4-5 %.
        level = 260e12;
        obj_size = 190e6;
        growth = 0.0025;
        expiry_share = 0.6;
    }
    if spec.commissioned > 0 {
        level *= rng.range(0.2, 0.6);
    }
    if let Some(l) = spec.level {
        level = l;
    }
    // Typical day-to-day noise of the observed log level, used to keep
    // labelled events clear of the noise (a human could not label them otherwise).
    let noise_sd =
        (2.0 * jitter * jitter + (growth * ingest_noise).powi(2) + (churn * 0.6).powi(2)).sqrt();
    let first_day = spec.commissioned;
    let mut ev = vec![StepEvents::default(); steps];
    let mut pending: Vec<PendingLabel> = Vec::new();
    let mut planned: Vec<PlannedRow> = Vec::new();
    let mut busy: Vec<(i64, i64)> = Vec::new();
    let (force, system) = (spec.force, spec.name.as_str());
    let date = |d: usize| opts.start + Duration::days(d as i64);
    let mut forced_steps: Vec<usize> = Vec::new();

    if spec.syp {
        if let Some(d) = day_of(opts, 2023, 7, 26) {
            busy.push((d as i64 - 70, d as i64 + 60));
            let s = d * spd;
            ev[s].objects_cut = Some(96_174.0);
            planned.push(PlannedRow {
                force: force.into(),
                system: system.into(),
                start: date(d - 2),
                end: date(d + 2),
                expected_drop_pct: Some(0.0),
                reason: "Supplier storage migration of the digital evidence management system"
                    .into(),
                moved_to: String::new(),
            });
            pending.push(PendingLabel { step: s, end_step: s, kind: "loss", note: "South Yorkshire Police scenario: 96,174 body-worn video files deleted during the supplier's migration".into(), drop_pct: f64::NAN, objects_exact: Some(96_174) });
            forced_steps.extend(s.saturating_sub(3)..(s + 3).min(steps));
        }
    }
    // A migration: the move's nights, the readings the reconciliation needs
    // (before the window, at its end, or the target's first after it) and
    // its label, sized after the simulation.
    let mut move_steps: Vec<usize> = Vec::new();
    let mut frozen: Option<(usize, usize)> = None;
    let mut hidden: Option<(usize, usize)> = None;
    match &spec.role {
        Some(MoveRole::Source {
            day,
            nights,
            last_day,
            share,
            loss,
        }) => {
            let (day, nights, last_day, share, loss) = (*day, *nights, *last_day, *share, *loss);
            // a retired store has no events after the move
            let until = if share >= 0.999 {
                days + 100
            } else {
                last_day + 60
            };
            busy.push((day as i64 - 70, until as i64));
            let part = share / nights as f64;
            for i in 0..nights {
                let s = (day + i) * spd;
                ev[s].cut = if share >= 0.999 && i + 1 == nights {
                    1.0
                } else {
                    part / (1.0 - i as f64 * part)
                };
                move_steps.push(s);
            }
            // the store is read-only from the first night (new data goes to
            // the target), for good when everything moves
            frozen = Some((
                day * spd,
                if share >= 0.999 {
                    steps
                } else {
                    (last_day + 1) * spd
                },
            ));
            if share >= 0.999 {
                // an empty store is decommissioned: no readings two days
                // after the window
                hidden = Some(((last_day + 3) * spd, steps));
            }
            forced_steps.push(day * spd - 1);
            forced_steps.extend(&move_steps);
            forced_steps.push((last_day + 1) * spd - 1);
            let lossy = loss > 0.0;
            pending.push(PendingLabel {
                step: day * spd,
                end_step: *move_steps.last().unwrap_or(&(day * spd)),
                kind: if lossy { "loss" } else { "moved" },
                note: if lossy {
                    format!(
                        "{:.0} % of the data moved in a migration over {nights} night(s) never arrived",
                        100.0 * loss
                    )
                } else {
                    format!("complete migration of {:.0} % of the store over {nights} night(s)", 100.0 * share)
                },
                drop_pct: f64::NAN,
                objects_exact: None,
            });
        }
        Some(MoveRole::Target {
            day,
            last_day,
            late,
            arrivals,
        }) => {
            busy.push((*day as i64 - 70, *last_day as i64 + 60));
            for &(s, b, o) in arrivals {
                ev[s].arrive.0 += b;
                ev[s].arrive.1 += o;
            }
            forced_steps.push(day * spd - 1);
            if *late {
                hidden = Some((day * spd, (last_day + 1) * spd));
                forced_steps.push((last_day + 1) * spd);
            } else {
                forced_steps.push((last_day + 1) * spd - 1);
            }
            let last = arrivals.last().map_or(day * spd, |a| a.0);
            pending.push(PendingLabel {
                step: day * spd,
                end_step: last,
                kind: "step_up",
                note: if *late {
                    "migration arriving (measured only after the window)".into()
                } else {
                    "migration arriving".into()
                },
                drop_pct: f64::NAN,
                objects_exact: None,
            });
        }
        None => {}
    }

    let years = days as f64 / 365.0;
    // Events need history before them (the detector's weekday model needs
    // four weeks); short runs (a few weeks at minutes' cadence) start them
    // after six weeks.
    let lead = if days >= 200 { 70 } else { 42 };
    let mut place = |len_days: usize, rng: &mut Rng| -> Option<usize> {
        let lo = first_day as i64 + lead;
        let hi = days as i64 - 15 - len_days as i64;
        if hi <= lo {
            return None;
        }
        for _ in 0..30 {
            let d = rng.int(lo, hi);
            let span = (d - 35, d + len_days as i64 + 35);
            if busy.iter().all(|b| span.1 < b.0 || span.0 > b.1) {
                busy.push(span);
                return Some(d as usize);
            }
        }
        None
    };
    let floor = |k: usize| (10.0 * noise_sd * (k as f64).sqrt()).max(0.02);
    let split = |f: f64, k: usize, rng: &mut Rng| -> Vec<f64> {
        let w: Vec<f64> = (0..k).map(|_| rng.range(0.2, 1.0)).collect();
        let tot: f64 = w.iter().sum();
        let lf = (1.0 - f).ln();
        w.iter().map(|x| 1.0 - (lf * x / tot).exp()).collect()
    };
    let event_seed = rng.next_u64();
    let active = |rate: f64| {
        poisson(
            rate * opts.event_rate * years * (days - first_day) as f64 / days as f64,
            Rng::new(event_seed ^ rate.to_bits()),
        )
    };

    // Unexplained losses in one to three samples.
    for _ in 0..active(0.30) {
        let Some(d) = place(if opts.day_events { 3 } else { 1 }, rng) else {
            continue;
        };
        let k = rng.int(1, 3) as usize;
        let f = rng.log_range(0.02, 0.6).max(floor(k)).min(0.9);
        let s = d * spd + rng.int(0, spd as i64 - 1) as usize;
        // Where each step lands: consecutive samples, or (day events) one
        // step a night within 3 days, sometimes with a quiet day between.
        let at: Vec<usize> = if opts.day_events {
            match k {
                1 => vec![0],
                2 => vec![0, rng.int(1, 2) as usize * spd],
                _ => vec![0, spd, 2 * spd],
            }
        } else {
            (0..k).collect()
        };
        for (j, part) in split(f, k, rng).into_iter().enumerate() {
            if s + at[j] < steps {
                ev[s + at[j]].cut = part;
            }
        }
        let note = if opts.day_events {
            format!(
                "unexplained loss in {k} step(s) over {} day(s)",
                at[k - 1] / spd + 1
            )
        } else {
            format!("unexplained loss over {k} sample(s)")
        };
        pending.push(PendingLabel {
            step: s,
            end_step: s + at[k - 1],
            kind: "loss",
            note,
            drop_pct: 100.0 * f,
            objects_exact: None,
        });
    }
    // Transient dips that recover within 1–3 samples; some are zero readings.
    for _ in 0..active(0.35) {
        let Some(d) = place(if opts.day_events { 3 } else { 1 }, rng) else {
            continue;
        };
        // Samples the dip lasts: 1–3 samples, or (day events) 1–3 days.
        let len = if opts.day_events {
            rng.int(spd as i64, 3 * spd as i64) as usize
        } else {
            rng.int(1, 3) as usize
        };
        let zero = rng.chance(0.3);
        let f = if zero {
            1.0
        } else {
            rng.log_range(0.03, 0.8).max(floor(1)).min(0.95)
        };
        let s = d * spd + rng.int(0, spd as i64 - 1) as usize;
        for j in 0..len {
            if s + j < steps {
                ev[s + j].obs_mult = Some(1.0 - f);
            }
        }
        let note = match (zero, opts.day_events) {
            (true, false) => format!("zero reading for {len} sample(s), then back"),
            (false, false) => format!("dip for {len} sample(s), then restored"),
            (true, true) => format!(
                "zero readings for {:.1} day(s), then back",
                len as f64 / spd as f64
            ),
            (false, true) => format!(
                "dip for {:.1} day(s), then restored",
                len as f64 / spd as f64
            ),
        };
        pending.push(PendingLabel {
            step: s,
            end_step: s + len - 1,
            kind: "transient",
            note,
            drop_pct: 100.0 * f,
            objects_exact: None,
        });
    }
    // Planned disposals, with and without an expected size; some exceed the plan.
    for _ in 0..active(0.22) {
        let Some(d) = place(8, rng) else { continue };
        let (before, after) = (rng.int(0, 3) as usize, rng.int(1, 7) as usize);
        let k = rng.int(1, 2) as usize;
        let f = rng.range(0.03, 0.25).max(floor(k));
        let s = d * spd;
        for (j, part) in split(f, k, rng).into_iter().enumerate() {
            ev[s + j].cut = part;
        }
        let reason = rng.pick(DISPOSAL_REASONS).to_string();
        let exceeds = rng.chance(0.15);
        let expected = if exceeds {
            Some(((100.0 * f * rng.range(0.1, 0.4)).min(100.0 * f - 4.0)).max(0.0))
        } else if rng.chance(0.6) {
            Some(100.0 * f * rng.range(0.85, 1.1))
        } else {
            None
        };
        let expected = expected.map(|e| (e * 10.0).round() / 10.0);
        planned.push(PlannedRow {
            force: force.into(),
            system: system.into(),
            start: date(d.saturating_sub(before)),
            end: date(d + after),
            expected_drop_pct: expected,
            reason: reason.clone(),
            moved_to: String::new(),
        });
        let (kind, note) = if exceeds {
            (
                "loss",
                format!("reduction far larger than planned ({reason})"),
            )
        } else {
            ("planned", reason)
        };
        pending.push(PendingLabel {
            step: s,
            end_step: s + k - 1,
            kind,
            note,
            drop_pct: 100.0 * f,
            objects_exact: None,
        });
    }
    // Migrations expected to lose nothing: most lose nothing, some lose a lot.
    for _ in 0..active(0.10) {
        let Some(d) = place(6, rng) else { continue };
        planned.push(PlannedRow {
            force: force.into(),
            system: system.into(),
            start: date(d.saturating_sub(2)),
            end: date(d + 3),
            expected_drop_pct: Some(0.0),
            reason: "Storage migration to new array (no loss expected)".into(),
            moved_to: String::new(),
        });
        if rng.chance(0.3) {
            let f = rng.log_range(0.03, 0.4).max(floor(1));
            let s = d * spd + 1.min(spd - 1);
            ev[s].cut = f;
            pending.push(PendingLabel {
                step: s,
                end_step: s,
                kind: "loss",
                note: "data lost during a migration planned to lose nothing".into(),
                drop_pct: 100.0 * f,
                objects_exact: None,
            });
        }
    }
    // Slow declines over months (tiering, retention catching up): not findings.
    for _ in 0..active(0.12) {
        let total = rng.range(0.04, 0.2);
        let len_days = (rng.range(60.0, 180.0)).max(total / 0.0025) as usize;
        let Some(d) = place(len_days, rng) else {
            continue;
        };
        let total_log = -(1.0 - total).ln();
        let n = len_days * spd;
        for j in 0..n {
            let u = j as f64 / n as f64;
            ev[d * spd + j].decline =
                total_log * (1.0 - (std::f64::consts::TAU * u).cos()) / n as f64;
        }
        pending.push(PendingLabel {
            step: d * spd,
            end_step: d * spd + n - 1,
            kind: "gradual",
            note: format!("slow decline over {len_days} days"),
            drop_pct: 100.0 * total,
            objects_exact: None,
        });
    }
    // Bulk ingestion: upward steps, not findings.
    for _ in 0..active(0.15) {
        let Some(d) = place(1, rng) else { continue };
        let f = rng.range(0.05, 0.8);
        let s = d * spd + rng.int(0, spd as i64 - 1) as usize;
        ev[s].up = f;
        pending.push(PendingLabel {
            step: s,
            end_step: s,
            kind: "step_up",
            note: "bulk ingestion".into(),
            drop_pct: -100.0 * f,
            objects_exact: None,
        });
    }

    // Simulate the store, with a burn-in so routine jobs are already running
    // when the data starts (a system commissioned later took over an older
    // store's recent data, so its retention job runs from the first day too).
    let start_weekday = i64::from(opts.start.weekday().num_days_from_monday());
    let burn = BURN_IN_DAYS * spd;
    let total = burn + steps - first_day * spd;
    let base_ingest = growth * level;
    let mut objects = level / obj_size;
    let mut daily_in: Vec<(f64, f64)> = Vec::with_capacity(total / spd + 2);
    let mut today = (0.0, 0.0);
    let mut truth: Vec<(f64, f64)> = Vec::with_capacity(steps);
    let intraday = intraday_weights(spd);
    // Nightly retention purge: scratch data (2–10 % of the store a day)
    // ingested with the day's work and purged at a fixed hour of the night.
    let mut srng = Rng::new(event_seed ^ 0x5A77_007E);
    let (saw_amp, purge_sub) = if opts.sawtooth {
        (srng.range(0.02, 0.10), (srng.int(0, 4) as usize * spd) / 24)
    } else {
        (0.0, 0)
    };
    let mut scratch = 0.0;
    let mut scratch_obs: Vec<f64> = Vec::new();
    let mut moved: Vec<(usize, f64, f64)> = Vec::new();
    // Harder shapes: more noise, events kept at the sizes of ordinary noise.
    // Measurement jitter scales fully; the day-to-day variation of ingest and
    // churn grows more gently so their distributions keep a realistic shape.
    let soft = opts.noise.sqrt();
    let (jitter, ingest_noise, churn_noise) = (
        jitter * opts.noise,
        (ingest_noise * soft).min(1.2),
        (0.6 * soft).min(1.0),
    );
    for k in 0..total {
        let step = (first_day * spd + k) as i64 - burn as i64; // < 0 during burn-in
        let day = step.div_euclid(spd as i64);
        let sub = step.rem_euclid(spd as i64) as usize;
        let weekday = (start_weekday + day).rem_euclid(7) as usize;
        if sub == 0 && k > 0 {
            daily_in.push(today);
            today = (0.0, 0.0);
        }
        let years_in = (day as f64 / 365.0).max(-1.0);
        let wd = if weekday >= 5 { weekend } else { 1.0 };
        let part = if spd == 1 { 1.0 } else { intraday[sub] };
        let mut ingest = base_ingest
            * (1.0 + 0.15 * years_in)
            * wd
            * part
            * (ingest_noise * rng.normal() - 0.5 * ingest_noise * ingest_noise).exp();
        let mut ingest_objects = ingest / (obj_size * (0.3 * rng.normal()).exp());
        let mut removed = level * churn * part * (churn_noise * rng.normal()).exp();
        let mut removed_objects = removed / obj_size;
        if frozen.is_some_and(|(a, b)| step >= a as i64 && step < b as i64) {
            // a store being migrated, or retired: nothing comes in, nothing goes
            (ingest, ingest_objects, removed, removed_objects) = (0.0, 0.0, 0.0, 0.0);
        }
        if expiry && sub == 0 && weekday == expiry_weekday && daily_in.len() >= 37 {
            let n = daily_in.len();
            let (b, o): (f64, f64) = daily_in[n - 37..n - 30]
                .iter()
                .fold((0.0, 0.0), |a, x| (a.0 + x.0, a.1 + x.1));
            let jitter_job = (0.08 * rng.normal()).exp();
            removed += expiry_share * b * jitter_job;
            removed_objects += expiry_share * o * jitter_job;
        }
        level = (level + ingest - removed).max(0.0);
        objects = (objects + ingest_objects - removed_objects).max(0.0);
        if opts.sawtooth {
            if sub == purge_sub {
                scratch = 0.0;
            }
            scratch += saw_amp * level * part;
        }
        today.0 += ingest;
        today.1 += ingest_objects;
        if step >= (first_day * spd) as i64 {
            let e = ev[step as usize];
            if let Some(oc) = e.objects_cut {
                let avg = level / objects.max(1.0);
                let lost_bytes = oc * avg * rng.range(0.97, 1.03);
                pending
                    .iter_mut()
                    .filter(|p| p.step == step as usize && p.drop_pct.is_nan())
                    .for_each(|p| p.drop_pct = 100.0 * lost_bytes / level);
                level -= lost_bytes;
                objects -= oc;
            }
            if move_steps.contains(&(step as usize)) {
                moved.push((step as usize, level * e.cut, objects * e.cut));
            }
            let keep = (1.0 - e.cut) * (-e.decline).exp() * (1.0 + e.up);
            level = level * keep + e.arrive.0;
            objects = objects * keep + e.arrive.1;
            truth.push((level, objects));
            if opts.sawtooth {
                scratch_obs.push(scratch);
            }
        }
    }

    // Observe: jitter, transient glitches, missing samples and outages.
    let miss = (rng.log_range(0.001, 0.02) * opts.gaps).min(0.5);
    let mut observed = vec![true; steps];
    for (s, o) in observed.iter_mut().enumerate().take(first_day * spd) {
        let _ = s;
        *o = false;
    }
    for _ in 0..poisson(0.8 * years * opts.gaps, rng.clone()) {
        let d = rng.int(first_day as i64, days as i64 - 1) as usize;
        let len = rng.int(2, 10) as usize;
        for o in &mut observed[d * spd..((d + len) * spd).min(steps)] {
            *o = false;
        }
    }
    for o in observed.iter_mut().skip(first_day * spd) {
        if rng.chance(miss) {
            *o = false;
        }
    }
    if opts.cadence_switch && spd > 1 {
        // Daily (the midnight reading only) before the switch for even
        // series, after it for odd ones.
        let switch = days / 2 * spd;
        let daily_first = idx % 2 == 0;
        for (s, o) in observed.iter_mut().enumerate() {
            if (s < switch) == daily_first && s % spd != 0 {
                *o = false;
            }
        }
    }
    if let Some((a, b)) = hidden {
        for o in &mut observed[a.min(steps)..b.min(steps)] {
            *o = false;
        }
    }
    for &s in &forced_steps {
        if s < steps {
            observed[s] = true;
        }
    }
    // A migration's label: what the source lost (or moved), what the
    // target received, against the level before the window.
    if let Some(role) = &spec.role {
        let before = |step: usize| truth[step.saturating_sub(1) - first_day * spd];
        for p in pending.iter_mut().filter(|p| p.drop_pct.is_nan()) {
            let (lv, _) = before(p.step);
            match role {
                MoveRole::Source { loss, .. } => {
                    let (b, o) = moved.iter().fold((0.0, 0.0), |a, x| (a.0 + x.1, a.1 + x.2));
                    if *loss > 0.0 {
                        p.drop_pct = 100.0 * b * loss / lv;
                        p.objects_exact = Some((o * loss).round() as u64);
                    } else {
                        p.drop_pct = 100.0 * b / lv;
                    }
                }
                MoveRole::Target { arrivals, .. } => {
                    let b: f64 = arrivals.iter().map(|a| a.1).sum();
                    p.drop_pct = -100.0 * b / lv;
                }
            }
        }
    }
    let mut rows = Vec::with_capacity(steps);
    let mut obs_level = vec![f64::NAN; steps];
    for s in first_day * spd..steps {
        let (lv, ob) = truth[s - first_day * spd];
        let mult = ev[s].obs_mult.unwrap_or(1.0);
        let lv = lv + scratch_obs.get(s - first_day * spd).copied().unwrap_or(0.0);
        let noisy = lv * mult * (jitter * rng.normal()).exp();
        if !observed[s] {
            continue;
        }
        let bytes = ((noisy / 4096.0).round() * 4096.0).max(0.0) as u64;
        obs_level[s] = bytes as f64;
        rows.push(ObsRow {
            ts: start_secs + s as i64 * step_secs,
            series: idx,
            bytes,
            objects: spec
                .has_objects
                .then(|| (ob * mult).round().max(0.0) as u64),
        });
    }

    // Labels at the first observed sample of each event.
    let mut labels = Vec::new();
    for p in pending {
        let first = (p.step..steps).find(|&s| observed[s]);
        let Some(first) = first else { continue };
        if p.kind == "transient" && first > p.end_step {
            continue; // the glitch was never observed
        }
        let end = (p.step..=p.end_step.min(steps - 1))
            .rev()
            .find(|&s| observed[s])
            .unwrap_or(first)
            .max(first);
        let objects_lost = if let Some(exact) = p.objects_exact {
            Some(exact)
        } else if spec.has_objects && matches!(p.kind, "loss" | "planned" | "moved" | "transient") {
            let before = (first_day * spd..p.step)
                .rev()
                .find(|&s| observed[s])
                .map(|s| truth[s - first_day * spd].1);
            before.map(|b| {
                let after = truth[end - first_day * spd].1 * ev[end].obs_mult.unwrap_or(1.0);
                (b - after).max(0.0).round() as u64
            })
        } else {
            None
        };
        labels.push(LabelRow {
            series: idx,
            ts: start_secs + first as i64 * step_secs,
            kind: p.kind,
            end: start_secs + end as i64 * step_secs,
            drop_pct: (p.drop_pct * 100.0).round() / 100.0,
            objects_lost,
            note: p.note,
        });
    }
    Simulated {
        rows,
        labels,
        planned,
        moved,
    }
}

fn day_of(opts: &GenOptions, y: i32, m: u32, d: u32) -> Option<usize> {
    let target = NaiveDate::from_ymd_opt(y, m, d)?;
    let off = (target - opts.start).num_days();
    (off >= 80 && off < opts.days as i64 - 20).then_some(off as usize)
}

/// Share of a day's ingest in each sample of the day: working hours
/// (08:00-18:00) carry four times the weight of the night.
fn intraday_weights(spd: usize) -> Vec<f64> {
    if spd <= 1 {
        return vec![1.0];
    }
    let hours = 24.0 / spd as f64;
    let w: Vec<f64> = (0..spd)
        .map(|k| {
            let mid = (k as f64 + 0.5) * hours;
            if (8.0..18.0).contains(&mid) {
                1.0
            } else {
                0.25
            }
        })
        .collect();
    let tot: f64 = w.iter().sum();
    w.into_iter().map(|x| x / tot).collect()
}

/// Poisson variate by inversion (small means only).
fn poisson(mean: f64, mut rng: Rng) -> usize {
    let l = (-mean).exp();
    let mut k = 0;
    let mut p = rng.f64();
    while p > l && k < 50 {
        k += 1;
        p *= rng.f64();
    }
    k
}

/// Rows in the order a nightly collector appends them: day-major with all
/// series interleaved, a few rows delivered twice and a few arriving late.
fn collector_order(per_series: Vec<Vec<ObsRow>>, rng: &mut Rng) -> Vec<ObsRow> {
    let mut all: Vec<ObsRow> = per_series.into_iter().flatten().collect();
    all.sort_by_key(|r| (r.ts, r.series));
    let mut out = Vec::with_capacity(all.len() + all.len() / 100);
    let mut late = Vec::new();
    for r in all {
        if rng.chance(0.002) {
            late.push(r);
            continue;
        }
        out.push(r);
        if rng.chance(0.003) {
            out.push(r);
        }
    }
    out.extend(late);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_are_planned_with_moved_to_and_labelled() {
        let ds = generate(&GenOptions {
            series: Some(4),
            days: 400,
            moves: 4,
            ..GenOptions::default()
        });
        let moves: Vec<&PlannedRow> = ds
            .planned
            .iter()
            .filter(|p| !p.moved_to.is_empty())
            .collect();
        assert_eq!(moves.len(), 4);
        assert_eq!(ds.series.len(), 4 + 8);
        for (j, p) in moves.iter().enumerate() {
            let src = ds
                .series
                .iter()
                .position(|s| s.0 == p.force && s.1 == p.system)
                .unwrap() as u32;
            let start = p.start.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp();
            let label = ds
                .labels
                .iter()
                .find(|l| l.series == src && l.ts == start && l.note.contains("migration"))
                .unwrap();
            assert_eq!(label.kind, if j % 2 == 1 { "loss" } else { "moved" });
            if j % 2 == 1 {
                assert!((0.5..=20.0).contains(&label.drop_pct), "{label:?}");
            }
            // the target's rise is a step up
            let dst = p.moved_to.rsplit('/').next().unwrap();
            let t = ds
                .series
                .iter()
                .position(|s| s.0 == p.force && s.1 == dst)
                .unwrap() as u32;
            assert!(ds
                .labels
                .iter()
                .any(|l| l.series == t && l.kind == "step_up" && l.ts >= start));
        }
    }
}
