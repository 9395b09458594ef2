//! The handle table's file-system side (used by WASI): preopened directories, and opens and other
//! operations relative to a directory handle.
//!
//! Every path goes through the same capability decision as [`Process::open`]: it is resolved inside
//! its directory handle ([`DirHandle::resolve`]: `..` and symlinks followed, never above the handle),
//! turned into the `file:` URL of the host path it names, and put to [`crate::Policy::check`], so
//! grants, `--deny` rules, denial messages and stats are the same as for a `file:` URL opened through
//! the stream ABI. Only then does the scheme ([`crate::scheme::dir`]) touch the file system, through
//! cap-std, which enforces the same confinement again at the system-call level.
//!
//! Errors are `std::io::Error`s carrying host errno values, so the front-end can report them exactly;
//! a policy denial is `EACCES`.

use std::io;
use std::path::Path;

use rustix::io::Errno;
use url::Url;

use super::{Entry, Process};
use crate::normalize::normalize;
use crate::policy::{Access, Denial};
use crate::scheme::dir::{self, errno, resolved_path, DirHandle, Node, OpenHow};
use crate::{Error, Result};

impl Process {
    /// Preopens host directory `host` as the guest's directory `guest` (the next handle number).
    /// The policy must grant `file://HOST` (`tern run --dir` adds that grant); what may change below
    /// it is the policy's to say too: under a read-only grant ([`crate::Policy::allow_read`], which
    /// `--dir HOST:ro` adds) every change fails with `EPERM`.
    pub fn preopen(&mut self, host: &Path, guest: &str) -> Result<i32> {
        let shown = host.display().to_string();
        let host = dir::canonical(host).map_err(|e| Error::from(e).context(&shown))?;
        let url = Url::from_directory_path(&host)
            .map_err(|()| Error::invalid(format!("{shown}: not an absolute directory path")))?;
        let url = normalize(url.as_str())?;
        self.check(&url)?;
        let handle = dir::preopen(&host, guest).map_err(|e| Error::from(e).context(&shown))?;
        self.insert(url.as_str(), Box::new(handle))
    }

    /// Opens `path` below directory handle `dirfd` (WASI's `path_open`); returns the new handle.
    pub fn open_at(&mut self, dirfd: i32, path: &str, how: &OpenHow) -> io::Result<i32> {
        // A file as the base is ENOTDIR here (not EBADF as for the other path calls), as in wasmtime.
        let needed = if how.mutates() {
            Access::ReadWrite
        } else {
            Access::ReadOnly
        };
        let (url, rel) = self.grant(dirfd, path, how.follow, Errno::NOTDIR, needed)?;
        if self.open_count >= self.limits.max_handles {
            return Err(errno(Errno::MFILE));
        }
        let node = self.dir(dirfd, Errno::NOTDIR)?.open_at(path, &rel, how)?;
        self.insert(url.as_str(), node.into_resource())
            .map_err(|_| errno(Errno::MFILE))
    }

    /// Runs `op` on `path` below directory handle `dirfd` once the policy grants the path; `op` gets
    /// the resolved path the policy judged, not the guest's. `follow` says whether a symlink in the
    /// last component is followed; `needed` whether `op` only looks or changes something.
    pub fn at<T>(
        &mut self,
        dirfd: i32,
        path: &str,
        follow: bool,
        needed: Access,
        op: impl FnOnce(&DirHandle, &str) -> io::Result<T>,
    ) -> io::Result<T> {
        let (_, rel) = self.grant(dirfd, path, follow, Errno::BADF, needed)?;
        op(self.dir(dirfd, Errno::BADF)?, &resolved_path(path, &rel))
    }

    /// Runs `op` on `from` below `from_fd` and `to` below `to_fd` (rename, link) once the policy
    /// grants both paths and neither is, or holds, a denied path ([`crate::Policy::check_movable`]).
    /// Neither last component is followed.
    pub fn at2<T>(
        &mut self,
        from_fd: i32,
        from: &str,
        to_fd: i32,
        to: &str,
        op: impl FnOnce(&DirHandle, &str, &DirHandle, &str) -> io::Result<T>,
    ) -> io::Result<T> {
        let write = Access::ReadWrite;
        let (from_url, from_rel) = self.grant(from_fd, from, false, Errno::BADF, write)?;
        let (to_url, to_rel) = self.grant(to_fd, to, false, Errno::BADF, write)?;
        // Moving a directory that holds a denied path would carry it out from under its rule.
        for url in [from_url, to_url] {
            let verdict = self.policy.check_movable(&url);
            self.judged(&url, verdict).map_err(denial_errno)?;
        }
        let (from, to) = (&resolved_path(from, &from_rel), &resolved_path(to, &to_rel));
        // Two handles borrowed at once: take the first out of its slot for the call.
        let i = slot(from_fd);
        let mut first = self
            .handles
            .get_mut(i)
            .and_then(Option::take)
            .ok_or_else(|| errno(Errno::BADF))?;
        let result = match first.resource.node() {
            Some(Node::Dir(a)) if from_fd == to_fd => op(a, from, a, to),
            Some(Node::Dir(a)) => match self.dir(to_fd, Errno::BADF) {
                Ok(b) => op(a, from, b, to),
                Err(e) => Err(e),
            },
            _ => Err(errno(Errno::BADF)),
        };
        self.handles[i] = Some(first);
        result
    }

    /// Makes handle `to` refer to what `from` refers to, closing what `to` referred to; `from` becomes
    /// free. Both must be open (`EBADF` otherwise), so the table cannot be grown to an arbitrary size.
    pub fn renumber(&mut self, from: i32, to: i32) -> io::Result<()> {
        let (i, j) = (slot(from), slot(to));
        let open = |p: &Process, k: usize| p.handles.get(k).is_some_and(Option::is_some);
        if !open(self, i) || !open(self, j) {
            return Err(errno(Errno::BADF));
        }
        if i == j {
            return Ok(());
        }
        let moved: Option<Entry> = self.handles[i].take();
        if let Some(mut replaced) = std::mem::replace(&mut self.handles[j], moved) {
            // The replaced handle is gone for good; a failed final flush has no one to report to.
            let _ = replaced.resource.close();
        }
        self.open_count -= 1;
        Ok(())
    }

    /// Reads from the file behind `fd` at its position (or at `offset`, leaving the position alone),
    /// counted like [`Process::read`]; `EBADF` if `fd` is not a file.
    pub fn file_read(&mut self, fd: i32, buf: &mut [u8], offset: Option<u64>) -> io::Result<usize> {
        let n = self.file(fd)?.read_io(buf, offset)?;
        self.stats.bytes_read += n as u64;
        Ok(n)
    }

    /// Writes to the file behind `fd` (see [`Process::file_read`]), counted like [`Process::write`].
    pub fn file_write(&mut self, fd: i32, buf: &[u8], offset: Option<u64>) -> io::Result<usize> {
        let n = self.file(fd)?.write_io(buf, offset)?;
        self.stats.bytes_written += n as u64;
        Ok(n)
    }

    /// The file behind handle `fd`, or `EBADF`.
    fn file(&mut self, fd: i32) -> io::Result<&mut dir::FileHandle> {
        match self.resource(fd).map_err(|_| errno(Errno::BADF))?.node() {
            Some(Node::File(f)) => Ok(f),
            _ => Err(errno(Errno::BADF)),
        }
    }

    /// Asks the policy whether what handle `fd` names (a file or directory opened through a
    /// preopen) may be changed without a path: its size or times.
    pub fn may_change(&mut self, fd: i32) -> io::Result<()> {
        let url = self.url_of(fd).ok_or_else(|| errno(Errno::BADF))?;
        let url = Url::parse(url).map_err(|_| errno(Errno::BADF))?;
        let verdict = self.policy.check_write(&url);
        self.judged(&url, verdict).map_err(denial_errno)
    }

    /// Resolves `path` below `dirfd`, asks the policy about its URL for `needed` access, and returns
    /// the URL and the canonical components. `file_errno` is the error when `dirfd` is a file.
    fn grant(
        &mut self,
        dirfd: i32,
        path: &str,
        follow: bool,
        file_errno: Errno,
        needed: Access,
    ) -> io::Result<(Url, Vec<String>)> {
        let dir = self.dir(dirfd, file_errno)?;
        let rel = dir.resolve(path, follow)?;
        let url = dir.url_of(&rel)?;
        let verdict = match needed {
            Access::ReadOnly => self.policy.check(&url),
            Access::ReadWrite => self.policy.check_write(&url),
        };
        self.judged(&url, verdict).map_err(denial_errno)?;
        Ok((url, rel))
    }

    /// The directory behind handle `fd`: `EBADF` for no handle or a stream, `file_errno` for a file.
    fn dir(&mut self, fd: i32, file_errno: Errno) -> io::Result<&mut DirHandle> {
        let resource = self.resource(fd).map_err(|_| errno(Errno::BADF))?;
        match resource.node() {
            Some(Node::Dir(d)) => Ok(d),
            Some(Node::File(_)) => Err(errno(file_errno)),
            None => Err(errno(Errno::BADF)),
        }
    }
}

/// The errno for a denial: `EPERM` for a change under a read-only grant (a missing right, as
/// wasmtime reports it), `EACCES` for anything the policy does not grant at all.
fn denial_errno(denial: Denial) -> io::Error {
    if denial.read_only() {
        errno(Errno::PERM)
    } else {
        errno(Errno::ACCESS)
    }
}

/// The table index of handle `fd` (a negative handle maps past any table).
fn slot(fd: i32) -> usize {
    usize::try_from(fd).unwrap_or(usize::MAX)
}
