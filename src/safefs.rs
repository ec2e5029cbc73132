//! Files opened as a job that may run as root must open them: inputs only
//! when they are regular files (a FIFO would hang the run, `/dev/zero` would
//! fill the memory), within a size limit where the file is small by nature,
//! and the files a run writes beside its reports (state, breach log, lock)
//! never through a symbolic link and never when hard-linked elsewhere.
//! Replacements go through a temporary file created exclusively with an
//! unpredictable name, so a link planted at a guessable name is never
//! followed.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::Path;

/// Whether to follow a symbolic link at the path itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Links {
    /// Follow it (inputs a person names).
    Follow,
    /// Refuse it (files shrinkwatch writes or owns).
    Refuse,
}

fn flags(links: Links) -> i32 {
    #[cfg(unix)]
    {
        // Non-blocking, so that opening a FIFO returns at once and is refused.
        let base = libc::O_NONBLOCK | libc::O_CLOEXEC;
        match links {
            Links::Follow => base,
            Links::Refuse => base | libc::O_NOFOLLOW,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = links;
        0
    }
}

fn explain(path: &Path, e: io::Error) -> io::Error {
    #[cfg(unix)]
    if e.raw_os_error() == Some(libc::ELOOP) {
        return io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{} is a symbolic link: refused (shrinkwatch never reads or writes its own files through a link; remove the link)",
                path.display()
            ),
        );
    }
    let _ = path;
    e
}

/// What a non-regular file is, for messages ("a FIFO (named pipe)", "a
/// device", "a socket", "a folder").
pub fn kind_of(m: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = m.file_type();
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if m.is_dir() {
        "a folder"
    } else {
        "a special file"
    }
}

/// Checks that an open file is a regular file (and, for files shrinkwatch
/// writes, not hard-linked from elsewhere).
fn check(path: &Path, f: &File, links: Links) -> io::Result<()> {
    let m = f.metadata()?;
    if !m.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{} is {}, not a regular file: refused",
                path.display(),
                kind_of(&m)
            ),
        ));
    }
    #[cfg(unix)]
    if links == Links::Refuse {
        use std::os::unix::fs::MetadataExt;
        if m.nlink() > 1 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "{} has {} hard links: refused (it may be another file's name)",
                    path.display(),
                    m.nlink()
                ),
            ));
        }
    }
    Ok(())
}

/// Opens a regular file for reading; a FIFO, device or folder is an error
/// naming the file (returned at once, never a hang).
pub fn open_regular(path: &Path, links: Links) -> io::Result<File> {
    let mut o = OpenOptions::new();
    o.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.custom_flags(flags(links));
    }
    let f = o.open(path).map_err(|e| explain(path, e))?;
    check(path, &f, links)?;
    Ok(f)
}

/// Reads a regular file of at most `max` bytes as text.
pub fn read_regular(path: &Path, max: u64) -> io::Result<String> {
    read_limited(path, max, Links::Refuse)
}

/// Reads a regular file (following links) of at most `max` bytes as text:
/// configuration and side files a person names.
pub fn read_input(path: &Path, max: u64) -> io::Result<String> {
    read_limited(path, max, Links::Follow)
}

fn read_limited(path: &Path, max: u64, links: Links) -> io::Result<String> {
    let f = open_regular(path, links)?;
    let mut buf = Vec::new();
    f.take(max + 1).read_to_end(&mut buf)?;
    if buf.len() as u64 > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{} is larger than the {} this file may be",
                path.display(),
                crate::fmt::bytes(max as f64)
            ),
        ));
    }
    String::from_utf8(buf).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: not valid UTF-8 ({e})", path.display()),
        )
    })
}

/// Opens (creating it if needed) a file shrinkwatch owns for reading and
/// writing, never through a link, never a FIFO, device or hard-linked file.
pub fn open_owned(path: &Path, append: bool) -> io::Result<File> {
    let mut o = OpenOptions::new();
    o.read(true).create(true);
    if append {
        o.append(true);
    } else {
        o.write(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.custom_flags(flags(Links::Refuse)).mode(0o644);
    }
    let f = o.open(path).map_err(|e| explain(path, e))?;
    check(path, &f, Links::Refuse)?;
    #[cfg(unix)]
    {
        // Back to blocking writes.
        use std::os::unix::io::AsRawFd;
        // SAFETY: fcntl on a valid descriptor owned by `f`.
        unsafe {
            let fl = libc::fcntl(f.as_raw_fd(), libc::F_GETFL);
            libc::fcntl(f.as_raw_fd(), libc::F_SETFL, fl & !libc::O_NONBLOCK);
        }
    }
    Ok(f)
}

/// Replaces `path` with `bytes` atomically: an exclusive temporary file with
/// a random name beside it (`.NAME.tmp-XXXXXX`), fsync, rename over `path`
/// (a link there is replaced, not followed), fsync of the folder. The new
/// file keeps the permissions of the one it replaces (0644 when new). The
/// write is the failpoint step `step` (crash tests).
pub fn replace_file_as(path: &Path, bytes: &[u8], step: &str) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}.tmp-"))
        .tempfile_in(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::symlink_metadata(path)
            .ok()
            .filter(|m| m.is_file())
            .map_or(0o644, |m| m.permissions().mode() & 0o7777);
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))?;
    }
    crate::failpoint::write_all(step, &mut tmp, bytes)?;
    tmp.flush()?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_dir(dir);
    Ok(())
}

/// Removes temporary files that a killed run left beside `path`
/// (`.NAME.tmp-*`, regular files only). Call it holding the run lock.
pub fn remove_stale_temps(path: &Path) {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return;
    };
    let prefix = format!(".{name}.tmp-");
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let stale = e
                .file_name()
                .to_str()
                .is_some_and(|n| n.starts_with(&prefix))
                && std::fs::symlink_metadata(e.path()).is_ok_and(|m| m.is_file());
            if stale {
                std::fs::remove_file(e.path()).ok();
            }
        }
    }
}

/// fsync of a folder (so a rename in it is durable); best effort.
pub fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        d.sync_all().ok();
    }
}

/// True when `path` itself is a symbolic link.
pub fn is_link(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn refuses_links_fifos_devices_and_big_files() {
        let d = tempfile::tempdir().unwrap();
        let victim = d.path().join("victim");
        std::fs::write(&victim, "keep me").unwrap();
        let link = d.path().join("state.json");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        let e = read_regular(&link, 100).unwrap_err().to_string();
        assert!(e.contains("symbolic link"), "{e}");
        let e = open_owned(&link, true).unwrap_err().to_string();
        assert!(e.contains("symbolic link"), "{e}");
        replace_file_as(&link, b"new", "test").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
        assert!(!is_link(&link));
        // a hard link is refused for writing
        let hard = d.path().join("hard");
        std::fs::hard_link(&victim, &hard).unwrap();
        assert!(open_owned(&hard, true)
            .unwrap_err()
            .to_string()
            .contains("hard links"));
        // devices and FIFOs: an error at once
        let e = read_input(Path::new("/dev/zero"), 1 << 20)
            .unwrap_err()
            .to_string();
        assert!(e.contains("a device"), "{e}");
        let fifo = d.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo with a valid C string.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let e = read_input(&fifo, 100).unwrap_err().to_string();
        assert!(e.contains("FIFO"), "{e}");
        let e = read_input(d.path(), 100).unwrap_err().to_string();
        assert!(e.contains("folder"), "{e}");
        // size limit
        std::fs::write(d.path().join("big"), vec![b'x'; 101]).unwrap();
        let e = read_input(&d.path().join("big"), 100)
            .unwrap_err()
            .to_string();
        assert!(e.contains("larger"), "{e}");
        assert_eq!(read_input(&victim, 100).unwrap(), "keep me");
    }
}
