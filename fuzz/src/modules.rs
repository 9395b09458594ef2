//! The module fuzzer: random valid modules from `wasm-smith`, and broken copies of them.

use std::ffi::OsString;
use std::path::Path;

use wasm_smith::{Config, Module};

use crate::rng::Rng;

/// How a module was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// As `wasm-smith` generated it.
    Valid,
    /// With a few bytes changed, inserted or removed.
    Mutated,
    /// Cut short.
    Truncated,
    /// Built to push one host limit (see [`crate::bombs`]).
    Bomb(&'static str),
}

impl Shape {
    /// A word for reports and file names.
    pub fn name(self) -> &'static str {
        match self {
            Shape::Valid => "valid",
            Shape::Mutated => "mutated",
            Shape::Truncated => "truncated",
            Shape::Bomb(kind) => kind,
        }
    }
}

/// `(module (func (export "_start")))`: every generated module gets an entry tern can call.
const ENTRY_EXPORT: &[u8] = &[
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
    0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type section: () -> ()
    0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
    0x07, 0x0a, 0x01, 0x06, b'_', b's', b't', b'a', b'r', b't', 0x00, 0x00, // export "_start"
    0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b, // code section: an empty body
];

/// `--max-memory-pages` for each run: small, so failed grows are common and runs stay fast.
const MAX_PAGES: u64 = 256;

/// The features tern's engine (wasmi with its default configuration) accepts.
fn config(rng: &mut Rng) -> Config {
    Config {
        exports: Some(ENTRY_EXPORT.to_vec()),
        max_imports: 0,
        simd_enabled: false,
        relaxed_simd_enabled: false,
        threads_enabled: false,
        exceptions_enabled: false,
        gc_enabled: false,
        memory64_enabled: false,
        wide_arithmetic_enabled: false,
        custom_page_sizes_enabled: false,
        max_memories: 1,
        // Up to twice the run's page limit: some modules cannot even be instantiated, many grow into it.
        max_memory32_bytes: 2 * MAX_PAGES * 65536,
        // Some modules that cannot trap, so runs reach deep loops and the fuel limit, not just a trap.
        disallow_traps: rng.chance(30),
        max_instructions: 2000,
        max_funcs: 40,
        ..Config::default()
    }
}

/// The module for `seed`: a bomb one time in five, else valid, mutated or truncated.
pub fn generate(seed: u64) -> (Vec<u8>, Shape) {
    let mut rng = Rng::new(seed, 2);
    if rng.chance(20) {
        let (bytes, kind) = crate::bombs::generate(&mut rng);
        return (bytes, Shape::Bomb(kind));
    }
    let size = 1024 + rng.below(16 * 1024);
    let entropy = rng.bytes(size);
    let mut u = arbitrary::Unstructured::new(&entropy);
    let module = match Module::new(config(&mut rng), &mut u) {
        Ok(module) => module.to_bytes(),
        // Running out of entropy is not an error for the fuzzer: fall back to the entry alone.
        Err(_) => ENTRY_EXPORT.to_vec(),
    };
    match rng.below(3) {
        0 => (module, Shape::Valid),
        1 => (mutate(module, &mut rng), Shape::Mutated),
        _ => {
            let keep = 8 + rng.below(module.len().saturating_sub(8).max(1));
            (module[..keep.min(module.len())].to_vec(), Shape::Truncated)
        }
    }
}

/// One to eight byte-level changes, aimed at LEB128 sizes and counts as much as at opcodes.
fn mutate(mut bytes: Vec<u8>, rng: &mut Rng) -> Vec<u8> {
    for _ in 0..1 + rng.below(8) {
        // Keep the magic and version (8 bytes), or tern only ever reports "not a module".
        let at = 8 + rng.below(bytes.len().saturating_sub(8).max(1));
        let at = at.min(bytes.len());
        match rng.below(6) {
            0 if at < bytes.len() => bytes[at] ^= 1 << rng.below(8),
            1 if at < bytes.len() => bytes[at] = rng.next_u64() as u8,
            2 => bytes.insert(at, rng.next_u64() as u8),
            3 if at < bytes.len() => {
                bytes.remove(at);
            }
            4 => {
                // A maximal 5-byte LEB128: a huge count, size or index.
                let end = (at + 5).min(bytes.len());
                bytes.splice(at..end, [0xff, 0xff, 0xff, 0xff, 0x0f]);
            }
            _ => {
                let end = (at + 1 + rng.below(32)).min(bytes.len());
                let chunk = bytes[at..end].to_vec();
                bytes.splice(at..at, chunk);
            }
        }
    }
    bytes
}

/// The `tern run` arguments for a generated module.
pub fn tern_args(module: &Path, timeout_ms: u64) -> Vec<OsString> {
    vec![
        "run".into(),
        "--fuel".into(),
        "5000000".into(),
        "--max-memory-pages".into(),
        MAX_PAGES.to_string().into(),
        "--timeout".into(),
        format!("{timeout_ms}ms").into(),
        module.into(),
    ]
}
