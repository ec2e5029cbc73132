//! Series keys: the table of distinct key tuples and their ids, the cache
//! that resolves most rows without hashing, the injective flat form of a
//! key tuple, and the shard a series belongs to.

use serde::Serialize;

/// Distinct key tuples and their ids.
#[derive(Debug, Default)]
pub(crate) struct KeyTable {
    pub keys: Vec<Vec<String>>,
    /// Length-prefixed key tuple → id.
    index: std::collections::HashMap<String, u32>,
    flat: String,
}

impl KeyTable {
    /// The id of a key tuple, adding it when new.
    pub fn id(&mut self, key: &[&str]) -> u32 {
        flat_key(key, &mut self.flat);
        if let Some(&s) = self.index.get(self.flat.as_str()) {
            return s;
        }
        let s = self.keys.len() as u32;
        self.keys.push(key.iter().map(|k| k.to_string()).collect());
        self.index.insert(self.flat.clone(), s);
        s
    }
}

/// Series ids for key strings without hashing most rows: a row usually has
/// the key of the row before it (series-major files) or the key that
/// followed that key last time (day-major files, same order every day).
#[derive(Default)]
pub(super) struct KeyCache {
    prev: Option<u32>,
    /// Per series id: the id that followed it last time.
    next: Vec<u32>,
}

impl KeyCache {
    #[inline]
    pub(super) fn same(t: &KeyTable, sid: u32, key: &[&str]) -> bool {
        t.keys
            .get(sid as usize)
            .is_some_and(|k| k.iter().zip(key).all(|(a, b)| a == b))
    }

    #[inline]
    pub(super) fn resolve(&mut self, key: &[&str], t: &mut KeyTable) -> u32 {
        if let Some(p) = self.prev {
            if Self::same(t, p, key) {
                return p;
            }
            let guess = self.next[p as usize];
            if guess != u32::MAX && Self::same(t, guess, key) {
                self.prev = Some(guess);
                return guess;
            }
        }
        let sid = t.id(key);
        if self.next.len() < t.keys.len() {
            self.next.resize(t.keys.len(), u32::MAX);
        }
        if let Some(p) = self.prev {
            self.next[p as usize] = sid;
        }
        self.prev = Some(sid);
        sid
    }
}

/// One string for a key tuple, injective: each part prefixed by its length.
pub(super) fn flat_key(key: &[&str], out: &mut String) {
    out.clear();
    for k in key {
        let mut n = k.len();
        // decimal length without the formatting machinery (hot on misses)
        let mut digits = [0u8; 20];
        let mut d = digits.len();
        loop {
            d -= 1;
            digits[d] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        out.extend(digits[d..].iter().map(|&b| b as char));
        out.push(':');
        out.push_str(k);
    }
}

/// One part of an estate split across several runs (`scan --shard I/N`):
/// the series whose first key value (the force) has a stable hash modulo
/// `count` equal to `index`. A force's series stay together, so a move
/// between two of its stores is reconciled and its `--totals` series is
/// whole in one shard; a move to another force's store in another shard
/// is reported as unreconcilable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Shard {
    /// 0-based shard number.
    pub index: u32,
    /// Number of shards.
    pub count: u32,
}

impl Shard {
    /// Parses `I/N` (1-based I, as written on the command line).
    pub fn parse(s: &str) -> Result<Shard, String> {
        let (i, n) = s
            .split_once('/')
            .ok_or_else(|| format!("`{s}`: expected I/N, e.g. 2/8"))?;
        let i: u32 = i
            .trim()
            .parse()
            .map_err(|_| format!("`{s}`: I is not a number"))?;
        let n: u32 = n
            .trim()
            .parse()
            .map_err(|_| format!("`{s}`: N is not a number"))?;
        if n == 0 || i == 0 || i > n {
            return Err(format!("`{s}`: need 1 ≤ I ≤ N"));
        }
        Ok(Shard {
            index: i - 1,
            count: n,
        })
    }

    /// True when the series with these key values belongs to this shard
    /// (decided by its first key value alone).
    pub fn holds(&self, key: &[&str]) -> bool {
        let mut flat = String::new();
        flat_key(&key[..key.len().min(1)], &mut flat);
        key_hash(&flat) % u64::from(self.count) == u64::from(self.index)
    }

    /// True for the shard that reports rows without a usable key.
    pub fn first(&self) -> bool {
        self.index == 0
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index + 1, self.count)
    }
}

/// FNV-1a, 64 bit, of the length-prefixed key string: stable across
/// machines, platforms and versions (the shard of a series never moves).
pub fn key_hash(flat: &str) -> u64 {
    crate::hash::fnv1a(flat.as_bytes())
}
