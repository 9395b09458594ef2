//! `file:///path`: a host file, opened with the mode its query names.

use std::fs::File;
use std::io::{Read, Write};
use std::path::PathBuf;

use rustix::fs::OFlags;
use rustix::io::Errno;
use url::Url;

use super::resolve::{resolve, Found, Scope};
use super::Resource;
use crate::normalize::decoded_path;
use crate::{Error, Result};

/// An open host file, and which directions its mode allows.
pub struct HostFile {
    file: File,
    readable: bool,
    writable: bool,
}

impl Resource for HostFile {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
        if !self.readable {
            return Err(Error::unsupported("file opened write-only"));
        }
        Ok(self.file.read(buf)?)
    }

    fn write(&mut self, buf: &[u8]) -> Result<usize> {
        if !self.writable {
            return Err(Error::unsupported("file opened read-only"));
        }
        self.file.write_all(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<()> {
        if !self.writable {
            return Ok(());
        }
        Ok(self.file.sync_data()?)
    }

    fn close(&mut self) -> Result<()> {
        // Closing is not a sync point: the OS keeps the data; an explicit flush asks for durability.
        Ok(())
    }
}

/// The access a `file:` URL's `mode` query asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// No mode: read-write when the file and the grant allow it, else read-only.
    Default,
    /// `mode=r`.
    Read,
    /// `mode=w`: create or truncate.
    Write,
    /// `mode=a`: create, and every write appends.
    Append,
    /// `mode=rw`: create if missing, keep the contents.
    ReadWrite,
}

impl Mode {
    /// The mode `url`'s query names.
    pub fn of(url: &Url) -> Result<Mode> {
        let mode = url.query_pairs().find(|(k, _)| k == "mode");
        match mode.as_ref().map(|(_, v)| v.as_ref()) {
            None => Ok(Mode::Default),
            Some("r") => Ok(Mode::Read),
            Some("w") => Ok(Mode::Write),
            Some("a") => Ok(Mode::Append),
            Some("rw") => Ok(Mode::ReadWrite),
            Some(other) => Err(Error::invalid(format!(
                "{url}: mode must be r, w, a or rw, not {other:?}"
            ))),
        }
    }

    /// Whether the mode can change the file system.
    pub fn writes(self) -> bool {
        !matches!(self, Mode::Default | Mode::Read)
    }
}

/// Opens `file:///path?mode=r|w|a|rw` at `real`, the URL [`real_url`] resolved it to, following no
/// symlink on the way; without a mode, read-write when `may_write` and the file permits, else
/// read-only.
pub(crate) fn open(real: &Url, may_write: bool) -> Result<Box<dyn Resource>> {
    let path = decoded_path(real)?;
    let components: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    let rw = OFlags::RDWR;
    let (file, readable, writable) = match Mode::of(real)? {
        Mode::Default if may_write => match open_exact(&components, rw) {
            Ok(file) => Ok((file, true, true)),
            Err(_) => open_exact(&components, OFlags::RDONLY).map(|f| (f, true, false)),
        },
        Mode::Default | Mode::Read => {
            open_exact(&components, OFlags::RDONLY).map(|f| (f, true, false))
        }
        Mode::Write => open_exact(&components, OFlags::WRONLY | OFlags::CREATE | OFlags::TRUNC)
            .map(|f| (f, false, true)),
        Mode::Append => open_exact(
            &components,
            OFlags::WRONLY | OFlags::CREATE | OFlags::APPEND,
        )
        .map(|f| (f, false, true)),
        Mode::ReadWrite => open_exact(&components, rw | OFlags::CREATE).map(|f| (f, true, true)),
    }
    .map_err(|e| Error::from(e).context(&path))?;
    if file.metadata()?.is_dir() {
        return Err(Error::invalid(format!("{path} is a directory")));
    }
    Ok(Box::new(HostFile {
        file,
        readable,
        writable,
    }))
}

/// Opens the absolute path `components` with `flags`, one directory at a time from `/` and never
/// following a symlink: a component that became a symlink since it was resolved is `ELOOP`, so the
/// file opened is the one the policy judged.
fn open_exact(components: &[&str], flags: OFlags) -> std::io::Result<File> {
    use rustix::fs::{open, openat, Mode as Perm};
    // O_PATH needs no read permission on the directories, only search permission, as a path walk.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let walk = OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let walk = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let Some((last, parents)) = components.split_last() else {
        return Err(std::io::Error::from(std::io::ErrorKind::IsADirectory));
    };
    let mut dir = open("/", walk, Perm::empty())?;
    for part in parents {
        dir = openat(&dir, *part, walk, Perm::empty())?;
    }
    let perm = Perm::from_bits_truncate(0o666);
    let fd = openat(
        &dir,
        *last,
        flags | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        perm,
    )?;
    Ok(File::from(fd))
}

/// The `file:` URL of the host path `url` really names: every symlink on it followed, the last one
/// too, even when its target does not exist yet (see [`super::resolve`]). The query is kept.
///
/// [`crate::Process::open`] puts this URL to the policy too and opens it, not `url`, so a symlink
/// inside a granted directory cannot lead outside it, nor past a `--deny`.
pub fn real_url(url: &Url) -> Result<Url> {
    let path = decoded_path(url)?;
    let components = resolve(&path, true, Scope::Host, |parts| {
        let mut at = PathBuf::from("/");
        at.extend(parts);
        Ok(match std::fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_symlink() => {
                let target = std::fs::read_link(&at)?;
                let target = target
                    .into_os_string()
                    .into_string()
                    .map_err(|_| std::io::Error::from_raw_os_error(Errno::ILSEQ.raw_os_error()))?;
                Found::Link(target)
            }
            Ok(m) if m.is_dir() => Found::Dir,
            Ok(_) => Found::Other,
            // Nothing there (or not to be looked at): the open reports what it finds.
            Err(_) => Found::Missing,
        })
    })
    .map_err(|e| Error::from(e).context(&path))?;
    let mut real = PathBuf::from("/");
    real.extend(&components);
    let mut real_url = Url::from_file_path(&real)
        .map_err(|()| Error::invalid(format!("{}: not an absolute path", real.display())))?;
    real_url.set_query(url.query());
    Ok(real_url)
}
