//! tern: a minimal capability operating system for WebAssembly.
//!
//! A guest sees the world as URLs and gets handles it can read, write, flush and close. Every
//! capability decision happens in one place: [`Process::open`] → [`Policy::check`].
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod error;
pub mod normalize;
pub mod policy;

pub use error::{Error, Result};
pub use policy::{Denial, Limits, Policy};
