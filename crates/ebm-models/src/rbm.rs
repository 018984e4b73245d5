//! Restricted Boltzmann machines (being written).
