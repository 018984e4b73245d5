//! Model specs as a user types them (`ebm … --model SPEC --coupling J
//! --field H`, `ebm.model(SPEC)`): any text, with any coupling and field,
//! through `ebm_run::spec::parse_lattice` gives a model or a typed error,
//! never a panic. A non-finite coupling or field is an error; a model that
//! parses has units, and its energy at the state of fixed values (`StateSpace::fixed_value`) is finite
//! for moderate J and h.
//!
//! A lattice of up to 2^28 sites is a legitimate request (gigabytes, which
//! libFuzzer's 1 GiB malloc limit would report as an out-of-memory): inputs
//! whose numbers multiply past 2^12 are skipped, so the fuzzer explores the
//! parser rather than the machine's memory. The size limit itself is tested
//! in the CLI's tests (`huge_lattices_…`).
#![no_main]

use ebm_core::{EnergyModel, StateSpace};
use libfuzzer_sys::fuzz_target;

/// Couplings and fields the first two bytes choose from.
const SCALARS: [f64; 8] = [1.0, -1.0, 0.0, 0.5, 3.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY];

/// The product of the decimal numbers in `text` (saturating).
fn numbers_product(text: &str) -> u128 {
    text.split(|c: char| !c.is_ascii_digit())
        .filter(|d| !d.is_empty())
        .map(|d| d.parse::<u128>().unwrap_or(u128::MAX))
        .fold(1u128, |p, x| p.saturating_mul(x.max(1)))
}

fuzz_target!(|data: &[u8]| {
    let [a, b, rest @ ..] = data else { return };
    let (j, h) = (SCALARS[usize::from(a % 8)], SCALARS[usize::from(b % 8)]);
    let text = String::from_utf8_lossy(rest);
    if numbers_product(&text) > 1 << 12 {
        return;
    }
    let Ok(model) = ebm_run::spec::parse_lattice(&text, j, h) else { return };
    assert!(j.is_finite() && h.is_finite(), "{text:?} accepted J = {j}, h = {h}");
    ebm_run::with_model!(&model, m => {
        let n = m.n_units();
        assert!(n > 0, "{text:?} parsed to a model without units");
        let space = m.space();
        let x: Vec<_> = (0..n).map(|i| space.fixed_value(i)).collect();
        let e = m.energy(&x);
        assert!(e.is_finite(), "{text:?}: energy {e} at J = {j}, h = {h}");
    });
});
