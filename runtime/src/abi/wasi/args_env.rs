//! `args_*` and `environ_*`: the process's arguments (argument 0 is the program name) and
//! environment, as NUL-terminated strings (`KEY=VALUE` for the environment).

use super::{bytes_mut, call, check, errno, put_u32, Imports, C, R};

pub(super) fn link(imports: &mut Imports<'_>, m: &'static str) {
    imports.func(m, "args_sizes_get", |mut c: C, argc: i32, size: i32| {
        call(&mut c, |mem, p| {
            let args: Vec<&[u8]> = p.args().iter().map(|a| a.as_bytes()).collect();
            sizes(mem, &args, argc as u32, size as u32)
        })
    });
    imports.func(m, "args_get", |mut c: C, argv: i32, buf: i32| {
        call(&mut c, |mem, p| {
            let args: Vec<Vec<u8>> = p.args().iter().map(|a| a.as_bytes().to_vec()).collect();
            strings(mem, &args, argv as u32, buf as u32)
        })
    });
    imports.func(m, "environ_sizes_get", |mut c: C, count: i32, size: i32| {
        call(&mut c, |mem, p| {
            let env = environ(p);
            let env: Vec<&[u8]> = env.iter().map(Vec::as_slice).collect();
            sizes(mem, &env, count as u32, size as u32)
        })
    });
    imports.func(m, "environ_get", |mut c: C, environ_ptr: i32, buf: i32| {
        call(&mut c, |mem, p| {
            strings(mem, &environ(p), environ_ptr as u32, buf as u32)
        })
    });
}

/// The environment as `KEY=VALUE` byte strings.
fn environ(p: &crate::Process) -> Vec<Vec<u8>> {
    p.env()
        .iter()
        .map(|(k, v)| format!("{k}={v}").into_bytes())
        .collect()
}

/// Writes how many strings there are and the bytes they need with their NULs.
fn sizes(mem: &mut [u8], items: &[&[u8]], count_ptr: u32, size_ptr: u32) -> R {
    let count = u32::try_from(items.len()).map_err(|_| errno::OVERFLOW)?;
    let size: usize = items.iter().map(|s| s.len() + 1).sum();
    let size = u32::try_from(size).map_err(|_| errno::OVERFLOW)?;
    check(mem, count_ptr, 4)?;
    check(mem, size_ptr, 4)?;
    put_u32(mem, count_ptr, count)?;
    put_u32(mem, size_ptr, size)
}

/// Writes the strings, NUL-terminated, one after another from `buf`, and a pointer to each at `ptrs`.
fn strings(mem: &mut [u8], items: &[Vec<u8>], ptrs: u32, buf: u32) -> R {
    let count = u32::try_from(items.len()).map_err(|_| errno::OVERFLOW)?;
    let size: usize = items.iter().map(|s| s.len() + 1).sum();
    let size = u32::try_from(size).map_err(|_| errno::OVERFLOW)?;
    // Checked whole first, so a bad pointer leaves the guest's memory untouched.
    check(mem, ptrs, count.checked_mul(4).ok_or(errno::FAULT)?)?;
    check(mem, buf, size)?;
    let mut at = buf;
    for (i, item) in (0u32..).zip(items) {
        put_u32(mem, ptrs + 4 * i, at)?;
        let len = item.len() as u32;
        let dst = bytes_mut(mem, at, len + 1)?;
        dst[..item.len()].copy_from_slice(item);
        dst[item.len()] = 0;
        at += len + 1;
    }
    Ok(())
}
