//! `file:///path`: a host file, opened with the mode its query names.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::PathBuf;

use url::Url;

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

/// Opens `file:///path?mode=r|w|a|rw`; without a mode, read-write when permitted, else read-only.
pub(super) fn open(url: &Url) -> Result<Box<dyn Resource>> {
    let path = decoded_path(url)?;
    let mode = url
        .query_pairs()
        .find(|(k, _)| k == "mode")
        .map(|(_, v)| v.into_owned());
    let mut options = OpenOptions::new();
    let (file, readable, writable) = match mode.as_deref() {
        None => match options.read(true).write(true).open(&path) {
            Ok(file) => Ok((file, true, true)),
            Err(_) => File::open(&path).map(|file| (file, true, false)),
        },
        Some("r") => options.read(true).open(&path).map(|f| (f, true, false)),
        Some("w") => options
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .map(|f| (f, false, true)),
        Some("a") => options
            .append(true)
            .create(true)
            .open(&path)
            .map(|f| (f, false, true)),
        Some("rw") => options
            .read(true)
            .write(true)
            .create(true)
            .open(&path)
            .map(|f| (f, true, true)),
        Some(other) => {
            return Err(Error::invalid(format!(
                "{url}: mode must be r, w, a or rw, not {other:?}"
            )))
        }
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

/// The `file:` URL of the host path `url` really names, with every symlink resolved (for a file that
/// does not exist yet, its directory's); `None` if that is `url` itself.
///
/// [`crate::Process::open`] puts this URL to the policy too, so a symlink inside a granted directory
/// cannot lead outside it.
pub fn real_url(url: &Url) -> Result<Option<Url>> {
    let path = PathBuf::from(decoded_path(url)?);
    let real = match std::fs::canonicalize(&path) {
        Ok(real) => real,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
                return Ok(None);
            };
            match std::fs::canonicalize(parent) {
                Ok(dir) => dir.join(name),
                // No directory either: the open fails with not-found; nothing to resolve.
                Err(_) => return Ok(None),
            }
        }
        Err(e) => return Err(Error::from(e).context(&path.display().to_string())),
    };
    if real == path {
        return Ok(None);
    }
    let mut real_url = Url::from_file_path(&real)
        .map_err(|()| Error::invalid(format!("{}: not an absolute path", real.display())))?;
    real_url.set_query(url.query());
    Ok(Some(real_url))
}
