//! placeholder

mod control;
