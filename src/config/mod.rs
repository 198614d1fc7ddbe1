//! The configuration language: raw types that mirror the YAML (`raw`), reading and
//! checking a file (`load`, `interpolate`, `spans`, `describe`: schema errors in words), rendering problems (`diag`), and the
//! JSON schema generated from the raw types (`schema`). `plan` turns the result into the
//! checked form the rest of hbmon uses.

mod describe;
pub mod diag;
pub mod include;
pub mod interpolate;
pub mod load;
pub mod managed;
pub mod raw;
pub mod reference;
pub mod schema;
pub mod spans;
pub mod tree;
