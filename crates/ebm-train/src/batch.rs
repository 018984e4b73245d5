//! Mini-batches with a seeded shuffle per epoch.

use ebm_core::{Error, Purpose, Result, Seed};
use rand::RngExt;

/// The row order of epoch `epoch`: a Fisher–Yates shuffle of `0..n_rows` drawn
/// from stream (seed, SHUFFLE, epoch), so every epoch's order is reproducible
/// on its own (resuming at epoch e needs nothing from earlier epochs).
pub fn epoch_order(n_rows: usize, seed: Seed, epoch: u64) -> Vec<usize> {
    let mut rng = seed.stream(Purpose::SHUFFLE, epoch);
    let mut order: Vec<usize> = (0..n_rows).collect();
    for i in (1..n_rows).rev() {
        let j = rng.random_range(0..=i);
        order.swap(i, j);
    }
    order
}

/// Iterates over the mini-batches of one epoch, copying rows into a reused
/// buffer. The last batch may be smaller.
#[derive(Debug, Clone)]
pub struct Batches<'a, U = i8> {
    data: &'a [U],
    width: usize,
    order: Vec<usize>,
    batch_size: usize,
    next: usize,
    buf: Vec<U>,
}

impl<'a, U: Copy> Batches<'a, U> {
    /// The batches of epoch `epoch` over `data` (rows of `width` values).
    pub fn new(
        data: &'a [U],
        width: usize,
        batch_size: usize,
        seed: Seed,
        epoch: u64,
    ) -> Result<Self> {
        ebm_core::check_rows("data (whole rows)", data.len(), width)?;
        if batch_size == 0 {
            return Err(Error::InvalidParameter {
                name: "batch size",
                value: 0.0,
                expected: "≥ 1",
            });
        }
        let order = epoch_order(data.len() / width, seed, epoch);
        Ok(Batches {
            data,
            width,
            order,
            batch_size,
            next: 0,
            buf: Vec::with_capacity(batch_size.min(data.len() / width) * width),
        })
    }

    /// The next batch, or `None` at the end of the epoch.
    pub fn next_batch(&mut self) -> Option<&[U]> {
        if self.next >= self.order.len() {
            return None;
        }
        let end = (self.next + self.batch_size).min(self.order.len());
        self.buf.clear();
        for &r in &self.order[self.next..end] {
            self.buf.extend_from_slice(&self.data[r * self.width..(r + 1) * self.width]);
        }
        self.next = end;
        Some(&self.buf)
    }

    /// Number of batches in the epoch.
    pub fn n_batches(&self) -> usize {
        self.order.len().div_ceil(self.batch_size)
    }
}
