//! How an output file is written, as the shell's `>` and coreutils'
//! `install` would agree: a regular file is replaced as a whole through a
//! temporary file beside it (unpredictable name, created with `O_EXCL`, so
//! a symlink planted in a shared directory is never followed); anything
//! else — a character device such as `/dev/null`, a FIFO, `/dev/stdout` —
//! is written *to*, never replaced; a symlink is followed to what it names.

use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How many symlinks are followed before giving up, as Linux's `ELOOP`.
const MAX_LINKS: usize = 40;

/// How long a write to a FIFO waits for a reader before giving up, so a
/// FIFO nobody reads is an error rather than a hang.
const FIFO_READER_WAIT: Duration = Duration::from_secs(5);

/// Where writing `path` really goes, symlinks followed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Resolved {
    /// A regular file, existing or not, at this path (no symlink in its
    /// last component): replaced through a temporary file.
    Replace(PathBuf),
    /// Something that is not a regular file (a device, a FIFO, a socket)
    /// or a link only the kernel can follow (`/proc/self/fd/1`): opened
    /// and written to, as `>` does.
    InPlace(PathBuf),
    /// An existing directory.
    Directory(PathBuf),
}

/// Follows `path`'s symlinks (a dangling one names the file to create,
/// as with `>`), and says how it is written.
pub(crate) fn resolve(path: &Path) -> io::Result<Resolved> {
    let mut current = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        let status = match std::fs::symlink_metadata(&current) {
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                return Ok(Resolved::Replace(current));
            }
            Err(error) => return Err(error),
            Ok(status) => status,
        };
        let kind = status.file_type();
        if kind.is_symlink() {
            // `/proc/self/fd/N` and its kin point at pipes and deleted
            // files that no path names: only the kernel can open them.
            if current.starts_with("/proc") || current.starts_with("/dev/fd") {
                return Ok(match std::fs::metadata(&current) {
                    Ok(target) if target.is_dir() => Resolved::Directory(current),
                    _ => Resolved::InPlace(current),
                });
            }
            let target = std::fs::read_link(&current)?;
            let base = current.parent().unwrap_or(Path::new("")).to_path_buf();
            current = base.join(target);
        } else if kind.is_file() {
            return Ok(Resolved::Replace(current));
        } else if kind.is_dir() {
            return Ok(Resolved::Directory(current));
        } else {
            return Ok(Resolved::InPlace(current));
        }
    }
    Err(io::Error::from_raw_os_error(nix::libc::ELOOP))
}

/// The directory a new file at `path` goes into (`.` for a bare name).
pub(crate) fn directory_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// Writes `bytes` to `path` as a whole. `interrupted` is asked just before
/// a regular file is put in place: when it says yes, the old file is kept
/// untouched, the temporary one removed, and the error is `Interrupted`.
pub(crate) fn write_whole_unless(
    path: &Path,
    bytes: &[u8],
    interrupted: &dyn Fn() -> bool,
) -> io::Result<()> {
    match resolve(path)? {
        Resolved::Replace(target) => replace(&target, bytes, interrupted),
        Resolved::InPlace(target) => write_in_place(&target, bytes),
        Resolved::Directory(target) => Err(io::Error::new(
            io::ErrorKind::IsADirectory,
            format!("'{}' is a directory", target.display()),
        )),
    }
}

/// Replaces the regular file `target` (no symlink) by `bytes` through a
/// temporary file in its directory, keeping an existing file's mode and
/// owner.
fn replace(target: &Path, bytes: &[u8], interrupted: &dyn Fn() -> bool) -> io::Result<()> {
    let old = std::fs::metadata(target).ok();
    let mode = old
        .as_ref()
        .map_or(0o666, |m| m.permissions().mode() & 0o7777);
    // A short name, whatever the target's: a 255-byte name stays legal.
    let mut temporary = tempfile::Builder::new()
        .prefix(".paralab-")
        .suffix(".tmp")
        .rand_bytes(10)
        .permissions(std::fs::Permissions::from_mode(mode))
        .tempfile_in(directory_of(target))?;
    // A second signal exits without running destructors: it removes what
    // is registered here instead, so no half-written temporary stays.
    let _remove_on_stop = crate::sys::signals::RemoveOnStop::register(temporary.path());
    if let Some(old) = &old {
        keep_owner_and_mode(temporary.as_file(), old);
    }
    temporary.write_all(bytes)?;
    temporary.as_file().sync_data()?;
    if interrupted() {
        // Dropping the temporary file removes it; the old file stays.
        return Err(io::Error::new(
            io::ErrorKind::Interrupted,
            "interrupted before it was put in place; the previous file is unchanged",
        ));
    }
    temporary.persist(target).map_err(|e| e.error)?;
    Ok(())
}

/// Gives the new file the old one's owner (when paralab may, as root) and
/// mode (the umask narrowed it at creation).
fn keep_owner_and_mode(file: &File, old: &Metadata) {
    let _ = nix::unistd::fchown(
        file,
        Some(nix::unistd::Uid::from_raw(old.uid())),
        Some(nix::unistd::Gid::from_raw(old.gid())),
    );
    let _ = file.set_permissions(std::fs::Permissions::from_mode(old.mode() & 0o7777));
}

/// Opens what `target` names without creating or replacing it, and writes
/// `bytes` to it. A FIFO is opened without blocking, waiting a bounded
/// time for a reader.
fn write_in_place(target: &Path, bytes: &[u8]) -> io::Result<()> {
    let is_fifo = std::fs::metadata(target).is_ok_and(|m| m.file_type().is_fifo());
    let mut file = if is_fifo {
        open_fifo(target)?
    } else {
        // A regular file reached through `/proc/self/fd/N` is truncated,
        // as `> /dev/stdout` would; a device ignores the truncation.
        OpenOptions::new().write(true).truncate(true).open(target)?
    };
    file.write_all(bytes)?;
    file.flush()
}

/// Opens a FIFO for writing once a reader has it open, waiting at most
/// [`FIFO_READER_WAIT`].
fn open_fifo(target: &Path) -> io::Result<File> {
    let started = Instant::now();
    loop {
        match OpenOptions::new()
            .write(true)
            .custom_flags(nix::libc::O_NONBLOCK)
            .open(target)
        {
            Ok(file) => {
                use nix::fcntl::{FcntlArg, OFlag, fcntl};
                let flags = OFlag::from_bits_truncate(fcntl(&file, FcntlArg::F_GETFL)?);
                fcntl(&file, FcntlArg::F_SETFL(flags - OFlag::O_NONBLOCK))?;
                return Ok(file);
            }
            Err(error) if error.raw_os_error() == Some(nix::libc::ENXIO) => {
                if started.elapsed() >= FIFO_READER_WAIT {
                    return Err(io::Error::new(
                        io::ErrorKind::WouldBlock,
                        format!(
                            "no program read the FIFO '{}' within {} s; start its reader first",
                            target.display(),
                            FIFO_READER_WAIT.as_secs()
                        ),
                    ));
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(error) => return Err(error),
        }
    }
}

/// What identifies a file for "is this the same file as that one": the
/// device and inode of what exists, or of the directory and the name of
/// what does not yet.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Identity {
    /// An existing file.
    Existing { device: u64, inode: u64 },
    /// A file to be created in an existing directory.
    New {
        device: u64,
        inode: u64,
        name: std::ffi::OsString,
    },
}

impl Identity {
    /// The identity of what writing `path` would write (symlinks
    /// followed), with whether it is a character device (several
    /// outputs may share `/dev/null`). `None` when it cannot be known.
    pub(crate) fn of(path: &Path) -> Option<(Identity, bool)> {
        if let Ok(status) = std::fs::metadata(path) {
            return Some((
                Identity::Existing {
                    device: status.dev(),
                    inode: status.ino(),
                },
                status.file_type().is_char_device(),
            ));
        }
        let target = match resolve(path).ok()? {
            Resolved::Replace(target) | Resolved::InPlace(target) => target,
            Resolved::Directory(_) => return None,
        };
        let directory = std::fs::metadata(directory_of(&target)).ok()?;
        Some((
            Identity::New {
                device: directory.dev(),
                inode: directory.ino(),
                name: target.file_name()?.to_os_string(),
            },
            false,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn an_interrupted_write_leaves_the_old_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.csv");
        std::fs::write(&path, "old\n").unwrap();
        let error = write_whole_unless(&path, b"new\n", &|| true).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::Interrupted);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old\n");
        assert_eq!(names(dir.path()), ["r.csv"]);
        write_whole_unless(&path, b"new\n", &|| false).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new\n");
        assert_eq!(names(dir.path()), ["r.csv"]);
    }

    #[test]
    fn symlinks_are_followed_to_what_they_name() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        std::os::unix::fs::symlink("real", dir.path().join("link")).unwrap();
        std::os::unix::fs::symlink("link", dir.path().join("link2")).unwrap();
        // Dangling: the file it names is the one to create, as with `>`.
        assert_eq!(
            resolve(&dir.path().join("link2")).unwrap(),
            Resolved::Replace(real.clone())
        );
        std::os::unix::fs::symlink("loop", dir.path().join("loop")).unwrap();
        assert!(resolve(&dir.path().join("loop")).is_err());
        assert_eq!(
            resolve(Path::new("/dev/stdout")).unwrap(),
            Resolved::InPlace(PathBuf::from("/proc/self/fd/1"))
        );
        assert_eq!(
            resolve(dir.path()).unwrap(),
            Resolved::Directory(dir.path().to_path_buf())
        );
    }
}
