//! `sock_*`: tern hands a WASI guest no sockets (network access is through URLs in the stream ABI),
//! so on any handle these are `ENOTSOCK`, and `EBADF` on a handle that does not exist — as wasmtime.

use super::{call, errno, Imports, C, R};

pub(super) fn link(imports: &mut Imports<'_>, m: &'static str) {
    imports.func(
        m,
        "sock_accept",
        |mut c: C, fd: i32, _flags: i32, _out: i32| call(&mut c, |_, p| not_a_socket(p, fd)),
    );
    imports.func(
        m,
        "sock_recv",
        |mut c: C, fd: i32, _iovs: i32, _n: i32, _flags: i32, _out: i32, _oflags: i32| {
            call(&mut c, |_, p| not_a_socket(p, fd))
        },
    );
    imports.func(
        m,
        "sock_send",
        |mut c: C, fd: i32, _iovs: i32, _n: i32, _flags: i32, _out: i32| {
            call(&mut c, |_, p| not_a_socket(p, fd))
        },
    );
    imports.func(m, "sock_shutdown", |mut c: C, fd: i32, _how: i32| {
        call(&mut c, |_, p| not_a_socket(p, fd))
    });
}

fn not_a_socket(p: &crate::Process, fd: i32) -> R {
    match p.url_of(fd) {
        Some(_) => Err(errno::NOTSOCK),
        None => Err(errno::BADF),
    }
}
