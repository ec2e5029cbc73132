//! Fault injection for the crash tests: `SHRINKWATCH_FAILPOINT=STEP` makes
//! the write step `STEP` of a run fail with an error, `STEP:kill` kills the
//! process there (abort: no clean-up, no destructors, as `kill -9` would),
//! `STEP:partial` writes half of what that step writes, then fails (a
//! disk that fills up mid-write), and `STEP:pause` stops there (in a write,
//! after half of it), says `failpoint: paused at STEP` on standard error and
//! waits to be killed, so a test's real SIGKILL lands exactly at that step. Steps, in the order a run meets them:
//! `charts`, `report`, `commit` (the finished folder's rename), `link` (the
//! report link's switch), `breach-log`, `breach-log-write` (the write of its
//! new copy), `state`, `state-write`; and `widen` (an incremental run's wider window
//! for series tonight's window cannot judge: failed, they are judged on
//! their whole history). Unset (always, outside the tests), every
//! call is a no-op; nothing in a run depends on it otherwise.

use std::io::Write;

/// The variable that names the step.
pub const VAR: &str = "SHRINKWATCH_FAILPOINT";

/// What to do at the armed step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Fail,
    Kill,
    Partial,
    Pause,
}

fn armed(step: &str) -> Option<Action> {
    let v = std::env::var(VAR).ok()?;
    let (name, action) = v.split_once(':').unwrap_or((v.as_str(), "fail"));
    if name != step {
        return None;
    }
    Some(match action {
        "kill" => Action::Kill,
        "partial" => Action::Partial,
        "pause" => Action::Pause,
        _ => Action::Fail,
    })
}

fn kill(step: &str) -> ! {
    eprintln!("failpoint: killed at {step}");
    std::process::abort()
}

/// Waits for the test's SIGKILL; gives up after ten minutes (a test that
/// died first must not leave a process behind for ever).
fn pause(step: &str) -> ! {
    eprintln!("failpoint: paused at {step}");
    std::thread::sleep(std::time::Duration::from_secs(600));
    eprintln!("failpoint: nobody killed the run paused at {step}");
    std::process::abort()
}

/// Called before a write step: fails or kills the run when that step is armed.
pub fn hit(step: &str) -> std::io::Result<()> {
    match armed(step) {
        None => Ok(()),
        Some(Action::Kill) => kill(step),
        Some(Action::Pause) => pause(step),
        Some(_) => Err(std::io::Error::other(format!(
            "injected fault at step `{step}` ({VAR})"
        ))),
    }
}

/// `write_all` with the step's fault: `partial` writes the first half of
/// `buf` and then fails as a full disk would; `kill` writes half and dies.
pub fn write_all(step: &str, w: &mut impl Write, buf: &[u8]) -> std::io::Result<()> {
    match armed(step) {
        None => w.write_all(buf),
        Some(Action::Fail) => hit(step),
        Some(a) => {
            w.write_all(&buf[..buf.len() / 2])?;
            w.flush()?;
            match a {
                Action::Kill => kill(step),
                Action::Pause => pause(step),
                _ => {}
            }
            Err(std::io::Error::other(format!(
                "injected fault at step `{step}`: no space left on device ({VAR})"
            )))
        }
    }
}
