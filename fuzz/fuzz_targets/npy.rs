//! `.npy` arrays: any bytes give an array or a typed error.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = ebm_data::NpyArray::from_bytes(data);
});
