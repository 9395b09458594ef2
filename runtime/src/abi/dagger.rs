//! Module `dagger`: Olin's first ABI — open/close/read/write/sync on the same handles. See ABI.md §6.

use wasmi::Caller;

use super::{code, process, with_memory, Imports};
use crate::host::HostState;
use crate::{memory, Error};

type C<'a> = Caller<'a, HostState>;

/// The longest URL `open` looks at before giving up on finding its NUL.
const MAX_URL: usize = 4096;

pub(super) fn link(imports: &mut Imports<'_>, m: &'static str) {
    imports.func(m, "open", open);
    imports.func(m, "close", |mut c: C, fd: i32| {
        code(process(&mut c).close(fd).map(|()| 0))
    });
    imports.func(m, "read", read);
    imports.func(m, "write", super::cwa::resource_write);
    imports.func(m, "sync", |mut c: C, fd: i32| {
        code(process(&mut c).flush(fd).map(|()| 0))
    });
}

fn open(mut c: C, ptr: i32, _flags: i32) -> i32 {
    code(with_memory(&mut c, |mem, p| {
        let start = memory::range(ptr, 0, mem.len())?.start;
        let window = &mem[start..mem.len().min(start + MAX_URL + 1)];
        let end = window
            .iter()
            .position(|&b| b == 0)
            .ok_or_else(|| Error::invalid("open: no NUL within 4096 bytes of the URL"))?;
        let url = std::str::from_utf8(&window[..end])
            .map_err(|_| Error::invalid("open: URL is not UTF-8"))?
            .to_owned();
        p.open(&url)
    }))
}

fn read(mut c: C, fd: i32, ptr: i32, len: i32) -> i32 {
    // Unlike resource_read, the end of the stream is 0, as POSIX read(2) has it.
    code(super::cwa::read(&mut c, fd, ptr, len))
}
