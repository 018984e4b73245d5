//! proptest strategies for small states and models.

use crate::toy::Dense;
use ebm_core::Domain;
use proptest::prelude::*;

/// Either domain.
pub fn domain() -> impl Strategy<Value = Domain> {
    prop_oneof![Just(Domain::Spin), Just(Domain::Bit)]
}

/// A configuration of `n` units in `domain`.
pub fn state(n: usize, domain: Domain) -> impl Strategy<Value = Vec<i8>> {
    proptest::collection::vec(any::<bool>(), n)
        .prop_map(move |bits| bits.into_iter().map(|b| domain.value(b)).collect())
}

/// A [`Dense`] model with `n` units drawn from `units`, couplings and biases
/// uniform in `[−scale, scale]`.
pub fn dense(
    units: std::ops::RangeInclusive<usize>,
    domain: Domain,
    scale: f64,
) -> impl Strategy<Value = Dense> {
    units.prop_flat_map(move |n| {
        let upper = proptest::collection::vec(-scale..=scale, n * n.saturating_sub(1) / 2);
        let bias = proptest::collection::vec(-scale..=scale, n);
        (upper, bias).prop_map(move |(u, b)| {
            Dense::from_upper(domain, &u, b).expect("generated couplings are valid")
        })
    })
}

/// A [`Dense`] model together with a state of it.
pub fn dense_with_state(
    units: std::ops::RangeInclusive<usize>,
    domain: Domain,
    scale: f64,
) -> impl Strategy<Value = (Dense, Vec<i8>)> {
    dense(units, domain, scale).prop_flat_map(move |m| {
        let n = ebm_core::EnergyModel::n_units(&m);
        (Just(m), state(n, domain))
    })
}

/// A configuration of the units of `space` (unit i uniform on `0..q_i`).
pub fn categorical_state(space: &ebm_core::Categories) -> impl Strategy<Value = Vec<u8>> + use<> {
    use ebm_core::FiniteSpace;
    let q: Vec<u8> = (0..space.len()).map(|i| (space.n_values(i) - 1) as u8).collect();
    q.into_iter().map(|max| 0..=max).collect::<Vec<_>>()
}
