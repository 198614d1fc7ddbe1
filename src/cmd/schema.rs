//! `hbmon schema`: print the JSON schema (identical to `schemas/hbmon.schema.json`).

use std::io::Write;

use crate::config::schema;
use crate::error::Error;
use crate::exit;

pub fn run() -> Result<u8, Error> {
    std::io::stdout()
        .write_all(schema::to_pretty_string().as_bytes())
        .map_err(|e| Error::io("cannot write the schema", e))?;
    Ok(exit::OK)
}
