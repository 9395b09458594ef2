//! tern-serve: the handler server and its control plane.
#![forbid(unsafe_code)]

pub mod api;
pub mod dashboard;
pub mod store;
