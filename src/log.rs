//! Messages for operators on standard error, by level (`-q` errors only,
//! default warnings and notes, `-v` details such as phase timings), and a
//! progress bar only when standard error is a terminal, so cron logs stay clean.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicU8, Ordering};

static LEVEL: AtomicU8 = AtomicU8::new(1);

/// 0 = quiet, 1 = normal, 2 = verbose.
pub fn set_level(level: u8) {
    LEVEL.store(level, Ordering::Relaxed);
}

/// Current level.
pub fn level() -> u8 {
    LEVEL.load(Ordering::Relaxed)
}

/// Writes `text` to standard output. A reader that has gone away (`scan |
/// head -1`: a broken pipe) or any other failure of standard output is not
/// the run's failure: the rest is dropped, the run goes on to publish and
/// ends with its own exit code (`println!` would panic with exit 101).
pub fn out(text: &str) {
    let mut o = std::io::stdout().lock();
    let _ = o.write_all(text.as_bytes()).and_then(|()| o.flush());
}

/// Writes one line to standard error; a closed standard error (`2>&1 |
/// head`) is ignored like a closed standard output.
pub fn err_line(line: &str) {
    let mut e = std::io::stderr().lock();
    let _ = writeln!(e, "{line}");
}

/// `println!` to standard output through [`out`]: never panics.
#[macro_export]
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::log::out(&format!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` to standard output through [`out`]: never panics.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::log::out(&format!($($arg)*))
    };
}

/// A warning (shown unless `-q`). Names from the data inside it are shown
/// with control characters escaped.
pub fn warn(msg: impl AsRef<str>) {
    if level() >= 1 {
        err_line(&format!("warning: {}", crate::fmt::term(msg.as_ref())));
    }
}

/// A warning that `-q` does not silence: something an operator must act on
/// (a run that could not use its data, a setting that hides every loss).
pub fn alarm(msg: impl AsRef<str>) {
    err_line(&format!("warning: {}", crate::fmt::term(msg.as_ref())));
}

/// A detail (shown with `-v`).
pub fn debug(msg: impl AsRef<str>) {
    if level() >= 2 {
        err_line(&format!("debug: {}", msg.as_ref()));
    }
}

/// A progress bar on standard error, hidden when that is not a terminal or with `-q`.
pub fn progress(len: u64, what: &str) -> ProgressBar {
    let visible = level() >= 1 && std::io::stderr().is_terminal();
    let pb = ProgressBar::with_draw_target(
        Some(len),
        if visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        },
    );
    if let Ok(style) = ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len} ({elapsed})")
    {
        pb.set_style(style.progress_chars("=> "));
    }
    pb.set_message(what.to_string());
    pb
}
