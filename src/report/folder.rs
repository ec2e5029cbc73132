//! The report folder, crash-safe: a run writes into a fresh folder inside
//! `PARENT/.shrinkwatch-runs/`, renames it when complete and switches the
//! report link to it with one atomic rename, so a crash leaves either the
//! previous complete folder or the new one.

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// Hidden folder beside the output folders that holds the real run folders.
pub const RUNS_DIR: &str = ".shrinkwatch-runs";

/// An output folder being written.
///
/// Files go to `PARENT/.shrinkwatch-runs/NAME.<time>-<pid>.partial`. On
/// [`OutDir::commit`] that folder is renamed to its final name and `TARGET`
/// (a symbolic link) is switched to it with one atomic rename, so a crash at
/// any moment leaves `TARGET` pointing at the previous complete folder or at
/// the new complete one, never at a half-written one.
#[derive(Debug)]
pub struct OutDir {
    target: PathBuf,
    tmp: PathBuf,
}

fn unique() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{nanos}-{}", std::process::id())
}

impl OutDir {
    /// Starts writing `target`.
    pub fn create(target: &Path) -> Result<OutDir> {
        let parent = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let runs = parent.join(RUNS_DIR);
        std::fs::create_dir_all(&runs)
            .with_context(|| format!("cannot create {}", runs.display()))?;
        let name = target.file_name().and_then(|n| n.to_str()).unwrap_or("out");
        let tmp = runs.join(format!("{name}.{}.partial", unique()));
        std::fs::create_dir_all(&tmp)
            .with_context(|| format!("cannot create {}", tmp.display()))?;
        Ok(OutDir {
            target: target.to_path_buf(),
            tmp,
        })
    }

    /// Removes folders left half-written by runs that were killed: those
    /// whose process (named in the folder name) is no longer running.
    pub fn clean_partials(parent: &Path) {
        if let Ok(rd) = std::fs::read_dir(parent.join(RUNS_DIR)) {
            for e in rd.flatten() {
                let name = e.file_name().to_string_lossy().to_string();
                let Some(stem) = name.strip_suffix(".partial") else {
                    continue;
                };
                let pid = stem.rsplit('-').next().and_then(|p| p.parse::<i32>().ok());
                if pid.is_some_and(|p| p != std::process::id() as i32 && alive(p)) {
                    continue; // another run (a shard) is still writing it
                }
                std::fs::remove_dir_all(e.path()).ok();
            }
        }
    }

    /// Where files go while writing.
    pub fn path(&self) -> &Path {
        &self.tmp
    }

    /// Moves the finished folder into place, replacing an earlier one.
    pub fn commit(self) -> Result<PathBuf> {
        let done = PathBuf::from(self.tmp.to_string_lossy().trim_end_matches(".partial"));
        std::fs::rename(&self.tmp, &done)
            .with_context(|| format!("cannot finish {}", done.display()))?;
        sync_dir(done.parent());
        swap_link(&self.target, &done)?;
        Ok(self.target)
    }
}

fn sync_dir(dir: Option<&Path>) {
    if let Some(d) = dir.and_then(|d| std::fs::File::open(d).ok()) {
        d.sync_all().ok();
    }
}

/// Points `link` at `dest` (a folder in the runs folder) atomically, then
/// removes the run folder it pointed at before.
#[cfg(unix)]
fn swap_link(link: &Path, dest: &Path) -> Result<()> {
    let parent = link
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let rel = Path::new(RUNS_DIR).join(dest.file_name().unwrap_or_default());
    let previous = std::fs::read_link(link).ok();
    if link.exists() && previous.is_none() {
        // A real folder from elsewhere: move it aside into the runs folder once.
        let aside = parent.join(RUNS_DIR).join(format!(
            "{}.replaced-{}",
            link.file_name().and_then(|n| n.to_str()).unwrap_or("old"),
            unique()
        ));
        std::fs::rename(link, &aside)
            .with_context(|| format!("cannot move aside {}", link.display()))?;
    }
    let tmp_link = parent.join(format!(
        ".{}.link-{}",
        link.file_name().and_then(|n| n.to_str()).unwrap_or("out"),
        unique()
    ));
    std::os::unix::fs::symlink(&rel, &tmp_link)
        .with_context(|| format!("cannot create link {}", tmp_link.display()))?;
    std::fs::rename(&tmp_link, link)
        .with_context(|| format!("cannot switch {} to the new report", link.display()))?;
    sync_dir(Some(parent));
    if let Some(prev) = previous.filter(|p| p != &rel) {
        if prev.starts_with(RUNS_DIR) {
            std::fs::remove_dir_all(parent.join(prev)).ok();
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn swap_link(target: &Path, dest: &Path) -> Result<()> {
    if target.exists() {
        std::fs::remove_dir_all(target)
            .with_context(|| format!("cannot replace {}", target.display()))?;
    }
    std::fs::rename(dest, target)
        .with_context(|| format!("cannot move {} into place", target.display()))
}

/// Points `PARENT/latest` at `target` (atomically, Unix only).
pub fn point_latest(target: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        let parent = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let name = target.file_name().unwrap_or_default();
        let latest = parent.join("latest");
        if latest.exists() && std::fs::read_link(&latest).is_err() {
            return Ok(()); // a real folder called `latest`: leave it alone
        }
        let tmp = parent.join(format!(".latest.link-{}", unique()));
        std::os::unix::fs::symlink(name, &tmp)?;
        std::fs::rename(&tmp, &latest)
            .with_context(|| format!("cannot update {}", latest.display()))?;
    }
    #[cfg(not(unix))]
    let _ = target;
    Ok(())
}

/// True when a process with this id exists.
fn alive(pid: i32) -> bool {
    #[cfg(unix)]
    {
        // SAFETY: kill with signal 0 only checks that the process exists.
        let r = unsafe { libc::kill(pid, 0) };
        r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        false
    }
}
