//! Module `wasi_snapshot_preview1`: WASI preview1 as a front-end on the same [`Process`] as the
//! stream ABI — one handle table (WASI fds are tern handles: 0, 1, 2 are stdio, preopened
//! directories follow), one policy, one set of stats.
//!
//! This module links the functions and holds what every concern shares: errno values and the exact
//! mapping to them, and reading/writing guest memory through [`crate::memory`] (an out-of-bounds
//! pointer is `EFAULT`, never a trap; every multi-byte value little-endian, on every host).
//! One file per concern: [`args_env`], [`clock`] (clocks, random, process), [`poll`], [`fd`],
//! [`path`], [`sock`]. Where preview1 is vague, wasmtime's behaviour is followed.

use std::io;

use wasmi::Caller;

use super::{with_memory, Imports};
use crate::host::HostState;
use crate::memory;
use crate::process::Process;

mod args_env;
mod clock;
mod fd;
mod path;
mod poll;
mod sock;

type C<'a> = Caller<'a, HostState>;

/// A WASI errno value (`errno` in the witx, a `u16` returned as the function's `i32`).
pub(super) type Errno = u16;

/// The errno values of wasi_snapshot_preview1, by their witx names.
#[allow(dead_code)] // the full table, so mapping and tests name values the spec's way
pub(super) mod errno {
    use super::Errno;
    pub const SUCCESS: Errno = 0;
    pub const TOOBIG: Errno = 1;
    pub const ACCES: Errno = 2;
    pub const ADDRINUSE: Errno = 3;
    pub const ADDRNOTAVAIL: Errno = 4;
    pub const AFNOSUPPORT: Errno = 5;
    pub const AGAIN: Errno = 6;
    pub const ALREADY: Errno = 7;
    pub const BADF: Errno = 8;
    pub const BADMSG: Errno = 9;
    pub const BUSY: Errno = 10;
    pub const CANCELED: Errno = 11;
    pub const CHILD: Errno = 12;
    pub const CONNABORTED: Errno = 13;
    pub const CONNREFUSED: Errno = 14;
    pub const CONNRESET: Errno = 15;
    pub const DEADLK: Errno = 16;
    pub const DESTADDRREQ: Errno = 17;
    pub const DOM: Errno = 18;
    pub const DQUOT: Errno = 19;
    pub const EXIST: Errno = 20;
    pub const FAULT: Errno = 21;
    pub const FBIG: Errno = 22;
    pub const HOSTUNREACH: Errno = 23;
    pub const IDRM: Errno = 24;
    pub const ILSEQ: Errno = 25;
    pub const INPROGRESS: Errno = 26;
    pub const INTR: Errno = 27;
    pub const INVAL: Errno = 28;
    pub const IO: Errno = 29;
    pub const ISCONN: Errno = 30;
    pub const ISDIR: Errno = 31;
    pub const LOOP: Errno = 32;
    pub const MFILE: Errno = 33;
    pub const MLINK: Errno = 34;
    pub const MSGSIZE: Errno = 35;
    pub const MULTIHOP: Errno = 36;
    pub const NAMETOOLONG: Errno = 37;
    pub const NETDOWN: Errno = 38;
    pub const NETRESET: Errno = 39;
    pub const NETUNREACH: Errno = 40;
    pub const NFILE: Errno = 41;
    pub const NOBUFS: Errno = 42;
    pub const NODEV: Errno = 43;
    pub const NOENT: Errno = 44;
    pub const NOEXEC: Errno = 45;
    pub const NOLCK: Errno = 46;
    pub const NOLINK: Errno = 47;
    pub const NOMEM: Errno = 48;
    pub const NOMSG: Errno = 49;
    pub const NOPROTOOPT: Errno = 50;
    pub const NOSPC: Errno = 51;
    pub const NOSYS: Errno = 52;
    pub const NOTCONN: Errno = 53;
    pub const NOTDIR: Errno = 54;
    pub const NOTEMPTY: Errno = 55;
    pub const NOTRECOVERABLE: Errno = 56;
    pub const NOTSOCK: Errno = 57;
    pub const NOTSUP: Errno = 58;
    pub const NOTTY: Errno = 59;
    pub const NXIO: Errno = 60;
    pub const OVERFLOW: Errno = 61;
    pub const OWNERDEAD: Errno = 62;
    pub const PERM: Errno = 63;
    pub const PIPE: Errno = 64;
    pub const PROTO: Errno = 65;
    pub const PROTONOSUPPORT: Errno = 66;
    pub const PROTOTYPE: Errno = 67;
    pub const RANGE: Errno = 68;
    pub const ROFS: Errno = 69;
    pub const SPIPE: Errno = 70;
    pub const SRCH: Errno = 71;
    pub const STALE: Errno = 72;
    pub const TIMEDOUT: Errno = 73;
    pub const TXTBSY: Errno = 74;
    pub const XDEV: Errno = 75;
    pub const NOTCAPABLE: Errno = 76;
}

/// Host errno (as rustix names it, portable across hosts) → WASI errno.
const HOST_ERRNO: &[(rustix::io::Errno, Errno)] = {
    use rustix::io::Errno as H;
    &[
        (H::TOOBIG, errno::TOOBIG),
        (H::ACCESS, errno::ACCES),
        (H::ADDRINUSE, errno::ADDRINUSE),
        (H::ADDRNOTAVAIL, errno::ADDRNOTAVAIL),
        (H::AFNOSUPPORT, errno::AFNOSUPPORT),
        (H::AGAIN, errno::AGAIN),
        (H::ALREADY, errno::ALREADY),
        (H::BADF, errno::BADF),
        (H::BADMSG, errno::BADMSG),
        (H::BUSY, errno::BUSY),
        (H::CANCELED, errno::CANCELED),
        (H::CHILD, errno::CHILD),
        (H::CONNABORTED, errno::CONNABORTED),
        (H::CONNREFUSED, errno::CONNREFUSED),
        (H::CONNRESET, errno::CONNRESET),
        (H::DEADLK, errno::DEADLK),
        (H::DESTADDRREQ, errno::DESTADDRREQ),
        (H::DOM, errno::DOM),
        (H::DQUOT, errno::DQUOT),
        (H::EXIST, errno::EXIST),
        (H::FAULT, errno::FAULT),
        (H::FBIG, errno::FBIG),
        (H::HOSTUNREACH, errno::HOSTUNREACH),
        (H::IDRM, errno::IDRM),
        (H::ILSEQ, errno::ILSEQ),
        (H::INPROGRESS, errno::INPROGRESS),
        (H::INTR, errno::INTR),
        (H::INVAL, errno::INVAL),
        (H::IO, errno::IO),
        (H::ISCONN, errno::ISCONN),
        (H::ISDIR, errno::ISDIR),
        (H::LOOP, errno::LOOP),
        (H::MFILE, errno::MFILE),
        (H::MLINK, errno::MLINK),
        (H::MSGSIZE, errno::MSGSIZE),
        (H::MULTIHOP, errno::MULTIHOP),
        (H::NAMETOOLONG, errno::NAMETOOLONG),
        (H::NETDOWN, errno::NETDOWN),
        (H::NETRESET, errno::NETRESET),
        (H::NETUNREACH, errno::NETUNREACH),
        (H::NFILE, errno::NFILE),
        (H::NOBUFS, errno::NOBUFS),
        (H::NODEV, errno::NODEV),
        (H::NOENT, errno::NOENT),
        (H::NOEXEC, errno::NOEXEC),
        (H::NOLCK, errno::NOLCK),
        (H::NOLINK, errno::NOLINK),
        (H::NOMEM, errno::NOMEM),
        (H::NOMSG, errno::NOMSG),
        (H::NOPROTOOPT, errno::NOPROTOOPT),
        (H::NOSPC, errno::NOSPC),
        (H::NOSYS, errno::NOSYS),
        (H::NOTCONN, errno::NOTCONN),
        (H::NOTDIR, errno::NOTDIR),
        (H::NOTEMPTY, errno::NOTEMPTY),
        (H::NOTRECOVERABLE, errno::NOTRECOVERABLE),
        (H::NOTSOCK, errno::NOTSOCK),
        (H::NOTSUP, errno::NOTSUP),
        (H::OPNOTSUPP, errno::NOTSUP),
        (H::NOTTY, errno::NOTTY),
        (H::NXIO, errno::NXIO),
        (H::OVERFLOW, errno::OVERFLOW),
        (H::OWNERDEAD, errno::OWNERDEAD),
        (H::PERM, errno::PERM),
        (H::PIPE, errno::PIPE),
        (H::PROTO, errno::PROTO),
        (H::PROTONOSUPPORT, errno::PROTONOSUPPORT),
        (H::PROTOTYPE, errno::PROTOTYPE),
        (H::RANGE, errno::RANGE),
        (H::ROFS, errno::ROFS),
        (H::SPIPE, errno::SPIPE),
        (H::SRCH, errno::SRCH),
        (H::STALE, errno::STALE),
        (H::TIMEDOUT, errno::TIMEDOUT),
        (H::TXTBSY, errno::TXTBSY),
        (H::XDEV, errno::XDEV),
    ]
};

/// The WASI errno for a host I/O error: its OS number when it has one, else its kind (cap-std reports
/// an attempt to leave a directory as `PermissionDenied` without a number: `EPERM`, as wasmtime).
pub(super) fn from_io(e: &io::Error) -> Errno {
    if let Some(raw) = e.raw_os_error() {
        let host = rustix::io::Errno::from_raw_os_error(raw);
        if let Some((_, wasi)) = HOST_ERRNO.iter().find(|(h, _)| *h == host) {
            return *wasi;
        }
        return errno::IO;
    }
    use io::ErrorKind as K;
    match e.kind() {
        K::NotFound => errno::NOENT,
        K::PermissionDenied => errno::PERM,
        K::AlreadyExists => errno::EXIST,
        K::InvalidInput | K::InvalidData => errno::INVAL,
        K::Unsupported => errno::NOTSUP,
        K::BrokenPipe => errno::PIPE,
        K::WouldBlock => errno::AGAIN,
        K::TimedOut => errno::TIMEDOUT,
        K::Interrupted => errno::INTR,
        _ => errno::IO,
    }
}

/// The WASI errno for a tern error from the stream side of the process (a handle that is a stream).
pub(super) fn from_tern(e: &crate::Error) -> Errno {
    use crate::Error as E;
    match e {
        E::InvalidArgument(_) => errno::INVAL,
        E::PermissionDenied(_) => errno::ACCES,
        E::NotFound(_) => errno::NOENT,
        E::Eof => errno::SUCCESS,
        E::Unsupported(_) => errno::NOTSUP,
        E::LimitExceeded(_) => errno::MFILE,
        E::Timeout(_) => errno::TIMEDOUT,
        E::ConnectionFailed(_) => errno::PIPE,
        _ => errno::IO,
    }
}

/// Result of a WASI function body.
pub(super) type R<T = ()> = Result<T, Errno>;

/// Runs a WASI function body with guest memory and the process; the result is what the guest gets.
pub(super) fn call(c: &mut C<'_>, f: impl FnOnce(&mut [u8], &mut Process) -> R) -> i32 {
    match with_memory(c, f) {
        Ok(()) => i32::from(errno::SUCCESS),
        Err(e) => i32::from(e),
    }
}

/// Guest bytes `[ptr, ptr + len)`, or `EFAULT`.
pub(super) fn bytes(mem: &[u8], ptr: u32, len: u32) -> R<&[u8]> {
    memory::slice(mem, ptr as i32, len as i32).map_err(|_| errno::FAULT)
}

/// Writable guest bytes `[ptr, ptr + len)`, or `EFAULT`.
pub(super) fn bytes_mut(mem: &mut [u8], ptr: u32, len: u32) -> R<&mut [u8]> {
    memory::slice_mut(mem, ptr as i32, len as i32).map_err(|_| errno::FAULT)
}

/// Checks that `[ptr, ptr + len)` is in guest memory, before a call with side effects writes there.
pub(super) fn check(mem: &[u8], ptr: u32, len: u32) -> R {
    bytes(mem, ptr, len).map(|_| ())
}

/// A little-endian `u32` from guest memory.
pub(super) fn get_u32(mem: &[u8], ptr: u32) -> R<u32> {
    let b = bytes(mem, ptr, 4)?;
    Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// A little-endian `u64` from guest memory.
pub(super) fn get_u64(mem: &[u8], ptr: u32) -> R<u64> {
    let b = bytes(mem, ptr, 8)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(b);
    Ok(u64::from_le_bytes(a))
}

/// Writes `value` (already little-endian bytes) at `ptr`.
pub(super) fn put(mem: &mut [u8], ptr: u32, value: &[u8]) -> R {
    let len = u32::try_from(value.len()).map_err(|_| errno::FAULT)?;
    bytes_mut(mem, ptr, len)?.copy_from_slice(value);
    Ok(())
}

/// Writes a little-endian `u32` at `ptr`.
pub(super) fn put_u32(mem: &mut [u8], ptr: u32, value: u32) -> R {
    put(mem, ptr, &value.to_le_bytes())
}

/// Writes a little-endian `u64` at `ptr`.
pub(super) fn put_u64(mem: &mut [u8], ptr: u32, value: u64) -> R {
    put(mem, ptr, &value.to_le_bytes())
}

/// A path argument: `EFAULT` out of bounds, `EILSEQ` if it is not UTF-8 (as wasmtime).
pub(super) fn path_arg(mem: &[u8], ptr: u32, len: u32) -> R<String> {
    let raw = bytes(mem, ptr, len)?;
    std::str::from_utf8(raw)
        .map(str::to_owned)
        .map_err(|_| errno::ILSEQ)
}

/// Defines every function of `wasi_snapshot_preview1` in the linker.
pub(super) fn link(imports: &mut Imports<'_>) {
    let m = tern_abi::module::WASI_PREVIEW1;
    args_env::link(imports, m);
    clock::link(imports, m);
    poll::link(imports, m);
    fd::link(imports, m);
    path::link(imports, m);
    sock::link(imports, m);
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustix::io::Errno as H;

    fn host(e: H) -> io::Error {
        io::Error::from_raw_os_error(e.raw_os_error())
    }

    #[test]
    fn host_errors_map_to_the_preview1_numbers() {
        // The values the witx assigns, checked by number so a typo in the table cannot hide.
        for (e, wasi) in [
            (H::ACCESS, 2),
            (H::BADF, 8),
            (H::EXIST, 20),
            (H::FAULT, 21),
            (H::INVAL, 28),
            (H::ISDIR, 31),
            (H::LOOP, 32),
            (H::MFILE, 33),
            (H::NAMETOOLONG, 37),
            (H::NOENT, 44),
            (H::NOSYS, 52),
            (H::NOTDIR, 54),
            (H::NOTEMPTY, 55),
            (H::NOTSOCK, 57),
            (H::NOTSUP, 58),
            (H::PERM, 63),
            (H::PIPE, 64),
            (H::ROFS, 69),
            (H::SPIPE, 70),
            (H::XDEV, 75),
        ] {
            assert_eq!(from_io(&host(e)), wasi, "{e:?}");
        }
        // Every host number in the table maps to itself (no entry is shadowed by an earlier one),
        // except where two host names share a number (EOPNOTSUPP is ENOTSUP on Linux).
        for (h, wasi) in HOST_ERRNO {
            let got = from_io(&host(*h));
            assert!(got == *wasi || got == errno::NOTSUP, "{h:?}");
        }
    }

    #[test]
    fn errors_without_a_host_number_map_by_kind() {
        use io::ErrorKind as K;
        // cap-std reports an escape attempt as PermissionDenied with no OS number: EPERM.
        assert_eq!(
            from_io(&io::Error::new(K::PermissionDenied, "escape")),
            errno::PERM
        );
        assert_eq!(from_io(&io::Error::new(K::NotFound, "x")), errno::NOENT);
        assert_eq!(from_io(&io::Error::new(K::InvalidInput, "x")), errno::INVAL);
        assert_eq!(from_io(&io::Error::other("x")), errno::IO);
        assert_eq!(
            from_tern(&crate::Error::PermissionDenied("denied".into())),
            errno::ACCES
        );
        assert_eq!(
            from_tern(&crate::Error::LimitExceeded("full".into())),
            errno::MFILE
        );
    }

    #[test]
    fn guest_memory_is_little_endian_and_bounds_checked() {
        let mut mem = [0u8; 16];
        put_u32(&mut mem, 0, 0x0102_0304).unwrap();
        assert_eq!(&mem[..4], &[4, 3, 2, 1]);
        put_u64(&mut mem, 8, 0x0102_0304_0506_0708).unwrap();
        assert_eq!(get_u64(&mem, 8).unwrap(), 0x0102_0304_0506_0708);
        assert_eq!(get_u32(&mem, 0).unwrap(), 0x0102_0304);
        assert_eq!(put_u64(&mut mem, 12, 1), Err(errno::FAULT));
        assert_eq!(get_u32(&mem, u32::MAX), Err(errno::FAULT));
        assert_eq!(path_arg(&mem, 20, 1), Err(errno::FAULT));
        mem[0] = 0xff;
        assert_eq!(path_arg(&mem, 0, 1), Err(errno::ILSEQ));
    }
}
