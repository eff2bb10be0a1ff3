//! Arbitrary bytes as a plan cache, a fingerprint store and a journal.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    orchestra::facade::fuzz_decoders(bytes);
});
