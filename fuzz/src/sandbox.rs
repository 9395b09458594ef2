//! The host directory tree an ABI run sees: a granted directory nested inside files the guest must not
//! touch, and a snapshot that shows any change made outside the grant.
//!
//! ```text
//! ROOT/canary.txt             outside, holds the token
//! ROOT/box/canary.txt         outside, holds the token (what `..` from the grant reaches)
//! ROOT/box/ro/r.txt           granted read-only (--dir ROOT/box/ro::/ro:ro): must not change
//! ROOT/box/grant/             granted read-write (--dir ROOT/box/grant): the guest may change it
//! ROOT/box/grant/private/     denied (--deny): must not change, and its token must not be read
//! ROOT/box/grant/sub/private/ denied too: renaming `sub` must not expose it
//! ```

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// One worker's tree, rebuilt before every run.
pub struct Sandbox {
    /// The tree's root; everything the guest can name with `..` lies under it.
    pub root: PathBuf,
    /// A string that appears only in files the guest may not read; seeing it in the output is a read
    /// escape.
    pub token: String,
}

/// What a path was when a snapshot was taken.
#[derive(Debug, PartialEq, Eq)]
enum Entry {
    Dir,
    File {
        bytes: Vec<u8>,
        modified: Option<std::time::SystemTime>,
    },
    Link(PathBuf),
    Other,
}

/// Every path outside the writable part of the grant, with what it was.
#[derive(Debug, PartialEq, Eq)]
pub struct Snapshot(BTreeMap<PathBuf, Entry>);

impl Sandbox {
    /// Deletes whatever is at `root` and builds the tree there.
    pub fn create(root: &Path, token: &str) -> io::Result<Sandbox> {
        if fs::symlink_metadata(root).is_ok() {
            fs::remove_dir_all(root)?;
        }
        let sandbox = Sandbox {
            root: root.to_path_buf(),
            token: token.to_owned(),
        };
        let secret = format!("{token}\n");
        let grant = sandbox.grant();
        fs::create_dir_all(grant.join("sub/deeper"))?;
        for denied in sandbox.denied() {
            fs::create_dir_all(&denied)?;
            fs::write(denied.join("secret.txt"), &secret)?;
        }
        fs::create_dir_all(sandbox.read_only())?;
        fs::write(root.join("canary.txt"), &secret)?;
        fs::write(root.join("box/canary.txt"), &secret)?;
        fs::write(sandbox.read_only().join("r.txt"), "read-only\n")?;
        fs::write(grant.join("a.txt"), "hello from a.txt\n")?;
        fs::write(grant.join("sub/b.txt"), "bbbbbbbb\n")?;
        fs::write(grant.join("sub/deeper/c.txt"), "c\n")?;
        // Links an operator may have left in a granted directory: following the outward ones must fail.
        std::os::unix::fs::symlink("a.txt", grant.join("link_in"))?;
        std::os::unix::fs::symlink("../canary.txt", grant.join("link_out"))?;
        std::os::unix::fs::symlink("..", grant.join("link_up"))?;
        std::os::unix::fs::symlink(root.join("canary.txt"), grant.join("link_abs"))?;
        std::os::unix::fs::symlink("../absent.txt", grant.join("link_dangling"))?;
        Ok(sandbox)
    }

    /// The read-write grant (the guest's fd 3).
    pub fn grant(&self) -> PathBuf {
        self.root.join("box/grant")
    }

    /// The read-only grant (the guest's fd 4, named `/ro`).
    pub fn read_only(&self) -> PathBuf {
        self.root.join("box/ro")
    }

    /// The denied directories inside the grant.
    pub fn denied(&self) -> [PathBuf; 2] {
        [
            self.grant().join("private"),
            self.grant().join("sub/private"),
        ]
    }

    /// Records every path the guest must not change.
    pub fn snapshot(&self) -> io::Result<Snapshot> {
        let mut entries = BTreeMap::new();
        self.walk(&self.root, &mut entries)?;
        Ok(Snapshot(entries))
    }

    fn walk(&self, dir: &Path, entries: &mut BTreeMap<PathBuf, Entry>) -> io::Result<()> {
        let grant = self.grant();
        let denied = self.denied();
        for item in fs::read_dir(dir)? {
            let path = item?.path();
            // The grant's own files are the guest's to change; its denied subtree is not.
            let writable = path.starts_with(&grant) && !denied.iter().any(|d| path.starts_with(d));
            let meta = fs::symlink_metadata(&path)?;
            let entry = if meta.file_type().is_symlink() {
                Entry::Link(fs::read_link(&path)?)
            } else if meta.is_dir() {
                Entry::Dir
            } else if meta.is_file() {
                Entry::File {
                    bytes: if writable {
                        Vec::new()
                    } else {
                        fs::read(&path)?
                    },
                    modified: meta.modified().ok(),
                }
            } else {
                Entry::Other
            };
            let is_dir = entry == Entry::Dir;
            if !writable {
                let relative = path.strip_prefix(&self.root).unwrap_or(&path).to_path_buf();
                entries.insert(relative, entry);
            }
            if is_dir {
                self.walk(&path, entries)?;
            }
        }
        Ok(())
    }
}

impl Snapshot {
    /// What changed between `self` (before the run) and `after`, one line per path.
    pub fn changes(&self, after: &Snapshot) -> Vec<String> {
        let mut changes = Vec::new();
        for (path, before) in &self.0 {
            match after.0.get(path) {
                None => changes.push(format!("removed {}", path.display())),
                Some(now) if now != before => changes.push(format!("modified {}", path.display())),
                Some(_) => {}
            }
        }
        for path in after.0.keys() {
            if !self.0.contains_key(path) {
                changes.push(format!("created {}", path.display()));
            }
        }
        changes
    }
}
