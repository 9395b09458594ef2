//! `random://`: reads fill the buffer with bytes from the OS's cryptographic generator.

use super::Resource;
use crate::{Error, Result};

/// An endless stream of cryptographically secure random bytes.
pub struct Random;

impl Resource for Random {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
        fill(buf)?;
        Ok(buf.len())
    }
}

/// Fills `buf` from the OS's cryptographic generator.
pub fn fill(buf: &mut [u8]) -> Result<()> {
    getrandom::fill(buf).map_err(|e| Error::Unknown(format!("random source: {e}")))
}
