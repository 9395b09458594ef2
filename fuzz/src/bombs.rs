//! Resource bombs: small modules built to push one host limit (failed grows in a loop, deep nesting,
//! recursion, huge tables and bulk operations), with sizes chosen by the seed.

use wasm_encoder::{
    BlockType, CodeSection, ExportKind, ExportSection, Function, FunctionSection, HeapType,
    InstructionSink, MemorySection, MemoryType, Module, RefType, TableSection, TableType,
    TypeSection, ValType,
};

use crate::rng::Rng;

/// The bombs, by name.
pub const KINDS: &[&str] = &[
    "memory-grow-loop",
    "table-grow-loop",
    "recursion",
    "nested-blocks",
    "many-locals",
    "br-table",
    "bulk-memory",
    "tail-call-loop",
];

/// A bomb for `rng`: the module and the bomb's name.
pub fn generate(rng: &mut Rng) -> (Vec<u8>, &'static str) {
    let kind = *rng.pick(KINDS);
    let size = *rng.pick(&[1_000u32, 10_000, 50_000, 100_000, 300_000]);
    let locals = if kind == "many-locals" {
        vec![(size * 10, ValType::I64)]
    } else {
        Vec::new()
    };
    let mut body = Function::new(locals);
    let s: &mut InstructionSink = &mut body.instructions();
    match kind {
        "memory-grow-loop" => {
            let delta = *rng.pick(&[1, 64, 65536, -1, i32::MAX]);
            {
                s.loop_(BlockType::Empty)
                    .i32_const(delta)
                    .memory_grow(0)
                    .drop()
                    .br(0)
                    .end();
            }
        }
        "table-grow-loop" => {
            let delta = *rng.pick(&[1, 1000, -1, i32::MAX]);
            {
                s.loop_(BlockType::Empty)
                    .ref_null(HeapType::FUNC)
                    .i32_const(delta)
                    .table_grow(0)
                    .drop()
                    .br(0)
                    .end();
            }
        }
        "recursion" => {
            // Function 1 calls itself; _start calls it.
            {
                s.call(1);
            }
        }
        "nested-blocks" => {
            for _ in 0..size {
                s.block(BlockType::Empty);
            }
            for _ in 0..size {
                s.end();
            }
        }
        "many-locals" => {
            s.local_get(size * 10 - 1).drop();
        }
        "br-table" => {
            let targets = size;
            {
                s.block(BlockType::Empty)
                    .i32_const(7)
                    .br_table((0..targets).map(|_| 0), 0)
                    .end();
            }
        }
        "bulk-memory" => {
            let len = *rng.pick(&[-1, i32::MAX, 65536 * 256, 65536 * 255]);
            {
                s.loop_(BlockType::Empty)
                    .i32_const(0)
                    .i32_const(0x5a)
                    .i32_const(len)
                    .memory_fill(0)
                    .i32_const(1)
                    .i32_const(0)
                    .i32_const(len)
                    .memory_copy(0, 0)
                    .br(0)
                    .end();
            }
        }
        _ => {
            // tail-call-loop: function 1 tail-calls itself forever.
            {
                s.call(1);
            }
        }
    }
    s.end();

    let mut module = Module::new();
    let mut types = TypeSection::new();
    types.ty().function([], []);
    module.section(&types);
    let mut functions = FunctionSection::new();
    functions.function(0).function(0);
    module.section(&functions);
    let mut tables = TableSection::new();
    tables.table(TableType {
        element_type: RefType::FUNCREF,
        table64: false,
        minimum: 1,
        maximum: rng.chance(50).then_some(100_000),
        shared: false,
    });
    module.section(&tables);
    let mut memories = MemorySection::new();
    memories.memory(MemoryType {
        minimum: 1,
        maximum: rng.chance(50).then_some(1 + rng.below(1024) as u64),
        memory64: false,
        shared: false,
        page_size_log2: None,
    });
    module.section(&memories);
    let mut exports = ExportSection::new();
    exports.export("_start", ExportKind::Func, 0);
    module.section(&exports);
    let mut code = CodeSection::new();
    code.function(&body);
    let mut helper = Function::new([]);
    if kind == "tail-call-loop" {
        helper.instructions().return_call(1).end();
    } else {
        helper.instructions().call(1).end();
    }
    code.function(&helper);
    module.section(&code);
    (module.finish(), kind)
}
