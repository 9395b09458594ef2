//! A compile-time bound on the host stack that guest code can take within one fuel slice.
//!
//! wasmi 2.0's tail-call dispatch runs each instruction's handler as a tail call of the previous one,
//! so the interpreter loop uses one host stack frame however long it runs. A few handlers are not
//! tail calls: `memory.grow`, `table.grow`, `call_indirect` and `return_call_indirect` (all their
//! variants) call the next handler and return afterwards, so each one executed keeps a host stack
//! frame until the interpreter returns to the host: at the end of the fuel slice, a trap or the
//! guest's return. Every other handler ends in an indirect jump. (wasmi 2.0.0 disassembled, x86_64
//! and aarch64 release builds with wasmi at opt-level "s"; the frames are 192, 176 and 144 bytes, the
//! same on both. At opt-level 3, as the x86_64 release builds it now, `call_indirect` is a real tail
//! call and keeps nothing; the bound still counts it, since the boards build wasmi at "s".
//! bench/wasmi-stack.sh shows the frames: bare wasmi_cli, which never returns to its caller
//! mid-call, aborts with a stack overflow on a loop of `table.grow`.)
//!
//! Each of these instructions costs one unit of fuel, but wasmi charges fuel per block, up front:
//! at the start of a function body, of each `loop` iteration, of an `else` and of a non-constant
//! `if`'s then-arm, for everything up to that block's end except nested blocks of those kinds (a
//! plain `block` is part of the enclosing charge). When a call returns or a nested block ends, the
//! rest of the enclosing block runs on fuel paid when it started, possibly in an earlier slice. So
//! within one slice the kept frames are at most
//!
//!   (a) the fuel given to the slice ([`super::meter::MAX_SLICE`]; a single charge that needs more
//!       gets exactly what it needs, and its block's instructions are counted in (b)), plus
//!   (b) for each frame on the guest's call stack when the slice starts (at most [`MAX_CALL_DEPTH`],
//!       wasmi's recursion limit), the leaking instructions it can run from where it stands without
//!       meeting another charge: the function's *prepaid* count, at most [`MAX_PREPAID`].
//!
//! [`check`] computes each function's prepaid count: the most leaking instructions on any path from
//! any point that meets no charge (entering a `loop` or an `else`, or branching back to a loop) nor
//! a `return`. An `if`'s arms are alternatives; its then-arm is counted as part of the enclosing
//! charge (what wasmi does for a constant condition; more, never less, otherwise). A branch out of a
//! loop may go to any enclosing label. Real code is far below the bound (largest seen: 56 in brotli,
//! 27 in SQLite's amalgamation, 13 in a Rust std guest); a module over it is refused at compile time.
//!
//! With the numbers here that is at most 32,768 + 1,000 x 128 = 160,768 frames: 29.4 MiB at 192
//! bytes, 39.3 MiB at 256. [`GUEST_STACK_SIZE`] is the latter plus room for host functions and
//! wasmi's translator, which run on top of them. Only x86_64 and aarch64 use the tail-call dispatch
//! (runtime/Cargo.toml); tests/release/deep-prepaid.wat runs 126,720 kept `memory.grow` frames.

use std::fmt;

use wasmparser::{KnownCustom, Name, Operator, Parser, Payload};

/// The guest's call depth: wasmi's own default recursion limit, set explicitly because the bound
/// depends on it.
pub(crate) const MAX_CALL_DEPTH: usize = 1000;

/// The largest prepaid count of a function that tern compiles (see [`StackBoundExceeded`]).
pub const MAX_PREPAID: u32 = 128;

/// The largest host stack frame a leaking handler keeps, with room: wasmi 2.0.0's `memory.grow`
/// keeps 192 bytes on x86_64 and on aarch64 (rustc 1.95); the rest is for a compiler or wasmi update.
const FRAME_BYTES: usize = 256;

/// What runs on top of the kept frames: host functions (a TLS handshake, a WASI call), wasmi's
/// translation of a function on its first call, and the engine's own frames below the guest.
const HOST_RESERVE: usize = 4 << 20;

/// The stack a thread that runs guest code must have: [`Runtime::run`](crate::Runtime::run) and
/// [`Runtime::run_with`](crate::Runtime::run_with) on a thread with less may overflow it, which
/// aborts the process (Rust's default for spawned threads is 2 MiB; a main thread usually has 8).
/// It is address space: only what a guest actually uses is ever touched.
pub const GUEST_STACK_SIZE: usize = 48 << 20;

// The bound of the module docs must fit.
const _: () = assert!(
    (super::meter::MAX_SLICE as usize + MAX_CALL_DEPTH * MAX_PREPAID as usize) * FRAME_BYTES
        + HOST_RESERVE
        <= GUEST_STACK_SIZE
);

/// A module refused because one of its functions could keep too many host stack frames at once
/// (see [`Runtime::compile`](crate::Runtime::compile)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackBoundExceeded {
    /// The function's index in the module's function index space (imports first).
    pub function: u32,
    /// The function's name from the module's name section, if it has one.
    pub name: Option<String>,
    /// The largest number of `memory.grow`, `table.grow` and `call_indirect` instructions that
    /// can run in this function, at some point, on fuel paid before that point.
    pub prepaid: u32,
    /// The most tern accepts ([`MAX_PREPAID`]).
    pub bound: u32,
}

impl fmt::Display for StackBoundExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "module refused: function {}", self.function)?;
        if let Some(name) = &self.name {
            write!(f, " ({name})")?;
        }
        write!(
            f,
            " can run {} memory.grow, table.grow or call_indirect instructions on fuel paid at the \
             start of its blocks, more than the {} tern accepts (each can keep a host stack frame \
             until the fuel slice ends); split the function or its blocks",
            self.prepaid, self.bound
        )
    }
}

/// Why [`check`] refused a module.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// A function exceeds the bound.
    Exceeded(StackBoundExceeded),
    /// The code could not be parsed (wasmi accepted it, so this is not expected).
    Malformed(String),
}

/// Checks every function of the (already validated) module `binary` against [`MAX_PREPAID`].
pub(crate) fn check(binary: &[u8]) -> Result<(), Refusal> {
    check_with(binary, MAX_PREPAID)
}

fn check_with(binary: &[u8], bound: u32) -> Result<(), Refusal> {
    let malformed = |e: wasmparser::BinaryReaderError| Refusal::Malformed(e.to_string());
    let mut imported_functions = 0u32;
    let mut defined = 0u32;
    let mut scratch = Scratch::default();
    let mut worst: Option<(u32, u32)> = None;
    for payload in Parser::new(0).parse_all(binary) {
        match payload.map_err(malformed)? {
            Payload::ImportSection(imports) => {
                for import in imports {
                    if matches!(import.map_err(malformed)?.ty, wasmparser::TypeRef::Func(_)) {
                        imported_functions += 1;
                    }
                }
            }
            Payload::CodeSectionEntry(body) => {
                let prepaid = scratch.prepaid(body.get_operators_reader().map_err(malformed)?)?;
                let index = imported_functions + defined;
                defined += 1;
                if prepaid > bound && worst.is_none_or(|(_, w)| prepaid > w) {
                    worst = Some((index, prepaid));
                }
            }
            Payload::CustomSection(section) => {
                if let (Some((function, prepaid)), KnownCustom::Name(names)) =
                    (worst, section.as_known())
                {
                    return Err(Refusal::Exceeded(StackBoundExceeded {
                        function,
                        name: function_name(names, function),
                        prepaid,
                        bound,
                    }));
                }
            }
            _ => {}
        }
    }
    match worst {
        Some((function, prepaid)) => Err(Refusal::Exceeded(StackBoundExceeded {
            function,
            name: None,
            prepaid,
            bound,
        })),
        None => Ok(()),
    }
}

/// The name of `function` in a name section, if it is there.
fn function_name(names: wasmparser::NameSectionReader<'_>, function: u32) -> Option<String> {
    for name in names {
        if let Ok(Name::Function(map)) = name {
            for naming in map.into_iter().flatten() {
                if naming.index == function {
                    return Some(naming.name.to_owned());
                }
            }
        }
    }
    None
}

/// What matters to the bound, in code order.
#[derive(Clone, Copy)]
enum Event {
    /// `block`, `if`, `loop`: opens a construct (its kind is on the matching `End`).
    Open(Kind),
    /// `else`.
    Else,
    /// `end` of a construct, or of the function body.
    End(Kind),
    /// `br` to the label this many constructs out.
    Br(u32),
    /// `br_if` to the label this many constructs out.
    BrIf(u32),
    /// `br_table`: its labels are `targets[start..start + len]`.
    BrTable { start: u32, len: u32 },
    /// `return`, `unreachable`, `return_call`: nothing of this frame runs after it.
    Stop,
    /// An instruction whose handler keeps a host stack frame.
    Leak,
    /// `return_call_indirect`: keeps a frame, and nothing of this frame runs after it.
    LeakStop,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Body,
    Block,
    If,
    Loop,
}

/// A construct open in the backward pass.
struct Open {
    kind: Kind,
    /// The count right after its `end`: where a branch to a `block` or `if` goes.
    after_end: u32,
    /// The count where the next charge leads: out of this construct, by its end or by a branch to
    /// any enclosing label (wasmi charges again on entering a `loop` iteration or an `else`, so
    /// what they contain is paid in the slice that runs it).
    exit: u32,
    /// For an `if` with an `else`: the count on entering the `else`.
    else_entry: Option<u32>,
}

impl Open {
    /// What a branch to this construct's label leads to.
    fn label(&self) -> u32 {
        match self.kind {
            Kind::Loop => self.exit,
            Kind::Body => 0,
            Kind::Block | Kind::If => self.after_end,
        }
    }
}

/// Buffers reused across a module's functions.
#[derive(Default)]
struct Scratch {
    events: Vec<Event>,
    targets: Vec<u32>,
    kinds: Vec<Kind>,
    open: Vec<Open>,
}

impl Scratch {
    /// The prepaid count of one function body: the largest number of leaking instructions on any
    /// path from any point of the function that meets no charge of wasmi's (or a `return`).
    fn prepaid(&mut self, mut ops: wasmparser::OperatorsReader<'_>) -> Result<u32, Refusal> {
        let malformed = |what: &str| Refusal::Malformed(format!("function body: {what}"));
        self.events.clear();
        self.targets.clear();
        self.kinds.clear();
        self.kinds.push(Kind::Body);
        let mut leaks = 0u32;
        while !ops.eof() {
            let op = ops.read().map_err(|e| Refusal::Malformed(e.to_string()))?;
            let event = match op {
                Operator::Block { .. } => Event::Open(Kind::Block),
                Operator::If { .. } => Event::Open(Kind::If),
                Operator::Loop { .. } => Event::Open(Kind::Loop),
                Operator::Else => Event::Else,
                Operator::End => match self.kinds.pop() {
                    Some(kind) => Event::End(kind),
                    None => return Err(malformed("end outside a block")),
                },
                Operator::Br { relative_depth } => Event::Br(relative_depth),
                Operator::BrIf { relative_depth } => Event::BrIf(relative_depth),
                Operator::BrTable { targets } => {
                    let start = self.targets.len() as u32;
                    self.targets.push(targets.default());
                    for target in targets.targets() {
                        self.targets
                            .push(target.map_err(|e| Refusal::Malformed(e.to_string()))?);
                    }
                    let len = self.targets.len() as u32 - start;
                    Event::BrTable { start, len }
                }
                Operator::Return | Operator::Unreachable | Operator::ReturnCall { .. } => {
                    Event::Stop
                }
                Operator::MemoryGrow { .. }
                | Operator::TableGrow { .. }
                | Operator::CallIndirect { .. } => {
                    leaks += 1;
                    Event::Leak
                }
                Operator::ReturnCallIndirect { .. } => {
                    leaks += 1;
                    Event::LeakStop
                }
                _ => continue,
            };
            if let Event::Open(kind) = event {
                self.kinds.push(kind);
            }
            self.events.push(event);
        }
        if !self.kinds.is_empty() {
            return Err(malformed("unclosed block"));
        }
        if leaks == 0 {
            return Ok(0);
        }
        self.backward()
            .ok_or_else(|| malformed("unbalanced blocks or a branch out of range"))
    }

    /// The backward pass: `count` is, at each point, the most leaking instructions on a path from
    /// there that meets no charge; the function's prepaid count is its largest value.
    fn backward(&mut self) -> Option<u32> {
        self.open.clear();
        let (mut count, mut most) = (0u32, 0u32);
        for event in self.events.iter().rev() {
            let label = |open: &[Open], depth: u32| -> Option<u32> {
                let index = open.len().checked_sub(1 + depth as usize)?;
                Some(open[index].label())
            };
            match *event {
                Event::End(kind) => {
                    // Leaving by a branch to any enclosing label, or by the end.
                    let outer = self.open.last().map_or(0, |o| o.exit);
                    let after_end = if kind == Kind::Body { 0 } else { count };
                    self.open.push(Open {
                        kind,
                        after_end,
                        exit: outer.max(after_end),
                        else_entry: None,
                    });
                    count = after_end;
                }
                Event::Else => {
                    // The else-arm is charged on entry; the then-arm ends where the `if` does.
                    let open = self.open.last_mut()?;
                    open.else_entry = Some(open.exit);
                    count = open.after_end;
                }
                Event::Open(kind) => {
                    let open = self.open.pop()?;
                    if open.kind != kind {
                        return None;
                    }
                    count = match kind {
                        Kind::Block | Kind::Body => count,
                        // An `if` is counted as part of the enclosing charge (wasmi charges its
                        // then-arm apart unless the condition is a constant): either arm runs.
                        Kind::If => count.max(open.else_entry.unwrap_or(open.after_end)),
                        // Entering a loop charges it: only what follows its exit is prepaid.
                        Kind::Loop => open.exit,
                    };
                }
                Event::Br(depth) => count = label(&self.open, depth)?,
                Event::BrIf(depth) => count = count.max(label(&self.open, depth)?),
                Event::BrTable { start, len } => {
                    let (start, len) = (start as usize, len as usize);
                    let mut most_of = 0;
                    for &depth in self.targets.get(start..start + len)? {
                        most_of = most_of.max(label(&self.open, depth)?);
                    }
                    count = most_of;
                }
                Event::Stop => count = 0,
                Event::Leak => count += 1,
                Event::LeakStop => count = 1,
            }
            most = most.max(count);
        }
        // The body's own end was the first event seen; only the body may remain open.
        match self.open.as_slice() {
            [body] if body.kind == Kind::Body => Some(most),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prepaid_of(wat: &str) -> Result<(), Refusal> {
        check_with(&wat::parse_str(wat).unwrap(), 3)
    }

    fn refused(wat: &str) -> StackBoundExceeded {
        match prepaid_of(wat) {
            Err(Refusal::Exceeded(e)) => e,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    const HEAD: &str = "(module (memory 1) (table 1 funcref) (type $t (func))";

    #[test]
    fn straight_line_grows_over_the_bound_are_refused_with_the_function_named() {
        let e = refused(&format!(
            "{HEAD} (func) (func $grower (drop (memory.grow (i32.const 0))) \
             (drop (memory.grow (i32.const 0))) (drop (table.grow (ref.null func) (i32.const 0))) \
             (call_indirect (type $t) (i32.const 0))))"
        ));
        assert_eq!(e.function, 1);
        assert_eq!(e.name.as_deref(), Some("grower"));
        assert_eq!((e.prepaid, e.bound), (4, 3));
        let message = e.to_string();
        assert!(message.contains("function 1 (grower)"), "{message}");
        assert!(message.contains(" 4 "), "{message}");
    }

    #[test]
    fn a_loop_is_charged_per_iteration_so_its_leaks_do_not_add_up() {
        // Three per iteration, any number of iterations: within the bound.
        let ok = format!(
            "{HEAD} (func (loop $l (call_indirect (type $t) (i32.const 0)) \
             (call_indirect (type $t) (i32.const 0)) (call_indirect (type $t) (i32.const 0)) \
             (br $l))))"
        );
        assert!(prepaid_of(&ok).is_ok());
    }

    #[test]
    fn what_follows_a_loop_is_paid_before_it() {
        // The function's block pays for the two grows after the loop when it starts, so a caller
        // suspended in the loop resumes them prepaid together with the loop's own two: four.
        let e = refused(&format!(
            "{HEAD} (func (loop $l (call_indirect (type $t) (i32.const 0)) \
             (call_indirect (type $t) (i32.const 0)) (br_if $l (i32.const 0))) \
             (drop (memory.grow (i32.const 0))) (drop (memory.grow (i32.const 0)))))"
        ));
        assert_eq!(e.prepaid, 4);
    }

    #[test]
    fn an_if_counts_with_its_enclosing_block_and_an_else_is_charged_apart() {
        let ci = "(call_indirect (type $t) (i32.const 0))";
        let function = |then: usize, otherwise: usize, after: usize| {
            format!(
                "{HEAD} (func (param i32) (if (local.get 0) (then {}) (else {})) {}))",
                ci.repeat(then),
                ci.repeat(otherwise),
                ci.repeat(after)
            )
        };
        // At the start: then-arm + after = 3; at the else: else-arm + after = 3.
        assert!(prepaid_of(&function(2, 2, 1)).is_ok());
        // The else-arm is not paid at the start: 1 + 1 there, 3 + 1 at the else.
        assert_eq!(refused(&function(1, 3, 1)).prepaid, 4);
        assert_eq!(refused(&function(3, 0, 1)).prepaid, 4);
    }

    #[test]
    fn the_arms_of_a_br_table_match_are_alternatives_and_return_ends_a_path() {
        let ci = "(call_indirect (type $t) (i32.const 0))";
        // Three arms of three each, every arm leaving the match: at most 3 on a path.
        let arms = format!(
            "{HEAD} (func (param i32) (block $out (block $a (block $b (block $c \
             (br_table $c $b $a (local.get 0))) {ci}{ci}{ci} (br $out)) {ci}{ci}{ci} (br $out)) \
             {ci}{ci}{ci}) (return) {ci}))"
        );
        assert!(prepaid_of(&arms).is_ok());
        // Falling from one arm into the next adds them up.
        let fallthrough = arms.replacen("(br $out)", "", 1);
        assert_eq!(refused(&fallthrough).prepaid, 6);
    }

    #[test]
    fn a_branch_back_to_a_loop_is_charged_again_but_leaving_it_reaches_what_follows() {
        let ci = "(call_indirect (type $t) (i32.const 0))";
        // In the loop: 1, then either back to the loop (charged) or out to the 2 after it.
        let within = format!(
            "{HEAD} (func (param i32) (block $done (loop $l {ci} (br_if $l (local.get 0)) \
             (br $done))) {ci}{ci}))"
        );
        assert!(prepaid_of(&within).is_ok());
        let over = within.replacen(
            "(loop $l",
            "(loop $l (call_indirect (type $t) (i32.const 0))",
            1,
        );
        assert_eq!(refused(&over).prepaid, 4);
    }

    #[test]
    fn nested_plain_blocks_are_part_of_the_charge() {
        let e = refused(&format!(
            "{HEAD} (func (block (drop (memory.grow (i32.const 0))) (block \
             (drop (memory.grow (i32.const 0))) (drop (memory.grow (i32.const 0))))) \
             (return_call_indirect (type $t) (i32.const 0))))"
        ));
        assert_eq!((e.function, e.name, e.prepaid), (0, None, 4));
    }

    #[test]
    fn compile_refuses_a_module_over_the_bound_with_a_typed_error() {
        // Binary, not text: the test must pass in builds without the `wat` feature too.
        let grows = |n: u32| {
            let grow = "(drop (memory.grow (local.get 0)))".repeat(n as usize);
            wat::parse_str(format!(
                "(module (memory 1) (func (export \"cwa_main\") (local i32) {grow}))"
            ))
            .expect("valid text")
        };
        let runtime = crate::Runtime::new();
        assert!(runtime.compile(&grows(MAX_PREPAID)).is_ok());
        match runtime.compile(&grows(MAX_PREPAID + 1)) {
            Err(crate::Error::StackBound(e)) => {
                assert_eq!(
                    (e.function, e.prepaid, e.bound),
                    (0, MAX_PREPAID + 1, MAX_PREPAID)
                );
            }
            Err(other) => panic!("expected Error::StackBound, got {other}"),
            Ok(_) => panic!("compiled a module over the bound"),
        }
    }

    #[test]
    fn imported_functions_count_in_the_index() {
        let e = refused(
            "(module (import \"cwa\" \"f\" (func)) (memory 1) (func \
             (drop (memory.grow (i32.const 0))) (drop (memory.grow (i32.const 0))) \
             (drop (memory.grow (i32.const 0))) (drop (memory.grow (i32.const 0)))))",
        );
        assert_eq!(e.function, 1);
    }
}
