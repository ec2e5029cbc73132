//! One run at a time per state file: an exclusive `flock` on `<state>.lock`.
//! The kernel releases it when the holder dies, so a lock left by a killed
//! run is taken over at once; the file records the holder's pid and start
//! time for the message a second run prints.

use anyhow::{bail, Context, Result};
use std::fs::{File, OpenOptions};
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
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
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
        file.set_len(0)?;
        file.seek(SeekFrom::Start(0))?;
        writeln!(file, "pid {} since {started}", std::process::id())?;
        file.sync_all().ok();
        Ok(Lock { file })
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
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
