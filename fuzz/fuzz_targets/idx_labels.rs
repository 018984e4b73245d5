//! IDX label files: any bytes give labels or a typed error.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = ebm_data::idx::decode_labels(data);
});
