//! Partitions of units into blocks of mutually non-interacting units.

use crate::error::{Error, Result};

/// A partition of the units `0..n` into blocks.
///
/// For block Gibbs sampling each block must be an *independent set* of the
/// model's interaction graph: the conditional distribution of a block's units
/// given the rest then factorises, and all of them can be updated at once.
/// Checkerboards on bipartite lattices and the two layers of an RBM are
/// examples; singletons are always valid.
///
/// The partition property is checked here; independence depends on the model
/// and is checked by `ebm_testkit::check_blocks`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocks {
    units: Vec<usize>,
    offsets: Vec<usize>,
    n_units: usize,
}

impl Blocks {
    /// Builds blocks from groups of unit indices; they must partition `0..n_units`
    /// (every unit exactly once, no empty block).
    pub fn new(n_units: usize, groups: Vec<Vec<usize>>) -> Result<Self> {
        let mut seen = vec![false; n_units];
        let mut units = Vec::with_capacity(n_units);
        let mut offsets = Vec::with_capacity(groups.len() + 1);
        offsets.push(0);
        for (b, g) in groups.into_iter().enumerate() {
            if g.is_empty() {
                return Err(Error::InvalidBlocks { reason: format!("block {b} is empty") });
            }
            for i in g {
                if i >= n_units {
                    return Err(Error::InvalidBlocks {
                        reason: format!("block {b} names unit {i}, but there are {n_units}"),
                    });
                }
                if std::mem::replace(&mut seen[i], true) {
                    return Err(Error::InvalidBlocks {
                        reason: format!("unit {i} appears twice (again in block {b})"),
                    });
                }
                units.push(i);
            }
            offsets.push(units.len());
        }
        if let Some(i) = seen.iter().position(|s| !s) {
            return Err(Error::InvalidBlocks { reason: format!("unit {i} is in no block") });
        }
        Ok(Blocks { units, offsets, n_units })
    }

    /// Every unit in a block of its own: valid for any model.
    pub fn singletons(n_units: usize) -> Self {
        Blocks { units: (0..n_units).collect(), offsets: (0..=n_units).collect(), n_units }
    }

    /// Blocks from a colouring: unit `i` goes to block `colour[i]`. Colours must
    /// be `0..k` with every colour used.
    pub fn from_colouring(colour: &[usize]) -> Result<Self> {
        let k = colour.iter().map(|&c| c + 1).max().unwrap_or(0);
        let mut groups = vec![Vec::new(); k];
        for (i, &c) in colour.iter().enumerate() {
            groups[c].push(i);
        }
        Blocks::new(colour.len(), groups)
    }

    /// Number of blocks.
    pub fn n_blocks(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Number of units partitioned.
    pub fn n_units(&self) -> usize {
        self.n_units
    }

    /// The units of block `b`, in the order given at construction.
    pub fn block(&self, b: usize) -> &[usize] {
        &self.units[self.offsets[b]..self.offsets[b + 1]]
    }

    /// Iterates over the blocks.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &[usize]> + '_ {
        self.offsets.windows(2).map(|w| &self.units[w[0]..w[1]])
    }

    /// Length of the largest block.
    pub fn max_block_len(&self) -> usize {
        self.offsets.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_are_checked() {
        assert!(Blocks::new(3, vec![vec![0, 2], vec![1]]).is_ok());
        assert!(Blocks::new(3, vec![vec![0, 2]]).is_err());
        assert!(Blocks::new(3, vec![vec![0, 2], vec![1, 2]]).is_err());
        assert!(Blocks::new(3, vec![vec![0, 1, 2], vec![]]).is_err());
        assert!(Blocks::new(2, vec![vec![0, 1, 2]]).is_err());
        let b = Blocks::from_colouring(&[0, 1, 0, 1]).unwrap();
        assert_eq!(b.n_blocks(), 2);
        assert_eq!(b.block(1), &[1, 3]);
        assert_eq!(Blocks::singletons(4).iter().count(), 4);
    }
}
