#![forbid(unsafe_code)]

pub mod mode;
pub mod primitives;
