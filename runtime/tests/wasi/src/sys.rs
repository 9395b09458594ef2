//! Raw wasi_snapshot_preview1 imports with the exact core-wasm signatures, so tests can pass any
//! pointer (including out-of-bounds ones) and see the errno the host returns.
#![allow(dead_code)]

#[link(wasm_import_module = "wasi_snapshot_preview1")]
extern "C" {
    pub fn args_get(argv: i32, buf: i32) -> i32;
    pub fn args_sizes_get(argc: i32, size: i32) -> i32;
    pub fn environ_get(env: i32, buf: i32) -> i32;
    pub fn environ_sizes_get(count: i32, size: i32) -> i32;
    pub fn clock_res_get(id: i32, out: i32) -> i32;
    pub fn clock_time_get(id: i32, precision: i64, out: i32) -> i32;
    pub fn fd_advise(fd: i32, off: i64, len: i64, advice: i32) -> i32;
    pub fn fd_allocate(fd: i32, off: i64, len: i64) -> i32;
    pub fn fd_close(fd: i32) -> i32;
    pub fn fd_datasync(fd: i32) -> i32;
    pub fn fd_fdstat_get(fd: i32, out: i32) -> i32;
    pub fn fd_fdstat_set_flags(fd: i32, flags: i32) -> i32;
    pub fn fd_fdstat_set_rights(fd: i32, base: i64, inheriting: i64) -> i32;
    pub fn fd_filestat_get(fd: i32, out: i32) -> i32;
    pub fn fd_filestat_set_size(fd: i32, size: i64) -> i32;
    pub fn fd_filestat_set_times(fd: i32, atim: i64, mtim: i64, flags: i32) -> i32;
    pub fn fd_pread(fd: i32, iovs: i32, n: i32, off: i64, out: i32) -> i32;
    pub fn fd_prestat_get(fd: i32, out: i32) -> i32;
    pub fn fd_prestat_dir_name(fd: i32, buf: i32, len: i32) -> i32;
    pub fn fd_pwrite(fd: i32, iovs: i32, n: i32, off: i64, out: i32) -> i32;
    pub fn fd_read(fd: i32, iovs: i32, n: i32, out: i32) -> i32;
    pub fn fd_readdir(fd: i32, buf: i32, len: i32, cookie: i64, out: i32) -> i32;
    pub fn fd_renumber(fd: i32, to: i32) -> i32;
    pub fn fd_seek(fd: i32, off: i64, whence: i32, out: i32) -> i32;
    pub fn fd_sync(fd: i32) -> i32;
    pub fn fd_tell(fd: i32, out: i32) -> i32;
    pub fn fd_write(fd: i32, iovs: i32, n: i32, out: i32) -> i32;
    pub fn path_create_directory(fd: i32, path: i32, len: i32) -> i32;
    pub fn path_filestat_get(fd: i32, flags: i32, path: i32, len: i32, out: i32) -> i32;
    pub fn path_filestat_set_times(
        fd: i32,
        flags: i32,
        path: i32,
        len: i32,
        atim: i64,
        mtim: i64,
        fst: i32,
    ) -> i32;
    pub fn path_link(
        fd: i32,
        flags: i32,
        old: i32,
        old_len: i32,
        new_fd: i32,
        new: i32,
        new_len: i32,
    ) -> i32;
    pub fn path_open(
        fd: i32,
        dirflags: i32,
        path: i32,
        len: i32,
        oflags: i32,
        base: i64,
        inheriting: i64,
        fdflags: i32,
        out: i32,
    ) -> i32;
    pub fn path_readlink(fd: i32, path: i32, len: i32, buf: i32, buf_len: i32, out: i32) -> i32;
    pub fn path_remove_directory(fd: i32, path: i32, len: i32) -> i32;
    pub fn path_rename(fd: i32, old: i32, old_len: i32, new_fd: i32, new: i32, new_len: i32)
        -> i32;
    pub fn path_symlink(old: i32, old_len: i32, fd: i32, new: i32, new_len: i32) -> i32;
    pub fn path_unlink_file(fd: i32, path: i32, len: i32) -> i32;
    pub fn poll_oneoff(subs: i32, events: i32, n: i32, out: i32) -> i32;
    pub fn proc_exit(code: i32) -> !;
    pub fn proc_raise(sig: i32) -> i32;
    pub fn sched_yield() -> i32;
    pub fn random_get(buf: i32, len: i32) -> i32;
    pub fn sock_accept(fd: i32, flags: i32, out: i32) -> i32;
    pub fn sock_recv(fd: i32, iovs: i32, n: i32, flags: i32, out: i32, oflags: i32) -> i32;
    pub fn sock_send(fd: i32, iovs: i32, n: i32, flags: i32, out: i32) -> i32;
    pub fn sock_shutdown(fd: i32, how: i32) -> i32;
}

/// A pointer far outside any guest memory this program will have.
pub const BAD: i32 = -16;

/// The guest address of a value.
pub fn addr<T: ?Sized>(v: &T) -> i32 {
    v as *const T as *const u8 as usize as i32
}

/// The guest address of a value the host will write.
pub fn out<T: ?Sized>(v: &mut T) -> i32 {
    v as *mut T as *mut u8 as usize as i32
}

/// The name of a WASI errno (the ones these tests meet).
pub fn name(e: i32) -> String {
    let n = match e {
        0 => "ok",
        2 => "EACCES",
        8 => "EBADF",
        20 => "EEXIST",
        21 => "EFAULT",
        25 => "EILSEQ",
        28 => "EINVAL",
        29 => "EIO",
        31 => "EISDIR",
        32 => "ELOOP",
        37 => "ENAMETOOLONG",
        44 => "ENOENT",
        54 => "ENOTDIR",
        55 => "ENOTEMPTY",
        57 => "ENOTSOCK",
        58 => "ENOTSUP",
        63 => "EPERM",
        70 => "ESPIPE",
        76 => "ENOTCAPABLE",
        other => return format!("errno {other}"),
    };
    n.to_owned()
}

/// Prints `label: result`.
pub fn show(label: &str, e: i32) {
    println!("{label}: {}", name(e));
}

/// An iovec/ciovec for `buf`.
pub fn iov(buf: &[u8]) -> [u32; 2] {
    [buf.as_ptr() as usize as u32, buf.len() as u32]
}

/// Opens `path` under `dir` with the given oflags, rights (read/write) and fdflags.
pub fn open(
    dir: i32,
    follow: bool,
    path: &str,
    oflags: i32,
    read: bool,
    write: bool,
    fdflags: i32,
) -> Result<i32, i32> {
    let mut fd = 0i32;
    let fd_ptr = out(&mut fd);
    // The rights wasi-libc asks for: every right but those the access mode contradicts, and
    // every right for what is opened below (the host cuts both to the directory's inheriting set).
    let all: i64 = (1 << 30) - 1;
    let mut rights = all;
    if !read {
        rights &= !((1 << 1) | (1 << 14)); // FD_READ, FD_READDIR
    }
    if !write {
        rights &= !((1 << 6) | (1 << 0) | (1 << 8) | (1 << 22)); // FD_WRITE, DATASYNC, ALLOCATE, SET_SIZE
    }
    let e = unsafe {
        path_open(
            dir,
            follow as i32,
            path.as_ptr() as i32,
            path.len() as i32,
            oflags,
            rights,
            all,
            fdflags,
            fd_ptr,
        )
    };
    if e == 0 {
        Ok(fd)
    } else {
        Err(e)
    }
}
