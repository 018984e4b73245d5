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

static STOP: AtomicBool = AtomicBool::new(false);

/// Installs the handler (once; a failure to install leaves the default
/// behaviour, which is also safe).
pub fn install() {
    let _ = ctrlc::try_set_handler(|| STOP.store(true, Ordering::SeqCst));
}

/// An error if a signal arrived: training stops after the current step.
pub fn check(epoch: usize) -> Result<()> {
    if STOP.load(Ordering::SeqCst) {
        return Err(Error::Interrupted { epoch });
    }
    Ok(())
}
