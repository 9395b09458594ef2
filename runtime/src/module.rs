//! [`Module`]: a guest compiled once, checked against what the runtime provides, run many times.
//!
//! A module's `(start)` function would run inside wasmi's instantiation as one call that fuel slices,
//! timeouts and interrupts cannot reach, before the engine can hand host functions the guest's
//! memory. So compiling moves it: the start section is removed and the same function is exported
//! under [`START_EXPORT`]; the engine calls it, sliced like the entry point, right after
//! instantiation and before the entry point, which is where the WebAssembly spec runs it.

use std::sync::Arc;

use wasmi::{ExternType, ValType};

use crate::Error;

/// The export under which a module's `(start)` function is called. A NUL starts it, so toolchains do
/// not produce it; a module that already exports this name fails validation and is refused.
pub(crate) const START_EXPORT: &str = "\0tern-start";

/// A compiled guest module: cheap to clone (a reference count), `Send + Sync`, usable by any number of
/// runs at once on any threads. Made by [`Runtime::compile`](crate::Runtime::compile) or
/// [`Runtime::compile_with_entry`](crate::Runtime::compile_with_entry), whose checks it has passed:
/// valid WebAssembly, every import provided by the runtime with the right type, an entry point that
/// takes nothing and returns nothing or an `i32` exit status.
#[derive(Clone)]
pub struct Module {
    inner: Arc<Inner>,
}

struct Inner {
    wasm: wasmi::Module,
    entry: String,
    entry_returns_status: bool,
    has_start: bool,
}

impl Module {
    /// Wraps a compiled wasmi module after resolving its entry point (`None`: the first of
    /// `_start`, `cwa_main`, `main` it exports).
    pub(crate) fn new(
        wasm: wasmi::Module,
        entry: Option<&str>,
        has_start: bool,
    ) -> Result<Module, Error> {
        let (entry, entry_returns_status) = resolve_entry(&wasm, entry)?;
        Ok(Module {
            inner: Arc::new(Inner {
                wasm,
                entry,
                entry_returns_status,
                has_start,
            }),
        })
    }

    /// The exported function a run calls.
    pub fn entry(&self) -> &str {
        &self.inner.entry
    }

    /// The `(module, name)` of each function the module imports.
    pub fn imports(&self) -> Vec<(String, String)> {
        self.inner
            .wasm
            .imports()
            .map(|i| (i.module().to_string(), i.name().to_string()))
            .collect()
    }

    pub(crate) fn wasmi(&self) -> &wasmi::Module {
        &self.inner.wasm
    }

    /// Whether the entry point returns an `i32` exit status.
    pub(crate) fn entry_returns_status(&self) -> bool {
        self.inner.entry_returns_status
    }

    /// Whether the module had a `(start)` function, now exported as [`START_EXPORT`].
    pub(crate) fn has_start(&self) -> bool {
        self.inner.has_start
    }
}

impl std::fmt::Debug for Module {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Module")
            .field("entry", &self.inner.entry)
            .field("has_start", &self.inner.has_start)
            .finish_non_exhaustive()
    }
}

fn resolve_entry(wasm: &wasmi::Module, entry: Option<&str>) -> Result<(String, bool), Error> {
    let name = match entry {
        Some(name) => name,
        None => tern_abi::entry::ORDER
            .iter()
            .copied()
            .find(|name| matches!(wasm.get_export(name), Some(ExternType::Func(_))))
            .ok_or_else(|| {
                Error::Entry(format!(
                    "no entry point: the module exports none of {}",
                    tern_abi::entry::ORDER.join(", ")
                ))
            })?,
    };
    let Some(ExternType::Func(ty)) = wasm.get_export(name).filter(|_| name != START_EXPORT) else {
        return Err(Error::Entry(format!("no exported function {name:?}")));
    };
    let returns_status = match ty.results() {
        [] => false,
        [ValType::I32] => true,
        _ => {
            return Err(Error::Entry(format!(
                "entry point {name:?} must return nothing or an i32"
            )))
        }
    };
    if !ty.params().is_empty() {
        return Err(Error::Entry(format!(
            "entry point {name:?} must take no parameters"
        )));
    }
    Ok((name.to_string(), returns_status))
}

/// Section ids of the WebAssembly binary format.
const EXPORT_SECTION: u8 = 7;
const START_SECTION: u8 = 8;

/// The module with its start section replaced by an export of the same function under
/// [`START_EXPORT`]; `None` if it has no start section, or is malformed (validation then reports it).
pub(crate) fn export_start(binary: &[u8]) -> Option<Vec<u8>> {
    let header = binary.get(..8)?;
    if !header.starts_with(b"\0asm") {
        return None;
    }
    let mut sections = Vec::new();
    let mut pos = 8;
    while pos < binary.len() {
        let id = binary[pos];
        let (size, n) = read_u32(binary.get(pos + 1..)?)?;
        let content = pos + 1 + n;
        let end = content.checked_add(size as usize)?;
        sections.push((id, pos..end, content..end));
        pos = end;
    }
    if pos != binary.len() {
        return None;
    }
    let (_, _, start) = sections.iter().find(|(id, ..)| *id == START_SECTION)?;
    let (func, n) = read_u32(binary.get(start.clone())?)?;
    if n != start.len() {
        return None;
    }
    let mut entry = Vec::new();
    write_u32(&mut entry, START_EXPORT.len() as u32);
    entry.extend_from_slice(START_EXPORT.as_bytes());
    entry.push(0); // export kind: function
    write_u32(&mut entry, func);
    let export = sections.iter().find(|(id, ..)| *id == EXPORT_SECTION);
    let exports = match export {
        Some((_, _, content)) => {
            let (count, n) = read_u32(&binary[content.clone()])?;
            let mut body = Vec::new();
            write_u32(&mut body, count.checked_add(1)?);
            body.extend_from_slice(&binary[content.start + n..content.end]);
            body.extend_from_slice(&entry);
            body
        }
        None => [vec![1], entry].concat(),
    };
    let mut out = Vec::with_capacity(binary.len() + exports.len() + 6);
    out.extend_from_slice(header);
    for (id, whole, _) in &sections {
        match *id {
            // An export section is followed directly by the start section if there is one, so a new
            // export section put where the start section was keeps the sections in order.
            EXPORT_SECTION => write_section(&mut out, EXPORT_SECTION, &exports),
            START_SECTION if export.is_none() => write_section(&mut out, EXPORT_SECTION, &exports),
            START_SECTION => {}
            _ => out.extend_from_slice(&binary[whole.clone()]),
        }
    }
    Some(out)
}

fn write_section(out: &mut Vec<u8>, id: u8, body: &[u8]) {
    out.push(id);
    write_u32(out, body.len() as u32);
    out.extend_from_slice(body);
}

/// An unsigned LEB128 `u32` and its length in bytes.
fn read_u32(bytes: &[u8]) -> Option<(u32, usize)> {
    let mut value: u32 = 0;
    for (i, &byte) in bytes.iter().enumerate().take(5) {
        let bits = u32::from(byte & 0x7f);
        if i == 4 && bits > 0x0f {
            return None;
        }
        value |= bits << (7 * i);
        if byte & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

fn write_u32(out: &mut Vec<u8>, mut value: u32) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exports_of(binary: &[u8]) -> Vec<String> {
        let engine = wasmi::Engine::default();
        let module = wasmi::Module::new(&engine, binary).expect("rewritten module is valid");
        assert!(module.get_export(START_EXPORT).is_some());
        let mut names: Vec<String> = module.exports().map(|e| e.name().to_string()).collect();
        names.sort();
        names
    }

    #[test]
    fn the_start_function_becomes_an_export() {
        let with_exports = wat::parse_str(
            r#"(module (func $s) (func (export "_start")) (memory (export "memory") 1) (start $s))"#,
        )
        .unwrap();
        let rewritten = export_start(&with_exports).unwrap();
        assert_eq!(exports_of(&rewritten), [START_EXPORT, "_start", "memory"]);
        let without_exports = wat::parse_str(r#"(module (func $a) (func $s) (start $s))"#).unwrap();
        assert_eq!(
            exports_of(&export_start(&without_exports).unwrap()),
            [START_EXPORT]
        );
    }

    #[test]
    fn modules_without_a_start_function_or_malformed_ones_are_left_alone() {
        let plain = wat::parse_str(r#"(module (func (export "_start")))"#).unwrap();
        assert_eq!(export_start(&plain), None);
        for bad in [
            &b""[..],
            b"\0asm",
            b"\0asm\x01\0\0\0\x08\x05\x01",
            b"junkjunk\x08\x01\x00",
        ] {
            assert_eq!(export_start(bad), None);
        }
    }

    #[test]
    fn leb128_round_trips() {
        for v in [0, 1, 127, 128, 300, 1 << 21, u32::MAX] {
            let mut buf = Vec::new();
            write_u32(&mut buf, v);
            assert_eq!(read_u32(&buf), Some((v, buf.len())));
        }
        assert_eq!(read_u32(&[0x80, 0x80, 0x80, 0x80, 0x7f]), None);
        assert_eq!(read_u32(&[0x80]), None);
    }
}
