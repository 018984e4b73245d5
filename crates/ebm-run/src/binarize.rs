//! `--binarize`: how MNIST-like images become bits, as the command line and
//! the Python package name it (`stochastic[:SEED]`, `threshold[:T]`).

use ebm_core::{Error, Result, Seed};

/// How MNIST-like images become bits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Binarize {
    /// Each pixel on with probability intensity/255, drawn once from this
    /// seed (the test split from `seed ^ 0x7e57`).
    Stochastic(u64),
    /// On when intensity/255 ≥ this threshold.
    Threshold(f64),
}

impl Binarize {
    /// Parses `stochastic[:SEED]` or `threshold[:T]`.
    pub fn parse(spec: &str) -> Result<Self> {
        let what = "binarize";
        let (kind, arg) = match spec.split_once(':') {
            Some((k, a)) => (k, Some(a)),
            None => (spec, None),
        };
        match (kind, arg) {
            ("stochastic", None) => Ok(Binarize::Stochastic(0)),
            ("stochastic", Some(s)) => s
                .trim()
                .parse::<u64>()
                .map(Binarize::Stochastic)
                .map_err(|_| bad(what, format!("`{s}` is not a seed (a whole number ≥ 0)"))),
            ("threshold", None) => Ok(Binarize::Threshold(0.5)),
            ("threshold", Some(t)) => {
                let t = t
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| bad(what, format!("`{t}` is not a finite number")))?;
                if t > 0.0 && t <= 1.0 {
                    Ok(Binarize::Threshold(t))
                } else {
                    Err(bad(what, format!("threshold {t} is not in (0, 1]")))
                }
            }
            _ => Err(bad(what, format!("`{spec}` (expected stochastic[:SEED] or threshold[:T])"))),
        }
    }

    /// The spec as written back (model-file metadata).
    pub fn spec(&self) -> String {
        match self {
            Binarize::Stochastic(s) => format!("stochastic:{s}"),
            Binarize::Threshold(t) => format!("threshold:{t}"),
        }
    }

    /// The images' bits (`test` picks the test split's stream).
    pub fn apply(&self, images: &ebm_data::Images, test: bool) -> Result<Vec<i8>> {
        match *self {
            Binarize::Stochastic(s) => {
                images.binarize_stochastic(Seed(if test { s ^ 0x7e57 } else { s }))
            }
            // intensity/255 ≥ T ⟺ pixel ≥ ⌈255 T⌉
            Binarize::Threshold(t) => Ok(images.binarize_threshold((255.0 * t).ceil() as u8)),
        }
    }
}

fn bad(what: &'static str, reason: String) -> Error {
    Error::InvalidSequence { what, reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_and_bad_ones_are_errors() {
        assert_eq!(Binarize::parse("stochastic").unwrap(), Binarize::Stochastic(0));
        assert_eq!(Binarize::parse("stochastic:7").unwrap(), Binarize::Stochastic(7));
        assert_eq!(Binarize::parse("threshold").unwrap(), Binarize::Threshold(0.5));
        assert_eq!(Binarize::parse("threshold:0.25").unwrap(), Binarize::Threshold(0.25));
        for b in ["threshold:0", "threshold:1.5", "threshold:nan", "stochastic:-1", "round", ""] {
            assert!(Binarize::parse(b).is_err(), "{b}");
        }
        let round_trip = Binarize::parse(&Binarize::Threshold(0.5).spec()).unwrap();
        assert_eq!(round_trip, Binarize::Threshold(0.5));
    }

    #[test]
    fn threshold_is_intensity_over_255_at_least_t() {
        let images =
            ebm_data::Images { count: 1, rows: 1, cols: 4, pixels: vec![127, 128, 0, 255] };
        assert_eq!(Binarize::Threshold(0.5).apply(&images, false).unwrap(), vec![0, 1, 0, 1]);
        assert_eq!(Binarize::Threshold(1.0).apply(&images, false).unwrap(), vec![0, 0, 0, 1]);
    }
}
