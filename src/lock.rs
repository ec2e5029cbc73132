//! One run at a time per state file: an exclusive `flock` on `<state>.lock`.
//! The kernel releases it when the holder dies, so a lock left by a killed
//! run is taken over at once; the file records the holder's pid and start
//! time for the message a second run prints. The lock file is opened
//! without following links and only if it is a regular file of its own (no
//! hard links), and it is never truncated: the holder line is written over
//! its first bytes, padded to a fixed width.

use anyhow::{bail, Context, Result};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

/// A held lock; released on drop.
#[derive(Debug)]
pub struct Lock {
    file: File,
}

impl Lock {
    /// Takes the lock or fails (exit code 2) naming the holder.
    pub fn acquire(path: &Path, started: &str) -> Result<Lock> {
        if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let mut file = crate::safefs::open_owned(path, false)
            .with_context(|| format!("cannot open lock file {}", path.display()))?;
        if !try_lock(&file) {
            let mut holder = String::new();
            file.read_to_string(&mut holder).ok();
            let holder = holder.trim();
            bail!(
                "another shrinkwatch run holds {} ({}); try again when it has finished",
                path.display(),
                if holder.is_empty() {
                    "holder unknown"
                } else {
                    holder
                }
            );
        }
        let mut line = format!("pid {} since {started}", std::process::id());
        line.truncate(HOLDER_WIDTH - 1);
        let line = format!("{line:<w$}\n", w = HOLDER_WIDTH - 1);
        file.seek(SeekFrom::Start(0))?;
        file.write_all(line.as_bytes())
            .with_context(|| format!("cannot write lock file {}", path.display()))?;
        file.sync_all().ok();
        Ok(Lock { file })
    }
}

/// Width of the holder line at the start of the lock file.
const HOLDER_WIDTH: usize = 64;

impl Drop for Lock {
    fn drop(&mut self) {
        unlock(&self.file);
    }
}

#[cfg(unix)]
fn try_lock(f: &File) -> bool {
    use std::os::unix::io::AsRawFd;
    // SAFETY: flock on a valid, open file descriptor owned by `f`.
    unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
}

#[cfg(unix)]
fn unlock(f: &File) {
    use std::os::unix::io::AsRawFd;
    // SAFETY: as above.
    unsafe {
        libc::flock(f.as_raw_fd(), libc::LOCK_UN);
    }
}

#[cfg(not(unix))]
fn try_lock(_f: &File) -> bool {
    true
}

#[cfg(not(unix))]
fn unlock(_f: &File) {}
