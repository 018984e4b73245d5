//! # ebm for Python: thin PyO3 bindings over the ebm crates
//!
//! NumPy in and out. Every number is computed by the same library functions
//! the `ebm` command line calls, with the same seeds, so results are
//! bit-identical to the CLI's JSON: what a user names and the sampling and
//! ln Z runs come from `ebm-run` (`spec::parse_lattice`, `data::load`,
//! `sample::measure`, `logz::log_z`), whose results become Python objects
//! through their serde serialisation (`pythonize`), the fields the CLI's
//! JSON prints; exact thermodynamics and training call
//! `ebm_thermo::exact` and `Cd`/`Pcd` directly.
//!
//! Depends on the ebm crates, `pyo3`, `numpy` and `pythonize`;
//! nothing in the Rust workspace depends on it (its own Cargo workspace).
//!
//! Long calls run on a worker thread while the calling thread waits with the
//! GIL released, checking for signals every 50 ms: Ctrl-C raises
//! `KeyboardInterrupt` at once, and the work itself stops at its next sweep
//! (sampling, training) or finishes in the background and is dropped (exact
//! enumeration, AIS, TI, which have no hook to stop them).
#![deny(missing_docs)]

mod convert;
mod data;
mod models;
mod rbm;
mod sample;
mod thermo;

use pyo3::exceptions::{
    PyFloatingPointError, PyKeyboardInterrupt, PyOSError, PyRuntimeError, PyValueError,
};
use pyo3::prelude::*;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// An ebm error as the Python exception a user expects, with ebm's message:
/// file errors are `OSError`, divergence `FloatingPointError`, an interrupted
/// run `KeyboardInterrupt`, everything else (bad shapes, values, parameters,
/// unsupported combinations, malformed files) `ValueError`.
pub(crate) fn to_py_err(e: ebm_core::Error) -> PyErr {
    use ebm_core::Error as E;
    let msg = e.to_string();
    match e {
        E::Io { .. } => PyOSError::new_err(msg),
        E::Diverged { .. } => PyFloatingPointError::new_err(msg),
        E::Interrupted { .. } => PyKeyboardInterrupt::new_err(msg),
        _ => PyValueError::new_err(msg),
    }
}

/// `ebm_core::Result` → `PyResult`.
pub(crate) trait IntoPy<T> {
    /// Converts the error with [`to_py_err`].
    fn py(self) -> PyResult<T>;
}

impl<T> IntoPy<T> for ebm_core::Result<T> {
    fn py(self) -> PyResult<T> {
        self.map_err(to_py_err)
    }
}

/// The payload of the unwind that stops a run when the user pressed Ctrl-C
/// (raised with `resume_unwind`, so no panic message is printed).
struct Cancelled;

/// The flag a worker polls; set when the caller saw a signal.
#[derive(Clone, Default)]
pub(crate) struct Cancel(Arc<AtomicBool>);

impl Cancel {
    /// Unwinds out of the current run if cancellation was asked for: for
    /// callbacks (progress, observation) inside library loops that cannot
    /// return an error. Rayon carries the payload to the worker's
    /// `catch_unwind`.
    pub(crate) fn check_unwind(&self) {
        if self.0.load(Ordering::Relaxed) {
            std::panic::resume_unwind(Box::new(Cancelled));
        }
    }

    /// An `Interrupted` error if cancellation was asked for: for loops of
    /// our own (training steps).
    pub(crate) fn check(&self, epoch: usize) -> ebm_core::Result<()> {
        if self.0.load(Ordering::Relaxed) {
            Err(ebm_core::Error::Interrupted { epoch })
        } else {
            Ok(())
        }
    }
}

/// Runs `work` on a worker thread with the GIL released; polls for signals
/// (Ctrl-C) every 50 ms. On a signal the worker is asked to stop (see
/// [`Cancel`]), given up to 2 s to do so, and the signal's exception is
/// raised.
pub(crate) fn detached<T, F>(py: Python<'_>, work: F) -> PyResult<T>
where
    T: Send + 'static,
    F: FnOnce(&Cancel) -> ebm_core::Result<T> + Send + 'static,
{
    let cancel = Cancel::default();
    let (tx, rx) = std::sync::mpsc::channel();
    // the receiver is waited on without the GIL: `detach` needs it `Sync`
    let rx = std::sync::Mutex::new(rx);
    let recv = |t: Duration| rx.lock().expect("not poisoned").recv_timeout(t);
    let flag = cancel.clone();
    std::thread::Builder::new()
        .name("ebm-worker".into())
        .spawn(move || {
            let r = std::panic::catch_unwind(AssertUnwindSafe(|| work(&flag)));
            let _ = tx.send(r);
        })
        .map_err(|e| PyRuntimeError::new_err(format!("cannot start a worker thread: {e}")))?;
    loop {
        match py.detach(|| recv(Duration::from_millis(50))) {
            Ok(Ok(r)) => return r.py(),
            Ok(Err(payload)) => {
                if payload.is::<Cancelled>() {
                    return Err(PyKeyboardInterrupt::new_err("interrupted"));
                }
                std::panic::resume_unwind(payload);
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                if let Err(e) = py.check_signals() {
                    cancel.0.store(true, Ordering::Relaxed);
                    let _ = py.detach(|| recv(Duration::from_secs(2)));
                    return Err(e);
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                return Err(PyRuntimeError::new_err("the ebm worker thread died"));
            }
        }
    }
}

/// The number of threads rayon uses (the `RAYON_NUM_THREADS` environment
/// variable sets it before the first parallel call).
#[pyfunction]
fn num_threads() -> usize {
    rayon::current_num_threads()
}

/// The compiled extension module `ebm._ebm`.
#[pymodule]
fn _ebm(m: &Bound<'_, PyModule>) -> PyResult<()> {
    models::register(m)?;
    thermo::register(m)?;
    sample::register(m)?;
    rbm::register(m)?;
    data::register(m)?;
    m.add_function(wrap_pyfunction!(num_threads, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    // the sampler names `sample` takes (the CLI's), from the one list
    m.add("SAMPLERS", ebm_run::sample::SAMPLERS.to_vec())?;
    Ok(())
}
