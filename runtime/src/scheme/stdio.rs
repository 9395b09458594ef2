//! `fd://0`, `fd://1`, `fd://2`: the guest's own stdin, stdout and stderr — never other host descriptors.

use std::io::{Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::Arc;

use url::Url;

use super::{lock, Resource, Shared, Stdio};
use crate::{Error, Result};

/// The guest's stdin, and a descriptor to wait on if it can block.
pub struct Input(Shared<Box<dyn Read + Send>>, Option<Arc<OwnedFd>>);

/// The guest's stdout or stderr.
pub struct Output(Shared<Box<dyn Write + Send>>);

impl Resource for Input {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
        loop {
            match lock(&self.0).read(buf) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                other => return other.map_err(Error::from),
            }
        }
    }

    fn readable_fd(&self) -> Option<BorrowedFd<'_>> {
        self.1.as_deref().map(AsFd::as_fd)
    }
}

impl Resource for Output {
    fn write(&mut self, buf: &[u8]) -> Result<usize> {
        let mut out = lock(&self.0);
        // write_all: a guest's write either lands whole or fails (a closed pipe is the guest's error).
        out.write_all(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<()> {
        lock(&self.0).flush().map_err(Error::from)
    }
}

/// Opens `fd://N` for N in 0, 1, 2.
pub(super) fn open(url: &Url, stdio: &Stdio) -> Result<Box<dyn Resource>> {
    let n = url.host_str().unwrap_or_default();
    let path = url.path();
    if !(path.is_empty() || path == "/") {
        return Err(Error::NotFound(format!(
            "{url}: fd:// takes only 0, 1 or 2"
        )));
    }
    let (stdin, stdout, stderr) = streams(stdio);
    match n {
        "0" => Ok(Box::new(stdin)),
        "1" => Ok(Box::new(stdout)),
        "2" => Ok(Box::new(stderr)),
        _ => Err(Error::NotFound(format!(
            "{url}: fd:// takes only 0, 1 or 2"
        ))),
    }
}

/// The guest's stdin, stdout and stderr.
pub(super) fn streams(stdio: &Stdio) -> (Input, Output, Output) {
    (
        Input(stdio.stdin.clone(), stdio.stdin_fd.clone()),
        Output(stdio.stdout.clone()),
        Output(stdio.stderr.clone()),
    )
}
