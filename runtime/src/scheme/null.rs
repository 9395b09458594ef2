//! `null://`: writes are discarded, reads are at the end.

use super::Resource;
use crate::Result;

/// The null device.
pub struct Null;

impl Resource for Null {
    fn read(&mut self, _buf: &mut [u8]) -> Result<usize> {
        Ok(0)
    }

    fn write(&mut self, buf: &[u8]) -> Result<usize> {
        Ok(buf.len())
    }
}
