//! Files in and out: atomic writes (a saved file is either the old one or the
//! new one, never a mixture or a truncated file) and capped reads (only
//! regular files, never more than a stated size).

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
/// The bytes go to a temporary file in the same directory (a short hidden
/// name, `.ebm-PID-N.tmp`, made of the process id and a counter, so
/// concurrent writers never share one and long target names still fit),
/// which is flushed to disk (`fsync`) and then renamed over `path`; on Unix
/// the directory is synced too, so the rename itself survives a crash. If
/// any step fails the temporary file is removed and `path` is left as it
/// was: a crash or an error never destroys the previous file. Temporary
/// files left in the directory by killed ebm processes (whose PID no longer
/// runs) are removed on the way.
///
/// Only regular files are replaced: an existing `path` that is a device, a
/// FIFO, a socket or a directory is refused, and so is a symbolic link (the
/// rename would replace the link, not the file it points to: name the file
/// itself).
///
/// Errors: [`Error::Io`] naming `path` (missing directory, a target that is
/// not a regular file, permissions, full disk, …).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    check_target(path)?;
    remove_stale_temporaries(path);
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

/// The most bytes [`read_capped`] reads from one file unless told otherwise:
/// 4 GiB (a 784 × 500 RBM file is 3 MB).
pub const MAX_READ_BYTES: u64 = 1 << 32;

/// Reads the whole of `path`, a regular file of at most `max` bytes.
///
/// Devices (`/dev/zero`), FIFOs and directories are refused before any read
/// (a FIFO would block, a device never end), and a file larger than `max`
/// is refused before anything is allocated; a file that grows while being
/// read stops at `max + 1` bytes and is refused.
///
/// Errors: [`Error::Io`] naming `path`.
pub fn read_capped(path: &Path, max: u64) -> Result<Vec<u8>> {
    use std::io::Read;
    let refuse = |message: String| Error::Io { path: path.display().to_string(), message };
    // checked before opening: opening a FIFO for reading blocks until a writer comes
    if !std::fs::metadata(path).map_err(|e| io_error(path, e))?.is_file() {
        return Err(refuse("not a regular file (a device, FIFO or directory): not read".into()));
    }
    let file = std::fs::File::open(path).map_err(|e| io_error(path, e))?;
    let meta = file.metadata().map_err(|e| io_error(path, e))?;
    if !meta.is_file() {
        return Err(refuse("not a regular file (a device, FIFO or directory): not read".into()));
    }
    if meta.len() > max {
        return Err(refuse(format!("{} bytes, more than the {max} read here", meta.len())));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(max + 1).read_to_end(&mut bytes).map_err(|e| io_error(path, e))?;
    if bytes.len() as u64 > max {
        return Err(refuse(format!("grew past {max} bytes while being read")));
    }
    Ok(bytes)
}

/// Refuses a target that exists and is not a regular file.
fn check_target(path: &Path) -> Result<()> {
    let refuse = |what: &str| Error::Io {
        path: path.display().to_string(),
        message: format!("{what}; ebm only replaces regular files"),
    };
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            Err(refuse("is a symbolic link (name the file it points to)"))
        }
        Ok(m) if m.is_dir() => Err(refuse("is a directory")),
        Ok(m) if !m.is_file() => Err(refuse("is not a regular file (a device, FIFO or socket)")),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_error(path, e)),
    }
}

/// The directory `path` is written into.
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// `dir/.ebm-PID-N.tmp` beside `path`.
fn temp_path(path: &Path) -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    parent_dir(path).join(format!(".ebm-{}-{n}.tmp", std::process::id()))
}

/// The PID in a temporary file name of [`temp_path`]'s form.
fn temp_owner(name: &str) -> Option<u32> {
    let rest = name.strip_prefix(".ebm-")?.strip_suffix(".tmp")?;
    let (pid, n) = rest.split_once('-')?;
    n.parse::<u64>().ok()?;
    pid.parse().ok()
}

/// Removes temporary files of dead ebm processes from `path`'s directory
/// (best effort, Linux: a PID counts as alive while `/proc/PID` exists, so
/// a live writer's file is never touched).
fn remove_stale_temporaries(path: &Path) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(parent_dir(path)) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(temp_owner) else { continue };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Makes a completed rename durable (best effort: some file systems refuse to
/// sync a directory, and the data itself is already safe).
fn sync_parent(path: &Path) {
    #[cfg(unix)]
    {
        if let Ok(d) = std::fs::File::open(parent_dir(path)) {
            let _ = d.sync_all();
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("ebm-atomic-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn only_regular_files_are_replaced() {
        let d = dir("targets");
        // a directory, a symbolic link, a FIFO: refused, left as they were
        let sub = d.join("sub");
        std::fs::create_dir_all(&sub).unwrap();
        assert!(write_atomic(&sub, b"x").is_err());
        assert!(sub.is_dir());
        let file = d.join("file");
        std::fs::write(&file, b"old").unwrap();
        let link = d.join("link");
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(&file, &link).unwrap();
            let e = write_atomic(&link, b"new").unwrap_err().to_string();
            assert!(e.contains("symbolic link"), "{e}");
            assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
            let fifo = d.join("fifo");
            let made = std::process::Command::new("mkfifo").arg(&fifo).status();
            if made.is_ok_and(|s| s.success()) {
                let e = write_atomic(&fifo, b"new").unwrap_err().to_string();
                assert!(e.contains("not a regular file"), "{e}");
                assert!(!std::fs::symlink_metadata(&fifo).unwrap().is_file());
            }
        }
        assert_eq!(std::fs::read(&file).unwrap(), b"old");
        // a regular file is replaced, and nothing is left beside it
        write_atomic(&file, b"new").unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"new");
        let stray: Vec<_> = std::fs::read_dir(&d)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(stray.is_empty());
        std::fs::remove_dir_all(&d).ok();
    }

    #[test]
    fn long_names_fit_and_stale_temporaries_of_dead_processes_go() {
        let d = dir("names");
        // a 250-byte name: the temporary file's name stays short
        let long = d.join("m".repeat(250));
        write_atomic(&long, b"ok").unwrap();
        assert_eq!(std::fs::read(&long).unwrap(), b"ok");
        if Path::new("/proc/self").exists() {
            // PID 2^31 − 2 does not run (Linux caps PIDs at 2^22); ours does
            let dead = d.join(".ebm-2147483646-0.tmp");
            let live = d.join(format!(".ebm-{}-999999.tmp", std::process::id()));
            std::fs::write(&dead, b"stale").unwrap();
            std::fs::write(&live, b"in use").unwrap();
            write_atomic(&d.join("next"), b"x").unwrap();
            assert!(!dead.exists(), "a killed run's temporary file is removed");
            assert!(live.exists(), "a live writer's is kept");
        }
        assert_eq!(temp_owner(".ebm-12-3.tmp"), Some(12));
        assert_eq!(temp_owner(".ebm-x-3.tmp"), None);
        assert_eq!(temp_owner("model.safetensors"), None);
        std::fs::remove_dir_all(&d).ok();
    }
}
