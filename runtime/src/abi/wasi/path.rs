//! `path_*`: calls on a path below a directory handle. Each becomes a [`Process`] call that resolves
//! the path inside the directory, asks the policy, and only then lets the directory scheme act.
//!
//! [`Process`]: crate::Process

use super::fd::{fdflags, filestat, new_times, node, require, rights, rights_of};
use super::{bytes_mut, call, check, errno, from_io, path_arg, put, put_u32, Imports, C, R};
use crate::policy::Access;
use crate::scheme::dir::{DirHandle, Node, OpenHow, Rights};

/// `lookupflags`: follow a symlink in the last component.
const SYMLINK_FOLLOW: i32 = 1;

/// `oflags` bits.
mod oflags {
    pub const CREAT: i32 = 1 << 0;
    pub const DIRECTORY: i32 = 1 << 1;
    pub const EXCL: i32 = 1 << 2;
    pub const TRUNC: i32 = 1 << 3;
}

pub(super) fn link(imports: &mut Imports<'_>, m: &'static str) {
    imports.func(
        m,
        "path_open",
        |mut c: C,
         dirfd: i32,
         dirflags: i32,
         path: i32,
         path_len: i32,
         oflags: i32,
         base: i64,
         inheriting: i64,
         fdflags: i32,
         out: i32| {
            call(&mut c, |mem, p| {
                check(mem, out as u32, 4)?;
                let path = path_arg(mem, path as u32, path_len as u32)?;
                if oflags & !0xf != 0 || fdflags & !0x1f != 0 {
                    return Err(errno::INVAL);
                }
                // The directory's rights decide what the open may do, and bound the new handle's:
                // it gets exactly what it asks for within the directory's inheriting rights.
                let mut needed = rights::PATH_OPEN;
                if oflags & oflags::CREAT != 0 {
                    needed |= rights::PATH_CREATE_FILE;
                }
                if oflags & oflags::TRUNC != 0 {
                    needed |= rights::PATH_FILESTAT_SET_SIZE;
                }
                need(p, dirfd, needed)?;
                let parent = rights_of(p, dirfd)?;
                let granted = Rights {
                    base: base as u64 & parent.inheriting,
                    inheriting: inheriting as u64 & parent.inheriting,
                };
                let base = base as u64;
                let fdflags = fdflags as u16;
                let how = OpenHow {
                    // The rights the guest asks for decide the access mode, as in wasmtime.
                    read: base & rights::FD_READ != 0,
                    write: base & rights::FD_WRITE != 0,
                    create: oflags & oflags::CREAT != 0,
                    exclusive: oflags & oflags::EXCL != 0,
                    truncate: oflags & oflags::TRUNC != 0,
                    directory: oflags & oflags::DIRECTORY != 0,
                    follow: dirflags & SYMLINK_FOLLOW != 0,
                    append: fdflags & fdflags::APPEND != 0,
                    nonblock: fdflags & fdflags::NONBLOCK != 0,
                    sync: fdflags & fdflags::SYNC != 0,
                    dsync: fdflags & fdflags::DSYNC != 0,
                    rsync: fdflags & fdflags::RSYNC != 0,
                    rights: Some(granted),
                };
                let fd = p.open_at(dirfd, &path, &how).map_err(|e| from_io(&e))?;
                put_u32(mem, out as u32, fd as u32)
            })
        },
    );
    imports.func(
        m,
        "path_create_directory",
        |mut c: C, fd: i32, path: i32, len: i32| {
            let right = rights::PATH_CREATE_DIRECTORY;
            change_at(&mut c, fd, path, len, right, DirHandle::create_dir)
        },
    );
    imports.func(
        m,
        "path_remove_directory",
        |mut c: C, fd: i32, path: i32, len: i32| {
            let right = rights::PATH_REMOVE_DIRECTORY;
            change_at(&mut c, fd, path, len, right, DirHandle::remove_dir)
        },
    );
    imports.func(
        m,
        "path_unlink_file",
        |mut c: C, fd: i32, path: i32, len: i32| {
            let right = rights::PATH_UNLINK_FILE;
            change_at(&mut c, fd, path, len, right, DirHandle::remove_file)
        },
    );
    imports.func(
        m,
        "path_filestat_get",
        |mut c: C, fd: i32, flags: i32, path: i32, len: i32, out: i32| {
            call(&mut c, |mem, p| {
                check(mem, out as u32, 64)?;
                let path = path_arg(mem, path as u32, len as u32)?;
                need(p, fd, rights::PATH_FILESTAT_GET)?;
                let follow = flags & SYMLINK_FOLLOW != 0;
                let stat = p
                    .at(fd, &path, follow, Access::ReadOnly, |d, path| {
                        d.stat_at(path, follow)
                    })
                    .map_err(|e| from_io(&e))?;
                put(mem, out as u32, &filestat(&stat))
            })
        },
    );
    imports.func(
        m,
        "path_filestat_set_times",
        |mut c: C, fd: i32, flags: i32, path: i32, len: i32, atim: i64, mtim: i64, fst: i32| {
            call(&mut c, |mem, p| {
                let path = path_arg(mem, path as u32, len as u32)?;
                let (atim, mtim) = new_times(atim, mtim, fst)?;
                need(p, fd, rights::PATH_FILESTAT_SET_TIMES)?;
                let follow = flags & SYMLINK_FOLLOW != 0;
                p.at(fd, &path, follow, Access::ReadWrite, |d, path| {
                    d.set_times_at(path, follow, atim, mtim)
                })
                .map_err(|e| from_io(&e))
            })
        },
    );
    imports.func(
        m,
        "path_rename",
        |mut c: C, fd: i32, old: i32, old_len: i32, new_fd: i32, new: i32, new_len: i32| {
            call(&mut c, |mem, p| {
                let old = path_arg(mem, old as u32, old_len as u32)?;
                let new = path_arg(mem, new as u32, new_len as u32)?;
                need(p, fd, rights::PATH_RENAME_SOURCE)?;
                need(p, new_fd, rights::PATH_RENAME_TARGET)?;
                p.at2(fd, &old, new_fd, &new, |a, old, b, new| {
                    a.rename(old, b, new)
                })
                .map_err(|e| from_io(&e))
            })
        },
    );
    imports.func(
        m,
        "path_link",
        |mut c: C,
         fd: i32,
         flags: i32,
         old: i32,
         old_len: i32,
         new_fd: i32,
         new: i32,
         new_len: i32| {
            call(&mut c, |mem, p| {
                let old = path_arg(mem, old as u32, old_len as u32)?;
                let new = path_arg(mem, new as u32, new_len as u32)?;
                // Linking the target of a symlink is not supported (as wasmtime): the link could
                // otherwise reach a file the symlink names outside the directory.
                if flags & SYMLINK_FOLLOW != 0 {
                    return Err(errno::INVAL);
                }
                need(p, fd, rights::PATH_LINK_SOURCE)?;
                need(p, new_fd, rights::PATH_LINK_TARGET)?;
                p.at2(fd, &old, new_fd, &new, |a, old, b, new| {
                    a.hard_link(old, b, new)
                })
                .map_err(|e| from_io(&e))
            })
        },
    );
    imports.func(
        m,
        "path_symlink",
        |mut c: C, old: i32, old_len: i32, fd: i32, new: i32, new_len: i32| {
            call(&mut c, |mem, p| {
                // The link's contents are data, not a path resolved now: only the new link's own
                // path is resolved and granted. Following it later is confined like any path. An
                // absolute target could never be followed inside a preopen: EPERM, as wasmtime.
                let contents = path_arg(mem, old as u32, old_len as u32)?;
                if contents.starts_with('/') {
                    return Err(errno::PERM);
                }
                let new = path_arg(mem, new as u32, new_len as u32)?;
                need(p, fd, rights::PATH_SYMLINK)?;
                p.at(fd, &new, false, Access::ReadWrite, |d, new| {
                    d.symlink(&contents, new)
                })
                .map_err(|e| from_io(&e))
            })
        },
    );
    imports.func(
        m,
        "path_readlink",
        |mut c: C, fd: i32, path: i32, len: i32, buf: i32, buf_len: i32, out: i32| {
            call(&mut c, |mem, p| {
                check(mem, out as u32, 4)?;
                check(mem, buf as u32, buf_len as u32)?;
                let path = path_arg(mem, path as u32, len as u32)?;
                need(p, fd, rights::PATH_READLINK)?;
                let contents = p
                    .at(fd, &path, false, Access::ReadOnly, |d, path| {
                        d.read_link(path)
                    })
                    .map_err(|e| from_io(&e))?;
                // Truncated to the buffer, as readlink(2) and wasmtime do.
                let n = contents.len().min(buf_len as u32 as usize);
                bytes_mut(mem, buf as u32, n as u32)?.copy_from_slice(&contents[..n]);
                put_u32(mem, out as u32, n as u32)
            })
        },
    );
}

/// `ENOTCAPABLE` if `fd` is a directory without every right in `needed` (a file or stream is left
/// to fail as the call fails on it).
fn need(p: &mut crate::Process, fd: i32, needed: u64) -> R {
    match node(p, fd)? {
        Some(Node::Dir(_)) => require(p, fd, needed),
        _ => Ok(()),
    }
}

/// A call that changes one entry below directory `fd` without following a final symlink (create a
/// directory, remove one, unlink a file), which needs `right` on `fd`: the path is read, granted,
/// then `op` acts.
fn change_at(
    c: &mut C<'_>,
    fd: i32,
    path: i32,
    len: i32,
    right: u64,
    op: fn(&DirHandle, &str) -> std::io::Result<()>,
) -> i32 {
    call(c, |mem, p| {
        let path = path_arg(mem, path as u32, len as u32)?;
        need(p, fd, right)?;
        p.at(fd, &path, false, Access::ReadWrite, op)
            .map_err(|e| from_io(&e))
    })
}
