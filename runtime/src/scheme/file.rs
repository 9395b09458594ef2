//! `file:///path`: a host file, opened with the mode its query names.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};

use url::Url;

use super::Resource;
use crate::normalize::decoded_path;
use crate::{Error, Result};

/// An open host file.
pub struct HostFile(File);

impl Resource for HostFile {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
        Ok(self.0.read(buf)?)
    }

    fn write(&mut self, buf: &[u8]) -> Result<usize> {
        self.0.write_all(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<()> {
        Ok(self.0.sync_data()?)
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
    let file = match mode.as_deref() {
        None => options
            .read(true)
            .write(true)
            .open(&path)
            .or_else(|_| File::open(&path)),
        Some("r") => options.read(true).open(&path),
        Some("w") => options.write(true).create(true).truncate(true).open(&path),
        Some("a") => options.append(true).create(true).open(&path),
        Some("rw") => options.read(true).write(true).create(true).open(&path),
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
    Ok(Box::new(HostFile(file)))
}
