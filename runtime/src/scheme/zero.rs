//! `zero://`: reads fill the buffer with zero bytes.

use super::Resource;
use crate::Result;

/// An endless stream of zero bytes.
pub struct Zero;

impl Resource for Zero {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
        buf.fill(0);
        Ok(buf.len())
    }
}
