//! Panics in guests: logged through `log_write` at error level, then `runtime_exit(101)`.
//!
//! * `no_std` guests on wasm32 get this crate's `#[panic_handler]` (feature `panic-handler`, on by
//!   default; turn it off to provide your own).
//! * `std` guests on wasm32 get the same behaviour from a panic hook that [`main!`](crate::main)
//!   installs (the standard library's own handler would print to a stderr that wasm32-unknown-unknown
//!   does not have, then trap).

/// The exit status of a guest that panicked (as Rust's own test harness and `std` use).
pub const PANIC_EXIT_STATUS: i32 = 101;

/// Logs a panic at error level and exits with [`PANIC_EXIT_STATUS`].
#[cfg(target_arch = "wasm32")]
#[allow(dead_code)] // unused when neither the panic handler nor the std hook is compiled in
fn report(location: Option<&core::panic::Location<'_>>, message: &dyn core::fmt::Display) -> ! {
    use core::fmt::Write;
    let mut line = crate::buf::LineBuf::<1024>::new();
    let _ = match location {
        Some(l) => write!(
            line,
            "panicked at {}:{}:{}: {}",
            l.file(),
            l.line(),
            l.column(),
            message
        ),
        None => write!(line, "panicked: {message}"),
    };
    crate::sys::log_write(tern_abi::log_level::ERROR, line.as_bytes());
    crate::sys::runtime_exit(PANIC_EXIT_STATUS)
}

#[cfg(all(
    target_arch = "wasm32",
    not(feature = "std"),
    feature = "panic-handler",
    not(test)
))]
#[panic_handler]
fn on_panic(info: &core::panic::PanicInfo<'_>) -> ! {
    report(info.location(), &info.message())
}

/// Installs the panic hook of `std` guests on wasm32 (called by [`main!`](crate::main)); does
/// nothing elsewhere.
#[doc(hidden)]
pub fn install_hook() {
    #[cfg(all(target_arch = "wasm32", feature = "std"))]
    {
        use std::boxed::Box;
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            std::panic::set_hook(Box::new(|info| {
                let message: &dyn core::fmt::Display =
                    if let Some(s) = info.payload().downcast_ref::<&str>() {
                        s
                    } else if let Some(s) = info.payload().downcast_ref::<std::string::String>() {
                        s
                    } else {
                        &"Box<dyn Any>"
                    };
                report(info.location(), message)
            }));
        });
    }
}
