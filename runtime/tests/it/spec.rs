//! The spec (tern-abi's tables) and the runtime's registered imports cannot drift apart.

use crate::common;

use std::collections::BTreeSet;

use tern::Runtime;
use tern_abi::{module, FuncSpec, ValType, CWA_FUNCTIONS, DAGGER_FUNCTIONS};

fn wat_type(t: &ValType) -> &'static str {
    match t {
        ValType::I32 => "i32",
        ValType::I64 => "i64",
    }
}

fn import_all(module_name: &str, table: &[FuncSpec]) -> String {
    let mut wat = String::from("(module\n");
    for f in table {
        let params: Vec<_> = f.params.iter().map(wat_type).collect();
        let results: Vec<_> = f.results.iter().map(wat_type).collect();
        wat += &format!(
            "(import \"{module_name}\" \"{}\" (func (param {}) (result {})))\n",
            f.name,
            params.join(" "),
            results.join(" ")
        );
    }
    wat + "(func (export \"_start\")))"
}

#[test]
fn every_spec_function_links_with_its_exact_signature() {
    // A module importing each function with the spec's signature instantiates only if the runtime
    // defines every one of them with exactly that type.
    for (m, table) in [
        (module::CWA, CWA_FUNCTIONS),
        (module::ENV, CWA_FUNCTIONS),
        (module::DAGGER, DAGGER_FUNCTIONS),
    ] {
        let run = common::Guest::module(import_all(m, table)).run();
        assert_eq!(run.code(), 0, "{m}");
    }
}

#[test]
fn the_runtime_defines_nothing_the_spec_does_not_list() {
    let runtime = Runtime::new();
    let registered: BTreeSet<(&str, &str)> = runtime
        .imports()
        .iter()
        .filter(|(m, _)| *m != module::WASI_PREVIEW1)
        .copied()
        .collect();
    let mut spec = BTreeSet::new();
    for m in [module::CWA, module::ENV] {
        spec.extend(CWA_FUNCTIONS.iter().map(|f| (m, f.name)));
    }
    spec.extend(DAGGER_FUNCTIONS.iter().map(|f| (module::DAGGER, f.name)));
    assert_eq!(registered, spec);
}

#[test]
fn a_mistyped_or_unknown_import_is_refused_at_compile_time() {
    let runtime = Runtime::new();
    for (wat, what) in [
        (
            &br#"(module (import "cwa" "random_i32" (func (result i64))) (func (export "_start")))"#[..],
            "random_i32",
        ),
        (
            br#"(module (import "cwa" "no_such_call" (func)) (func (export "_start")))"#,
            "no_such_call",
        ),
        (
            br#"(module (import "env" "memory" (memory 1)) (func (export "_start")))"#,
            "memory",
        ),
    ] {
        let wasm = wat::parse_bytes(wat).expect("valid text");
        let Err(error) = runtime.compile(&wasm) else {
            panic!("an import of {what} must be refused")
        };
        assert!(matches!(error, tern::Error::UnknownImport(_)), "{error:?}");
        assert!(error.to_string().contains(what), "{error}");
    }
}

/// Bytes that are neither a binary nor UTF-8 text are named as such, not as a text parse error
/// (a `.wasm` file truncated or of another format used to get "invalid WebAssembly text: … utf-8").
#[cfg(feature = "wat")]
#[test]
fn bytes_that_are_neither_binary_nor_text_are_refused_by_name() {
    let Err(error) = Runtime::new().compile(&[0x7f, b'E', b'L', b'F', 0xff, 0x00, 0x01]) else {
        panic!("an ELF header compiled")
    };
    assert!(matches!(error, tern::Error::InvalidModule(_)), "{error:?}");
    assert!(
        error.to_string().contains("not a binary") && error.to_string().contains("not text"),
        "{error}"
    );
    // Text still gets the text parser's message.
    let Err(error) = Runtime::new().compile(b"(module (func (export \"_start\") (i32.bogus)))")
    else {
        panic!("bad text compiled")
    };
    assert!(
        error.to_string().contains("invalid WebAssembly text"),
        "{error}"
    );
}

#[test]
fn abi_md_documents_every_function_and_error_number() {
    let spec = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../abi/ABI.md"));
    for f in CWA_FUNCTIONS.iter().chain(DAGGER_FUNCTIONS) {
        assert!(
            spec.contains(&format!("`{}`", f.name)),
            "ABI.md lacks {}",
            f.name
        );
    }
    for (code, name) in tern_abi::errno::ALL {
        assert!(
            spec.contains(&format!("| {code} | {name} |")),
            "ABI.md lacks error {code} {name}"
        );
    }
}
