//! `ebm exact`: thermodynamics by enumeration.

use super::print_json;
use crate::cli::{Common, ModelArgs};
use crate::spec;
use ebm_core::{Beta, Result};
use serde::Serialize;

#[derive(Serialize)]
struct Out {
    model: String,
    beta: f64,
    n_units: usize,
    n_states: u64,
    log_z: f64,
    free_energy: f64,
    mean_energy: f64,
    entropy: f64,
    heat_capacity: f64,
    free_energy_per_unit: f64,
    mean_energy_per_unit: f64,
    entropy_per_unit: f64,
    heat_capacity_per_unit: f64,
}

pub fn run(model: &ModelArgs, beta: f64, common: &Common) -> Result<()> {
    let beta = Beta::new(beta)?;
    let model_ = spec::parse(&model.model, model.coupling, model.field)?;
    let t = crate::with_model!(&model_, m => ebm_thermo::exact(m, beta)?);
    let out = Out {
        model: model.model.clone(),
        beta: beta.value(),
        n_units: t.n_units,
        n_states: t.n_states,
        log_z: t.log_z,
        free_energy: t.free_energy,
        mean_energy: t.mean_energy,
        entropy: t.entropy,
        heat_capacity: t.heat_capacity,
        free_energy_per_unit: t.free_energy_per_unit(),
        mean_energy_per_unit: t.mean_energy_per_unit(),
        entropy_per_unit: t.entropy_per_unit(),
        heat_capacity_per_unit: t.heat_capacity_per_unit(),
    };
    if common.json {
        return print_json(&out);
    }
    println!(
        "{} at β = {} (T = {:.6}): {} units, {} states, exact enumeration",
        out.model,
        out.beta,
        1.0 / out.beta,
        out.n_units,
        out.n_states
    );
    println!("  ln Z            {:>20.12}", out.log_z);
    println!(
        "  free energy F   {:>20.12}   per unit {:>14.10}",
        out.free_energy, out.free_energy_per_unit
    );
    println!(
        "  mean energy U   {:>20.12}   per unit {:>14.10}",
        out.mean_energy, out.mean_energy_per_unit
    );
    println!("  entropy S       {:>20.12}   per unit {:>14.10}", out.entropy, out.entropy_per_unit);
    println!(
        "  heat capacity C {:>20.12}   per unit {:>14.10}",
        out.heat_capacity, out.heat_capacity_per_unit
    );
    Ok(())
}
