//! Boltzmann machines (being written).
