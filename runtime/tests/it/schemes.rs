//! Every scheme's read/write/flush/close behaviour (ABI.md §4), through real guests.

use crate::common;

use common::{eval, Guest};
use tern_abi::errno;

fn is(value_expr: &str, expected: i32) -> String {
    format!("(i32.eq {value_expr} (i32.const {expected}))")
}

/// Opens the URL at offset 0 (length `len`) into $h, returning 100 + its error if the open fails.
fn open(len: usize) -> String {
    format!(
        "(local.set $h (call $resource_open (i32.const 0) (i32.const {len})))
         (if (i32.lt_s (local.get $h) (i32.const 0)) (then (return (i32.sub (i32.const 100) (local.get $h)))))"
    )
}

#[test]
fn null_discards_writes_and_reads_eof() {
    let body = format!(
        "{} (if (i32.ne (call $resource_write (local.get $h) (i32.const 0) (i32.const 7)) (i32.const 7)) (then (return (i32.const 1))))
         (if (i32.eqz {}) (then (return (i32.const 2))))
         (call $resource_flush (local.get $h))",
        open(7),
        is("(call $resource_read (local.get $h) (i32.const 0) (i32.const 8))", errno::EOF)
    );
    assert_eq!(eval(&body, &[(0, "null://")]), 0);
}

#[test]
fn zero_reads_zeros_and_refuses_writes() {
    let run = Guest::main(
        &format!(
            "{} (local.set $n (call $resource_read (local.get $h) (i32.const 0) (i32.const 16)))
             (drop (call $resource_write (i32.const 1) (i32.const 0) (local.get $n)))
             (if (i32.eqz {}) (then (return (i32.const 2))))
             (local.get $n)",
            open(7),
            is(
                "(call $resource_write (local.get $h) (i32.const 0) (i32.const 1))",
                errno::UNSUPPORTED
            )
        ),
        &[(0, "zero://xxxxxxxxx")],
    )
    .run();
    assert_eq!(run.code(), 16);
    assert_eq!(run.stdout.as_bytes(), &[0u8; 16]);
}

#[test]
fn random_reads_random_bytes() {
    let run = Guest::main(
        &format!(
            "{} (local.set $n (call $resource_read (local.get $h) (i32.const 100) (i32.const 256)))
             (drop (call $resource_write (i32.const 1) (i32.const 100) (local.get $n)))
             (if (i32.eqz {}) (then (return (i32.const 2))))
             (local.get $n)",
            open(9),
            is(
                "(call $resource_write (local.get $h) (i32.const 0) (i32.const 1))",
                errno::UNSUPPORTED
            )
        ),
        &[(0, "random://")],
    )
    .run();
    assert_eq!(run.code(), 256);
    let distinct: std::collections::HashSet<u8> = run
        .outcome
        .process
        .stats
        .bytes_written
        .to_le_bytes()
        .into_iter()
        .collect();
    assert!(!distinct.is_empty());
    // 256 random bytes contain more than 64 distinct values with overwhelming probability.
    let bytes: std::collections::HashSet<char> = run.stdout.chars().collect();
    assert!(bytes.len() > 32, "{}", bytes.len());
}

#[test]
fn log_scheme_writes_prefixed_lines_and_refuses_reads() {
    let run = Guest::main(
        &format!(
            "{} (drop (call $resource_write (local.get $h) (i32.const 32) (i32.const 9)))
             (drop (call $resource_write (local.get $h) (i32.const 48) (i32.const 6)))
             (if (i32.eqz {}) (then (return (i32.const 2))))
             (call $resource_close (local.get $h))
             (i32.const 0)",
            open(20),
            is(
                "(call $resource_read (local.get $h) (i32.const 0) (i32.const 1))",
                errno::UNSUPPORTED
            )
        ),
        &[
            (0, "log://?prefix=worker"),
            (32, "one\\ntwo\\nt"),
            (48, "hree\\nx"),
        ],
    )
    .run();
    assert_eq!(run.code(), 0);
    assert_eq!(
        run.log,
        "[guest] info: worker: one\n[guest] info: worker: two\n[guest] info: worker: three\n[guest] info: worker: x\n"
    );
}

#[test]
fn fd_urls_are_the_guests_own_stdio_only() {
    let run = Guest::main(
        &format!(
            "{} (drop (call $resource_write (local.get $h) (i32.const 16) (i32.const 2)))
             (local.set $n (call $resource_open (i32.const 32) (i32.const 6)))
             (drop (call $resource_read (local.get $n) (i32.const 64) (i32.const 2)))
             (drop (call $resource_write (local.get $h) (i32.const 64) (i32.const 2)))
             (i32.add (i32.mul {} (i32.const 2)) {})",
            open(6),
            is(
                "(call $resource_open (i32.const 40) (i32.const 6))",
                errno::NOT_FOUND
            ),
            "(i32.lt_s (call $resource_open (i32.const 48) (i32.const 12)) (i32.const 0))",
        ),
        &[
            (0, "fd://1"),
            (16, "hi"),
            (32, "fd://0"),
            (40, "fd://3"),
            (48, "fd://1/../5"),
        ],
    )
    .stdin(b"in")
    .run();
    assert_eq!(run.code(), 3);
    assert_eq!(run.stdout, "hiin");
}

#[test]
fn file_scheme_reads_and_writes_granted_files() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.txt");
    std::fs::write(&input, "file contents\n").unwrap();
    let url = format!("file://{}", input.display());
    let run = Guest::main(
        &format!(
            "{} (local.set $n (call $resource_read (local.get $h) (i32.const 200) (i32.const 100)))
             (drop (call $resource_write (i32.const 1) (i32.const 200) (local.get $n)))
             (call $resource_read (local.get $h) (i32.const 200) (i32.const 100))",
            open(url.len())
        ),
        &[(0, &url)],
    )
    .allow(&format!("file://{}", dir.path().display()))
    .run();
    assert_eq!(run.stdout, "file contents\n");
    assert_eq!(run.code(), errno::EOF);

    // mode=w creates; the bytes land on disk.
    let out = dir.path().join("out.txt");
    let url = format!("file://{}?mode=w", out.display());
    let run = Guest::main(
        &format!(
            "{} (drop (call $resource_write (local.get $h) (i32.const 200) (i32.const 5)))
             (call $resource_flush (local.get $h))",
            open(url.len())
        ),
        &[(0, &url), (200, "saved")],
    )
    .allow(&format!("file://{}", dir.path().display()))
    .run();
    assert_eq!(run.code(), 0);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "saved");

    // Missing file (read mode): not found. Directory: invalid argument. Not granted: denied.
    let missing = format!("file://{}/nope?mode=r", dir.path().display());
    let granted = format!("file://{}", dir.path().display());
    let run = Guest::main(&(open(missing.len()) + " (i32.const 0)"), &[(0, &missing)])
        .allow(&granted)
        .run();
    assert_eq!(run.code(), 100 - errno::NOT_FOUND);
    let run = Guest::main(&(open(granted.len()) + " (i32.const 0)"), &[(0, &granted)])
        .allow(&granted)
        .run();
    assert_eq!(run.code(), 100 - errno::INVALID_ARGUMENT);
    let url = format!("file://{}", input.display());
    let run = Guest::main(&(open(url.len()) + " (i32.const 0)"), &[(0, &url)]).run();
    assert_eq!(run.code(), 100 - errno::PERMISSION_DENIED);
    assert!(run.log.contains("not granted"), "{}", run.log);
}

#[test]
fn file_symlinks_cannot_lead_outside_the_grant() {
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("secret");
    std::fs::write(&secret, "secret").unwrap();
    let granted = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(&secret, granted.path().join("escape")).unwrap();
    std::os::unix::fs::symlink(outside.path(), granted.path().join("dir")).unwrap();
    std::fs::write(granted.path().join("real"), "inside").unwrap();
    std::os::unix::fs::symlink(granted.path().join("real"), granted.path().join("alias")).unwrap();
    let grant = format!("file://{}", granted.path().display());

    for (name, expected) in [
        ("escape", 100 - errno::PERMISSION_DENIED),
        ("dir/secret", 100 - errno::PERMISSION_DENIED),
        ("dir/new?mode=w", 100 - errno::PERMISSION_DENIED),
        ("alias", 0),
    ] {
        let url = format!("{grant}/{name}");
        let run = Guest::main(&(open(url.len()) + " (i32.const 0)"), &[(0, &url)])
            .allow(&grant)
            .run();
        assert_eq!(run.code(), expected, "{name}: {}", run.log);
    }
    // Nothing was created or changed outside.
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), "secret");
    assert!(!outside.path().join("new").exists());
}

#[test]
fn file_modes_refuse_the_other_direction() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("f"), "data").unwrap();
    let grant = format!("file://{}", dir.path().display());
    let url = format!("{grant}/f?mode=r");
    let body = format!(
        "{} {}",
        open(url.len()),
        is(
            "(call $resource_write (local.get $h) (i32.const 200) (i32.const 1))",
            errno::UNSUPPORTED
        )
    );
    assert_eq!(
        Guest::main(&body, &[(0, &url)]).allow(&grant).run().code(),
        1
    );
    let url = format!("{grant}/g?mode=w");
    let body = format!(
        "{} {}",
        open(url.len()),
        is(
            "(call $resource_read (local.get $h) (i32.const 200) (i32.const 1))",
            errno::UNSUPPORTED
        )
    );
    assert_eq!(
        Guest::main(&body, &[(0, &url)]).allow(&grant).run().code(),
        1
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("f")).unwrap(),
        "data"
    );
}

/// An embedder's scheme: `kv://store/KEY` handles on an in-memory key-value store; a write
/// appends to the key's value, a read reads it from the start.
mod kv {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    use tern::{Context, Resource, Scheme, Url};

    #[derive(Clone, Default)]
    pub struct Kv(pub Arc<Mutex<HashMap<String, Vec<u8>>>>);

    struct Entry {
        store: Kv,
        key: String,
        read: usize,
    }

    impl Scheme for Kv {
        fn open(&self, url: &Url, _cx: &Context<'_>) -> tern::Result<Box<dyn Resource>> {
            Ok(Box::new(Entry {
                store: self.clone(),
                key: url.path().trim_start_matches('/').to_owned(),
                read: 0,
            }))
        }
    }

    impl Resource for Entry {
        fn read(&mut self, buf: &mut [u8]) -> tern::Result<usize> {
            let store = self.store.0.lock().unwrap();
            let value = store.get(&self.key).map_or(&[][..], |v| &v[self.read..]);
            let n = value.len().min(buf.len());
            buf[..n].copy_from_slice(&value[..n]);
            self.read += n;
            Ok(n)
        }

        fn write(&mut self, buf: &[u8]) -> tern::Result<usize> {
            let mut store = self.store.0.lock().unwrap();
            store
                .entry(self.key.clone())
                .or_default()
                .extend_from_slice(buf);
            Ok(buf.len())
        }
    }
}

#[test]
fn an_embedders_scheme_is_opened_under_the_policy() {
    use std::sync::Arc;

    let store = kv::Kv::default();
    let mut schemes = tern::Schemes::new();
    schemes.add("kv", store.clone()).unwrap();
    assert!(
        schemes.add("kv", store.clone()).is_err(),
        "a name is taken once"
    );
    assert!(
        schemes.add("file", store.clone()).is_err(),
        "tern's own stay"
    );
    assert!(schemes.add("Kv!", store.clone()).is_err());
    let schemes = Arc::new(schemes);
    // Writes "hello" to kv://store/greeting, closes, opens it again and copies it to stdout.
    let body = format!(
        "{open}
         (drop (call $resource_write (local.get $h) (i32.const 100) (i32.const 5)))
         (call $resource_close (local.get $h))
         {open}
         (local.set $n (call $resource_read (local.get $h) (i32.const 200) (i32.const 64)))
         (drop (call $resource_write (i32.const 1) (i32.const 200) (local.get $n)))
         (i32.const 0)",
        open = open(19)
    );
    let data = [(0, "kv://store/greeting"), (100, "hello")];
    let run = Guest::main(&body, &data)
        .schemes(Arc::clone(&schemes))
        .allow("kv:")
        .run();
    assert_eq!(run.code(), 0, "{}", run.log);
    assert_eq!(run.stdout, "hello");
    assert_eq!(store.0.lock().unwrap()["greeting"], b"hello");

    // Not granted: denied like any URL, reported and counted.
    let run = Guest::main(&body, &data).schemes(schemes).run();
    assert_eq!(run.code(), 100 - errno::PERMISSION_DENIED, "{}", run.log);
    let stats = &run.outcome.process.stats;
    assert_eq!(stats.denials, 1);
    assert_eq!(stats.denied, ["kv://store/greeting"]);
    assert!(run.log.contains("--allow kv://store"), "{}", run.log);

    // Granted but not registered: there is no such scheme.
    let run = Guest::main(&body, &data).allow("kv:").run();
    assert_eq!(run.code(), 100 - errno::NOT_FOUND, "{}", run.log);
}
