//! Model files: RBMs, Boltzmann machines and Ising models as safetensors.
//!
//! A model file is a standard [safetensors] file (an 8-byte little-endian
//! header length, a JSON header, then the tensors' little-endian bytes), so
//! Python reads it with `safetensors.numpy.load_file`. Parameters are `F64`:
//!
//! | kind | tensors | metadata besides the common keys |
//! |---|---|---|
//! | `"rbm"` | `W` (n_visible × n_hidden), `b` (n_visible), `c` (n_hidden) | `ebm.n_hidden` |
//! | `"boltzmann"` | `W` (n × n, symmetric, zero diagonal), `b` (n) | |
//! | `"gbrbm"` | `W` (n_visible × n_hidden), `b` (n_visible), `c` (n_hidden), `log_var` (n_visible, ln σ_i²) | `ebm.n_hidden`, `ebm.visible_units` = `"gaussian"`, `ebm.hidden_units` = `"bernoulli"` |
//! | `"ising"` | `edges` (n_edges × 2, `I64` site indices), `J` (n_edges), `h` (n) | `ebm.n_edges`; on a lattice `ebm.lattice_dims` (e.g. `"16,16"`) and `ebm.boundary` (`"periodic"` or `"open"`) |
//!
//! Common metadata keys: `ebm.format` (`"1"`), `ebm.kind`, `ebm.domain`
//! (`"bit"` or `"spin"`), `ebm.n_units` and `ebm.n_visible`. The caller's own
//! string pairs (training configuration, seeds, …) are stored beside them
//! under their own names, which must not start with `ebm.`; [`SavedModel::load`]
//! returns exactly those pairs.
//!
//! Saving is atomic ([`crate::write_atomic`]): a failed save leaves the
//! previous file intact. Loading checks everything and returns
//! [`Error::Format`] with a byte offset: a file that is truncated or not
//! safetensors (offset of the problem: the end of the file for truncation, 8
//! for a malformed header), an unknown kind or bad metadata (8), a missing
//! tensor or one of the wrong dtype or shape (8), a non-finite parameter (the
//! offset of that value), or parameters the model constructor rejects (the
//! start of the data section, with the constructor's error as the reason).
//!
//! ```
//! use ebm_data::persist::SavedModel;
//! use ebm_models::rbm::Rbm;
//! use std::collections::BTreeMap;
//! let rbm = Rbm::new(vec![0.5, -0.25], vec![0.1], vec![0.2, 0.3])?;
//! let meta = BTreeMap::from([("seed".to_string(), "42".to_string())]);
//! let bytes = SavedModel::Rbm(rbm.clone()).to_bytes(&meta)?;
//! let (model, meta2) = SavedModel::from_bytes(&bytes)?;
//! let SavedModel::Rbm(back) = model else { panic!("an RBM was saved") };
//! assert_eq!(back.weights(), rbm.weights());
//! assert_eq!(meta2, meta);
//! # Ok::<(), ebm_core::Error>(())
//! ```
//!
//! [safetensors]: https://huggingface.co/docs/safetensors

use crate::atomic::write_atomic;
use ebm_core::{BinaryModel, Domain, EnergyModel, Error, LogLinear, Result};
use ebm_models::boltzmann::BoltzmannMachine;
use ebm_models::gbrbm::GaussianRbm;
use ebm_models::ising::{Boundary, Ising, Lattice};
use ebm_models::potts_rbm::PottsRbm;
use ebm_models::rbm::Rbm;
use safetensors::tensor::{Metadata, SafeTensorError};
use safetensors::{Dtype, SafeTensors};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// Prefix of the metadata keys this module writes; callers' keys may not use it.
pub const RESERVED_PREFIX: &str = "ebm.";

/// The version written to `ebm.format`.
pub const FORMAT_VERSION: &str = "1";

/// A model read from or written to a model file.
#[derive(Debug, Clone)]
pub enum SavedModel {
    /// A restricted Boltzmann machine (`"rbm"`).
    Rbm(Rbm),
    /// A general Boltzmann machine (`"boltzmann"`).
    Boltzmann(BoltzmannMachine),
    /// An Ising model (`"ising"`).
    Ising(Ising),
    /// A categorical-visible RBM (`"potts_rbm"`): tensors `W` (n_v × q ×
    /// n_h), `g` (n_v × q), `c` (n_h), metadata `n_categories`.
    PottsRbm(PottsRbm),
    /// A Gaussian–Bernoulli RBM (`"gbrbm"`): tensors `W`, `b`, `c`,
    /// `log_var`; the unit types in `visible_units` / `hidden_units`.
    GaussianRbm(GaussianRbm),
}

impl From<GaussianRbm> for SavedModel {
    fn from(m: GaussianRbm) -> Self {
        SavedModel::GaussianRbm(m)
    }
}

impl From<PottsRbm> for SavedModel {
    fn from(m: PottsRbm) -> Self {
        SavedModel::PottsRbm(m)
    }
}

impl From<Rbm> for SavedModel {
    fn from(m: Rbm) -> Self {
        SavedModel::Rbm(m)
    }
}

impl From<BoltzmannMachine> for SavedModel {
    fn from(m: BoltzmannMachine) -> Self {
        SavedModel::Boltzmann(m)
    }
}

impl From<Ising> for SavedModel {
    fn from(m: Ising) -> Self {
        SavedModel::Ising(m)
    }
}

fn domain_name(d: Domain) -> &'static str {
    match d {
        Domain::Bit => "bit",
        Domain::Spin => "spin",
    }
}

fn f64_bytes(v: &[f64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

impl SavedModel {
    /// The kind stored in the file: `"rbm"`, `"boltzmann"`, `"ising"`,
    /// `"potts_rbm"` or `"gbrbm"`.
    pub fn kind(&self) -> &'static str {
        match self {
            SavedModel::Rbm(_) => "rbm",
            SavedModel::Boltzmann(_) => "boltzmann",
            SavedModel::Ising(_) => "ising",
            SavedModel::PottsRbm(_) => "potts_rbm",
            SavedModel::GaussianRbm(_) => "gbrbm",
        }
    }

    /// The model file as bytes, with the caller's metadata `meta`.
    ///
    /// Errors: [`Error::InvalidSequence`] if a key of `meta` starts with
    /// [`RESERVED_PREFIX`].
    pub fn to_bytes(&self, meta: &BTreeMap<String, String>) -> Result<Vec<u8>> {
        if let Some(k) = meta.keys().find(|k| k.starts_with(RESERVED_PREFIX)) {
            return Err(Error::InvalidSequence {
                what: "model metadata",
                reason: format!("key '{k}' uses the reserved prefix '{RESERVED_PREFIX}'"),
            });
        }
        let mut info = meta.clone();
        let mut put = |k: &str, v: String| info.insert(format!("{RESERVED_PREFIX}{k}"), v);
        put("format", FORMAT_VERSION.into());
        put("kind", self.kind().into());
        let mut tensors: Vec<Tensor> = Vec::new();
        match self {
            SavedModel::Rbm(m) => {
                let (nv, nh) = (m.n_visible(), m.n_hidden());
                put("domain", domain_name(m.domain()).into());
                put("n_units", (nv + nh).to_string());
                put("n_visible", nv.to_string());
                put("n_hidden", nh.to_string());
                tensors.push(("W", vec![nv, nh], "F64", f64_bytes(m.weights())));
                tensors.push(("b", vec![nv], "F64", f64_bytes(m.visible_bias())));
                tensors.push(("c", vec![nh], "F64", f64_bytes(m.hidden_bias())));
            }
            SavedModel::Boltzmann(m) => {
                let n = m.n_units();
                put("domain", domain_name(m.domain()).into());
                put("n_units", n.to_string());
                put("n_visible", LogLinear::n_visible(m).to_string());
                tensors.push(("W", vec![n, n], "F64", f64_bytes(m.couplings())));
                tensors.push(("b", vec![n], "F64", f64_bytes(m.biases())));
            }
            SavedModel::Ising(m) => {
                let (n, ne) = (m.n_units(), m.n_edges());
                put("domain", domain_name(m.domain()).into());
                put("n_units", n.to_string());
                put("n_visible", n.to_string());
                put("n_edges", ne.to_string());
                if let Some(l) = m.lattice_shape() {
                    let dims: Vec<String> = l.dims().iter().map(|d| d.to_string()).collect();
                    put("lattice_dims", dims.join(","));
                    put(
                        "boundary",
                        match l.boundary() {
                            Boundary::Periodic => "periodic",
                            Boundary::Open => "open",
                        }
                        .into(),
                    );
                }
                let edges: Vec<u8> = (0..ne)
                    .flat_map(|e| {
                        let (a, b) = m.edge(e);
                        [a as i64, b as i64]
                    })
                    .flat_map(i64::to_le_bytes)
                    .collect();
                tensors.push(("edges", vec![ne, 2], "I64", edges));
                tensors.push(("J", vec![ne], "F64", f64_bytes(m.couplings())));
                tensors.push(("h", vec![n], "F64", f64_bytes(m.fields())));
            }
            SavedModel::PottsRbm(m) => {
                let (nv, nh, q) = (m.n_visible_units(), m.n_hidden(), m.n_categories());
                put("n_units", (nv + nh).to_string());
                put("n_visible", nv.to_string());
                put("n_hidden", nh.to_string());
                put("n_categories", q.to_string());
                tensors.push(("W", vec![nv, q, nh], "F64", f64_bytes(m.weights())));
                tensors.push(("g", vec![nv, q], "F64", f64_bytes(m.fields())));
                tensors.push(("c", vec![nh], "F64", f64_bytes(m.hidden_bias())));
            }
            SavedModel::GaussianRbm(m) => {
                let (nv, nh) = (m.n_visible(), m.n_hidden());
                put("n_units", (nv + nh).to_string());
                put("n_visible", nv.to_string());
                put("n_hidden", nh.to_string());
                put("visible_units", "gaussian".into());
                put("hidden_units", "bernoulli".into());
                tensors.push(("W", vec![nv, nh], "F64", f64_bytes(m.weights())));
                tensors.push(("b", vec![nv], "F64", f64_bytes(m.visible_bias())));
                tensors.push(("c", vec![nh], "F64", f64_bytes(m.hidden_bias())));
                tensors.push(("log_var", vec![nv], "F64", f64_bytes(m.log_variances())));
            }
        }
        Ok(serialize(&info, &tensors))
    }

    /// Parses a model file held in memory; returns the model and the caller's
    /// metadata (every pair whose key does not start with [`RESERVED_PREFIX`]).
    ///
    /// Errors: [`Error::Format`], see the [module docs](self).
    pub fn from_bytes(bytes: &[u8]) -> Result<(SavedModel, BTreeMap<String, String>)> {
        let file = File::parse(bytes)?;
        let model = match file.meta_str("kind")? {
            "rbm" => file.rbm()?,
            "boltzmann" => file.boltzmann()?,
            "ising" => file.ising()?,
            "potts_rbm" => file.potts_rbm()?,
            "gbrbm" => file.gbrbm()?,
            other => {
                return Err(file.header_err(format!(
                    "unknown model kind '{other}' (rbm, boltzmann, ising, potts_rbm and gbrbm are known)"
                )));
            }
        };
        let user = file
            .meta
            .iter()
            .filter(|(k, _)| !k.starts_with(RESERVED_PREFIX))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Ok((model, user))
    }

    /// Saves the model with the caller's metadata, atomically: through a
    /// temporary file in the same directory, synced, then renamed over `path`.
    /// A failed save leaves any previous file at `path` intact.
    ///
    /// Errors: those of [`SavedModel::to_bytes`]; [`Error::Io`] if the file
    /// cannot be written.
    pub fn save(&self, path: impl AsRef<Path>, meta: &BTreeMap<String, String>) -> Result<()> {
        write_atomic(path.as_ref(), &self.to_bytes(meta)?)
    }

    /// Loads a model file; see [`SavedModel::from_bytes`].
    ///
    /// Errors: [`Error::Io`] if the file cannot be read, [`Error::Format`] if
    /// it is not a valid model file.
    pub fn load(path: impl AsRef<Path>) -> Result<(SavedModel, BTreeMap<String, String>)> {
        let path = path.as_ref();
        let bytes = crate::read_capped(path, crate::MAX_READ_BYTES)?;
        SavedModel::from_bytes(&bytes).map_err(|e| match e {
            Error::Format { what, offset, reason } => {
                Error::Format { what: format!("{what} {}", path.display()), offset, reason }
            }
            e => e,
        })
    }
}

/// A tensor to write: name, shape, safetensors dtype name, little-endian bytes.
type Tensor = (&'static str, Vec<usize>, &'static str, Vec<u8>);

/// A safetensors file: the header JSON with sorted metadata keys and the
/// tensors in the given order, so equal models and metadata give equal bytes
/// (`safetensors::serialize` takes a `HashMap`, whose order is random).
fn serialize(meta: &BTreeMap<String, String>, tensors: &[Tensor]) -> Vec<u8> {
    use serde_json::{Map, Value, json};
    let mut header = Map::new();
    let meta: Map<String, Value> = meta.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    header.insert("__metadata__".into(), Value::Object(meta));
    let mut offset = 0;
    for (name, shape, dtype, bytes) in tensors {
        let end = offset + bytes.len();
        header.insert(
            (*name).into(),
            json!({"dtype": dtype, "shape": shape, "data_offsets": [offset, end]}),
        );
        offset = end;
    }
    let mut json =
        serde_json::to_vec(&Value::Object(header)).expect("strings and integers serialise");
    // the data section starts 8-byte aligned, as the reference writer pads it
    json.resize(json.len().next_multiple_of(8), b' ');
    let mut out = Vec::with_capacity(8 + json.len() + offset);
    out.extend_from_slice(&(json.len() as u64).to_le_bytes());
    out.extend_from_slice(&json);
    for (_, _, _, bytes) in tensors {
        out.extend_from_slice(bytes);
    }
    out
}

const WHAT: &str = "safetensors model";

/// Offset of the JSON header.
const HEADER_START: u64 = 8;

/// A parsed, structurally valid safetensors file.
struct File<'a> {
    header: Metadata,
    /// The data section.
    data: &'a [u8],
    /// File offset of the data section.
    data_start: u64,
    meta: HashMap<String, String>,
}

impl<'a> File<'a> {
    fn parse(bytes: &'a [u8]) -> Result<Self> {
        let err = |offset: u64, reason: String| Error::Format { what: WHAT.into(), offset, reason };
        let len = bytes.len() as u64;
        let Some(n) = bytes.get(..8) else {
            return Err(err(len, "truncated in the 8-byte header length".into()));
        };
        let n = u64::from_le_bytes(n.try_into().expect("8 bytes"));
        if n > len - HEADER_START {
            return Err(err(len, format!("truncated: the header length {n} exceeds the file")));
        }
        let (n, header) = SafeTensors::read_metadata(bytes).map_err(|e| {
            let offset = match &e {
                SafeTensorError::MetadataIncompleteBuffer => len,
                SafeTensorError::InvalidHeader(u) => HEADER_START + u.valid_up_to() as u64,
                SafeTensorError::HeaderTooLarge => 0,
                _ => HEADER_START,
            };
            let reason = match e {
                SafeTensorError::MetadataIncompleteBuffer => {
                    "the tensors do not end at the end of the file (truncated or trailing bytes)"
                        .to_string()
                }
                e => e.to_string(),
            };
            err(offset, reason)
        })?;
        let data_start = HEADER_START + n as u64;
        let meta = header.metadata().clone().ok_or_else(|| {
            err(HEADER_START, "no __metadata__ in the header (not an ebm model file)".into())
        })?;
        Ok(File { header, data: &bytes[data_start as usize..], data_start, meta })
    }

    fn header_err(&self, reason: String) -> Error {
        Error::Format { what: WHAT.into(), offset: HEADER_START, reason }
    }

    fn meta_str(&self, key: &str) -> Result<&str> {
        self.meta
            .get(&format!("{RESERVED_PREFIX}{key}"))
            .map(String::as_str)
            .ok_or_else(|| self.header_err(format!("missing metadata '{RESERVED_PREFIX}{key}'")))
    }

    fn meta_usize(&self, key: &str) -> Result<usize> {
        let s = self.meta_str(key)?;
        s.parse().map_err(|_| {
            self.header_err(format!("metadata '{RESERVED_PREFIX}{key}' = '{s}' is not a count"))
        })
    }

    fn domain(&self, allowed: &[Domain]) -> Result<Domain> {
        let d = match self.meta_str("domain")? {
            "bit" => Domain::Bit,
            "spin" => Domain::Spin,
            other => return Err(self.header_err(format!("unknown domain '{other}'"))),
        };
        if !allowed.contains(&d) {
            return Err(self.header_err(format!(
                "domain '{}' is not valid for a model of kind '{}'",
                domain_name(d),
                self.meta_str("kind")?
            )));
        }
        Ok(d)
    }

    /// Checks the version and that the file holds exactly the tensors `names`.
    fn expect_tensors(&self, names: &[&str]) -> Result<()> {
        let version = self.meta_str("format")?;
        if version != FORMAT_VERSION {
            return Err(self.header_err(format!("unsupported format version '{version}'")));
        }
        let present = self.header.tensors();
        if let Some(extra) = present.keys().find(|k| !names.contains(&k.as_str())) {
            return Err(self.header_err(format!("unexpected tensor '{extra}'")));
        }
        Ok(())
    }

    /// The bytes, file offset and dtype of tensor `name` with shape `shape`.
    fn tensor(
        &self,
        name: &str,
        shape: &[usize],
        dtypes: &[Dtype],
    ) -> Result<(&'a [u8], u64, Dtype)> {
        let info = self
            .header
            .info(name)
            .ok_or_else(|| self.header_err(format!("missing tensor '{name}'")))?;
        if !dtypes.contains(&info.dtype) {
            return Err(self.header_err(format!(
                "tensor '{name}' has dtype {:?}, expected {:?}",
                info.dtype, dtypes
            )));
        }
        if info.shape != shape {
            return Err(self.header_err(format!(
                "tensor '{name}' has shape {:?}, expected {shape:?}",
                info.shape
            )));
        }
        let (s, e) = info.data_offsets;
        Ok((&self.data[s..e], self.data_start + s as u64, info.dtype))
    }

    /// A finite `F64` tensor.
    fn f64s(&self, name: &str, shape: &[usize]) -> Result<Vec<f64>> {
        let (raw, at, _) = self.tensor(name, shape, &[Dtype::F64])?;
        let mut out = Vec::with_capacity(raw.len() / 8);
        for (k, c) in raw.chunks_exact(8).enumerate() {
            let x = f64::from_le_bytes(c.try_into().expect("8 bytes"));
            if !x.is_finite() {
                return Err(Error::Format {
                    what: WHAT.into(),
                    offset: at + 8 * k as u64,
                    reason: format!(
                        "tensor '{name}' element {k} is {x} (parameters must be finite)"
                    ),
                });
            }
            out.push(x);
        }
        Ok(out)
    }

    /// Maps a model constructor's error to a format error at the data section.
    fn invalid(&self, e: Error) -> Error {
        Error::Format {
            what: WHAT.into(),
            offset: self.data_start,
            reason: format!("invalid {} parameters: {e}", self.meta_str("kind").unwrap_or("model")),
        }
    }

    fn rbm(&self) -> Result<SavedModel> {
        self.expect_tensors(&["W", "b", "c"])?;
        self.domain(&[Domain::Bit])?;
        let (nv, nh) = (self.meta_usize("n_visible")?, self.meta_usize("n_hidden")?);
        if self.meta_usize("n_units")? != nv.saturating_add(nh) {
            return Err(self.header_err("n_units ≠ n_visible + n_hidden".into()));
        }
        let w = self.f64s("W", &[nv, nh])?;
        let b = self.f64s("b", &[nv])?;
        let c = self.f64s("c", &[nh])?;
        Rbm::new(w, b, c).map(SavedModel::Rbm).map_err(|e| self.invalid(e))
    }

    fn potts_rbm(&self) -> Result<SavedModel> {
        self.expect_tensors(&["W", "g", "c"])?;
        let (nv, nh) = (self.meta_usize("n_visible")?, self.meta_usize("n_hidden")?);
        let q = self.meta_usize("n_categories")?;
        if self.meta_usize("n_units")? != nv.saturating_add(nh) {
            return Err(self.header_err("n_units ≠ n_visible + n_hidden".into()));
        }
        let w = self.f64s("W", &[nv, q, nh])?;
        let g = self.f64s("g", &[nv, q])?;
        let c = self.f64s("c", &[nh])?;
        PottsRbm::new(nv, nh, q, &w, &g, &c).map(SavedModel::PottsRbm).map_err(|e| self.invalid(e))
    }

    fn gbrbm(&self) -> Result<SavedModel> {
        self.expect_tensors(&["W", "b", "c", "log_var"])?;
        for (key, want) in [("visible_units", "gaussian"), ("hidden_units", "bernoulli")] {
            let got = self.meta_str(key)?;
            if got != want {
                return Err(self.header_err(format!("'{key}' = '{got}' (a gbrbm has '{want}')")));
            }
        }
        let (nv, nh) = (self.meta_usize("n_visible")?, self.meta_usize("n_hidden")?);
        if self.meta_usize("n_units")? != nv.saturating_add(nh) {
            return Err(self.header_err("n_units ≠ n_visible + n_hidden".into()));
        }
        let mut theta = self.f64s("W", &[nv, nh])?;
        theta.extend(self.f64s("b", &[nv])?);
        theta.extend(self.f64s("c", &[nh])?);
        theta.extend(self.f64s("log_var", &[nv])?);
        GaussianRbm::new(nv, nh, theta).map(SavedModel::GaussianRbm).map_err(|e| self.invalid(e))
    }

    fn boltzmann(&self) -> Result<SavedModel> {
        self.expect_tensors(&["W", "b"])?;
        let domain = self.domain(&[Domain::Bit, Domain::Spin])?;
        let (n, nv) = (self.meta_usize("n_units")?, self.meta_usize("n_visible")?);
        let w = self.f64s("W", &[n, n])?;
        let b = self.f64s("b", &[n])?;
        BoltzmannMachine::with_domain(domain, w, b, nv)
            .map(SavedModel::Boltzmann)
            .map_err(|e| self.invalid(e))
    }

    fn ising(&self) -> Result<SavedModel> {
        self.expect_tensors(&["edges", "J", "h"])?;
        self.domain(&[Domain::Spin])?;
        let (n, ne) = (self.meta_usize("n_units")?, self.meta_usize("n_edges")?);
        if self.meta_usize("n_visible")? != n {
            return Err(self.header_err("an Ising model's n_visible must equal n_units".into()));
        }
        let edges = self.edges(ne, n)?;
        let j = self.f64s("J", &[ne])?;
        let h = self.f64s("h", &[n])?;
        let model = match self.meta.get(&format!("{RESERVED_PREFIX}lattice_dims")) {
            Some(dims) => {
                let dims: Vec<usize> = dims
                    .split(',')
                    .map(|d| d.trim().parse())
                    .collect::<std::result::Result<_, _>>()
                    .map_err(|_| self.header_err(format!("bad lattice dimensions '{dims}'")))?;
                let boundary_name = self.meta_str("boundary")?;
                let boundary = match boundary_name {
                    "periodic" => Boundary::Periodic,
                    "open" => Boundary::Open,
                    other => return Err(self.header_err(format!("unknown boundary '{other}'"))),
                };
                let not_its_bonds = || {
                    self.invalid(Error::InvalidSequence {
                        what: "edges",
                        reason: format!(
                            "they are not the bonds of the {boundary_name} {dims:?} lattice"
                        ),
                    })
                };
                // the shape (validated without allocating) must match the
                // tensors present before the lattice is built: the dims may
                // claim up to `MAX_SITES` sites in a file of a few spins
                let shape = Lattice::new(&dims, boundary).map_err(|e| self.invalid(e))?;
                if shape.n_sites() != n || shape.n_bonds() != ne {
                    return Err(not_its_bonds());
                }
                let mut m =
                    Ising::lattice(&dims, boundary, 0.0, 0.0).map_err(|e| self.invalid(e))?;
                if (0..ne).any(|e| m.edge(e) != (edges[e].0, edges[e].1)) {
                    return Err(not_its_bonds());
                }
                let mut theta = j;
                theta.extend_from_slice(&h);
                m.set_params(&theta).map_err(|e| self.invalid(e))?;
                m
            }
            None => {
                let triples: Vec<(usize, usize, f64)> =
                    edges.iter().zip(&j).map(|(&(a, b), &j)| (a, b, j)).collect();
                Ising::from_edges(n, &triples, &h).map_err(|e| self.invalid(e))?
            }
        };
        Ok(SavedModel::Ising(model))
    }

    /// The edge list: `I64` (as written) or `U32`, every index in `0..n`.
    fn edges(&self, ne: usize, n: usize) -> Result<Vec<(usize, usize)>> {
        let (raw, at, dtype) = self.tensor("edges", &[ne, 2], &[Dtype::I64, Dtype::U32])?;
        let size = if dtype == Dtype::I64 { 8 } else { 4 };
        let mut idx = Vec::with_capacity(2 * ne);
        for (k, c) in raw.chunks_exact(size).enumerate() {
            let v = if size == 8 {
                i64::from_le_bytes(c.try_into().expect("8 bytes"))
            } else {
                i64::from(u32::from_le_bytes(c.try_into().expect("4 bytes")))
            };
            match usize::try_from(v) {
                Ok(v) if v < n => idx.push(v),
                _ => {
                    return Err(Error::Format {
                        what: WHAT.into(),
                        offset: at + (size * k) as u64,
                        reason: format!("edge endpoint {v} is not a site index below {n}"),
                    });
                }
            }
        }
        Ok(idx.chunks_exact(2).map(|p| (p[0], p[1])).collect())
    }
}
