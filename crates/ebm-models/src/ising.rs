//! Ising models (being written).
