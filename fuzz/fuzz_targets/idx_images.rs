//! IDX image files (MNIST's format): any bytes give images or a typed error.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = ebm_data::idx::decode_images(data);
});
