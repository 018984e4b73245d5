//! safetensors model files (`SavedModel`): any bytes give a model or a
//! typed error; a model that loads saves again and reloads to the same.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok((model, meta)) = ebm_data::SavedModel::from_bytes(data) {
        let bytes = model.to_bytes(&meta).expect("a loaded model saves");
        let (again, meta2) = ebm_data::SavedModel::from_bytes(&bytes).expect("and reloads");
        assert_eq!(again.kind(), model.kind());
        assert_eq!(meta2, meta);
    }
});
