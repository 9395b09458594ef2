//! Content-addressed module blobs: `DIR/sha256/ab/abcdef…`, written temp → fsync → rename →
//! fsync the directory, so a blob is either absent or whole; verified against its name on load.

use super::StoreError;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Lower-case hex of bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// The sha256 of bytes as lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref())
}

/// Refuses a blob address that is not a sha256 in lower-case hex (64 digits), before it names a
/// file or a row: every store checks addresses here, with the same message.
pub(crate) fn check_address(sha: &str) -> Result<(), StoreError> {
    if sha.len() == 64 && sha.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Ok(());
    }
    Err(StoreError::Invalid(format!(
        "blob address {sha:?}: not a sha256 in lower-case hex"
    )))
}

/// Refuses the loaded bytes of blob `sha` if they do not hash to it: every store checks what it
/// loads here, with the same message.
pub(crate) fn check_content(sha: &str, bytes: &[u8]) -> Result<(), StoreError> {
    let actual = sha256_hex(bytes);
    if actual == sha {
        return Ok(());
    }
    Err(StoreError::Corrupt(format!(
        "module blob {sha} has content hashing to {actual}"
    )))
}

fn io(what: &str, path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Io(format!("{what} {}: {e}", path.display()))
}

/// A directory of content-addressed blobs.
#[derive(Debug, Clone)]
pub struct BlobDir {
    root: PathBuf,
}

impl BlobDir {
    /// Opens (creating) `root`, which holds `sha256/` and `tmp/`.
    pub fn open(root: &Path) -> Result<Self, StoreError> {
        for sub in ["sha256", "tmp"] {
            let dir = root.join(sub);
            fs::create_dir_all(&dir).map_err(|e| io("creating", &dir, e))?;
        }
        // Temp files left by a crash mid-write are garbage: never renamed, never referenced.
        let tmp = root.join("tmp");
        if let Ok(entries) = fs::read_dir(&tmp) {
            for entry in entries.flatten() {
                let _ = fs::remove_file(entry.path());
            }
        }
        Ok(BlobDir {
            root: root.to_path_buf(),
        })
    }

    fn path_of(&self, sha: &str) -> Result<PathBuf, StoreError> {
        check_address(sha)?;
        Ok(self.root.join("sha256").join(&sha[..2]).join(sha))
    }

    /// Writes bytes under their hash; a blob already present is left alone.
    pub fn put(&self, bytes: &[u8]) -> Result<String, StoreError> {
        let sha = sha256_hex(bytes);
        let path = self.path_of(&sha)?;
        if path.exists() {
            return Ok(sha);
        }
        let dir = path.parent().expect("blob path has a parent");
        fs::create_dir_all(dir).map_err(|e| io("creating", dir, e))?;
        let tmp = self
            .root
            .join("tmp")
            .join(format!("{sha}.{}", super::random_hex(8)?));
        let mut file = File::create(&tmp).map_err(|e| io("creating", &tmp, e))?;
        file.write_all(bytes).map_err(|e| io("writing", &tmp, e))?;
        file.sync_all().map_err(|e| io("syncing", &tmp, e))?;
        drop(file);
        fs::rename(&tmp, &path).map_err(|e| io("renaming into", &path, e))?;
        sync_dir(dir)?;
        // A new fan-out directory must itself be durable in sha256/.
        sync_dir(&self.root.join("sha256"))?;
        Ok(sha)
    }

    /// Reads a blob and checks that its content still has its name.
    pub fn get(&self, sha: &str) -> Result<Vec<u8>, StoreError> {
        let path = self.path_of(sha)?;
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(StoreError::NotFound(format!("module blob {sha}")))
            }
            Err(e) => return Err(io("reading", &path, e)),
        };
        check_content(sha, &bytes)?;
        Ok(bytes)
    }

    /// Deletes the blobs not in `keep`; returns how many went. Call only while no deploy runs
    /// (a deploy stores its blob before its version row).
    pub fn remove_unreferenced(
        &self,
        keep: &std::collections::HashSet<String>,
    ) -> Result<usize, StoreError> {
        let mut removed = 0;
        let top = self.root.join("sha256");
        for fan in fs::read_dir(&top)
            .map_err(|e| io("listing", &top, e))?
            .flatten()
        {
            let Ok(entries) = fs::read_dir(fan.path()) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if !keep.contains(&name) && fs::remove_file(entry.path()).is_ok() {
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }
}

/// Makes a directory's entries (a rename, a new file) durable.
fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io("syncing directory", dir, e))
}
