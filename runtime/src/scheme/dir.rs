//! Directories and the files opened through them (what WASI's `path_*` and `fd_*` calls work on).
//!
//! A [`DirHandle`] holds an open `cap_std::fs::Dir`: every open, stat, link, rename or delete below it
//! is resolved by cap-std relative to that directory, so `..`, absolute paths, absolute symlinks and
//! symlinks that climb out fail (cap-std reports an escape as a permission error, which WASI hosts
//! report as `EPERM`). The policy check happens before, in [`crate::Process`], on the URL
//! [`DirHandle::url_of`] composes from the path [`DirHandle::resolve`] computes with symlinks
//! followed, so a `--deny` under a preopen also holds against a symlink that points into it.
//!
//! Errors are `std::io::Error`s carrying the host's errno where there is one, so a front-end can map
//! them exactly; [`errno`] makes one from a portable name.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};

use cap_fs_ext::{
    DirExt as _, FollowSymlinks, OpenOptionsFollowExt as _, OpenOptionsMaybeDirExt as _,
    OpenOptionsSyncExt as _, SystemTimeSpec,
};
use cap_std::fs::MetadataExt as _;
use rustix::io::Errno;
use std::os::unix::fs::DirEntryExt as _;
use url::Url;

use super::resolve::{resolve, Found, Scope};
use super::Resource;
use crate::{Error, Result};

/// An `io::Error` with the host's number for `e` (portable: rustix knows each host's numbers).
pub fn errno(e: Errno) -> io::Error {
    io::Error::from_raw_os_error(e.raw_os_error())
}

/// The file-system object behind a handle.
pub enum Node<'a> {
    /// A directory (preopened, or opened with `path_open`).
    Dir(&'a mut DirHandle),
    /// A regular file, device or other non-directory opened with `path_open`.
    File(&'a mut FileHandle),
}

/// What kind of object a [`Stat`] describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Anything else (FIFOs, and streams that are not files).
    Unknown,
    /// A block device.
    BlockDevice,
    /// A character device.
    CharacterDevice,
    /// A directory.
    Directory,
    /// A regular file.
    RegularFile,
    /// A socket.
    Socket,
    /// A symbolic link.
    SymbolicLink,
}

impl Kind {
    fn of(t: cap_std::fs::FileType) -> Kind {
        use cap_std::fs::FileTypeExt as _;
        if t.is_dir() {
            Kind::Directory
        } else if t.is_file() {
            Kind::RegularFile
        } else if t.is_symlink() {
            Kind::SymbolicLink
        } else if t.is_block_device() {
            Kind::BlockDevice
        } else if t.is_char_device() {
            Kind::CharacterDevice
        } else if t.is_socket() {
            Kind::Socket
        } else {
            Kind::Unknown
        }
    }
}

/// A file's attributes, host-neutral (times in nanoseconds since the Unix epoch).
#[derive(Debug, Clone, Copy)]
pub struct Stat {
    /// Device number.
    pub dev: u64,
    /// Inode number.
    pub ino: u64,
    /// Kind of object.
    pub kind: Kind,
    /// Hard links.
    pub nlink: u64,
    /// Size in bytes.
    pub size: u64,
    /// Last access.
    pub atim: u64,
    /// Last modification.
    pub mtim: u64,
    /// Last status change.
    pub ctim: u64,
}

impl Stat {
    fn of(m: &cap_std::fs::Metadata) -> Stat {
        let ns = |s: i64, n: i64| {
            u64::try_from(s)
                .unwrap_or(0)
                .saturating_mul(1_000_000_000)
                .saturating_add(u64::try_from(n).unwrap_or(0))
        };
        Stat {
            dev: m.dev(),
            ino: m.ino(),
            kind: Kind::of(m.file_type()),
            nlink: m.nlink(),
            size: m.len(),
            atim: ns(m.atime(), m.atime_nsec()),
            mtim: ns(m.mtime(), m.mtime_nsec()),
            ctim: ns(m.ctime(), m.ctime_nsec()),
        }
    }
}

/// A new access or modification time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewTime {
    /// Leave it as it is.
    Keep,
    /// The current time.
    Now,
    /// Nanoseconds since the Unix epoch.
    At(u64),
}

impl NewTime {
    fn spec(self) -> Option<SystemTimeSpec> {
        match self {
            NewTime::Keep => None,
            NewTime::Now => Some(SystemTimeSpec::SymbolicNow),
            NewTime::At(ns) => Some(SystemTimeSpec::Absolute(
                cap_std::time::SystemTime::from_std(
                    std::time::UNIX_EPOCH + std::time::Duration::from_nanos(ns),
                ),
            )),
        }
    }

    fn timespec(self) -> rustix::fs::Timespec {
        match self {
            NewTime::Keep => rustix::fs::Timespec {
                tv_sec: 0,
                tv_nsec: rustix::fs::UTIME_OMIT,
            },
            NewTime::Now => rustix::fs::Timespec {
                tv_sec: 0,
                tv_nsec: rustix::fs::UTIME_NOW,
            },
            NewTime::At(ns) => rustix::fs::Timespec {
                tv_sec: i64::try_from(ns / 1_000_000_000).unwrap_or(i64::MAX) as _,
                tv_nsec: (ns % 1_000_000_000) as _,
            },
        }
    }
}

/// The rights a handle carries (WASI preview1's `rights` bit sets, opaque here): what the handle
/// itself may do, and what handles opened through it may get. They can only ever shrink.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rights {
    /// Rights on the handle itself.
    pub base: u64,
    /// Rights handles opened through it may have.
    pub inheriting: u64,
}

impl Rights {
    /// Every right: what a preopened directory starts with (the front-end narrows what it reports).
    pub const ALL: Rights = Rights {
        base: u64::MAX,
        inheriting: u64::MAX,
    };

    /// Whether `self` has no right `other` lacks.
    pub fn within(self, other: Rights) -> bool {
        self.base & !other.base == 0 && self.inheriting & !other.inheriting == 0
    }
}

/// How `path_open` wants a path opened.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenHow {
    /// Open for reading.
    pub read: bool,
    /// Open for writing.
    pub write: bool,
    /// Create the file if it is missing.
    pub create: bool,
    /// With `create`: fail if it exists.
    pub exclusive: bool,
    /// Truncate to length 0.
    pub truncate: bool,
    /// Fail unless it is a directory.
    pub directory: bool,
    /// Follow a symlink in the last component.
    pub follow: bool,
    /// Every write appends.
    pub append: bool,
    /// Non-blocking mode (recorded; files never block).
    pub nonblock: bool,
    /// `O_SYNC`.
    pub sync: bool,
    /// `O_DSYNC`.
    pub dsync: bool,
    /// `O_RSYNC`.
    pub rsync: bool,
    /// The rights the new handle gets.
    pub rights: Option<Rights>,
}

impl OpenHow {
    /// Whether the open could change the file system.
    pub fn mutates(&self) -> bool {
        self.write || self.create || self.truncate || self.append
    }
}

/// An open directory and where it is on the host.
pub struct DirHandle {
    dir: cap_std::fs::Dir,
    host: PathBuf,
    preopen: Option<String>,
    rights: Rights,
}

impl Resource for DirHandle {
    fn close(&mut self) -> Result<()> {
        Ok(())
    }

    fn node(&mut self) -> Option<Node<'_>> {
        Some(Node::Dir(self))
    }
}

/// The canonical absolute form of a host directory given on the command line.
pub fn canonical(host: &Path) -> io::Result<PathBuf> {
    std::fs::canonicalize(host)
}

/// Opens the host directory `host` (absolute and canonical) as the guest's preopened `guest`.
pub fn preopen(host: &Path, guest: &str) -> io::Result<DirHandle> {
    let dir = cap_std::fs::Dir::open_ambient_dir(host, cap_std::ambient_authority())?;
    Ok(DirHandle {
        dir,
        host: host.to_path_buf(),
        preopen: Some(guest.to_owned()),
        rights: Rights::ALL,
    })
}

impl DirHandle {
    /// The directory handle's rights.
    pub fn rights(&self) -> Rights {
        self.rights
    }

    /// Narrows the rights; returns false (and changes nothing) if `rights` has one the handle lacks.
    pub fn set_rights(&mut self, rights: Rights) -> bool {
        narrow(&mut self.rights, rights)
    }

    /// The guest's name for this directory if it was preopened.
    pub fn preopen_name(&self) -> Option<&str> {
        self.preopen.as_deref()
    }

    /// The `file:` URL of `rel` (canonical components from [`DirHandle::resolve`]) under this directory.
    pub fn url_of(&self, rel: &[String]) -> io::Result<Url> {
        let mut url = Url::from_directory_path(&self.host).map_err(|()| errno(Errno::INVAL))?;
        {
            let mut segments = url.path_segments_mut().map_err(|()| errno(Errno::INVAL))?;
            segments.pop_if_empty();
            segments.extend(rel);
        }
        Ok(url)
    }

    /// The host path of canonical components `rel` below this directory.
    fn host_of(&self, rel: &[String]) -> PathBuf {
        let mut path = self.host.clone();
        path.extend(rel);
        path
    }

    /// Resolves `path` to canonical components below this directory, following symlinks (the last
    /// component's only when `follow_last`), for the policy check ([`super::resolve`]). Never
    /// escapes: `..` above the directory or an absolute path or symlink is `EPERM`, too many
    /// symlinks `ELOOP`. Components that do not exist are kept as written.
    pub fn resolve(&self, path: &str, follow_last: bool) -> io::Result<Vec<String>> {
        resolve(path, follow_last, Scope::Beneath, |parts| {
            let at = parts.join("/");
            Ok(match self.dir.symlink_metadata(&at) {
                Ok(m) if m.file_type().is_symlink() => {
                    let target = self.dir.read_link_contents(&at)?;
                    let target = target.into_os_string().into_string();
                    Found::Link(target.map_err(|_| errno(Errno::ILSEQ))?)
                }
                Ok(m) if m.is_dir() => Found::Dir,
                Ok(_) => Found::Other,
                // Missing, or not to be looked at (an escape): the operation reports it.
                Err(_) => Found::Missing,
            })
        })
    }

    /// Opens `rel` (components from [`DirHandle::resolve`], already granted) below this directory as
    /// a file or directory. `path` is what the guest wrote, for its trailing slash. No symlink is
    /// followed in the last component: resolving followed it already if it was to be followed.
    pub fn open_at(&self, path: &str, rel: &[String], how: &OpenHow) -> io::Result<OpenedNode> {
        if how.directory && (how.create || how.exclusive || how.truncate) {
            return Err(errno(Errno::INVAL));
        }
        let mut options = cap_std::fs::OpenOptions::new();
        // Creating or truncating needs write access in std's model (and POSIX allows O_CREAT|O_RDONLY).
        let write = how.write || how.create || how.truncate;
        options
            .read(how.read || !(write || how.append))
            .write(write)
            // std (and cap-std) refuse append with truncate; O_APPEND is set after the open.
            .append(how.append && !how.truncate)
            .truncate(how.truncate)
            .follow(FollowSymlinks::No)
            .maybe_dir(true)
            .sync(how.sync)
            .dsync(how.dsync)
            .rsync(how.rsync);
        if how.create && how.exclusive {
            options.create_new(true);
        } else if how.create {
            options.create(true);
        }
        let file = self.dir.open_with(resolved_path(path, rel), &options)?;
        if how.append && how.truncate {
            let flags = rustix::fs::fcntl_getfl(&file)?;
            rustix::fs::fcntl_setfl(&file, flags | rustix::fs::OFlags::APPEND)?;
        }
        let is_dir = file.metadata()?.is_dir();
        if is_dir {
            if write || how.append {
                return Err(errno(Errno::ISDIR));
            }
            return Ok(OpenedNode::Dir(DirHandle {
                dir: cap_std::fs::Dir::from_std_file(file.into_std()),
                host: self.host_of(rel),
                preopen: None,
                rights: how.rights.unwrap_or(Rights::ALL),
            }));
        }
        if how.directory {
            return Err(errno(Errno::NOTDIR));
        }
        Ok(OpenedNode::File(FileHandle {
            file: file.into_std(),
            readable: how.read || !(write || how.append),
            writable: write || how.append,
            append: how.append,
            nonblock: how.nonblock,
            sync: how.sync,
            dsync: how.dsync,
            rsync: how.rsync,
            rights: how.rights.unwrap_or(Rights::ALL),
        }))
    }

    /// Attributes of the directory itself.
    pub fn stat(&self) -> io::Result<Stat> {
        Ok(Stat::of(&self.dir.dir_metadata()?))
    }

    /// Attributes of `path` below the directory.
    pub fn stat_at(&self, path: &str, follow: bool) -> io::Result<Stat> {
        let m = if follow {
            self.dir.metadata(path)?
        } else {
            self.dir.symlink_metadata(path)?
        };
        Ok(Stat::of(&m))
    }

    /// Sets the times of the directory itself.
    pub fn set_times(&self, atim: NewTime, mtim: NewTime) -> io::Result<()> {
        set_fd_times(&self.dir, atim, mtim)
    }

    /// Sets the times of `path` below the directory.
    pub fn set_times_at(
        &self,
        path: &str,
        follow: bool,
        atim: NewTime,
        mtim: NewTime,
    ) -> io::Result<()> {
        if follow {
            self.dir.set_times(path, atim.spec(), mtim.spec())
        } else {
            self.dir.set_symlink_times(path, atim.spec(), mtim.spec())
        }
    }

    /// Creates directory `path`.
    pub fn create_dir(&self, path: &str) -> io::Result<()> {
        self.dir.create_dir(path)
    }

    /// Removes the empty directory `path`.
    pub fn remove_dir(&self, path: &str) -> io::Result<()> {
        self.dir.remove_dir(path)
    }

    /// Removes the file (or symlink) `path`.
    pub fn remove_file(&self, path: &str) -> io::Result<()> {
        self.dir.remove_file(path)
    }

    /// Renames `from` below this directory to `to` below `target`.
    pub fn rename(&self, from: &str, target: &DirHandle, to: &str) -> io::Result<()> {
        self.dir.rename(from, &target.dir, to)
    }

    /// Makes `to` below `target` a hard link to `from` below this directory (never following a symlink).
    pub fn hard_link(&self, from: &str, target: &DirHandle, to: &str) -> io::Result<()> {
        self.dir.hard_link(from, &target.dir, to)
    }

    /// Creates symlink `link` whose contents are `contents`.
    pub fn symlink(&self, contents: &str, link: &str) -> io::Result<()> {
        self.dir.symlink_contents(contents, link)
    }

    /// The contents of symlink `path`.
    pub fn read_link(&self, path: &str) -> io::Result<Vec<u8>> {
        use std::os::unix::ffi::OsStringExt as _;
        Ok(self
            .dir
            .read_link_contents(path)?
            .into_os_string()
            .into_vec())
    }

    /// The directory's entries as `(name, kind, inode)`, sorted by name, without `.` and `..`.
    pub fn entries(&self) -> io::Result<Vec<(String, Kind, u64)>> {
        let mut entries = Vec::new();
        for entry in self.dir.entries()? {
            let entry = entry?;
            // WASI names are UTF-8; a host name that is not cannot be named by the guest anyway.
            let name = entry.file_name().to_string_lossy().into_owned();
            let kind = entry.file_type().map(Kind::of).unwrap_or(Kind::Unknown);
            entries.push((name, kind, entry.ino()));
        }
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(entries)
    }
}

/// The relative path to hand cap-std for resolved components `rel` of the guest's `path`: exactly the
/// components the policy judged, with the guest's trailing slash (a file named with one is
/// `ENOTDIR`) and its empty path (`ENOENT`) kept.
pub fn resolved_path(path: &str, rel: &[String]) -> String {
    if path.is_empty() {
        return String::new();
    }
    if rel.is_empty() {
        return ".".to_owned();
    }
    let mut joined = rel.join("/");
    if path.ends_with('/') {
        joined.push('/');
    }
    joined
}

/// What [`DirHandle::open_at`] opened.
pub enum OpenedNode {
    /// A directory.
    Dir(DirHandle),
    /// Anything else.
    File(FileHandle),
}

impl OpenedNode {
    /// The node as a handle's resource.
    pub fn into_resource(self) -> Box<dyn Resource> {
        match self {
            OpenedNode::Dir(d) => Box::new(d),
            OpenedNode::File(f) => Box::new(f),
        }
    }
}

/// A file opened through a directory.
pub struct FileHandle {
    file: File,
    readable: bool,
    writable: bool,
    append: bool,
    nonblock: bool,
    sync: bool,
    dsync: bool,
    rsync: bool,
    rights: Rights,
}

/// Sets `rights` to `to` if that only drops rights; says whether it did.
fn narrow(rights: &mut Rights, to: Rights) -> bool {
    let ok = to.within(*rights);
    if ok {
        *rights = to;
    }
    ok
}

/// The flags `fd_fdstat_get` reports for a file.
#[derive(Debug, Clone, Copy, Default)]
pub struct FileFlags {
    /// Opened for reading.
    pub readable: bool,
    /// Opened for writing.
    pub writable: bool,
    /// Writes append.
    pub append: bool,
    /// Non-blocking mode.
    pub nonblock: bool,
    /// `O_SYNC`.
    pub sync: bool,
    /// `O_DSYNC`.
    pub dsync: bool,
    /// `O_RSYNC`.
    pub rsync: bool,
}

impl Resource for FileHandle {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
        Ok(self.file.read(buf)?)
    }

    fn write(&mut self, buf: &[u8]) -> Result<usize> {
        Ok(self.file.write(buf)?)
    }

    fn flush(&mut self) -> Result<()> {
        self.file.sync_data().map_err(Error::from)
    }

    fn close(&mut self) -> Result<()> {
        // As for file://: closing is not a sync point.
        Ok(())
    }

    fn node(&mut self) -> Option<Node<'_>> {
        Some(Node::File(self))
    }
}

impl FileHandle {
    /// Reads at the file position (or at `offset`, leaving the position alone).
    pub fn read_io(&mut self, buf: &mut [u8], offset: Option<u64>) -> io::Result<usize> {
        match offset {
            None => self.file.read(buf),
            Some(at) => self.file.read_at(buf, at),
        }
    }

    /// Writes at the file position (or at `offset`, leaving the position alone; appending files
    /// append either way, as on Linux).
    pub fn write_io(&mut self, buf: &[u8], offset: Option<u64>) -> io::Result<usize> {
        match offset {
            None => self.file.write(buf),
            Some(at) => self.file.write_at(buf, at),
        }
    }

    /// Moves the file position; returns the new one.
    pub fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.file.seek(to)
    }

    /// The file's attributes.
    pub fn stat(&self) -> io::Result<Stat> {
        let m = cap_std::fs::Metadata::from_file(&self.file)?;
        Ok(Stat::of(&m))
    }

    /// The file handle's rights.
    pub fn rights(&self) -> Rights {
        self.rights
    }

    /// Narrows the rights (see [`DirHandle::set_rights`]).
    pub fn set_rights(&mut self, rights: Rights) -> bool {
        narrow(&mut self.rights, rights)
    }

    /// The open flags.
    pub fn flags(&self) -> FileFlags {
        FileFlags {
            readable: self.readable,
            writable: self.writable,
            append: self.append,
            nonblock: self.nonblock,
            sync: self.sync,
            dsync: self.dsync,
            rsync: self.rsync,
        }
    }

    /// Turns appending and non-blocking mode on or off.
    pub fn set_flags(&mut self, append: bool, nonblock: bool) -> io::Result<()> {
        use rustix::fs::OFlags;
        let mut flags = rustix::fs::fcntl_getfl(&self.file)?;
        flags.set(OFlags::APPEND, append);
        flags.set(OFlags::NONBLOCK, nonblock);
        rustix::fs::fcntl_setfl(&self.file, flags)?;
        self.append = append;
        self.nonblock = nonblock;
        Ok(())
    }

    /// Truncates or extends the file to `size` bytes.
    pub fn set_size(&mut self, size: u64) -> io::Result<()> {
        self.file.set_len(size)
    }

    /// Sets the access and modification times.
    pub fn set_times(&mut self, atim: NewTime, mtim: NewTime) -> io::Result<()> {
        set_fd_times(&self.file, atim, mtim)
    }

    /// Flushes data and metadata to the device.
    pub fn sync_all(&mut self) -> io::Result<()> {
        self.file.sync_all()
    }

    /// Flushes data to the device.
    pub fn sync_data(&mut self) -> io::Result<()> {
        self.file.sync_data()
    }
}

fn set_fd_times(fd: impl rustix::fd::AsFd, atim: NewTime, mtim: NewTime) -> io::Result<()> {
    let times = rustix::fs::Timestamps {
        last_access: atim.timespec(),
        last_modification: mtim.timespec(),
    };
    rustix::fs::futimens(fd, &times).map_err(io::Error::from)
}
