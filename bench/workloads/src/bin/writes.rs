//! Host-call cost with data: 200,000 writes of 16 bytes to stdout, each one `fd_write`.
use std::io::Write;
use std::mem::ManuallyDrop;
use std::os::fd::FromRawFd;

fn main() {
    // SAFETY: fd 1 is stdout, open for the whole run; ManuallyDrop keeps it open at the end.
    let mut out = ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(1) });
    let line = b"0123456789abcde\n";
    for _ in 0..200_000 {
        out.write_all(line).expect("write to stdout");
    }
}
