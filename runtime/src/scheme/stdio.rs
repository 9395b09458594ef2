//! `fd://0`, `fd://1`, `fd://2`: the guest's own stdin, stdout and stderr — never other host descriptors.

use std::io::{Read, Write};

use url::Url;

use super::{lock, Resource, Shared, Stdio};
use crate::{Error, Result};

/// The guest's stdin.
pub struct Input(Shared<Box<dyn Read + Send>>);

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
    let [stdin, stdout, stderr] = standard_streams(stdio);
    match n {
        "0" => Ok(stdin),
        "1" => Ok(stdout),
        "2" => Ok(stderr),
        _ => Err(Error::NotFound(format!(
            "{url}: fd:// takes only 0, 1 or 2"
        ))),
    }
}

/// Handles 0, 1 and 2 of a new process.
pub(super) fn standard_streams(stdio: &Stdio) -> [Box<dyn Resource>; 3] {
    [
        Box::new(Input(stdio.stdin.clone())),
        Box::new(Output(stdio.stdout.clone())),
        Box::new(Output(stdio.stderr.clone())),
    ]
}
