//! Path resolution for the policy: where a path really leads, one component and one symlink at a
//! time, whether or not its end exists.
//!
//! The policy speaks of real paths, so before a path is judged every symlink on it is followed, as
//! the kernel would follow it: a symlink whose target does not exist yet (a dangling link) resolves
//! to that target, not to the link, so opening it to create a file is judged where the file would
//! appear. Components that do not exist are kept as written. The caller then opens exactly the
//! components returned, without following any symlink again (`O_NOFOLLOW` on every component, or
//! cap-std with `FollowSymlinks::No`), so the open cannot go where the policy did not look.
//!
//! Resolution is pure: the file system is consulted only through the `read_link` callback, so the
//! rules (`..`, absolute targets, loops) are unit-tested here without touching a disk.

use std::collections::VecDeque;
use std::io;

use rustix::io::Errno;

/// Symlinks followed while resolving one path before it is `ELOOP` (Linux's limit).
pub const MAX_SYMLINKS: usize = 40;

/// What a path names on the file system, as the resolver needs to know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// A symlink, with its target.
    Link(String),
    /// A directory.
    Dir,
    /// Anything else that exists.
    Other,
    /// Nothing.
    Missing,
}

/// Where a path may lead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Below a directory handle (WASI): an absolute path or symlink target, or `..` above the
    /// directory, is `EPERM` (what cap-std and wasmtime report for an escape).
    Beneath,
    /// Anywhere on the host (`file:` URLs, whose paths are absolute): an absolute symlink target
    /// starts again at the root, and `..` at the root stays there, as in the kernel.
    Host,
}

/// Resolves `path` to components without `.`, `..` or symlinks (the last one's kept when
/// `follow_last` is false and the path does not end in `/`). `look(components)` says what those
/// components name. `..` after something missing is `ENOENT`, after a non-directory `ENOTDIR`, as
/// the kernel has it. In [`Scope::Host`], `path` must be absolute and the components are relative
/// to `/`.
pub fn resolve(
    path: &str,
    follow_last: bool,
    scope: Scope,
    mut look: impl FnMut(&[String]) -> io::Result<Found>,
) -> io::Result<Vec<String>> {
    if path.contains('\0') {
        return Err(errno(Errno::INVAL));
    }
    if scope == Scope::Beneath && path.starts_with('/') {
        return Err(errno(Errno::PERM));
    }
    let follow_last = follow_last || path.ends_with('/');
    let mut todo: VecDeque<String> = path.split('/').map(str::to_owned).collect();
    let mut out: Vec<String> = Vec::new();
    // What the last component of `out` was found to be, if it was looked at.
    let mut last_found: Option<Found> = None;
    let mut links = 0;
    while let Some(part) = todo.pop_front() {
        match part.as_str() {
            "" | "." => continue,
            ".." => {
                match last_found.take() {
                    Some(Found::Missing) => return Err(errno(Errno::NOENT)),
                    Some(Found::Other) => return Err(errno(Errno::NOTDIR)),
                    _ => {}
                }
                if out.pop().is_none() && scope == Scope::Beneath {
                    return Err(errno(Errno::PERM));
                }
                continue;
            }
            _ => out.push(part),
        }
        let last = todo.iter().all(|p| p.is_empty() || p == ".");
        if last && !follow_last {
            break;
        }
        let target = match look(&out)? {
            Found::Link(target) => target,
            found => {
                last_found = Some(found);
                continue;
            }
        };
        links += 1;
        if links > MAX_SYMLINKS {
            return Err(errno(Errno::LOOP));
        }
        out.pop();
        if target.starts_with('/') {
            if scope == Scope::Beneath {
                return Err(errno(Errno::PERM));
            }
            out.clear();
        }
        for part in target.split('/').rev() {
            todo.push_front(part.to_owned());
        }
    }
    Ok(out)
}

/// An `io::Error` with the host's number for `e`.
fn errno(e: Errno) -> io::Error {
    io::Error::from_raw_os_error(e.raw_os_error())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// Resolves `path` against a fake file system whose symlinks are `links` (path → target).
    fn run(links: &[(&str, &str)], path: &str, follow: bool, scope: Scope) -> io::Result<String> {
        let links: HashMap<String, String> = links
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        resolve(path, follow, scope, |parts| {
            let name = parts.join("/");
            Ok(match links.get(&name) {
                Some(target) => Found::Link(target.clone()),
                None if name.ends_with("missing") => Found::Missing,
                None if name.ends_with(".txt") => Found::Other,
                None => Found::Dir,
            })
        })
        .map(|parts| parts.join("/"))
    }

    fn code(e: io::Error) -> Option<i32> {
        e.raw_os_error()
    }

    #[test]
    fn plain_paths_are_cleaned() {
        let r = |p| run(&[], p, true, Scope::Beneath).unwrap();
        assert_eq!(r("a/./b//c"), "a/b/c");
        assert_eq!(r("a/b/../c"), "a/c");
        assert_eq!(r("."), "");
        assert_eq!(r(""), "");
        assert_eq!(r("a/.."), "");
    }

    #[test]
    fn escapes_beneath_are_eperm() {
        let perm = Some(Errno::PERM.raw_os_error());
        for path in ["..", "a/../..", "/etc/passwd"] {
            let e = run(&[], path, true, Scope::Beneath).unwrap_err();
            assert_eq!(code(e), perm, "{path}");
        }
        let e = run(&[("l", "/etc")], "l/passwd", true, Scope::Beneath).unwrap_err();
        assert_eq!(code(e), perm);
        let e = run(&[("l", "../x")], "l", true, Scope::Beneath).unwrap_err();
        assert_eq!(code(e), perm);
        assert_eq!(
            code(run(&[], "a\0b", true, Scope::Beneath).unwrap_err()),
            Some(Errno::INVAL.raw_os_error())
        );
    }

    #[test]
    fn dangling_links_resolve_to_their_target() {
        // The target does not exist (the fake knows no such entry): it is kept as written.
        let links = [("sub/link", "../new/file")];
        assert_eq!(
            run(&links, "sub/link", true, Scope::Beneath).unwrap(),
            "new/file"
        );
        let links = [("srv/link", "/outside/canary")];
        assert_eq!(
            run(&links, "/srv/link", true, Scope::Host).unwrap(),
            "outside/canary"
        );
    }

    #[test]
    fn the_last_link_is_kept_unless_followed() {
        let links = [("d/l", "t")];
        assert_eq!(run(&links, "d/l", false, Scope::Beneath).unwrap(), "d/l");
        assert_eq!(run(&links, "d/l", true, Scope::Beneath).unwrap(), "d/t");
        // A trailing slash follows it, as in POSIX.
        assert_eq!(run(&links, "d/l/", false, Scope::Beneath).unwrap(), "d/t");
        // Links in the middle are always followed.
        assert_eq!(
            run(&[("a", "b/c")], "a/x", false, Scope::Beneath).unwrap(),
            "b/c/x"
        );
    }

    #[test]
    fn host_scope_restarts_at_the_root() {
        let links = [("tmp/l", "/etc"), ("etc/m", "../var")];
        assert_eq!(
            run(&links, "/tmp/l/m/log", true, Scope::Host).unwrap(),
            "var/log"
        );
        assert_eq!(run(&[], "/../../etc", true, Scope::Host).unwrap(), "etc");
    }

    #[test]
    fn dotdot_needs_a_directory_before_it() {
        let code_of = |p: &str| code(run(&[], p, true, Scope::Beneath).unwrap_err());
        assert_eq!(code_of("missing/../a"), Some(Errno::NOENT.raw_os_error()));
        assert_eq!(code_of("a/f.txt/../b"), Some(Errno::NOTDIR.raw_os_error()));
        assert_eq!(run(&[], "a/b/../c", true, Scope::Beneath).unwrap(), "a/c");
    }

    #[test]
    fn loops_are_eloop() {
        let e = run(&[("a", "b"), ("b", "a")], "a", true, Scope::Beneath).unwrap_err();
        assert_eq!(code(e), Some(Errno::LOOP.raw_os_error()));
        let e = run(&[("a", "a/x")], "a", true, Scope::Host).unwrap_err();
        assert_eq!(code(e), Some(Errno::LOOP.raw_os_error()));
    }
}
