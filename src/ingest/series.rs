//! Splitting validated rows into series: a counting sort by series id (rows
//! keep their file order within a series), a time sort only for series that
//! arrived out of order, then exact duplicates removed and conflicting rows
//! (same series and time, different values) rejected.

use super::{ColumnNames, IngestError, RawRows, Rejected};

/// All series, each a contiguous slice of the column vectors.
#[derive(Debug, Clone, Default)]
pub struct SeriesSet {
    /// Names of the key columns.
    pub key_names: Vec<String>,
    /// Key values of each series.
    pub keys: Vec<Vec<String>>,
    /// Series `i` is rows `offsets[i]..offsets[i + 1]`.
    pub offsets: Vec<usize>,
    /// Timestamps (seconds, UTC), increasing within a series.
    pub times: Vec<i64>,
    /// Bytes stored.
    pub bytes: Vec<f64>,
    /// Objects stored (NaN = unknown).
    pub objects: Vec<f64>,
    /// True when any input had an object-count column.
    pub has_objects: bool,
}

/// One series borrowed from a [`SeriesSet`].
#[derive(Debug, Clone, Copy)]
pub struct Series<'a> {
    /// Index in the set.
    pub index: usize,
    /// Key values.
    pub key: &'a [String],
    /// Timestamps.
    pub times: &'a [i64],
    /// Bytes.
    pub bytes: &'a [f64],
    /// Objects, when counted.
    pub objects: Option<&'a [f64]>,
}

impl<'a> Series<'a> {
    /// The same series with only its observations at or before `t`.
    pub fn until(self, t: i64) -> Series<'a> {
        let k = self.times.partition_point(|&x| x <= t);
        Series {
            times: &self.times[..k],
            bytes: &self.bytes[..k],
            objects: self.objects.map(|o| &o[..k]),
            ..self
        }
    }

    /// `force/system` style label.
    pub fn label(&self) -> String {
        self.key.join("/")
    }

    /// True when every timestamp is midnight (dates print without a time).
    pub fn date_only(&self) -> bool {
        self.times.iter().all(|t| t.rem_euclid(86_400) == 0)
    }
}

/// The key value that marks a derived force total (`--totals`).
pub const TOTAL_KEY: &str = "(force total)";

impl SeriesSet {
    /// Number of series.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when there are no series.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Series `i`.
    pub fn get(&self, i: usize) -> Series<'_> {
        let r = self.offsets[i]..self.offsets[i + 1];
        let objects = &self.objects[r.clone()];
        Series {
            index: i,
            key: &self.keys[i],
            times: &self.times[r.clone()],
            bytes: &self.bytes[r],
            objects: (self.has_objects && objects.iter().any(|o| o.is_finite())).then_some(objects),
        }
    }

    /// Iterates over all series.
    pub fn iter(&self) -> impl Iterator<Item = Series<'_>> {
        (0..self.len()).map(|i| self.get(i))
    }

    /// Finds a series by its `KEY1/KEY2` label.
    pub fn find(&self, label: &str) -> Option<usize> {
        self.keys.iter().position(|k| k.join("/") == label)
    }

    /// Adds, for every value of the first key column held by two or more
    /// series, a derived series: their sum, keyed by that value and
    /// [`TOTAL_KEY`] in the other key columns. At a time where any member
    /// has read, each member counts with its latest reading, provided that
    /// is at most two days old (a member silent for longer makes the total a
    /// gap there, never a false drop). Objects are summed when every member
    /// counts them. Returns the set and how many totals were added.
    pub fn with_totals(&self) -> (SeriesSet, usize) {
        let mut out = self.clone();
        let mut groups: std::collections::BTreeMap<&str, Vec<usize>> = Default::default();
        for (i, k) in self.keys.iter().enumerate() {
            if let Some(first) = k.first() {
                if k.len() > 1 && k.iter().skip(1).all(|x| x != TOTAL_KEY) {
                    groups.entry(first.as_str()).or_default().push(i);
                }
            }
        }
        let mut added = 0;
        for (first, members) in groups.into_iter().filter(|(_, m)| m.len() > 1) {
            let mut times: Vec<i64> = members
                .iter()
                .flat_map(|&i| self.get(i).times.iter().copied())
                .collect();
            times.sort_unstable();
            times.dedup();
            let objects = members.iter().all(|&i| self.get(i).objects.is_some());
            let mut key = vec![first.to_string()];
            key.extend(std::iter::repeat_n(
                TOTAL_KEY.to_string(),
                self.key_names.len() - 1,
            ));
            for &t in &times {
                let mut bytes = 0.0;
                let mut objs = 0.0;
                let mut whole = true;
                for &i in &members {
                    let s = self.get(i);
                    let at = s.times.partition_point(|&x| x <= t);
                    match at.checked_sub(1) {
                        Some(j) if t - s.times[j] <= 2 * 86_400 && s.bytes[j].is_finite() => {
                            bytes += s.bytes[j];
                            objs += s.objects.map_or(f64::NAN, |o| o[j]);
                        }
                        _ => {
                            whole = false;
                            break;
                        }
                    }
                }
                if whole {
                    out.times.push(t);
                    out.bytes.push(bytes);
                    out.objects.push(if objects { objs } else { f64::NAN });
                }
            }
            out.keys.push(key);
            out.offsets.push(out.times.len());
            added += 1;
        }
        (out, added)
    }

    /// This set with the readings of every series `other` holds replaced
    /// by `other`'s (series `other` holds and this set does not are added
    /// at the end), and where each of `other`'s series now is.
    pub fn with_series_of(&self, other: &SeriesSet) -> (SeriesSet, Vec<usize>) {
        let at: std::collections::HashMap<&[String], usize> = other
            .keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k.as_slice(), i))
            .collect();
        let mut out = SeriesSet {
            key_names: self.key_names.clone(),
            has_objects: self.has_objects || other.has_objects,
            ..Default::default()
        };
        out.offsets.push(0);
        let mut index = vec![usize::MAX; other.len()];
        let push = |out: &mut SeriesSet, from: &SeriesSet, i: usize| {
            let r = from.offsets[i]..from.offsets[i + 1];
            out.keys.push(from.keys[i].clone());
            out.times.extend_from_slice(&from.times[r.clone()]);
            out.bytes.extend_from_slice(&from.bytes[r.clone()]);
            out.objects.extend_from_slice(&from.objects[r]);
            out.offsets.push(out.times.len());
        };
        for i in 0..self.len() {
            match at.get(self.keys[i].as_slice()) {
                Some(&j) => {
                    index[j] = out.len();
                    push(&mut out, other, j);
                }
                None => push(&mut out, self, i),
            }
        }
        for (j, at) in index.iter_mut().enumerate() {
            if *at == usize::MAX {
                *at = out.len();
                push(&mut out, other, j);
            }
        }
        (out, index)
    }

    /// Keeps only observations at or before `t` (for `--as-of` and replay).
    pub fn truncated(&self, t: i64) -> SeriesSet {
        let mut out = SeriesSet {
            key_names: self.key_names.clone(),
            keys: self.keys.clone(),
            has_objects: self.has_objects,
            ..Default::default()
        };
        out.offsets.push(0);
        for i in 0..self.len() {
            let r = self.offsets[i]..self.offsets[i + 1];
            let k = self.times[r.clone()].partition_point(|&x| x <= t);
            let r = r.start..r.start + k;
            out.times.extend_from_slice(&self.times[r.clone()]);
            out.bytes.extend_from_slice(&self.bytes[r.clone()]);
            out.objects.extend_from_slice(&self.objects[r]);
            out.offsets.push(out.times.len());
        }
        out
    }
}

/// Groups rows into series. Returns the set, the number of exact duplicates
/// removed, and the rows rejected as conflicting.
///
/// Memory: the raw columns are gathered into series order one at a time and
/// each is freed once gathered, so the peak is the raw rows plus one column.
pub(crate) fn group(
    raw: RawRows,
    cols: &ColumnNames,
    files: &[String],
) -> Result<(SeriesSet, u64, Vec<Rejected>), IngestError> {
    let ns = raw.keys.keys.len();
    let n = raw.sid.len();
    if n > u32::MAX as usize {
        return Err(IngestError::Unreadable {
            file: files.join(", "),
            reason: format!(
                "{n} rows in one run is more than shrinkwatch holds (4,294,967,295): \
                 split the estate with `scan --shard I/N` and `merge`"
            ),
        });
    }
    let t0 = std::time::Instant::now();
    let mut start = vec![0usize; ns + 1];
    for &s in &raw.sid {
        start[s as usize + 1] += 1;
    }
    for i in 0..ns {
        start[i + 1] += start[i];
    }
    // order[p] = raw row at series-order position p (file order within a series)
    let mut order = vec![0u32; n];
    {
        let mut pos = start.clone();
        for (r, &s) in raw.sid.iter().enumerate() {
            order[pos[s as usize]] = r as u32;
            pos[s as usize] += 1;
        }
    }
    let RawRows {
        sid,
        ts,
        bytes,
        objects,
        line,
        file_start,
        keys,
        has_objects,
        ..
    } = raw;
    drop(sid);
    let t_order = t0.elapsed().as_secs_f64();
    let mut times = gather(&order, ts);
    let mut vals = gather(&order, bytes);
    let mut objs = gather(&order, objects);
    let src = |r: u32| {
        let r = r as usize;
        let f = file_start.partition_point(|&s| s <= r).saturating_sub(1);
        (f, u64::from(line[r]))
    };
    crate::log::debug(format!(
        "split: series order {t_order:.3} s, columns gathered {:.3} s",
        t0.elapsed().as_secs_f64() - t_order
    ));
    let mut dup = 0u64;
    let mut rejected = Vec::new();
    let mut offsets = Vec::with_capacity(ns + 1);
    offsets.push(0);
    let mut w = 0usize; // write position: series are compacted in place
    let mut perm: Vec<usize> = Vec::new();
    for s in 0..ns {
        let (a0, b0) = (start[s], start[s + 1]);
        if !times[a0..b0].windows(2).all(|x| x[0] <= x[1]) {
            // stable: file order kept among equal times
            perm.clear();
            perm.extend(0..b0 - a0);
            perm.sort_by_key(|&k| times[a0 + k]);
            let t: Vec<i64> = perm.iter().map(|&k| times[a0 + k]).collect();
            let v: Vec<f64> = perm.iter().map(|&k| vals[a0 + k]).collect();
            let o: Vec<f64> = perm.iter().map(|&k| objs[a0 + k]).collect();
            let r: Vec<u32> = perm.iter().map(|&k| order[a0 + k]).collect();
            times[a0..b0].copy_from_slice(&t);
            vals[a0..b0].copy_from_slice(&v);
            objs[a0..b0].copy_from_slice(&o);
            order[a0..b0].copy_from_slice(&r);
        }
        let mut a = a0;
        while a < b0 {
            let t = times[a];
            let mut b = a + 1;
            while b < b0 && times[b] == t {
                b += 1;
            }
            let same = |k: usize| {
                vals[k] == vals[a] && (objs[k] == objs[a] || (objs[k].is_nan() && objs[a].is_nan()))
            };
            if (a..b).all(same) {
                dup += (b - a - 1) as u64;
                times[w] = t;
                vals[w] = vals[a];
                objs[w] = objs[a];
                w += 1;
            } else {
                let values: Vec<String> = (a..b).map(|k| format!("{}", vals[k])).collect();
                let reason = format!(
                    "conflicting values for the same series and timestamp ({} rows: {}); none kept",
                    b - a,
                    values.join(" / ")
                );
                for k in a..b {
                    let (fi, line) = src(order[k]);
                    rejected.push(Rejected {
                        file: files[fi].clone(),
                        line,
                        column: cols.value.clone(),
                        value: format!("{}", vals[k]),
                        reason: reason.clone(),
                    });
                }
            }
            a = b;
        }
        offsets.push(w);
    }
    times.truncate(w);
    vals.truncate(w);
    objs.truncate(w);
    times.shrink_to_fit();
    vals.shrink_to_fit();
    objs.shrink_to_fit();
    let set = SeriesSet {
        key_names: cols.keys.clone(),
        keys: keys.keys,
        offsets,
        times,
        bytes: vals,
        objects: objs,
        has_objects,
    };
    Ok((set, dup, rejected))
}

/// `v` in the order of `order`, in parallel; `v` is freed on return.
fn gather<T: Copy + Default + Send + Sync>(order: &[u32], v: Vec<T>) -> Vec<T> {
    use rayon::prelude::*;
    const CHUNK: usize = 1 << 16;
    let mut out = vec![T::default(); order.len()];
    out.par_chunks_mut(CHUNK)
        .zip(order.par_chunks(CHUNK))
        .for_each(|(o, idx)| {
            for (x, &r) in o.iter_mut().zip(idx) {
                *x = v[r as usize];
            }
        });
    out
}
