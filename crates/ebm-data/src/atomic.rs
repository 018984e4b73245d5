//! Atomic file writes: a saved file is either the old one or the new one, never
//! a mixture or a truncated file.

use ebm_core::{Error, Result};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Distinguishes temporary files of concurrent writers within one process.
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// The error of an I/O operation on `path`.
pub(crate) fn io_error(path: &Path, e: std::io::Error) -> Error {
    Error::Io { path: path.display().to_string(), message: e.to_string() }
}

/// Writes `bytes` to `path` atomically.
///
/// The bytes go to a temporary file in the same directory (a hidden name made
/// of the file name, the process id and a counter, so concurrent writers never
/// share one), which is flushed to disk (`fsync`) and then renamed over `path`;
/// on Unix the directory is synced too, so the rename itself survives a crash.
/// If any step fails the temporary file is removed and `path` is left as it
/// was: a crash or an error never destroys the previous file.
///
/// Errors: [`Error::Io`] naming `path` (missing directory, `path` is a
/// directory, permissions, full disk, …).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = temp_path(path);
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io_error(path, e)
    })?;
    sync_parent(path);
    Ok(())
}

/// `dir/.name.PID.N.tmp` beside `path`.
fn temp_path(path: &Path) -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = path.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = format!(".{name}.{}.{n}.tmp", std::process::id());
    match path.parent() {
        Some(dir) => dir.join(tmp),
        None => PathBuf::from(tmp),
    }
}

/// Makes a completed rename durable (best effort: some file systems refuse to
/// sync a directory, and the data itself is already safe).
fn sync_parent(path: &Path) {
    #[cfg(unix)]
    {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}
