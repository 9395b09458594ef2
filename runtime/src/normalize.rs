//! URL parsing and normalisation (being written).
