//! Training checkpoints: any bytes give a checkpoint or a typed error; one
//! that loads round-trips exactly.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(c) = ebm_train::Checkpoint::<i8>::from_bytes(data) {
        let again = ebm_train::Checkpoint::<i8>::from_bytes(&c.to_bytes()).expect("round trip");
        assert_eq!(again.to_bytes(), c.to_bytes());
    }
});
