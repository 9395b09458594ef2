//! Checks that the C and Zig guest SDKs declare the ABI exactly as the `tern-abi` crate states it:
//! every import's module, name and signature, and every constant. A new function or constant in
//! tern-abi, or a typo in `guest-sdk/c/tern.h` or `guest-sdk/zig/tern.zig`, fails these tests.
//!
//! The declarations are read from the source text, one per line, in the forms those files use:
//! `TERN_IMPORT(name) RET name(PARAMS);` and `TERN_DAGGER(name) RET tern_dagger_name(PARAMS);` in
//! C, `pub extern "cwa" fn name(PARAMS) RET;` in Zig; constants as `#define TERN_NAME VALUE` and
//! `pub const NAME: i32 = VALUE;`.

use std::collections::BTreeMap;

use tern_abi::{FuncSpec, ValType};

/// The repository root, from this crate's directory (conformance/harness).
fn repo_file(path: &str) -> String {
    let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// An import as a binding declares it: (module, name) → (params, results).
type Imports = BTreeMap<(String, String), (Vec<ValType>, Vec<ValType>)>;

/// The constants every binding must define, by their C name without `TERN_` (the Zig name), with
/// tern-abi's value.
fn abi_constants() -> BTreeMap<&'static str, i32> {
    use tern_abi::{errno, exit_status, handle, log_level};
    let map = BTreeMap::from([
        ("SPEC_MAJOR", tern_abi::SPEC_MAJOR),
        ("SPEC_MINOR", tern_abi::SPEC_MINOR),
        ("EUNKNOWN", errno::UNKNOWN),
        ("EINVAL", errno::INVALID_ARGUMENT),
        ("EPERM", errno::PERMISSION_DENIED),
        ("ENOTFOUND", errno::NOT_FOUND),
        ("EOF", errno::EOF),
        ("EUNSUPPORTED", errno::UNSUPPORTED),
        ("ELIMIT", errno::LIMIT_EXCEEDED),
        ("ETIMEOUT", errno::TIMEOUT),
        ("ECONNECT", errno::CONNECTION_FAILED),
        ("LOG_ERROR", log_level::ERROR),
        ("LOG_WARNING", log_level::WARNING),
        ("LOG_INFO", log_level::INFO),
        ("STDIN", handle::STDIN),
        ("STDOUT", handle::STDOUT),
        ("STDERR", handle::STDERR),
        ("EXIT_TRAP", exit_status::TRAP),
        ("EXIT_TIMEOUT", exit_status::TIMEOUT),
        ("EXIT_RUNTIME_ERROR", exit_status::RUNTIME_ERROR),
    ]);
    // A new error number in tern-abi must be added above (and to the bindings).
    for (code, name) in errno::ALL {
        assert!(
            map.values().filter(|v| *v == code).count() >= 1,
            "error {code} ({name}) has no binding constant in this check"
        );
    }
    map
}

/// What tern-abi says the imports are.
fn abi_imports() -> Imports {
    let entry = |module: &str, f: &FuncSpec| {
        (
            (module.to_string(), f.name.to_string()),
            (f.params.to_vec(), f.results.to_vec()),
        )
    };
    let cwa = tern_abi::CWA_FUNCTIONS
        .iter()
        .map(|f| entry(tern_abi::module::CWA, f));
    let dagger = tern_abi::DAGGER_FUNCTIONS
        .iter()
        .map(|f| entry(tern_abi::module::DAGGER, f));
    cwa.chain(dagger).collect()
}

/// Stops the test at a line that does not parse.
fn die<T>(file: &str, n: usize, line: &str, e: impl std::fmt::Display) -> T {
    panic!("{file} line {}: {e}: {line}", n + 1)
}

/// The wasm type of a C type on wasm32: pointers and 32-bit integers are i32.
fn c_type(ty: &str) -> Result<Option<ValType>, String> {
    let ty = ty.trim().trim_start_matches("_Noreturn").trim();
    Ok(match ty {
        "void" => None,
        "int32_t" => Some(ValType::I32),
        "int64_t" => Some(ValType::I64),
        t if t.ends_with('*') => Some(ValType::I32),
        t => return Err(format!("unknown C type {t:?}")),
    })
}

/// Splits `RET NAME(PARAMS);` into its return type, name and parameter types.
fn c_signature(decl: &str) -> Result<(String, Vec<ValType>, Vec<ValType>), String> {
    let (head, rest) = decl.split_once('(').ok_or("no '('")?;
    let params = rest.split_once(')').ok_or("no ')'")?.0;
    let head = head.trim();
    let split = head
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .ok_or("no return type")?;
    let (ret, name) = head.split_at(split + 1);
    let results: Vec<ValType> = c_type(ret)?.into_iter().collect();
    let mut types = Vec::new();
    if params.trim() != "void" {
        for param in params.split(',') {
            // Drop the parameter's name: the last identifier.
            let param = param.trim();
            let cut = param
                .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .ok_or_else(|| format!("parameter {param:?} has no type"))?;
            types.extend(c_type(&param[..=cut])?);
        }
    }
    Ok((name.to_string(), types, results))
}

/// The imports and constants of a C header.
fn parse_c(text: &str) -> (Imports, BTreeMap<String, i32>) {
    let mut imports = Imports::new();
    let mut constants = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split("/*").next().unwrap_or_default().trim();
        let macros = [
            ("TERN_IMPORT(", "cwa", ""),
            ("TERN_DAGGER(", "dagger", "tern_dagger_"),
        ];
        if let Some((prefix, module, c_prefix)) =
            macros.iter().find(|(p, _, _)| line.starts_with(p))
        {
            let rest = &line[prefix.len()..];
            let (import, decl) = rest
                .split_once(')')
                .unwrap_or_else(|| die("tern.h", n, line, "no ')'"));
            let (name, params, results) =
                c_signature(decl).unwrap_or_else(|e| die("tern.h", n, line, e));
            assert_eq!(
                name,
                format!("{c_prefix}{import}"),
                "tern.h line {}: the C name does not match the import name",
                n + 1
            );
            let key = (module.to_string(), import.to_string());
            assert!(
                imports.insert(key, (params, results)).is_none(),
                "tern.h declares {module}.{import} twice"
            );
        } else if let Some(def) = line.strip_prefix("#define TERN_") {
            let Some((name, value)) = def.split_once(char::is_whitespace) else {
                continue;
            };
            if name.contains('(') {
                continue; // a macro, not a constant
            }
            let value = value.trim().trim_start_matches('(').trim_end_matches(')');
            if let Ok(v) = value.parse::<i32>() {
                constants.insert(name.to_string(), v);
            }
        }
    }
    (imports, constants)
}

/// The wasm type of a Zig type on wasm32.
fn zig_type(ty: &str) -> Result<Option<ValType>, String> {
    let ty = ty.trim();
    Ok(match ty {
        "void" | "noreturn" => None,
        "i32" | "u32" | "usize" | "isize" => Some(ValType::I32),
        "i64" | "u64" => Some(ValType::I64),
        t if t.starts_with('[') || t.starts_with('*') || t.starts_with("?*") => Some(ValType::I32),
        t => return Err(format!("unknown Zig type {t:?}")),
    })
}

/// The imports and constants of a Zig file.
fn parse_zig(text: &str) -> (Imports, BTreeMap<String, i32>) {
    let mut imports = Imports::new();
    let mut constants = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split("//").next().unwrap_or_default().trim();
        if let Some(rest) = line
            .strip_prefix("pub extern \"")
            .or_else(|| line.strip_prefix("extern \""))
        {
            let (module, rest) = rest
                .split_once('"')
                .unwrap_or_else(|| die("tern.zig", n, line, "no '\"'"));
            let rest = rest
                .trim()
                .strip_prefix("fn ")
                .unwrap_or_else(|| die("tern.zig", n, line, "no fn"));
            let (name, rest) = rest
                .split_once('(')
                .unwrap_or_else(|| die("tern.zig", n, line, "no '('"));
            let (params, ret) = rest
                .rsplit_once(')')
                .unwrap_or_else(|| die("tern.zig", n, line, "no ')'"));
            let mut types = Vec::new();
            for param in params.split(',').filter(|p| !p.trim().is_empty()) {
                let (_, ty) = param.split_once(':').unwrap_or_else(|| {
                    die(
                        "tern.zig",
                        n,
                        line,
                        format!("parameter {param:?} has no type"),
                    )
                });
                types.extend(zig_type(ty).unwrap_or_else(|e| die("tern.zig", n, line, e)));
            }
            let ret = ret.trim().trim_end_matches(';');
            let results: Vec<ValType> = zig_type(ret)
                .unwrap_or_else(|e| die("tern.zig", n, line, e))
                .into_iter()
                .collect();
            let key = (module.to_string(), name.trim().to_string());
            assert!(
                imports.insert(key, (types, results)).is_none(),
                "tern.zig declares {module}.{name} twice"
            );
        } else if let Some(def) = line.strip_prefix("pub const ") {
            if let Some((name, value)) = def.split_once(": i32 =") {
                if let Ok(v) = value.trim().trim_end_matches(';').trim().parse::<i32>() {
                    constants.insert(name.trim().to_string(), v);
                }
            }
        }
    }
    (imports, constants)
}

/// Compares a binding's imports and constants with tern-abi, naming every difference.
fn compare(what: &str, imports: &Imports, constants: &BTreeMap<String, i32>) {
    let want = abi_imports();
    let mut problems = Vec::new();
    for (key, sig) in &want {
        match imports.get(key) {
            None => problems.push(format!("{}.{} is not declared", key.0, key.1)),
            Some(got) if got != sig => problems.push(format!(
                "{}.{}: declared {got:?}, tern-abi says {sig:?}",
                key.0, key.1
            )),
            Some(_) => {}
        }
    }
    for key in imports.keys().filter(|k| !want.contains_key(*k)) {
        problems.push(format!("{}.{} is not a function of tern-abi", key.0, key.1));
    }
    let abi = abi_constants();
    for (name, value) in &abi {
        match constants.get(*name) {
            None => problems.push(format!("constant {name} is not defined")),
            Some(v) if v != value => {
                problems.push(format!("constant {name} is {v}, tern-abi says {value}"))
            }
            Some(_) => {}
        }
    }
    for name in constants.keys().filter(|n| !abi.contains_key(n.as_str())) {
        problems.push(format!(
            "constant {name} is not checked against tern-abi (add it to abi_constants)"
        ));
    }
    assert!(
        problems.is_empty(),
        "{what} disagrees with tern-abi:\n  {}",
        problems.join("\n  ")
    );
}

#[test]
fn the_c_header_matches_tern_abi() {
    let (imports, constants) = parse_c(&repo_file("guest-sdk/c/tern.h"));
    compare("guest-sdk/c/tern.h", &imports, &constants);
}

#[test]
fn the_zig_bindings_match_tern_abi() {
    let (imports, constants) = parse_zig(&repo_file("guest-sdk/zig/tern.zig"));
    compare("guest-sdk/zig/tern.zig", &imports, &constants);
}

#[test]
fn a_wrong_declaration_is_named() {
    let header = repo_file("guest-sdk/c/tern.h")
        .replace(
            "int32_t env_get(const char *key, int32_t key_len, char *val, int32_t val_len)",
            "int32_t env_get(const char *key, int32_t key_len, char *val, int64_t val_len)",
        )
        .replace("#define TERN_EPERM (-3)", "#define TERN_EPERM (-33)")
        .replace("TERN_IMPORT(time_now) int64_t time_now(void);", "");
    let (imports, constants) = parse_c(&header);
    let err = std::panic::catch_unwind(|| compare("edited tern.h", &imports, &constants))
        .expect_err("an edited header must disagree");
    let text = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(text.contains("cwa.env_get: declared"), "{text}");
    assert!(
        text.contains("constant EPERM is -33, tern-abi says -3"),
        "{text}"
    );
    assert!(text.contains("cwa.time_now is not declared"), "{text}");
}
