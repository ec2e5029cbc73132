//! Splitting validated rows into series: a counting sort by series id (rows
//! keep their file order within a series), a time sort only for series that
//! arrived out of order, then exact duplicates removed and conflicting rows
//! (same series and time, different values) rejected.

use super::{ColumnNames, RawRows, Rejected};

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

impl Series<'_> {
    /// `force/system` style label.
    pub fn label(&self) -> String {
        self.key.join("/")
    }

    /// True when every timestamp is midnight (dates print without a time).
    pub fn date_only(&self) -> bool {
        self.times.iter().all(|t| t.rem_euclid(86_400) == 0)
    }
}

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
pub(crate) fn group(
    raw: RawRows,
    cols: &ColumnNames,
    files: &[String],
) -> (SeriesSet, u64, Vec<Rejected>) {
    let ns = raw.keys.len();
    let n = raw.sid.len();
    let mut start = vec![0usize; ns + 1];
    for &s in &raw.sid {
        start[s as usize + 1] += 1;
    }
    for i in 0..ns {
        start[i + 1] += start[i];
    }
    let mut pos = start.clone();
    let mut order = vec![0usize; n];
    for (r, &s) in raw.sid.iter().enumerate() {
        order[pos[s as usize]] = r;
        pos[s as usize] += 1;
    }
    let mut set = SeriesSet {
        key_names: cols.keys.clone(),
        keys: raw.keys,
        has_objects: raw.has_objects,
        ..Default::default()
    };
    set.offsets.push(0);
    let mut dup = 0u64;
    let mut rejected = Vec::new();
    for s in 0..ns {
        let rows = &mut order[start[s]..start[s + 1]];
        if !rows.windows(2).all(|w| raw.ts[w[0]] <= raw.ts[w[1]]) {
            rows.sort_by_key(|&r| raw.ts[r]); // stable: file order kept among equal times
        }
        let mut a = 0;
        while a < rows.len() {
            let t = raw.ts[rows[a]];
            let mut b = a + 1;
            while b < rows.len() && raw.ts[rows[b]] == t {
                b += 1;
            }
            let first = rows[a];
            let same = |r: usize| {
                raw.bytes[r] == raw.bytes[first]
                    && (raw.objects[r] == raw.objects[first]
                        || (raw.objects[r].is_nan() && raw.objects[first].is_nan()))
            };
            if rows[a..b].iter().all(|&r| same(r)) {
                dup += (b - a - 1) as u64;
                set.times.push(t);
                set.bytes.push(raw.bytes[first]);
                set.objects.push(raw.objects[first]);
            } else {
                let values: Vec<String> = rows[a..b]
                    .iter()
                    .map(|&r| format!("{}", raw.bytes[r]))
                    .collect();
                for &r in &rows[a..b] {
                    let (fi, line) = raw.src[r];
                    rejected.push(Rejected {
                        file: files[fi as usize].clone(),
                        line,
                        column: cols.value.clone(),
                        value: format!("{}", raw.bytes[r]),
                        reason: format!("conflicting values for the same series and timestamp ({} rows: {}); none kept", b - a, values.join(" / ")),
                    });
                }
            }
            a = b;
        }
        set.offsets.push(set.times.len());
    }
    (set, dup, rejected)
}
