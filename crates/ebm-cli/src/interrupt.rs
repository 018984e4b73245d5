//! Ctrl-C and SIGTERM during `ebm train`: the signal only raises a flag; the
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

/// Installs the handlers of SIGINT and SIGTERM (a failure to install leaves
/// the default behaviour, which is also safe). SIGHUP keeps its
/// disposition, so a run under `nohup` survives a closed terminal.
pub fn install() {
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        let _ = signal_hook::flag::register(signal, Arc::clone(stop()));
    }
}

/// An error if a signal arrived: training stops after the current step.
pub fn check(epoch: usize) -> Result<()> {
    if stop().load(Ordering::SeqCst) {
        return Err(Error::Interrupted { epoch });
    }
    Ok(())
}
