//! `hbmon schema`: print the JSON schema (identical to `schemas/hbmon.schema.json`), or the
//! configuration reference made from it (`docs/config.md`, `man/hbmon.yaml.5`).

use std::io::Write;

use crate::cli::SchemaFormat;
use crate::config::{reference, schema};
use crate::error::Error;
use crate::exit;

pub fn run(format: SchemaFormat) -> Result<u8, Error> {
    let text = match format {
        SchemaFormat::Json => schema::to_pretty_string(),
        SchemaFormat::Markdown => {
            reference::markdown(&reference::Reference::of(&schema::documented()))
        }
        SchemaFormat::Man => reference::man(
            &reference::Reference::of(&schema::documented()),
            env!("CARGO_PKG_VERSION"),
        ),
    };
    std::io::stdout()
        .write_all(text.as_bytes())
        .map_err(|e| Error::io("cannot write the schema", e))?;
    Ok(exit::OK)
}
