//! Why a guest stopped before it finished: [`Trap`], typed for embedders and worded for people.

use std::fmt;

/// Why a guest trapped. The [`Display`](fmt::Display) text is the message `tern run` prints.
///
/// Timeouts and interrupts are not traps: they are [`Termination::TimedOut`] and
/// [`Termination::Interrupted`].
///
/// [`Termination::TimedOut`]: crate::Termination::TimedOut
/// [`Termination::Interrupted`]: crate::Termination::Interrupted
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Trap {
    /// The guest used its fuel budget (`None`: a cost larger than any budget, e.g. a huge copy).
    OutOfFuel {
        /// The budget, if one was set.
        budget: Option<u64>,
    },
    /// The module's initial memory is larger than the page limit, so it could not start.
    MemoryLimit {
        /// The pages the module asked for.
        requested_pages: u64,
        /// The limit, in 64 KiB pages.
        limit_pages: u32,
    },
    /// The call stack was exhausted (deep or infinite recursion).
    StackOverflow,
    /// An `unreachable` instruction ran (also how Rust and C abort).
    Unreachable,
    /// A load or store outside the guest's memory.
    MemoryOutOfBounds,
    /// A table access out of bounds.
    TableOutOfBounds,
    /// An indirect call through an empty table slot.
    IndirectCallToNull,
    /// An indirect call whose signature does not match the function's.
    BadSignature,
    /// Integer division or remainder by zero.
    IntegerDivisionByZero,
    /// Integer overflow in division or truncation.
    IntegerOverflow,
    /// A float that does not fit the integer it is converted to.
    BadConversionToInteger,
    /// The host could not allocate memory the guest asked for.
    OutOfSystemMemory,
    /// A function body failed validation on its first call, so the module is invalid. Only with
    /// [`Validation::OnFirstCall`](crate::Validation::OnFirstCall), which validates bodies then;
    /// otherwise compile refuses such a module.
    InvalidFunction(String),
    /// A host function ended the guest (the message says why, e.g. a denial with no error code).
    Host(String),
    /// Anything else.
    Other(String),
}

impl Trap {
    /// The trap for a WebAssembly trap code.
    pub(crate) fn from_code(code: wasmi::TrapCode, budget: Option<u64>) -> Trap {
        use wasmi::TrapCode as C;
        match code {
            C::OutOfFuel => Trap::OutOfFuel { budget },
            C::StackOverflow => Trap::StackOverflow,
            C::UnreachableCodeReached => Trap::Unreachable,
            C::MemoryOutOfBounds => Trap::MemoryOutOfBounds,
            C::TableOutOfBounds => Trap::TableOutOfBounds,
            C::IndirectCallToNull => Trap::IndirectCallToNull,
            C::BadSignature => Trap::BadSignature,
            C::IntegerDivisionByZero => Trap::IntegerDivisionByZero,
            C::IntegerOverflow => Trap::IntegerOverflow,
            C::BadConversionToInteger => Trap::BadConversionToInteger,
            C::OutOfSystemMemory => Trap::OutOfSystemMemory,
            other => Trap::Other(other.trap_message().to_string()),
        }
    }
}

impl fmt::Display for Trap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Trap::OutOfFuel { budget: Some(b) } => {
                write!(f, "out of fuel: the guest used its budget of {b}")
            }
            Trap::OutOfFuel { budget: None } => f.write_str("out of fuel"),
            Trap::MemoryLimit {
                requested_pages,
                limit_pages,
            } => write!(
                f,
                "memory limit exceeded: the module needs {requested_pages} pages, the limit is \
                 {limit_pages}"
            ),
            Trap::StackOverflow => f.write_str("stack overflow (call stack exhausted)"),
            Trap::Unreachable => f.write_str("wasm `unreachable` instruction executed"),
            Trap::MemoryOutOfBounds => f.write_str("out of bounds memory access"),
            Trap::TableOutOfBounds => f.write_str("undefined element: out of bounds table access"),
            Trap::IndirectCallToNull => f.write_str("uninitialized element (indirect call)"),
            Trap::BadSignature => f.write_str("indirect call type mismatch"),
            Trap::IntegerDivisionByZero => f.write_str("integer divide by zero"),
            Trap::IntegerOverflow => f.write_str("integer overflow"),
            Trap::BadConversionToInteger => f.write_str("invalid conversion to integer"),
            Trap::OutOfSystemMemory => f.write_str("out of system memory"),
            Trap::InvalidFunction(message) => write!(f, "invalid module: {message}"),
            Trap::Host(message) | Trap::Other(message) => f.write_str(message),
        }
    }
}

/// A host call found the run's wall-clock deadline had passed (e.g. while sleeping); the engine ends
/// the run as timed out.
#[derive(Debug, Clone, Copy)]
pub struct Deadline;

impl fmt::Display for Deadline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("timeout")
    }
}

impl wasmi::errors::HostError for Deadline {}

/// A host call was woken by the run's [`Interrupt`](crate::Interrupt); the engine ends the run as
/// interrupted.
#[derive(Debug, Clone, Copy)]
pub struct Interrupted;

impl fmt::Display for Interrupted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("interrupted")
    }
}

impl wasmi::errors::HostError for Interrupted {}
