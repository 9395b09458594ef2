//! The ABI fuzzer: for each seed, a guest (WebAssembly text) that calls host functions of `cwa`,
//! `dagger` and WASI with hostile arguments, run against a fresh [`Sandbox`].

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::Path;

use tern_abi::ValType;

use crate::abi_memory::{
    iovec_tables, subscriptions, wat_string, Strings, BUF, BUF_LEN, FD_SLOT, IOVECS, MEMORY_END,
    PAGES, STRINGS, SUBSCRIPTIONS,
};
use crate::abi_table::{self, Import};
use crate::rng::Rng;
use crate::sandbox::Sandbox;

/// Handle locals: results of calls are kept in `$h0..$h3` and passed back as handles.
const HANDLE_LOCALS: usize = 4;
/// Functions that create, open, move or write: called more often.
const FAVOURED: &[&str] = &[
    "resource_open",
    "resource_write",
    "resource_read",
    "open",
    "write",
    "path_open",
    "path_symlink",
    "path_rename",
    "path_link",
    "path_create_directory",
    "path_unlink_file",
    "path_filestat_set_times",
    "fd_write",
    "fd_read",
    "fd_pwrite",
    "fd_filestat_set_size",
    "fd_renumber",
    "log_write",
];

/// A generated guest and what it needs from the host side.
pub struct Guest {
    /// The module, as WebAssembly text.
    pub wat: String,
    /// Host calls written into the module (the run may end sooner).
    pub calls: usize,
    /// This guest may wait past the deadline (long sleeps, polls, and stdin that never ends).
    pub sleepy: bool,
}

/// Chooses arguments; holds what the guest's memory contains.
struct Args<'a> {
    rng: &'a mut Rng,
    strings: &'a Strings,
    iovecs: &'a [(u32, u32)],
    subs: &'a [(u32, u32)],
    sleepy: bool,
    /// Whether a buffer may be all of memory (not in loops past 100: that would copy, write or fill
    /// gigabytes and make runs slow without finding more).
    whole_memory: bool,
}

fn c32(v: u32) -> String {
    format!("(i32.const {})", v as i32)
}

fn c64(v: u64) -> String {
    format!("(i64.const {})", v as i64)
}

impl Args<'_> {
    /// Any `i32`, weighted towards edges.
    fn int(&mut self) -> u32 {
        match self.rng.below(8) {
            0 => 0,
            1 => 1,
            2 => u32::MAX,
            3 => i32::MAX as u32,
            4 => i32::MIN as u32,
            5 => self.rng.below(16) as u32,
            _ => self.rng.next_u64() as u32,
        }
    }

    /// A pointer: in memory, at its edge, or past it.
    fn pointer(&mut self) -> u32 {
        match self.rng.below(10) {
            0 => 0,
            1 => MEMORY_END - 1,
            2 => MEMORY_END,
            3 => MEMORY_END + 1,
            4 => u32::MAX,
            5 => i32::MAX as u32,
            6 => self.rng.below(MEMORY_END as usize) as u32,
            _ => BUF,
        }
    }

    fn length(&mut self) -> u32 {
        match self.rng.below(8) {
            0 => 0,
            1 => u32::MAX,
            2 => i32::MAX as u32,
            3 => MEMORY_END,
            4 => self.rng.below(64) as u32,
            _ => BUF_LEN,
        }
    }

    /// A pointer and length: mostly well-formed, sometimes hostile.
    fn pair(&mut self, good: &[(u32, u32)]) -> [String; 2] {
        let (ptr, len) = match self.rng.below(10) {
            0 => (self.pointer(), self.length()),
            1 => (MEMORY_END - 16, 32),
            2 => {
                let (p, l) = *self.rng.pick(good);
                (p, l.saturating_add(1 + self.rng.below(8) as u32))
            }
            _ => *self.rng.pick(good),
        };
        [c32(ptr), c32(len)]
    }

    fn handle(&mut self) -> String {
        match self.rng.below(12) {
            0..=2 => format!("(local.get $h{})", self.rng.below(HANDLE_LOCALS)),
            3..=4 => format!("(i32.load {})", c32(FD_SLOT)),
            5 => c32(3),
            6 => c32(self.int()),
            _ => c32(self.rng.below(10) as u32),
        }
    }

    fn flags(&mut self) -> u32 {
        match self.rng.below(6) {
            0 => 0,
            1 => 1 << self.rng.below(6),
            2 => self.rng.below(64) as u32,
            3 => u32::MAX,
            _ => self.rng.below(16) as u32,
        }
    }

    fn i64(&mut self) -> u64 {
        match self.rng.below(8) {
            0 => 0,
            1 => u64::MAX,
            2 => i64::MAX as u64,
            3 => i64::MIN as u64,
            4 => self.rng.below(4096) as u64,
            5 => 1 << 40,
            _ => self.rng.next_u64(),
        }
    }

    /// The wasm arguments for one call (`kinds` as in [`crate::abi_table`]).
    fn for_kinds(&mut self, kinds: &str) -> Vec<String> {
        let mut args = Vec::new();
        for kind in kinds.chars() {
            match kind {
                'B' => {
                    let mut good = vec![(BUF, BUF_LEN), (BUF, 16), (BUF, 0), (0, 64)];
                    if self.whole_memory {
                        good.push((0, MEMORY_END));
                    }
                    good.extend(self.strings.all.iter().take(8));
                    let choice = if self.rng.chance(30) {
                        *self.rng.pick(&self.strings.all)
                    } else {
                        *self.rng.pick(&good)
                    };
                    args.extend(self.pair(&[choice]));
                }
                'U' => args.extend(self.pair(&self.strings.urls.clone())),
                'P' => args.extend(self.pair(&self.strings.paths.clone())),
                'T' => args.extend(self.pair(&self.strings.targets.clone())),
                'E' => args.extend(self.pair(&self.strings.keys.clone())),
                'V' => {
                    let (ptr, n) = *self.rng.pick(self.iovecs);
                    let n = match self.rng.below(8) {
                        0 => u32::MAX,
                        1 => 1 << 20,
                        2 => 0,
                        _ => n,
                    };
                    let ptr = if self.rng.chance(10) {
                        self.pointer()
                    } else {
                        ptr
                    };
                    args.extend([c32(ptr), c32(n)]);
                }
                'Z' => {
                    let ptr = if self.rng.chance(10) {
                        self.pointer()
                    } else {
                        self.rng.pick(&self.strings.urls).0
                    };
                    args.push(c32(ptr));
                }
                'o' => {
                    let out = match self.rng.below(10) {
                        0 => MEMORY_END - 2,
                        1 => MEMORY_END,
                        2 => u32::MAX - 3,
                        3 => 0,
                        4..=6 => FD_SLOT,
                        _ => 600,
                    };
                    args.push(c32(out));
                }
                'h' => args.push(self.handle()),
                'f' => {
                    let f = self.flags();
                    args.push(c32(f));
                }
                'i' | 'x' => {
                    let v = self.int();
                    args.push(c32(v));
                }
                'm' => {
                    let ms = if self.sleepy && self.rng.chance(20) {
                        *self.rng.pick(&[u32::MAX, i32::MAX as u32, 60_000])
                    } else {
                        self.rng.below(3) as u32
                    };
                    args.push(c32(ms));
                }
                'c' => {
                    let id = if self.rng.chance(80) {
                        self.rng.below(4) as u32
                    } else {
                        self.int()
                    };
                    args.push(c32(id));
                }
                'w' => {
                    let w = if self.rng.chance(80) {
                        self.rng.below(3) as u32
                    } else {
                        self.int()
                    };
                    args.push(c32(w));
                }
                'S' => {
                    let (ptr, _) = *self.rng.pick(self.subs);
                    let ptr = if self.rng.chance(10) {
                        self.pointer()
                    } else {
                        ptr
                    };
                    args.push(c32(ptr));
                }
                'n' => {
                    let n = match self.rng.below(8) {
                        0 => u32::MAX,
                        1 => 0,
                        2 => 1 << 24,
                        3 => 2,
                        _ => 1,
                    };
                    args.push(c32(n));
                }
                'L' => {
                    let v = self.i64();
                    args.push(c64(v));
                }
                'R' => {
                    let v = if self.rng.chance(50) {
                        u64::MAX
                    } else {
                        self.i64()
                    };
                    args.push(c64(v));
                }
                other => unreachable!("unknown parameter kind {other:?}"),
            }
        }
        args
    }
}

/// Generates the guest for `seed`, aimed at `sandbox`.
pub fn generate(seed: u64, sandbox: &Sandbox) -> Guest {
    let mut rng = Rng::new(seed, 1);
    let imports = abi_table::imports();
    let strings = Strings::new(sandbox);
    let (iovec_data, iovecs) = iovec_tables();
    // One guest in twenty may sleep past the deadline, so sleeping is fuzzed without slowing every run.
    let sleepy = rng.chance(5);
    let (sub_data, subs) = subscriptions(sleepy);

    let mut wat = String::from("(module\n");
    for (i, import) in imports.iter().enumerate() {
        // Olin binaries import the stream ABI from `env`; tern resolves both.
        let module = if import.module == tern_abi::module::CWA && rng.chance(20) {
            tern_abi::module::ENV
        } else {
            import.module
        };
        let _ = write!(
            wat,
            "  (import \"{module}\" \"{}\" (func $f{i}",
            import.name
        );
        for p in abi_table::params(import.kinds) {
            wat.push_str(if p == ValType::I64 {
                " (param i64)"
            } else {
                " (param i32)"
            });
        }
        match import.result {
            Some(ValType::I64) => wat.push_str(" (result i64)"),
            Some(ValType::I32) => wat.push_str(" (result i32)"),
            None => {}
        }
        let _ = writeln!(wat, ")) ;; {}.{}", import.module, import.name);
    }
    let _ = writeln!(wat, "  (memory (export \"memory\") {PAGES} {PAGES})");
    for (at, data) in [
        (IOVECS, &iovec_data),
        (SUBSCRIPTIONS, &sub_data),
        (STRINGS, &strings.data),
    ] {
        let _ = writeln!(wat, "  (data (i32.const {at}) \"{}\")", wat_string(data));
    }
    wat.push_str("  (func (export \"_start\")");
    for h in 0..HANDLE_LOCALS {
        let _ = write!(wat, " (local $h{h} i32)");
    }
    wat.push_str(" (local $i i32)");
    wat.push('\n');

    let weights: Vec<usize> = imports
        .iter()
        .map(|imp| match imp.name {
            "proc_exit" | "runtime_exit" => 0,
            name if FAVOURED.contains(&name) => 4,
            _ => 1,
        })
        .collect();
    let total: usize = weights.iter().sum();
    let calls = 150 + rng.below(250);
    let mut args = Args {
        rng: &mut rng,
        strings: &strings,
        iovecs: &iovecs,
        subs: &subs,
        sleepy,
        whole_memory: true,
    };
    let mut written = 0;
    for n in 0..calls {
        let mut pick = args.rng.below(total);
        let index = weights
            .iter()
            .position(|&w| {
                if pick < w {
                    true
                } else {
                    pick -= w;
                    false
                }
            })
            .unwrap_or(0);
        emit_call(&mut wat, &imports, index, &mut args, n);
        written += 1;
        // Escape attempts as found by hand: make a link, then open it through another ABI; move a
        // denied directory, then read it under its new name. Rare enough (about one guest in four
        // has each) that a run showing one escape is not hiding another.
        if args.rng.below(1000) < 2 {
            written += emit_link_attempt(&mut wat, &imports, &mut args, n);
        }
        if args.rng.below(1000) < 1 {
            written += emit_rename_attempt(&mut wat, &imports, &mut args);
        }
        if args.rng.below(25_000) < 1 {
            written += emit_log_flood(&mut wat, &imports, &mut args, n);
        }
    }
    if args.rng.chance(30) {
        let exit = if args.rng.chance(50) {
            "proc_exit"
        } else {
            "runtime_exit"
        };
        if let Some(i) = imports.iter().position(|imp| imp.name == exit) {
            emit_call(&mut wat, &imports, i, &mut args, calls);
            written += 1;
        }
    }
    wat.push_str("  )\n)\n");
    Guest {
        wat,
        calls: written,
        sleepy,
    }
}

fn emit_call(wat: &mut String, imports: &[Import], index: usize, args: &mut Args, n: usize) {
    let import = &imports[index];
    // Now and then the same call many times over, to press on host buffers, tables and limits.
    let times = match args.rng.below(100) {
        0 => 100,
        1 => 1000,
        2 => 5000,
        _ => 1,
    };
    args.whole_memory = times <= 100;
    let values = args.for_kinds(import.kinds);
    let call = format!("(call $f{index} {})", values.join(" "));
    let statement = match import.result {
        Some(ValType::I32) => format!("(local.set $h{} {call})", n % HANDLE_LOCALS),
        Some(ValType::I64) => format!("(drop {call})"),
        None => call,
    };
    // A loop is one line, so the minimizer keeps or drops it whole.
    if times > 1 {
        let _ = writeln!(
            wat,
            "    (local.set $i (i32.const 0)) (loop $again {statement} (br_if $again (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const {times}))))"
        );
    } else {
        let _ = writeln!(wat, "    {statement}");
    }
}

/// `path_symlink(target, 3, name)`, then open `name` for writing via a URL, then write to it.
fn emit_link_attempt(wat: &mut String, imports: &[Import], args: &mut Args, n: usize) -> usize {
    let find = |name: &str| imports.iter().position(|i| i.name == name);
    let (Some(symlink), Some(open), Some(write)) = (
        find("path_symlink"),
        find("resource_open"),
        find("resource_write"),
    ) else {
        return 0;
    };
    let target = *args.rng.pick(&args.strings.targets);
    let names = ["new.txt", "newdir", "lnk", "lnk2"];
    let which = args.rng.below(names.len());
    let name = args.strings.paths[4 + which]; // the same four, in the same order
    let aimed: Vec<(u32, u32)> = (args.strings.urls.iter().zip(&args.strings.url_texts))
        .filter(|(_, text)| text.contains(&format!("/{}", names[which])))
        .map(|(place, _)| *place)
        .collect();
    let url = *args.rng.pick(if aimed.is_empty() {
        &args.strings.urls
    } else {
        &aimed
    });
    let h = n % HANDLE_LOCALS;
    let _ = writeln!(
        wat,
        "    (drop (call $f{symlink} {} {} (i32.const 3) {} {}))\n    (local.set $h{h} (call $f{open} {} {}))\n    (drop (call $f{write} (local.get $h{h}) {} {}))",
        c32(target.0), c32(target.1), c32(name.0), c32(name.1), c32(url.0), c32(url.1), c32(BUF), c32(16),
    );
    3
}

/// A log line that never ends: the upper 112 KiB of memory (no newline in it) written to a `log://`
/// handle five thousand times, 570 MB in all (past the 512 MiB cap); the host must bound what it buffers.
fn emit_log_flood(wat: &mut String, imports: &[Import], args: &mut Args, n: usize) -> usize {
    let find = |name: &str| imports.iter().position(|i| i.name == name);
    let (Some(open), Some(write)) = (find("resource_open"), find("resource_write")) else {
        return 0;
    };
    let logs: Vec<(u32, u32)> = (args.strings.urls.iter().zip(&args.strings.url_texts))
        .filter(|(_, text)| text.starts_with("log://"))
        .map(|(place, _)| *place)
        .collect();
    let Some(&log) = logs.first() else { return 0 };
    let h = n % HANDLE_LOCALS;
    let _ = writeln!(
        wat,
        "    (local.set $h{h} (call $f{open} {} {}))\n    (local.set $i (i32.const 0)) (loop $again (drop (call $f{write} (local.get $h{h}) (i32.const {STRINGS}) (i32.const {}))) (br_if $again (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 5000))))",
        c32(log.0),
        c32(log.1),
        MEMORY_END - STRINGS,
    );
    2
}

/// `path_rename` of the denied directory (or its parent), then a read of the secret under the new
/// name through WASI or a URL, copied to stdout.
fn emit_rename_attempt(wat: &mut String, imports: &[Import], args: &mut Args) -> usize {
    let find = |name: &str| imports.iter().position(|i| i.name == name);
    let (Some(rename), Some(path_open), Some(fd_read), Some(fd_write)) = (
        find("path_rename"),
        find("path_open"),
        find("fd_read"),
        find("fd_write"),
    ) else {
        return 0;
    };
    let place = |text: &str| {
        let i = args.strings.path_texts.iter().position(|t| t == text);
        i.map(|i| args.strings.paths[i])
    };
    let (from, to, secret) = if args.rng.chance(50) {
        ("private", "p2", "p2/secret.txt")
    } else {
        ("sub", "p2", "p2/private/secret.txt")
    };
    let (Some(from), Some(to), Some(secret)) = (place(from), place(to), place(secret)) else {
        return 0;
    };
    let (iov, _) = args.iovecs[0];
    let _ = writeln!(
        wat,
        "    (drop (call $f{rename} (i32.const 3) {} {} (i32.const 3) {} {}))\n    (drop (call $f{path_open} (i32.const 3) (i32.const 0) {} {} (i32.const 0) (i64.const -1) (i64.const -1) (i32.const 0) {}))\n    (drop (call $f{fd_read} (i32.load {}) {} (i32.const 1) (i32.const 600)))\n    (drop (call $f{fd_write} (i32.const 1) {} (i32.const 1) (i32.const 600)))",
        c32(from.0), c32(from.1), c32(to.0), c32(to.1), c32(secret.0), c32(secret.1), c32(FD_SLOT),
        c32(FD_SLOT), c32(iov), c32(iov),
    );
    4
}

/// The `tern run` arguments for a guest at `module` in `sandbox`.
pub fn tern_args(sandbox: &Sandbox, module: &Path, timeout_ms: u64) -> Vec<OsString> {
    let grant = sandbox.grant();
    let mut args: Vec<OsString> = vec!["run".into(), "--stats-json".into()];
    args.extend(["--fuel".into(), "50000000".into()]);
    args.extend(["--timeout".into(), format!("{timeout_ms}ms").into()]);
    args.extend(["--max-memory-pages".into(), "64".into()]);
    args.extend(["--env".into(), "FUZZ=1".into()]);
    args.extend(["--dir".into(), grant.clone().into_os_string()]);
    let mut ro = sandbox.read_only().into_os_string();
    ro.push("::/ro:ro");
    args.extend(["--dir".into(), ro]);
    for denied in sandbox.denied() {
        let mut deny = OsString::from("file://");
        deny.push(denied);
        args.extend(["--deny".into(), deny]);
    }
    args.push(module.into());
    args.extend(["arg-one".into(), "--dir".into(), "/".into()]);
    args
}
