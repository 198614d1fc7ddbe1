//! `hbmon simulate --timeline` text -> `parse_timeline`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = hbmon::cmd::simulate::parse_timeline(text);
});
