//! Every host function the ABI guest imports, with what each parameter means, so arguments can be
//! chosen to be hostile in a useful way.
//!
//! Parameter kinds, one letter each. Pairs (two wasm parameters):
//! `B` buffer pointer + length, `U` URL pointer + length, `P` path pointer + length,
//! `T` symlink target pointer + length, `E` environment key pointer + length, `V` iovec pointer + count.
//! Singles (`i32` unless said): `Z` NUL-terminated URL pointer, `o` out pointer, `h` handle or fd,
//! `f` flags, `i` any integer, `m` milliseconds to sleep, `x` exit status, `c` clock id, `w` whence,
//! `S` subscriptions pointer, `n` subscription count, `L` any `i64`, `R` rights (`i64`).

use tern_abi::{FuncSpec, ValType, CWA_FUNCTIONS, DAGGER_FUNCTIONS};

/// One import of the guest.
pub struct Import {
    /// Import module.
    pub module: &'static str,
    /// Function name.
    pub name: &'static str,
    /// Parameter kinds (see the module doc).
    pub kinds: &'static str,
    /// Whether it returns an `i32` or `i64` (or nothing).
    pub result: Option<ValType>,
}

/// Kinds of the stream ABI's parameters, by function name.
const CWA_KINDS: &[(&str, &str)] = &[
    ("log_write", "iB"),
    ("env_get", "EB"),
    ("runtime_exit", "x"),
    ("runtime_spec_major", ""),
    ("runtime_spec_minor", ""),
    ("runtime_name", "B"),
    ("runtime_msleep", "m"),
    ("startup_arg_len", ""),
    ("startup_arg_at", "iB"),
    ("time_now", ""),
    ("time_now_ns", ""),
    ("time_monotonic_ns", ""),
    ("random_i32", ""),
    ("random_i64", ""),
    ("random_fill", "B"),
    ("resource_open", "U"),
    ("resource_read", "hB"),
    ("resource_write", "hB"),
    ("resource_close", "h"),
    ("resource_flush", "h"),
    ("io_get_stdin", ""),
    ("io_get_stdout", ""),
    ("io_get_stderr", ""),
];

/// Kinds of Dagger's parameters.
const DAGGER_KINDS: &[(&str, &str)] = &[
    ("open", "Zf"),
    ("close", "h"),
    ("read", "hB"),
    ("write", "hB"),
    ("sync", "h"),
];

/// WASI preview1 as tern provides it (all return an errno `i32` except `proc_exit`).
pub const WASI: &[(&str, &str)] = &[
    ("args_get", "oo"),
    ("args_sizes_get", "oo"),
    ("environ_get", "oo"),
    ("environ_sizes_get", "oo"),
    ("clock_res_get", "co"),
    ("clock_time_get", "cLo"),
    ("fd_advise", "hLLi"),
    ("fd_allocate", "hLL"),
    ("fd_close", "h"),
    ("fd_datasync", "h"),
    ("fd_fdstat_get", "ho"),
    ("fd_fdstat_set_flags", "hf"),
    ("fd_fdstat_set_rights", "hRR"),
    ("fd_filestat_get", "ho"),
    ("fd_filestat_set_size", "hL"),
    ("fd_filestat_set_times", "hLLf"),
    ("fd_pread", "hVLo"),
    ("fd_prestat_get", "ho"),
    ("fd_prestat_dir_name", "hB"),
    ("fd_pwrite", "hVLo"),
    ("fd_read", "hVo"),
    ("fd_readdir", "hBLo"),
    ("fd_renumber", "hh"),
    ("fd_seek", "hLwo"),
    ("fd_sync", "h"),
    ("fd_tell", "ho"),
    ("fd_write", "hVo"),
    ("path_create_directory", "hP"),
    ("path_filestat_get", "hfPo"),
    ("path_filestat_set_times", "hfPLLf"),
    ("path_link", "hfPhP"),
    ("path_open", "hfPfRRfo"),
    ("path_readlink", "hPBo"),
    ("path_remove_directory", "hP"),
    ("path_rename", "hPhP"),
    ("path_symlink", "ThP"),
    ("path_unlink_file", "hP"),
    ("poll_oneoff", "Sono"),
    ("proc_exit", "x"),
    ("proc_raise", "i"),
    ("sched_yield", ""),
    ("random_get", "B"),
    ("sock_accept", "hfo"),
    ("sock_recv", "hVfoo"),
    ("sock_send", "hVfo"),
    ("sock_shutdown", "hi"),
];

/// The wasm parameter types a kind string stands for.
pub fn params(kinds: &str) -> Vec<ValType> {
    let mut params = Vec::new();
    for kind in kinds.chars() {
        match kind {
            'B' | 'U' | 'P' | 'T' | 'E' | 'V' => params.extend([ValType::I32, ValType::I32]),
            'L' | 'R' => params.push(ValType::I64),
            _ => params.push(ValType::I32),
        }
    }
    params
}

/// Kinds for a spec function: the table's if it agrees with the signature, else one `i`/`L` per
/// parameter (a function added to the spec is still called, with plain random values).
fn kinds_for(spec: &FuncSpec, table: &[(&str, &'static str)]) -> &'static str {
    let known = table.iter().find(|(name, _)| *name == spec.name);
    match known {
        Some((_, kinds)) if params(kinds) == spec.params => kinds,
        _ => {
            let plain: String = spec
                .params
                .iter()
                .map(|t| if *t == ValType::I64 { 'L' } else { 'i' })
                .collect();
            Box::leak(plain.into_boxed_str())
        }
    }
}

/// Every import: the stream ABI (from `cwa`), Dagger and WASI preview1.
pub fn imports() -> Vec<Import> {
    let mut all = Vec::new();
    for spec in CWA_FUNCTIONS {
        all.push(Import {
            module: tern_abi::module::CWA,
            name: spec.name,
            kinds: kinds_for(spec, CWA_KINDS),
            result: spec.results.first().copied(),
        });
    }
    for spec in DAGGER_FUNCTIONS {
        all.push(Import {
            module: tern_abi::module::DAGGER,
            name: spec.name,
            kinds: kinds_for(spec, DAGGER_KINDS),
            result: spec.results.first().copied(),
        });
    }
    for (name, kinds) in WASI {
        all.push(Import {
            module: tern_abi::module::WASI_PREVIEW1,
            name,
            kinds,
            result: (*name != "proc_exit").then_some(ValType::I32),
        });
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spec_function_has_kinds_matching_its_signature() {
        for (specs, table) in [(CWA_FUNCTIONS, CWA_KINDS), (DAGGER_FUNCTIONS, DAGGER_KINDS)] {
            for spec in specs {
                let (_, kinds) = table
                    .iter()
                    .find(|(name, _)| *name == spec.name)
                    .unwrap_or_else(|| panic!("no kinds for {}", spec.name));
                assert_eq!(params(kinds), spec.params, "{}", spec.name);
            }
        }
        assert_eq!(imports().len(), 74);
    }
}
