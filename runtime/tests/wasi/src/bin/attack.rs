//! Tries every way out of a preopen and every change through a read-only one; prints the errno of
//! each attempt. Run with `/jail` (fd 3, read-write) and `/ro` (fd 4, read-only); the harness sets
//! up the host files (see cli/tests/it/wasi.rs) and checks nothing outside changed.
#[path = "../sys.rs"]
mod sys;

use sys::*;

const JAIL: i32 = 3;
const RO: i32 = 4;

fn p(s: &str) -> (i32, i32) {
    (s.as_ptr() as i32, s.len() as i32)
}

fn try_open(label: &str, dir: i32, path: &str, oflags: i32, write: bool) {
    match open(dir, true, path, oflags, true, write, 0) {
        Ok(fd) => {
            println!("{label}: OPENED");
            unsafe { fd_close(fd) };
        }
        Err(e) => println!("{label}: {}", name(e)),
    }
}

fn stat(dir: i32, path: &str) -> i32 {
    let mut st = [0u8; 64];
    let (a, n) = p(path);
    unsafe { path_filestat_get(dir, 1, a, n, out(&mut st)) }
}

fn main() {
    // Escapes from a read-write preopen.
    try_open("dotdot", JAIL, "../outside/secret.txt", 0, false);
    try_open(
        "dotdot after subdir",
        JAIL,
        "sub/../../outside/secret.txt",
        0,
        false,
    );
    try_open("absolute path", JAIL, "/etc/passwd", 0, false);
    try_open("symlink climbing out", JAIL, "up/secret.txt", 0, false);
    try_open("absolute symlink", JAIL, "abs", 0, false);
    try_open("deep symlink climbing out", JAIL, "deep/climb", 0, false);
    try_open("symlink loop", JAIL, "loop1", 0, false);
    try_open(
        "create through escaping symlink",
        JAIL,
        "up/new.txt",
        1,
        true,
    );
    try_open(
        "truncate through escaping symlink",
        JAIL,
        "up/secret.txt",
        8,
        true,
    );
    try_open("symlink inside (allowed)", JAIL, "inner/ok.txt", 0, false);
    try_open(
        "dotdot that stays inside (allowed)",
        JAIL,
        "sub/../sub/ok.txt",
        0,
        false,
    );
    let (a, n) = p("../outside/secret.txt");
    let (b, m) = p("stolen");
    println!(
        "hard link to outside: {}",
        name(unsafe { path_link(JAIL, 0, a, n, JAIL, b, m) })
    );
    let (a, n) = p("up/secret.txt");
    println!(
        "hard link through escaping symlink: {}",
        name(unsafe { path_link(JAIL, 0, a, n, JAIL, b, m) })
    );
    let (a, n) = p("abs");
    println!(
        "hard link following absolute symlink: {}",
        name(unsafe { path_link(JAIL, 1, a, n, JAIL, b, m) })
    );
    let (a, n) = p("sub/ok.txt");
    let (b, m) = p("../outside/moved.txt");
    println!(
        "rename to outside: {}",
        name(unsafe { path_rename(JAIL, a, n, JAIL, b, m) })
    );
    let (a, n) = p("../outside/secret.txt");
    let (b, m) = p("taken.txt");
    println!(
        "rename from outside: {}",
        name(unsafe { path_rename(JAIL, a, n, JAIL, b, m) })
    );
    let (a, n) = p("../outside/secret.txt");
    println!(
        "unlink outside: {}",
        name(unsafe { path_unlink_file(JAIL, a, n) })
    );
    let (a, n) = p("up/secret.txt");
    println!(
        "unlink through escaping symlink: {}",
        name(unsafe { path_unlink_file(JAIL, a, n) })
    );
    let (a, n) = p("../outside");
    println!(
        "rmdir outside: {}",
        name(unsafe { path_remove_directory(JAIL, a, n) })
    );
    let (a, n) = p("../made");
    println!(
        "mkdir outside: {}",
        name(unsafe { path_create_directory(JAIL, a, n) })
    );
    let (a, n) = p("up/made");
    println!(
        "mkdir through escaping symlink: {}",
        name(unsafe { path_create_directory(JAIL, a, n) })
    );
    println!(
        "stat outside: {}",
        name(stat(JAIL, "../outside/secret.txt"))
    );
    println!(
        "stat through escaping symlink: {}",
        name(stat(JAIL, "up/secret.txt"))
    );
    let (a, n) = p("../outside/secret.txt");
    println!(
        "set times outside: {}",
        name(unsafe { path_filestat_set_times(JAIL, 1, a, n, 0, 0, 2 | 8) })
    );
    let (a, n) = p("../outside/secret.txt");
    let (b, m) = p("mylink");
    println!(
        "symlink with escaping contents (created, never followed): {}",
        name(unsafe { path_symlink(a, n, JAIL, b, m) })
    );
    try_open("open the escaping symlink", JAIL, "mylink", 0, false);
    let (a, n) = p("../outside/x");
    println!(
        "symlink created outside: {}",
        name(unsafe { path_symlink(a, n, JAIL, a, n) })
    );
    let sub = open(JAIL, true, "sub", 2, true, false, 0).unwrap();
    try_open(
        "dotdot above a subdirectory handle",
        sub,
        "../sub/ok.txt",
        0,
        false,
    );
    unsafe { fd_close(sub) };
    let bad = "ok\0.txt";
    try_open("NUL in path", JAIL, bad, 0, false);

    // The policy: --deny of a directory under the preopen wins, through symlinks too.
    try_open("denied path", JAIL, "private/data.txt", 0, false);
    try_open(
        "denied path through symlink",
        JAIL,
        "to_private/data.txt",
        0,
        false,
    );
    println!("stat denied path: {}", name(stat(JAIL, "private/data.txt")));
    let (a, n) = p("private/data.txt");
    println!(
        "unlink denied path: {}",
        name(unsafe { path_unlink_file(JAIL, a, n) })
    );
    try_open(
        "create in denied directory",
        JAIL,
        "private/new.txt",
        1,
        true,
    );

    // A read-only preopen.
    try_open("ro: read (allowed)", RO, "keep.txt", 0, false);
    try_open("ro: open for writing", RO, "keep.txt", 0, true);
    try_open("ro: create", RO, "new.txt", 1, true);
    try_open("ro: truncate", RO, "keep.txt", 8, false);
    let (a, n) = p("newdir");
    println!(
        "ro: mkdir: {}",
        name(unsafe { path_create_directory(RO, a, n) })
    );
    let (a, n) = p("keep.txt");
    println!(
        "ro: unlink: {}",
        name(unsafe { path_unlink_file(RO, a, n) })
    );
    let (a, n) = p("subdir");
    println!(
        "ro: rmdir: {}",
        name(unsafe { path_remove_directory(RO, a, n) })
    );
    let (a, n) = p("keep.txt");
    let (b, m) = p("renamed.txt");
    println!(
        "ro: rename: {}",
        name(unsafe { path_rename(RO, a, n, RO, b, m) })
    );
    println!(
        "ro: rename into it: {}",
        name(unsafe { path_rename(JAIL, p("sub/ok.txt").0, 10, RO, b, m) })
    );
    println!(
        "ro: rename out of it: {}",
        name(unsafe { path_rename(RO, a, n, JAIL, b, m) })
    );
    println!(
        "ro: hard link: {}",
        name(unsafe { path_link(RO, 0, a, n, RO, b, m) })
    );
    println!(
        "ro: symlink: {}",
        name(unsafe { path_symlink(a, n, RO, b, m) })
    );
    println!(
        "ro: set times: {}",
        name(unsafe { path_filestat_set_times(RO, 1, a, n, 0, 0, 2 | 8) })
    );
    let fd = open(RO, true, "keep.txt", 0, true, false, 0).unwrap();
    let data = b"overwrite";
    let v = iov(data);
    let mut w = 0u32;
    println!(
        "ro: fd_write: {}",
        name(unsafe { fd_write(fd, addr(&v), 1, out(&mut w)) })
    );
    println!(
        "ro: fd_pwrite: {}",
        name(unsafe { fd_pwrite(fd, addr(&v), 1, 0, out(&mut w)) })
    );
    println!(
        "ro: fd_filestat_set_size: {}",
        name(unsafe { fd_filestat_set_size(fd, 0) })
    );
    println!(
        "ro: fd_filestat_set_times: {}",
        name(unsafe { fd_filestat_set_times(fd, 0, 0, 2 | 8) })
    );
    println!(
        "ro: fd_filestat_set_times on the directory: {}",
        name(unsafe { fd_filestat_set_times(RO, 0, 0, 2 | 8) })
    );
    unsafe { fd_close(fd) };
    let subdir = open(RO, true, "subdir", 2, true, false, 0).unwrap();
    try_open(
        "ro: create below an opened subdirectory",
        subdir,
        "new.txt",
        1,
        true,
    );
}
