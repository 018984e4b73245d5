//! Ctrl-C, SIGTERM and SIGHUP during `ebm train` (SIGHUP unless it is
//! ignored, as under `nohup`): the signal only raises a flag; the
//! training loop checks it after every step and stops with a one-line error,
//! so the step in flight finishes and the files on disk are those of the
//! last finished epoch (every save is atomic; between `--checkpoint-every`
//! saves the trainer keeps that epoch's checkpoint in memory and writes it
//! then). Other commands keep the
//! default behaviour (the signal ends them at once; they write only at the
//! end, atomically).

use ebm_core::{Error, Result};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

/// Raised by SIGINT or SIGTERM once [`install`] ran.
fn stop() -> &'static Arc<AtomicBool> {
    static STOP: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    STOP.get_or_init(|| Arc::new(AtomicBool::new(false)))
}

/// Installs the handlers of SIGINT, SIGTERM and SIGHUP (a failure to
/// install leaves the default behaviour, which is also safe). An ignored
/// SIGHUP stays ignored, so a run under `nohup` survives a closed terminal.
pub fn install() {
    use signal_hook::consts::{SIGINT, SIGTERM};
    for signal in [SIGINT, SIGTERM] {
        let _ = signal_hook::flag::register(signal, Arc::clone(stop()));
    }
    #[cfg(unix)]
    if !ignored(signal_hook::consts::SIGHUP) {
        let _ = signal_hook::flag::register(signal_hook::consts::SIGHUP, Arc::clone(stop()));
    }
}

/// Whether `signal`'s disposition is "ignore".
#[cfg(unix)]
fn ignored(signal: i32) -> bool {
    // SAFETY: sigaction with a null new action only reads the current one
    // into `old`, a zeroed plain C struct
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(signal, std::ptr::null(), &mut old) == 0
            && old.sa_sigaction == libc::SIG_IGN
    }
}

/// An error if a signal arrived: training stops after the current step.
pub fn check(epoch: usize) -> Result<()> {
    if stop().load(Ordering::SeqCst) {
        return Err(Error::Interrupted { epoch });
    }
    Ok(())
}
