//! Aligned sequences (FASTA/A2M) over the protein alphabet: any bytes give
//! an alignment or a typed error.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let protein = ebm_data::msa::Alphabet::protein();
    let _ = ebm_data::msa::Alignment::parse(data, &protein, &ebm_data::msa::ReadOptions::default());
});
