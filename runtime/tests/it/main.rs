//! tern's integration tests, as one test binary (one link of the library and its dependencies
//! instead of one per file). Each module is one area; `common` and `net_support` are shared helpers.

mod common;
mod net_support;

mod cwa;
mod dagger;
mod interrupt;
mod limits;
mod net_http;
mod net_stream;
mod net_tcp;
mod net_tls;
mod policy;
mod proptests;
mod schemes;
mod spec;
#[cfg(feature = "wasi")]
mod wasi;
#[cfg(feature = "wasi")]
mod wasi_testsuite;
