//! The generators make what the fuzzers claim, and the sandbox sees what it must.

use std::fs;
use std::path::PathBuf;

use crate::modules::{self, Shape};
use crate::sandbox::Sandbox;
use crate::{abi, abi_table};

fn temp_root(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("tern-fuzz-test-{}-{name}", std::process::id()))
}

#[test]
fn abi_guests_are_valid_and_import_every_function() {
    let root = temp_root("guests");
    let sandbox = Sandbox::create(&root, "CANARYTEST").unwrap();
    for seed in 0..20 {
        let guest = abi::generate(seed, &sandbox);
        let binary = wat::parse_str(&guest.wat).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        assert!(binary.len() > 1000);
        assert_eq!(
            guest.wat.matches("(import ").count(),
            abi_table::imports().len()
        );
        assert!(
            !guest.wat.contains("CANARYTEST"),
            "the token must never be in the guest"
        );
    }
    fs::remove_dir_all(root).unwrap();
}

#[test]
fn module_fuzzer_makes_every_shape_and_valid_ones_validate() {
    let mut shapes = [0; 4];
    for seed in 0..200 {
        let (bytes, shape) = modules::generate(seed);
        let index = match shape {
            Shape::Valid => 0,
            Shape::Mutated => 1,
            Shape::Truncated => 2,
            Shape::Bomb(_) => 3,
        };
        shapes[index] += 1;
        if matches!(shape, Shape::Valid | Shape::Bomb(_)) {
            let mut validator =
                wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all());
            validator
                .validate_all(&bytes)
                .unwrap_or_else(|e| panic!("seed {seed} ({}): {e}", shape.name()));
        }
    }
    assert!(shapes.iter().all(|&n| n > 10), "{shapes:?}");
}

#[test]
fn snapshot_sees_changes_outside_the_writable_grant_only() {
    let root = temp_root("snapshot");
    let sandbox = Sandbox::create(&root, "CANARYTEST").unwrap();
    let before = sandbox.snapshot().unwrap();
    fs::write(sandbox.grant().join("a.txt"), "the guest may write here").unwrap();
    fs::write(sandbox.grant().join("new.txt"), "and here").unwrap();
    assert!(before.changes(&sandbox.snapshot().unwrap()).is_empty());

    fs::write(sandbox.read_only().join("r.txt"), "changed").unwrap();
    fs::write(root.join("box/outside.txt"), "new").unwrap();
    fs::remove_file(sandbox.grant().join("private/secret.txt")).unwrap();
    let changes = before.changes(&sandbox.snapshot().unwrap());
    assert_eq!(
        changes,
        [
            "removed box/grant/private/secret.txt",
            "modified box/ro/r.txt",
            "created box/outside.txt"
        ]
    );
    fs::remove_dir_all(root).unwrap();
}
