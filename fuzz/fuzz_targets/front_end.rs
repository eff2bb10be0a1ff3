//! Arbitrary bytes as `orchestra.kdl`: parse, decode, validate, render
//! every diagnostic, compile a valid file whole and render its plan.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    orchestra::facade::fuzz_front_end(bytes);
});
