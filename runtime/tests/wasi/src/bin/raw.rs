//! Calls every wasi_snapshot_preview1 function directly, error paths included, and prints one line
//! per check. Run with the preopen `/sandbox` (fd 3) holding `hello.txt` ("hello, wasi\n") and
//! `sub/inner.txt`, arguments `a` and `b c`, environment `K=V`, and "input\n" on stdin. Ends with
//! proc_exit(7). Every line printed is deterministic; runtime/tests/wasi/expected/raw.txt holds them.
#[path = "../sys.rs"]
mod sys;

use sys::*;

const DIR: i32 = 3;

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

/// Shows what the path call `f(fd, path)` returns.
fn show_path(what: &str, f: unsafe extern "C" fn(i32, i32, i32) -> i32, fd: i32, path: &str) {
    show(what, unsafe {
        f(fd, path.as_ptr() as i32, path.len() as i32)
    });
}

/// `path_link(DIR, flags, from, DIR, to)`.
fn hard_link(flags: i32, from: &str, to: &str) -> i32 {
    let (a, b) = (from.as_ptr() as i32, to.as_ptr() as i32);
    unsafe { path_link(DIR, flags, a, from.len() as i32, DIR, b, to.len() as i32) }
}

/// `path_rename(DIR, from, DIR, to)`.
fn rename(from: &str, to: &str) -> i32 {
    let (a, b) = (from.as_ptr() as i32, to.as_ptr() as i32);
    unsafe { path_rename(DIR, a, from.len() as i32, DIR, b, to.len() as i32) }
}

/// `path_filestat_set_times(DIR, follow, path, atim 0, mtim, flags)`.
fn set_mtime(path: &str, mtim: i64, flags: i32) -> i32 {
    let p = path.as_ptr() as i32;
    unsafe { path_filestat_set_times(DIR, 1, p, path.len() as i32, 0, mtim, flags) }
}

fn stat(path: &str, follow: bool) -> Result<[u8; 64], i32> {
    let mut st = [0u8; 64];
    let e = unsafe {
        path_filestat_get(
            DIR,
            follow as i32,
            path.as_ptr() as i32,
            path.len() as i32,
            out(&mut st),
        )
    };
    if e == 0 {
        Ok(st)
    } else {
        Err(e)
    }
}

fn fstat(fd: i32) -> [u8; 64] {
    let mut st = [0u8; 64];
    assert_eq!(unsafe { fd_filestat_get(fd, out(&mut st)) }, 0);
    st
}

fn fdstat(fd: i32) -> Result<[u8; 24], i32> {
    let mut st = [0u8; 24];
    let e = unsafe { fd_fdstat_get(fd, out(&mut st)) };
    if e == 0 {
        Ok(st)
    } else {
        Err(e)
    }
}

fn read_all(fd: i32) -> String {
    let mut buf = [0u8; 256];
    let v = iov(&buf);
    let mut n = 0u32;
    let e = unsafe { fd_read(fd, addr(&v), 1, out(&mut n)) };
    assert_eq!(e, 0);
    let _ = &mut buf;
    String::from_utf8_lossy(&buf[..n as usize]).into_owned()
}

fn write(fd: i32, data: &[u8]) -> Result<u32, i32> {
    let v = iov(data);
    let mut n = 0u32;
    let e = unsafe { fd_write(fd, addr(&v), 1, out(&mut n)) };
    if e == 0 {
        Ok(n)
    } else {
        Err(e)
    }
}

fn main() {
    args_env();
    clocks_random_proc();
    prestat_fdstat();
    files();
    dirs();
    links();
    poll();
    sockets();
    faults();
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).unwrap();
    println!("stdin: {line:?}");
    unsafe { proc_exit(7) }
}

fn args_env() {
    let (mut argc, mut size) = (0u32, 0u32);
    show("args_sizes_get", unsafe {
        args_sizes_get(out(&mut argc), out(&mut size))
    });
    let mut ptrs = vec![0u32; argc as usize];
    let mut buf = vec![0u8; size as usize];
    show("args_get", unsafe {
        args_get(out(&mut ptrs[..]), out(&mut buf[..]))
    });
    let args: Vec<&str> = buf
        .split(|&b| b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| std::str::from_utf8(s).unwrap())
        .collect();
    let needed: usize = args.iter().map(|a| a.len() + 1).sum();
    println!(
        "args: argc={argc} size matches={} rest={:?}",
        needed == size as usize,
        &args[1..]
    );
    let (mut count, mut size) = (0u32, 0u32);
    show("environ_sizes_get", unsafe {
        environ_sizes_get(out(&mut count), out(&mut size))
    });
    let mut ptrs = vec![0u32; count as usize];
    let mut buf = vec![0u8; size as usize];
    show("environ_get", unsafe {
        environ_get(out(&mut ptrs[..]), out(&mut buf[..]))
    });
    println!("environ: {:?}", String::from_utf8_lossy(&buf));
    println!("std env K: {:?}", std::env::var("K"));
}

fn clocks_random_proc() {
    let mut t = 0u64;
    show("clock_res_get realtime", unsafe {
        clock_res_get(0, out(&mut t))
    });
    println!("resolution: {t}");
    show("clock_res_get process cputime", unsafe {
        clock_res_get(2, out(&mut t))
    });
    show("clock_res_get 9", unsafe { clock_res_get(9, out(&mut t)) });
    show("clock_time_get realtime", unsafe {
        clock_time_get(0, 1, out(&mut t))
    });
    println!("realtime after 2020: {}", t > 1_577_836_800_000_000_000);
    let mut a = 0u64;
    let mut b = 0u64;
    unsafe {
        clock_time_get(1, 1, out(&mut a));
        clock_time_get(1, 1, out(&mut b));
    }
    println!("monotonic never decreases: {}", b >= a);
    show("clock_time_get 9", unsafe {
        clock_time_get(9, 1, out(&mut t))
    });
    let mut r = [0u8; 64];
    show("random_get", unsafe { random_get(out(&mut r), 64) });
    println!("random not all zero: {}", r.iter().any(|&x| x != 0));
    show("random_get 0 bytes", unsafe { random_get(out(&mut r), 0) });
    let mut v = [0u8; 4];
    getrandom::fill(&mut v).unwrap();
    println!("getrandom crate: ok");
    show("sched_yield", unsafe { sched_yield() });
    show("proc_raise", unsafe { proc_raise(2) });
}

fn prestat_fdstat() {
    let mut pre = [0u8; 8];
    show("fd_prestat_get 3", unsafe {
        fd_prestat_get(3, out(&mut pre))
    });
    println!(
        "prestat: tag={} len={}",
        pre[0],
        u32::from_le_bytes(pre[4..8].try_into().unwrap())
    );
    let mut name = [0u8; 32];
    show("fd_prestat_dir_name", unsafe {
        fd_prestat_dir_name(3, out(&mut name), 32)
    });
    println!(
        "preopen name: {:?}",
        std::str::from_utf8(&name[..8]).unwrap()
    );
    show("fd_prestat_dir_name short", unsafe {
        fd_prestat_dir_name(3, out(&mut name), 3)
    });
    show("fd_prestat_get 1", unsafe {
        fd_prestat_get(1, out(&mut pre))
    });
    show("fd_prestat_get 99", unsafe {
        fd_prestat_get(99, out(&mut pre))
    });
    show("fd_prestat_dir_name 1", unsafe {
        fd_prestat_dir_name(1, out(&mut name), 32)
    });
    for fd in [0, 1, 2, 3] {
        let st = fdstat(fd).unwrap();
        println!(
            "fdstat {fd}: type={} flags={} base={:#x} inheriting={:#x}",
            st[0],
            u16::from_le_bytes([st[2], st[3]]),
            u64_at(&st, 8),
            u64_at(&st, 16)
        );
    }
    println!("fdstat 99: {}", name_of(fdstat(99)));
    // Rights only shrink: keeping them is fine, adding one (FD_SEEK, which a directory lacks) is not.
    let st = fdstat(3).unwrap();
    let (base, inheriting) = (u64_at(&st, 8) as i64, u64_at(&st, 16) as i64);
    show("fd_fdstat_set_rights", unsafe {
        fd_fdstat_set_rights(3, base, inheriting)
    });
    show("fd_fdstat_set_rights adding", unsafe {
        fd_fdstat_set_rights(3, base | 1 << 2, inheriting)
    });
    show("fd_fdstat_set_rights 99", unsafe {
        fd_fdstat_set_rights(99, 0, 0)
    });
}

fn name_of<T>(r: Result<T, i32>) -> String {
    match r {
        Ok(_) => "ok".into(),
        Err(e) => name(e),
    }
}

fn files() {
    let fd = open(DIR, true, "hello.txt", 0, true, false, 0).unwrap();
    println!("hello fd: {fd}");
    println!("read: {:?}", read_all(fd));
    let mut pos = 0u64;
    show("fd_tell", unsafe { fd_tell(fd, out(&mut pos)) });
    println!("tell: {pos}");
    show("fd_seek set 7", unsafe { fd_seek(fd, 7, 0, out(&mut pos)) });
    println!("read after seek: {:?}", read_all(fd));
    show("fd_seek end -5", unsafe {
        fd_seek(fd, -5, 2, out(&mut pos))
    });
    println!("pos: {pos}");
    show("fd_seek cur -100", unsafe {
        fd_seek(fd, -100, 1, out(&mut pos))
    });
    show("fd_seek whence 7", unsafe {
        fd_seek(fd, 0, 7, out(&mut pos))
    });
    let buf = [0u8; 4];
    let v = iov(&buf);
    let mut n = 0u32;
    show("fd_pread at 7", unsafe {
        fd_pread(fd, addr(&v), 1, 7, out(&mut n))
    });
    println!(
        "pread: {:?}",
        std::str::from_utf8(&buf[..n as usize]).unwrap()
    );
    show("fd_seek stdout", unsafe { fd_seek(1, 0, 0, out(&mut pos)) });
    show("fd_tell stdin", unsafe { fd_tell(0, out(&mut pos)) });
    show("fd_pread stdin", unsafe {
        fd_pread(0, addr(&v), 1, 0, out(&mut n))
    });
    show("fd_pwrite stdout", unsafe {
        fd_pwrite(1, addr(&v), 1, 0, out(&mut n))
    });
    println!("write to read-only fd: {}", name_of(write(fd, b"x")));
    println!("write to stdin: {}", name_of(write(0, b"x")));
    let st = fstat(fd);
    println!(
        "filestat: type={} size={} nlink={}",
        st[16],
        u64_at(&st, 32),
        u64_at(&st, 24)
    );
    let fds = fdstat(fd).unwrap();
    println!(
        "fdstat file read-only: type={} can write={}",
        fds[0],
        u64_at(&fds, 8) & (1 << 6) != 0
    );
    let st = fstat(1);
    println!("filestat stdout: type={} size={}", st[16], u64_at(&st, 32));
    show("fd_allocate", unsafe { fd_allocate(fd, 0, 10) });
    show("fd_advise", unsafe { fd_advise(fd, 0, 10, 1) });
    show("fd_advise bad", unsafe { fd_advise(fd, 0, 10, 9) });
    show("fd_advise dir", unsafe { fd_advise(DIR, 0, 10, 1) });
    show("fd_close", unsafe { fd_close(fd) });
    show("fd_close again", unsafe { fd_close(fd) });
    println!(
        "open missing: {}",
        name_of(open(DIR, true, "missing.txt", 0, true, false, 0))
    );
    println!(
        "open file as dir: {}",
        name_of(open(DIR, true, "hello.txt", 2, true, false, 0))
    );
    println!(
        "open dir for write: {}",
        name_of(open(DIR, true, "sub", 0, true, true, 0))
    );
    println!(
        "open with file as base: {}",
        name_of(open(1, true, "x", 0, true, false, 0))
    );
    // Create, write, pwrite, truncate, times.
    let fd = open(DIR, true, "new.txt", 1 | 4, true, true, 0).unwrap();
    println!(
        "create exclusive again: {}",
        name_of(open(DIR, true, "new.txt", 1 | 4, true, true, 0))
    );
    println!("write: {:?}", write(fd, b"abc"));
    let z = b"Z";
    let v = iov(z);
    show("fd_pwrite at 5", unsafe {
        fd_pwrite(fd, addr(&v), 1, 5, out(&mut n))
    });
    println!("size after pwrite: {}", u64_at(&fstat(fd), 32));
    unsafe { fd_tell(fd, out(&mut pos)) };
    println!("position unchanged by pwrite: {pos}");
    show("fd_filestat_set_size 2", unsafe {
        fd_filestat_set_size(fd, 2)
    });
    println!("size: {}", u64_at(&fstat(fd), 32));
    show("fd_filestat_set_times", unsafe {
        fd_filestat_set_times(
            fd,
            1_000_000_000_000_000_000,
            1_000_000_000_123_456_789,
            1 | 4,
        )
    });
    let st = fstat(fd);
    println!("times: atim={} mtim={}", u64_at(&st, 40), u64_at(&st, 48));
    show("fd_filestat_set_times both", unsafe {
        fd_filestat_set_times(fd, 0, 0, 1 | 2)
    });
    show("fd_sync", unsafe { fd_sync(fd) });
    show("fd_datasync", unsafe { fd_datasync(fd) });
    show("fd_sync stdout", unsafe { fd_sync(1) });
    show("fd_fdstat_set_flags append", unsafe {
        fd_fdstat_set_flags(fd, 1)
    });
    let fds = fdstat(fd).unwrap();
    println!("flags now: {}", u16::from_le_bytes([fds[2], fds[3]]));
    let _ = write(fd, b"!");
    println!("size after append: {}", u64_at(&fstat(fd), 32));
    show("fd_fdstat_set_flags sync", unsafe {
        fd_fdstat_set_flags(fd, 16)
    });
    show("fd_fdstat_set_flags stdout", unsafe {
        fd_fdstat_set_flags(1, 0)
    });
    // renumber: new.txt's fd replaces a second open of hello.txt.
    let other = open(DIR, true, "hello.txt", 0, true, false, 0).unwrap();
    show("fd_renumber", unsafe { fd_renumber(fd, other) });
    println!("old number closed: {}", name_of(fdstat(fd)));
    println!("new number is new.txt: size={}", u64_at(&fstat(other), 32));
    show("fd_renumber to closed", unsafe { fd_renumber(other, 77) });
    show("fd_renumber from closed", unsafe { fd_renumber(77, other) });
    unsafe { fd_close(other) };
    let fd = open(DIR, true, "new.txt", 8, true, true, 0).unwrap();
    println!("truncated: size={}", u64_at(&fstat(fd), 32));
    unsafe { fd_close(fd) };
    let fd = open(DIR, true, "app.txt", 1, false, true, 1).unwrap();
    let _ = write(fd, b"one");
    let _ = write(fd, b"two");
    let fds = fdstat(fd).unwrap();
    println!(
        "append file: flags={} can read={}",
        u16::from_le_bytes([fds[2], fds[3]]),
        u64_at(&fds, 8) & 2 != 0
    );
    unsafe { fd_close(fd) };
}

fn dirs() {
    show_path("path_create_directory", path_create_directory, DIR, "d1");
    show_path(
        "path_create_directory again",
        path_create_directory,
        DIR,
        "d1",
    );
    show_path(
        "path_create_directory nested missing",
        path_create_directory,
        DIR,
        "nope/d2",
    );
    let st = stat("d1", true).unwrap();
    println!("d1 type: {}", st[16]);
    show_path("path_remove_directory", path_remove_directory, DIR, "d1");
    show_path(
        "path_remove_directory again",
        path_remove_directory,
        DIR,
        "d1",
    );
    show_path(
        "path_remove_directory non-empty",
        path_remove_directory,
        DIR,
        "sub",
    );
    show_path(
        "path_remove_directory file",
        path_remove_directory,
        DIR,
        "hello.txt",
    );
    show_path("path_unlink_file dir", path_unlink_file, DIR, "sub");
    show_path("path_unlink_file missing", path_unlink_file, DIR, "missing");
    show_path("path_unlink_file", path_unlink_file, DIR, "app.txt");
    show_path(
        "path_create_directory on stdout",
        path_create_directory,
        1,
        "x",
    );
    show_path(
        "path_create_directory on bad fd",
        path_create_directory,
        99,
        "x",
    );
    let sub = open(DIR, true, "sub", 2, true, false, 0).unwrap();
    println!("sub fdstat type: {}", fdstat(sub).unwrap()[0]);
    let mut pos = 0u64;
    show("fd_seek dir", unsafe { fd_seek(sub, 0, 0, out(&mut pos)) });
    let buf = [0u8; 8];
    let v = iov(&buf);
    let mut n = 0u32;
    show("fd_read dir", unsafe {
        fd_read(sub, addr(&v), 1, out(&mut n))
    });
    println!("readdir sub: {:?}", readdir(sub, 4096));
    println!("readdir sub, small buffer: {:?}", readdir(sub, 30));
    let mut listing = [0u8; 4096];
    let mut used = 0u32;
    show("fd_readdir cookie 2", unsafe {
        fd_readdir(sub, out(&mut listing), 4096, 2, out(&mut used))
    });
    println!("entries from cookie 2: {used} bytes");
    show("fd_readdir file", unsafe {
        fd_readdir(1, out(&mut listing), 4096, 0, out(&mut used))
    });
    println!(
        "open through sub: {:?}",
        open(sub, true, "inner.txt", 0, true, false, 0).map(read_all)
    );
    unsafe { fd_close(sub) };
}

/// Reads a directory from cookie 0 with a `len`-byte buffer: the names (possibly truncated) in order.
fn readdir(fd: i32, len: usize) -> Vec<String> {
    let mut buf = vec![0u8; len];
    let mut used = 0u32;
    let e = unsafe { fd_readdir(fd, out(&mut buf[..]), len as i32, 0, out(&mut used)) };
    assert_eq!(e, 0);
    let mut names = Vec::new();
    let mut at = 0;
    let used = used as usize;
    while at + 24 <= used {
        let namlen = u32::from_le_bytes(buf[at + 16..at + 20].try_into().unwrap()) as usize;
        let end = (at + 24 + namlen).min(used);
        names.push(format!(
            "{}:{}",
            String::from_utf8_lossy(&buf[at + 24..end]),
            buf[at + 20]
        ));
        at += 24 + namlen;
    }
    names
}

fn links() {
    let (target, link) = ("hello.txt", "link");
    show("path_symlink", unsafe {
        path_symlink(target.as_ptr() as i32, 9, DIR, link.as_ptr() as i32, 4)
    });
    show("path_symlink exists", unsafe {
        path_symlink(target.as_ptr() as i32, 9, DIR, link.as_ptr() as i32, 4)
    });
    let mut buf = [0u8; 64];
    let mut n = 0u32;
    show("path_readlink", unsafe {
        path_readlink(DIR, link.as_ptr() as i32, 4, out(&mut buf), 64, out(&mut n))
    });
    println!(
        "readlink: {:?}",
        std::str::from_utf8(&buf[..n as usize]).unwrap()
    );
    show("path_readlink short", unsafe {
        path_readlink(DIR, link.as_ptr() as i32, 4, out(&mut buf), 3, out(&mut n))
    });
    println!(
        "readlink short: {:?}",
        std::str::from_utf8(&buf[..n as usize]).unwrap()
    );
    show("path_readlink file", unsafe {
        path_readlink(
            DIR,
            target.as_ptr() as i32,
            9,
            out(&mut buf),
            64,
            out(&mut n),
        )
    });
    println!("lstat link type: {}", stat(link, false).unwrap()[16]);
    println!("stat link type: {}", stat(link, true).unwrap()[16]);
    println!(
        "open link nofollow: {}",
        name_of(open(DIR, false, link, 0, true, false, 0))
    );
    println!(
        "open link follow: {:?}",
        open(DIR, true, link, 0, true, false, 0).map(read_all)
    );
    let hard = "hard.txt";
    show("path_link", hard_link(0, target, hard));
    println!("nlink: {}", u64_at(&stat(target, true).unwrap(), 24));
    show("path_link follow", hard_link(1, target, "h2"));
    show("path_link exists", hard_link(0, target, hard));
    let moved = "sub/moved.txt";
    show("path_rename", rename(hard, moved));
    println!("moved exists: {}", stat(moved, false).is_ok());
    show("path_rename missing", rename(hard, moved));
    show(
        "path_filestat_set_times",
        set_mtime(moved, 2_000_000_000_000_000_000, 4),
    );
    println!("moved mtim: {}", u64_at(&stat(moved, true).unwrap(), 48));
    show("path_filestat_set_times both", set_mtime(moved, 0, 4 | 8));
    println!("stat missing: {}", name_of(stat("missing", true)));
    show_path("path_unlink_file link", path_unlink_file, DIR, link);
    println!("target still there: {}", stat(target, false).is_ok());
}

fn poll() {
    // subscription: userdata u64, tag u8 @8, clock id u32 @16, timeout u64 @24, precision @32, flags u16 @40
    let clock = |userdata: u64, id: u32, timeout: u64, flags: u16| {
        let mut s = [0u8; 48];
        s[0..8].copy_from_slice(&userdata.to_le_bytes());
        s[16..20].copy_from_slice(&id.to_le_bytes());
        s[24..32].copy_from_slice(&timeout.to_le_bytes());
        s[40..42].copy_from_slice(&flags.to_le_bytes());
        s
    };
    let fdsub = |userdata: u64, tag: u8, fd: u32| {
        let mut s = [0u8; 48];
        s[0..8].copy_from_slice(&userdata.to_le_bytes());
        s[8] = tag;
        s[16..20].copy_from_slice(&fd.to_le_bytes());
        s
    };
    let mut events = [0u8; 32 * 4];
    let mut n = 0u32;
    let start = std::time::Instant::now();
    let sub = clock(42, 1, 20_000_000, 0);
    show("poll_oneoff clock 20ms", unsafe {
        poll_oneoff(addr(&sub), out(&mut events), 1, out(&mut n))
    });
    println!(
        "events: {n} userdata={} type={} waited enough: {}",
        u64_at(&events, 0),
        events[10],
        start.elapsed().as_millis() >= 20
    );
    show("poll_oneoff none", unsafe {
        poll_oneoff(addr(&sub), out(&mut events), 0, out(&mut n))
    });
    let mut subs = [0u8; 96];
    subs[..48].copy_from_slice(&clock(1, 1, 10_000_000_000, 0));
    subs[48..].copy_from_slice(&fdsub(2, 2, 1));
    let start = std::time::Instant::now();
    show("poll_oneoff stdout + 10s clock", unsafe {
        poll_oneoff(addr(&subs), out(&mut events), 2, out(&mut n))
    });
    println!(
        "events: {n} userdata={} type={} at once: {}",
        u64_at(&events, 0),
        events[10],
        start.elapsed().as_secs() < 5
    );
    let mut now = 0u64;
    unsafe { clock_time_get(1, 1, out(&mut now)) };
    let sub = clock(3, 1, now.saturating_sub(1), 1);
    show("poll_oneoff absolute past", unsafe {
        poll_oneoff(addr(&sub), out(&mut events), 1, out(&mut n))
    });
    println!("events: {n} userdata={}", u64_at(&events, 0));
    let sub = fdsub(4, 1, 99);
    show("poll_oneoff bad fd", unsafe {
        poll_oneoff(addr(&sub), out(&mut events), 1, out(&mut n))
    });
    let sub = clock(5, 7, 1, 0);
    show("poll_oneoff bad clock", unsafe {
        poll_oneoff(addr(&sub), out(&mut events), 1, out(&mut n))
    });
    let fd = open(DIR, true, "hello.txt", 0, true, false, 0).unwrap();
    let sub = fdsub(6, 1, fd as u32);
    show("poll_oneoff file read", unsafe {
        poll_oneoff(addr(&sub), out(&mut events), 1, out(&mut n))
    });
    println!(
        "events: {n} type={} nbytes={}",
        events[10],
        u64_at(&events, 16)
    );
    unsafe { fd_close(fd) };
    std::thread::sleep(std::time::Duration::from_millis(1));
    println!("std sleep: ok");
}

fn sockets() {
    let mut x = 0u32;
    show("sock_accept stdout", unsafe {
        sock_accept(1, 0, out(&mut x))
    });
    show("sock_recv dir", unsafe {
        sock_recv(3, 0, 0, 0, out(&mut x), out(&mut x))
    });
    show("sock_send stdout", unsafe {
        sock_send(1, 0, 0, 0, out(&mut x))
    });
    show("sock_shutdown stdout", unsafe { sock_shutdown(1, 1) });
    show("sock_shutdown bad fd", unsafe { sock_shutdown(99, 1) });
    show("sock_accept bad fd", unsafe {
        sock_accept(99, 0, out(&mut x))
    });
}

fn faults() {
    let mut n = 0u32;
    show("fd_write iovs out of bounds", unsafe {
        fd_write(1, BAD, 1, out(&mut n))
    });
    let v = [BAD as u32, 16];
    show("fd_write buffer out of bounds", unsafe {
        fd_write(1, addr(&v), 1, out(&mut n))
    });
    let msg = b"";
    let v = iov(msg);
    show("fd_write result out of bounds", unsafe {
        fd_write(1, addr(&v), 1, BAD)
    });
    show("args_get out of bounds", unsafe { args_get(BAD, BAD) });
    show("clock_time_get out of bounds", unsafe {
        clock_time_get(0, 1, BAD)
    });
    show("random_get out of bounds", unsafe { random_get(BAD, 8) });
    show("path_open path out of bounds", unsafe {
        path_open(3, 0, BAD, 4, 0, 2, 0, 0, out(&mut n))
    });
    let p = "created-then-fault.txt";
    show("path_open result out of bounds", unsafe {
        path_open(3, 0, p.as_ptr() as i32, p.len() as i32, 1, 66, 0, 0, BAD)
    });
    println!("nothing created: {}", stat(p, false).is_err());
    let bad = [0xffu8, 0xfe];
    show("path_open invalid UTF-8", unsafe {
        path_open(3, 0, addr(&bad), 2, 0, 2, 0, 0, out(&mut n))
    });
    show("poll_oneoff out of bounds", unsafe {
        poll_oneoff(BAD, BAD, 1, out(&mut n))
    });
    let mut pre = [0u8; 8];
    show("fd_prestat_dir_name out of bounds", unsafe {
        fd_prestat_dir_name(3, BAD, 8)
    });
    let _ = &mut pre;
}
