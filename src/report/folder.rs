//! The report folder, crash-safe: a run writes into a fresh folder inside
//! `PARENT/.shrinkwatch-runs/`, renames it when complete and switches the
//! report link to it with one atomic rename, so a crash leaves either the
//! previous complete folder or the new one.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

/// Hidden folder beside the output folders that holds the real run folders.
pub const RUNS_DIR: &str = ".shrinkwatch-runs";

/// Names an output folder may not take: they are the files and links that
/// live beside the report folders.
const RESERVED: &[&str] = &["latest", "state.json", "breach-log.csv", RUNS_DIR];

/// An output folder being written.
///
/// Files go to `PARENT/.shrinkwatch-runs/NAME.<time>-<pid>.partial`, a folder
/// created exclusively (never one that already exists, so never a planted
/// link). On [`OutDir::commit`] that folder is renamed to its final name and
/// `TARGET` (a symbolic link) is switched to it with one atomic rename, so a
/// crash at any moment leaves `TARGET` pointing at the previous complete
/// folder or at the new complete one, never at a half-written one. A run
/// that fails removes its own folder; one that is killed leaves it to
/// [`OutDir::clean_partials`].
///
/// The reports folder is handled as hostile: `TARGET` is replaced only when
/// it is missing or a link into the runs folder (anything else is refused,
/// never moved or deleted), the runs folder must be a real folder, and an
/// old run folder is removed only when it really is inside the runs folder.
#[derive(Debug)]
pub struct OutDir {
    target: PathBuf,
    tmp: PathBuf,
    finished: bool,
}

fn unique() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{nanos}-{}", std::process::id())
}

fn parent_of(p: &Path) -> &Path {
    p.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// `RUNS_DIR/NAME` with NAME one plain component: what shrinkwatch's own
/// report links hold.
fn own_link_target(target: &Path) -> Option<&std::ffi::OsStr> {
    use std::path::Component;
    let mut c = target.components();
    match (c.next(), c.next(), c.next()) {
        (Some(Component::Normal(r)), Some(Component::Normal(name)), None) if r == RUNS_DIR => {
            Some(name)
        }
        _ => None,
    }
}

/// Checks that `target` may be (re)written: its name is not one of the
/// files beside it, and it is missing or a link (a link that shrinkwatch did
/// not make is replaced with a warning; what it pointed at is never
/// touched). An existing file or folder is refused, never moved.
fn check_target(target: &Path, warn: bool) -> Result<()> {
    let Some(name) = target.file_name().and_then(|n| n.to_str()) else {
        bail!(
            "output folder `{}` has no usable name: name a folder such as reports/tonight",
            target.display()
        );
    };
    if name.starts_with('.') || RESERVED.contains(&name) {
        bail!(
            "output folder `{}`: the name `{name}` is reserved for shrinkwatch's own files and links beside the reports",
            target.display()
        );
    }
    match std::fs::symlink_metadata(target) {
        Err(_) => Ok(()),
        Ok(m) if m.file_type().is_symlink() => {
            let to = std::fs::read_link(target)
                .with_context(|| format!("cannot read link {}", target.display()))?;
            if own_link_target(&to).is_none() && warn {
                crate::log::alarm(format!(
                    "{} was a link to {} that shrinkwatch did not make: it is replaced by the report link, and what it pointed at is left untouched",
                    target.display(),
                    to.display()
                ));
            }
            Ok(())
        }
        Ok(m) => bail!(
            "{} already exists ({}) and is not a report written by shrinkwatch: refused, nothing was moved (choose another --out, or move it away yourself)",
            target.display(),
            if m.is_dir() { "a folder" } else { "a file" }
        ),
    }
}

/// Checks an output folder before a run does its work (the same check
/// [`OutDir::create`] makes), so a refused `--out` fails at once.
pub fn check_out(target: &Path) -> Result<()> {
    check_target(target, false)
}

/// The runs folder beside `parent`'s report links, created when missing; a
/// link or anything but a real folder there is refused.
fn runs_dir(parent: &Path) -> Result<PathBuf> {
    let runs = parent.join(RUNS_DIR);
    match std::fs::symlink_metadata(&runs) {
        Ok(m) if m.file_type().is_symlink() => bail!(
            "{} is a symbolic link: refused (shrinkwatch keeps its run folders in a real folder there; remove the link)",
            runs.display()
        ),
        Ok(m) if !m.is_dir() => bail!(
            "{} exists and is not a folder: refused (remove it)",
            runs.display()
        ),
        Ok(_) => Ok(runs),
        Err(_) => {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
            match std::fs::create_dir(&runs) {
                Ok(()) => Ok(runs),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => runs_dir(parent),
                Err(e) => Err(e).with_context(|| format!("cannot create {}", runs.display())),
            }
        }
    }
}

/// The real run folder `prev` (a report link's target) names, when it is
/// one: a plain folder directly inside a real runs folder.
fn owned_run_folder(parent: &Path, prev: &Path) -> Option<PathBuf> {
    let name = own_link_target(prev)?;
    let runs = parent.join(RUNS_DIR);
    let real_runs = std::fs::canonicalize(&runs).ok()?;
    if !std::fs::symlink_metadata(&runs).ok()?.is_dir() {
        return None;
    }
    let dir = runs.join(name);
    let m = std::fs::symlink_metadata(&dir).ok()?;
    if !m.is_dir() || m.file_type().is_symlink() {
        return None;
    }
    let real = std::fs::canonicalize(&dir).ok()?;
    (real.parent() == Some(real_runs.as_path())).then_some(dir)
}

impl OutDir {
    /// Starts writing `target`.
    pub fn create(target: &Path) -> Result<OutDir> {
        check_target(target, true)?;
        let runs = runs_dir(parent_of(target))?;
        let name = target.file_name().and_then(|n| n.to_str()).unwrap_or("out");
        let mut attempt = 0;
        let tmp = loop {
            let tmp = runs.join(format!("{name}.{}.partial", unique()));
            match std::fs::create_dir(&tmp) {
                Ok(()) => break tmp,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 8 => {
                    attempt += 1
                }
                Err(e) => {
                    return Err(e).with_context(|| format!("cannot create {}", tmp.display()))
                }
            }
        };
        Ok(OutDir {
            target: target.to_path_buf(),
            tmp,
            finished: false,
        })
    }

    /// Removes folders left behind by runs that were killed: half-written
    /// ones (`.partial`) and finished ones that no report link points at
    /// (killed between finishing the folder and switching the link), when
    /// the process named in the folder name is no longer running. Only real
    /// folders inside a real runs folder are touched.
    pub fn clean_partials(parent: &Path) {
        let runs = parent.join(RUNS_DIR);
        if !std::fs::symlink_metadata(&runs).is_ok_and(|m| m.is_dir()) {
            return;
        }
        // Run folders some report link beside them points at.
        let linked: std::collections::HashSet<std::ffi::OsString> = std::fs::read_dir(parent)
            .map(|rd| {
                rd.flatten()
                    .filter_map(|e| std::fs::read_link(e.path()).ok())
                    .filter_map(|t| own_link_target(&t).map(|n| n.to_os_string()))
                    .collect()
            })
            .unwrap_or_default();
        // Temporary links (`.NAME.link-<time>-<pid>`) of killed runs.
        if let Ok(rd) = std::fs::read_dir(parent) {
            for e in rd.flatten() {
                let name = e.file_name().to_string_lossy().to_string();
                if !name.starts_with('.') || !name.contains(".link-") {
                    continue;
                }
                let pid = name.rsplit('-').next().and_then(|p| p.parse::<i32>().ok());
                let dead = pid.is_some_and(|p| p == std::process::id() as i32 || !alive(p));
                if dead && crate::safefs::is_link(&e.path()) {
                    std::fs::remove_file(e.path()).ok();
                }
            }
        }
        if let Ok(rd) = std::fs::read_dir(&runs) {
            for e in rd.flatten() {
                let file_name = e.file_name();
                let name = file_name.to_string_lossy().to_string();
                let stem = match name.strip_suffix(".partial") {
                    Some(stem) => stem,
                    None if !linked.contains(&file_name) && !name.contains(".replaced-") => {
                        name.as_str()
                    }
                    None => continue,
                };
                let pid = stem.rsplit('-').next().and_then(|p| p.parse::<i32>().ok());
                if pid.is_some_and(|p| p != std::process::id() as i32 && alive(p)) {
                    continue; // another run (a shard) is still writing it
                }
                if pid.is_none() && !name.ends_with(".partial") {
                    continue; // not a name shrinkwatch gives its run folders
                }
                if std::fs::symlink_metadata(e.path()).is_ok_and(|m| m.is_dir()) {
                    std::fs::remove_dir_all(e.path()).ok();
                }
            }
        }
    }

    /// Where files go while writing.
    pub fn path(&self) -> &Path {
        &self.tmp
    }

    /// Moves the finished folder into place, replacing an earlier one.
    pub fn commit(mut self) -> Result<PathBuf> {
        let done = PathBuf::from(self.tmp.to_string_lossy().trim_end_matches(".partial"));
        crate::failpoint::hit("commit")
            .with_context(|| format!("cannot finish {}", done.display()))?;
        std::fs::rename(&self.tmp, &done)
            .with_context(|| format!("cannot finish {}", done.display()))?;
        self.finished = true;
        sync_dir(done.parent());
        if let Err(e) = swap_link(&self.target, &done) {
            std::fs::remove_dir_all(&done).ok();
            return Err(e);
        }
        Ok(self.target.clone())
    }
}

impl Drop for OutDir {
    /// A run that failed before its folder was finished removes it.
    fn drop(&mut self) {
        if !self.finished {
            std::fs::remove_dir_all(&self.tmp).ok();
        }
    }
}

fn sync_dir(dir: Option<&Path>) {
    if let Some(d) = dir {
        crate::safefs::sync_dir(d);
    }
}

/// Creates a symbolic link at a fresh, exclusive name in `dir` (prefix
/// `.NAME.link-`) pointing at `to`; returns its path.
#[cfg(unix)]
fn fresh_link(dir: &Path, name: &str, to: &Path) -> Result<PathBuf> {
    for _ in 0..8 {
        let tmp = dir.join(format!(".{name}.link-{}", unique()));
        match std::os::unix::fs::symlink(to, &tmp) {
            Ok(()) => return Ok(tmp),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(e).with_context(|| format!("cannot create link {}", tmp.display()))
            }
        }
    }
    bail!("cannot create a link in {}", dir.display())
}

/// Points `link` at `dest` (a folder in the runs folder) atomically, then
/// removes the run folder it pointed at before, when that is really one of
/// shrinkwatch's run folders.
#[cfg(unix)]
fn swap_link(link: &Path, dest: &Path) -> Result<()> {
    let parent = parent_of(link);
    let rel = Path::new(RUNS_DIR).join(dest.file_name().unwrap_or_default());
    check_target(link, false)?;
    let previous = std::fs::read_link(link).ok();
    let name = link.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    let tmp_link = fresh_link(parent, name, &rel)?;
    let switched = crate::failpoint::hit("link")
        .map_err(anyhow::Error::from)
        .and_then(|()| {
            std::fs::rename(&tmp_link, link)
                .with_context(|| format!("cannot switch {} to the new report", link.display()))
        });
    if let Err(e) = switched {
        std::fs::remove_file(&tmp_link).ok();
        return Err(e);
    }
    sync_dir(Some(parent));
    if let Some(prev) = previous.filter(|p| p != &rel) {
        if let Some(old) = owned_run_folder(parent, &prev) {
            std::fs::remove_dir_all(old).ok();
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

/// Points `PARENT/latest` at `target` (atomically, Unix only). A real file
/// or folder called `latest` is left alone.
pub fn point_latest(target: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        let parent = parent_of(target);
        let name = target.file_name().unwrap_or_default();
        let latest = parent.join("latest");
        if std::fs::symlink_metadata(&latest).is_ok_and(|m| !m.file_type().is_symlink()) {
            crate::log::warn(format!(
                "{} is not a link: left alone (it does not point at this report)",
                latest.display()
            ));
            return Ok(());
        }
        let tmp = fresh_link(parent, "latest", Path::new(name))?;
        if let Err(e) = std::fs::rename(&tmp, &latest) {
            std::fs::remove_file(&tmp).ok();
            return Err(e).with_context(|| format!("cannot update {}", latest.display()));
        }
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
