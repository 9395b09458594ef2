//! `file://` under `$TERN_CONFORMANCE_DIR` (the harness grants it and checks the files afterwards).

use super::{file_url, open_fails, opened, read_to_eof, write_whole, Outcome};
use crate::check::{expect_bytes, expect_eq};
use alloc::string::String;
use tern_guest::abi::errno;
use tern_guest::{sys, Error, Resource};

/// Opens `rest` under the directory with the SDK, failing the case on an error.
fn resource(rest: &str) -> Result<Resource, String> {
    let url = file_url(rest)?;
    Resource::open(&url).map_err(|e| alloc::format!("Resource::open({url:?}): {e}"))
}

/// Writes all of `bytes` to `r` with one resource_write.
fn write(r: &Resource, bytes: &[u8]) -> Outcome {
    write_whole(r.handle(), bytes)
}

/// The whole content of `rest` under the directory, read with mode=r.
fn content(rest: &str) -> Result<String, String> {
    let url = file_url(&alloc::format!("{rest}?mode=r"))?;
    let h = opened(&url)?;
    let bytes = read_to_eof(h.0)?;
    String::from_utf8(bytes).map_err(|e| alloc::format!("{url}: not UTF-8: {e}"))
}

/// Case 85.
pub fn read() -> Outcome {
    let h = opened(&file_url("hello.txt")?)?;
    let bytes = read_to_eof(h.0)?;
    expect_bytes!(&bytes[..], b"hello, file\n", "hello.txt");
    let mut buf = [0u8; 4];
    expect_eq!(
        sys::resource_read(h.0, &mut buf),
        errno::EOF,
        "resource_read at the end, again"
    );
    // The SDK reads the same bytes.
    let text = resource("hello.txt")?
        .read_string()
        .map_err(|e| alloc::format!("{e}"))?;
    expect_eq!(text, "hello, file\n", "Resource::read_string");
    Ok(())
}

/// Case 86.
pub fn percent_decoded() -> Outcome {
    expect_eq!(
        content("with%20space.txt")?,
        "spaced out\n",
        "with%20space.txt"
    );
    Ok(())
}

/// Case 87.
pub fn default_mode() -> Outcome {
    let r = resource("rw.txt")?;
    let mut buf = [0u8; 4];
    let n = sys::resource_read(r.handle(), &mut buf);
    expect_eq!(n, 4, "resource_read(rw.txt, buf, 4)");
    expect_bytes!(&buf, b"0123", "the first 4 bytes");
    write(&r, b"AB")
}

/// Case 88.
pub fn mode_r() -> Outcome {
    let h = opened(&file_url("hello.txt?mode=r")?)?;
    let mut buf = [0u8; 5];
    expect_eq!(
        sys::resource_read(h.0, &mut buf),
        5,
        "resource_read(hello.txt?mode=r, buf, 5)"
    );
    expect_bytes!(&buf, b"hello", "the first 5 bytes");
    expect_eq!(
        sys::resource_write(h.0, b"overwritten"),
        errno::UNSUPPORTED,
        "resource_write on a mode=r file"
    );
    Ok(())
}

/// Case 89.
pub fn mode_r_missing() -> Outcome {
    open_fails(&file_url("missing.txt?mode=r")?, errno::NOT_FOUND)
}

/// Case 90.
pub fn default_missing() -> Outcome {
    open_fails(&file_url("missing-too.txt")?, errno::NOT_FOUND)?;
    open_fails(&file_url("missing-too.txt?mode=r")?, errno::NOT_FOUND)
}

/// Case 91.
pub fn mode_w_creates() -> Outcome {
    let r = resource("created.txt?mode=w")?;
    write(&r, b"created by c91\n")
}

/// Case 92.
pub fn mode_w_truncates() -> Outcome {
    write(&resource("truncate.txt?mode=w")?, b"short\n")?;
    expect_eq!(
        content("truncate.txt")?,
        "short\n",
        "truncate.txt after mode=w"
    );
    Ok(())
}

/// Case 93.
pub fn mode_a() -> Outcome {
    write(&resource("append.txt?mode=a")?, b"two\n")?;
    write(&resource("new-append.txt?mode=a")?, b"fresh\n")?;
    expect_eq!(
        content("append.txt")?,
        "one\ntwo\n",
        "append.txt after mode=a"
    );
    Ok(())
}

/// Case 94.
pub fn mode_rw() -> Outcome {
    write(&resource("rw-new.txt?mode=rw")?, b"made by mode=rw\n")?;
    let again = resource("rw-new.txt?mode=rw")?;
    let text = again
        .read_string()
        .map_err(|e: Error| alloc::format!("reading rw-new.txt: {e}"))?;
    expect_eq!(text, "made by mode=rw\n", "rw-new.txt read back");
    Ok(())
}

/// Case 95.
pub fn directory() -> Outcome {
    open_fails(&file_url("subdir")?, errno::INVALID_ARGUMENT)?;
    open_fails(&file_url("subdir?mode=r")?, errno::INVALID_ARGUMENT)
}

/// Case 96.
pub fn flush() -> Outcome {
    let r = resource("flushed.txt?mode=w")?;
    write(&r, b"synced\n")?;
    expect_eq!(
        sys::resource_flush(r.handle()),
        0,
        "resource_flush(file://)"
    );
    Ok(())
}

/// Case 97.
pub fn mode_w_read() -> Outcome {
    let r = resource("write-only.txt?mode=w")?;
    write(&r, b"w\n")?;
    let mut buf = [0u8; 4];
    expect_eq!(
        sys::resource_read(r.handle(), &mut buf),
        errno::UNSUPPORTED,
        "resource_read on a mode=w file"
    );
    Ok(())
}
