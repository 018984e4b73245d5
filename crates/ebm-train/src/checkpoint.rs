//! Checkpoints: parameters, optimizer state, persistent chains and stream
//! positions, written atomically; resuming continues bit-identically.
//!
//! Format (little-endian): the magic `EBMCKPT4`; the run configuration (a
//! `u64` count of pairs, each a `u64`-length-prefixed UTF-8 key and value:
//! what a resumed run must match); then `step: u64`, the
//! parameter vector, the optimizer's first and second moments and its
//! centring offsets (each a `u64` length and that many `f64`), the
//! optimizer's `step: u64`, the number of
//! chains (`u64`) and per chain its [`ChainRecord`]: the number of units and
//! the units ([`UnitValue::BYTES`] each), the number of counts and the counts
//! (`u64`), the number of reals and the reals (`f64`); then the number of
//! stream positions (`u64`) and per chain its position (32-byte key, `u64`
//! stream, `u128` word offset); last, the CRC-32 of every byte before it
//! (`u32`), so a flipped bit is an error, not a silently different run.
//! Files of the earlier formats still load (`EBMCKPT3`: the same without the
//! offsets; `EBMCKPT2`: without the configuration and the checksum too; `EBMCKPT1`: a units count and the `i8`
//! states of every chain, whose chains are records of states only).
//!
//! Persistent chains are saved whole ([`Chain::record`]): a parallel
//! tempering chain with its replicas, adapted ladder, swap counters and
//! walkers, so resuming equals the uninterrupted run for every sampler.

use crate::optim::OptimizerState;
use crate::trainer::TrainState;
use ebm_core::{
    Chain, ChainRecord, ChainRng, Error, LogLinear, Result, RngPosition, Sampler, UnitValue,
};
/// The workspace's atomic file writer (it lives in `ebm-data`, the crate that
/// owns file formats; re-exported here for checkpoint users).
pub use ebm_data::write_atomic;
use std::path::Path;

const MAGIC: &[u8; 8] = b"EBMCKPT4";
const MAGIC_V3: &[u8; 8] = b"EBMCKPT3";
const MAGIC_V2: &[u8; 8] = b"EBMCKPT2";
const MAGIC_V1: &[u8; 8] = b"EBMCKPT1";

/// Everything needed to resume training, in plain data.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint<U: UnitValue = i8> {
    /// Steps taken.
    pub step: u64,
    /// The model's parameters θ.
    pub params: Vec<f64>,
    /// The optimizer's moments.
    pub optimizer: OptimizerState,
    /// Persistent chain states.
    pub chains: Vec<ChainRecord<U>>,
    /// Their stream positions.
    pub rng_positions: Vec<RngPosition>,
    /// The run configuration a resumed run must match (trainer, k, chains,
    /// learning rate, seed, data, …: the caller's names and values; empty
    /// in files of the earlier formats).
    pub config: std::collections::BTreeMap<String, String>,
}

impl<U: UnitValue> Checkpoint<U> {
    /// Captures the model and training state.
    pub fn capture<M: LogLinear + ?Sized, C: Chain<Unit = U>>(
        model: &M,
        state: &TrainState<C>,
    ) -> Self {
        Checkpoint {
            step: state.step,
            params: model.params().to_vec(),
            optimizer: state.optimizer.clone(),
            chains: state.chains.iter().map(|c| c.record()).collect(),
            rng_positions: state.rngs.iter().map(|r| r.position()).collect(),
            config: Default::default(),
        }
    }

    /// The same with the run configuration `config` recorded.
    pub fn with_config(mut self, config: std::collections::BTreeMap<String, String>) -> Self {
        self.config = config;
        self
    }

    /// An error naming every field of `now` whose value differs from the
    /// recorded configuration, or the first that is missing from it: a
    /// resumed run must be the run that wrote the checkpoint.
    pub fn check_config(&self, now: &std::collections::BTreeMap<String, String>) -> Result<()> {
        if self.config.is_empty() {
            return Err(Error::InvalidSequence {
                what: "checkpoint",
                reason: "it records no run configuration (an earlier format): cannot check that the resumed run matches it".into(),
            });
        }
        let mut differ = Vec::new();
        for (key, value) in now {
            match self.config.get(key) {
                Some(was) if was == value => {}
                Some(was) => {
                    differ.push(format!("{key} was {was} in the run being resumed, now {value}"))
                }
                None => {
                    return Err(Error::InvalidSequence {
                        what: "--resume",
                        reason: format!("the checkpoint does not record {key}"),
                    });
                }
            }
        }
        if differ.is_empty() {
            Ok(())
        } else {
            Err(Error::InvalidSequence { what: "--resume", reason: differ.join("; ") })
        }
    }

    /// Restores the model's parameters and rebuilds the training state with
    /// `sampler` (the one used for training).
    pub fn restore<M, S>(&self, model: &mut M, sampler: &S) -> Result<TrainState<S::Chain>>
    where
        M: LogLinear<Space: ebm_core::StateSpace<Unit = U>> + ?Sized,
        S: Sampler<M>,
    {
        model.set_params(&self.params)?;
        ebm_core::check_len("optimizer moments", self.params.len(), self.optimizer.first.len())?;
        let chains =
            self.chains.iter().map(|r| sampler.restore(model, r)).collect::<Result<Vec<_>>>()?;
        Ok(TrainState {
            step: self.step,
            optimizer: self.optimizer.clone(),
            chains,
            rngs: self.rng_positions.iter().map(|p| ChainRng::from_position(*p)).collect(),
            workspace: Default::default(),
        })
    }

    /// The checkpoint as bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(MAGIC);
        b.extend_from_slice(&(self.config.len() as u64).to_le_bytes());
        for (k, v) in &self.config {
            for text in [k, v] {
                b.extend_from_slice(&(text.len() as u64).to_le_bytes());
                b.extend_from_slice(text.as_bytes());
            }
        }
        b.extend_from_slice(&self.step.to_le_bytes());
        let o = &self.optimizer;
        for v in [&self.params, &o.first, &o.second, &o.offsets] {
            b.extend_from_slice(&(v.len() as u64).to_le_bytes());
            v.iter().for_each(|x| b.extend_from_slice(&x.to_le_bytes()));
        }
        b.extend_from_slice(&self.optimizer.step.to_le_bytes());
        b.extend_from_slice(&(self.chains.len() as u64).to_le_bytes());
        for c in &self.chains {
            b.extend_from_slice(&(c.units.len() as u64).to_le_bytes());
            c.units.iter().for_each(|&x| x.put(&mut b));
            b.extend_from_slice(&(c.counts.len() as u64).to_le_bytes());
            c.counts.iter().for_each(|x| b.extend_from_slice(&x.to_le_bytes()));
            b.extend_from_slice(&(c.reals.len() as u64).to_le_bytes());
            c.reals.iter().for_each(|x| b.extend_from_slice(&x.to_le_bytes()));
        }
        b.extend_from_slice(&(self.rng_positions.len() as u64).to_le_bytes());
        for p in &self.rng_positions {
            b.extend_from_slice(&p.key);
            b.extend_from_slice(&p.stream.to_le_bytes());
            b.extend_from_slice(&p.word_pos.to_le_bytes());
        }
        let crc = crc32fast::hash(&b);
        b.extend_from_slice(&crc.to_le_bytes());
        b
    }

    /// Parses bytes written by [`Checkpoint::to_bytes`]; a bad magic number,
    /// truncation or trailing bytes give [`Error::Format`] with the offset.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let magic = bytes.get(..8).unwrap_or(bytes);
        let (v1, v4) = (magic == MAGIC_V1, magic == MAGIC);
        // v3 and v4 carry the configuration and the checksum
        let v3 = v4 || magic == MAGIC_V3;
        if !v3 && magic != MAGIC_V2 && !v1 {
            return Err(Error::Format {
                what: "checkpoint".into(),
                offset: 0,
                reason: "bad magic number (not an ebm checkpoint)".into(),
            });
        }
        let bytes = if v3 {
            let Some(body) = bytes.len().checked_sub(4).map(|n| &bytes[..n]) else {
                return Err(Error::Format {
                    what: "checkpoint".into(),
                    offset: bytes.len() as u64,
                    reason: "truncated before the checksum".into(),
                });
            };
            let stored = u32::from_le_bytes(bytes[body.len()..].try_into().expect("4 bytes"));
            if crc32fast::hash(body) != stored {
                return Err(Error::Format {
                    what: "checkpoint".into(),
                    offset: body.len() as u64,
                    reason: "checksum mismatch (the file is damaged)".into(),
                });
            }
            body
        } else {
            bytes
        };
        let mut r = Reader { bytes, pos: 8 };
        let mut config = std::collections::BTreeMap::new();
        if v3 {
            let n = r.len()?;
            for _ in 0..n {
                let mut text = || -> Result<String> {
                    let len = r.len()?;
                    let raw = r.take(len)?;
                    String::from_utf8(raw.to_vec()).map_err(|_| r.err("configuration text"))
                };
                let k = text()?;
                let v = text()?;
                config.insert(k, v);
            }
        }
        let step = r.u64()?;
        let params = r.f64s()?;
        let first = r.f64s()?;
        let second = r.f64s()?;
        let offsets = if v4 { r.f64s()? } else { Vec::new() };
        let opt_step = r.u64()?;
        let n_chains = r.len()?;
        let mut chains = Vec::with_capacity(n_chains.min(1 << 20));
        let units = |r: &mut Reader, n: usize| -> Result<Vec<U>> {
            let bytes = r.take(n.checked_mul(U::BYTES).ok_or_else(|| r.err("chain size"))?)?;
            Ok(bytes.chunks_exact(U::BYTES).map(U::get).collect())
        };
        if v1 {
            let n = r.len()?;
            for _ in 0..n_chains {
                chains.push(ChainRecord { units: units(&mut r, n)?, ..Default::default() });
            }
        } else {
            for _ in 0..n_chains {
                let n = r.len()?;
                let u = units(&mut r, n)?;
                let nc = r.len()?;
                let counts = r.u64s(nc)?;
                let reals = r.f64s()?;
                chains.push(ChainRecord { units: u, counts, reals });
            }
        }
        let n_rngs = r.len()?;
        let mut rng_positions = Vec::with_capacity(n_rngs.min(1 << 20));
        for _ in 0..n_rngs {
            let key: [u8; 32] = r.take(32)?.try_into().map_err(|_| r.err("key"))?;
            let stream = r.u64()?;
            let word_pos =
                u128::from_le_bytes(r.take(16)?.try_into().map_err(|_| r.err("word position"))?);
            rng_positions.push(RngPosition { key, stream, word_pos });
        }
        if r.pos != bytes.len() {
            return Err(r.err("trailing bytes after the last section"));
        }
        Ok(Checkpoint {
            step,
            params,
            optimizer: OptimizerState { step: opt_step, first, second, offsets },
            chains,
            rng_positions,
            config,
        })
    }

    /// Writes the checkpoint atomically (see [`write_atomic`]): to a temporary
    /// file beside `path`, synced, then renamed over it; a crash or a failed
    /// write leaves the previous file intact.
    pub fn save(&self, path: &Path) -> Result<()> {
        write_atomic(path, &self.to_bytes())
    }

    /// Reads a checkpoint file.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = ebm_data::read_capped(path, ebm_data::MAX_READ_BYTES)?;
        Checkpoint::from_bytes(&bytes)
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn err(&self, reason: &str) -> Error {
        Error::Format { what: "checkpoint".into(), offset: self.pos as u64, reason: reason.into() }
    }
    fn take(&mut self, n: usize) -> Result<&[u8]> {
        if self.bytes.len() - self.pos < n {
            return Err(self.err("truncated"));
        }
        let s = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    fn u64(&mut self) -> Result<u64> {
        let b = self.take(8)?;
        Ok(u64::from_le_bytes(b.try_into().expect("8 bytes")))
    }
    /// A length that must fit in the remaining bytes (guards huge allocations).
    fn len(&mut self) -> Result<usize> {
        let n = self.u64()?;
        if n > (self.bytes.len() - self.pos) as u64 {
            return Err(self.err("a length exceeds the file size (truncated or corrupt)"));
        }
        Ok(n as usize)
    }
    fn u64s(&mut self, n: usize) -> Result<Vec<u64>> {
        let b = self.take(n.checked_mul(8).ok_or_else(|| self.err("length"))?)?;
        Ok(b.chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes"))).collect())
    }
    fn f64s(&mut self) -> Result<Vec<f64>> {
        let n = self.len()?;
        let b = self.take(8 * n)?;
        Ok(b.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes"))).collect())
    }
}
