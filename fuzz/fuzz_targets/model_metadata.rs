//! safetensors model files, mutated as JSON: a custom mutator parses the
//! header, changes one value of it (a number to a boundary value, a string
//! to another kind, dtype, size list or a long or empty one, an object's key
//! dropped or added, an array grown, shrunk or reordered), writes it back
//! with its length and keeps the tensor bytes; libFuzzer's byte mutations
//! take over for inputs that are not a framed JSON header. The check is the
//! `model_file` target's: any bytes give a model or a typed error, and a
//! model that loads saves again and reloads to the same.
#![no_main]
use libfuzzer_sys::{fuzz_mutator, fuzz_target, fuzzer_mutate};
use serde_json::{Map, Number, Value};

fuzz_target!(|data: &[u8]| {
    if let Ok((model, meta)) = ebm_data::SavedModel::from_bytes(data) {
        let bytes = model.to_bytes(&meta).expect("a loaded model saves");
        let (again, meta2) = ebm_data::SavedModel::from_bytes(&bytes).expect("and reloads");
        assert_eq!(again.kind(), model.kind());
        assert_eq!(meta2, meta);
    }
});

/// A small deterministic generator from libFuzzer's seed (splitmix64).
struct Draw(u64);

impl Draw {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Strings a model header holds or should refuse: kinds, dtypes, domains,
/// boundaries, sizes and lattice dimensions at and past their limits.
const STRINGS: &[&str] = &[
    "rbm",
    "boltzmann",
    "gbrbm",
    "ising",
    "potts",
    "potts_rbm",
    "F64",
    "F32",
    "I64",
    "I8",
    "U8",
    "BF16",
    "bit",
    "spin",
    "periodic",
    "open",
    "gaussian",
    "bernoulli",
    "1",
    "2",
    "0",
    "-1",
    "",
    "60000,60000",
    "3,3",
    "0,5",
    "4294967296",
    "18446744073709551615",
    "1e400",
    "NaN",
    "3,,3",
    "ebm.kind",
];

/// Keys of a model header and its metadata.
const KEYS: &[&str] = &[
    "__metadata__",
    "W",
    "b",
    "c",
    "J",
    "h",
    "edges",
    "log_var",
    "dtype",
    "shape",
    "data_offsets",
    "ebm.format",
    "ebm.kind",
    "ebm.domain",
    "ebm.n_units",
    "ebm.n_visible",
    "ebm.n_hidden",
    "ebm.n_edges",
    "ebm.n_categories",
    "g",
    "ebm.lattice_dims",
    "ebm.boundary",
    "ebm.visible_units",
    "ebm.hidden_units",
    "seed",
];

fn number(d: &mut Draw, n: &Number) -> Value {
    let base = n.as_u64().unwrap_or(0);
    let choices = [
        0,
        1,
        base.wrapping_add(1),
        base.wrapping_sub(1),
        base.wrapping_mul(2),
        base / 2,
        u32::MAX as u64,
        u32::MAX as u64 + 1,
        1 << 53,
        (1 << 53) + 1,
        u64::MAX,
        i64::MAX as u64,
    ];
    match d.below(8) {
        0 => Value::from(-(d.below(1000) as i64) - 1),
        1 => Value::from(0.5),
        2 => Value::String(base.to_string()),
        _ => Value::from(*d.pick(&choices)),
    }
}

fn string(d: &mut Draw, s: &str) -> Value {
    match d.below(6) {
        0 => Value::String("9".repeat(1 + d.below(40))),
        1 => Value::String(format!("{s}{s}")),
        2 => Value::from(d.below(10)),
        _ => Value::String(d.pick(STRINGS).to_string()),
    }
}

/// Changes one value somewhere below `v`; false if nothing was changed.
fn mutate(d: &mut Draw, v: &mut Value, depth: usize) -> bool {
    match v {
        Value::Object(map) if !map.is_empty() && (depth > 6 || d.below(3) > 0) => {
            let keys: Vec<String> = map.keys().cloned().collect();
            let key = d.pick(&keys).clone();
            match d.below(8) {
                0 => {
                    map.remove(&key);
                    true
                }
                1 => {
                    let value = map[&key].clone();
                    map.insert(d.pick(KEYS).to_string(), value);
                    true
                }
                _ => mutate(d, map.get_mut(&key).expect("a key of the map"), depth + 1),
            }
        }
        Value::Object(map) => {
            map.insert(d.pick(KEYS).to_string(), string(d, ""));
            true
        }
        Value::Array(items) if !items.is_empty() && d.below(3) > 0 => {
            let i = d.below(items.len());
            mutate(d, &mut items[i], depth + 1)
        }
        Value::Array(items) => {
            match d.below(3) {
                0 if !items.is_empty() => {
                    items.pop();
                }
                1 if items.len() > 1 => {
                    let (i, j) = (d.below(items.len()), d.below(items.len()));
                    items.swap(i, j);
                }
                _ => items.push(items.last().cloned().unwrap_or(Value::from(1))),
            }
            true
        }
        Value::Number(n) => {
            *v = number(d, n);
            true
        }
        Value::String(s) => {
            *v = string(d, s);
            true
        }
        Value::Bool(_) | Value::Null => {
            *v = Value::Object(Map::new());
            true
        }
    }
}

fuzz_mutator!(|data: &mut [u8], size: usize, max_size: usize, seed: u32| {
    let input = &data[..size];
    let framed = input.get(..8).and_then(|n| {
        let n = u64::from_le_bytes(n.try_into().ok()?) as usize;
        let header: Value = serde_json::from_slice(input.get(8..8usize.checked_add(n)?)?).ok()?;
        Some((header, input[8 + n..].to_vec()))
    });
    // one in four times, or when the input is not a framed header: bytes
    let Some((mut header, tensors)) = framed.filter(|_| seed % 4 != 0) else {
        return fuzzer_mutate(data, size, max_size);
    };
    let mut d = Draw(u64::from(seed));
    if !mutate(&mut d, &mut header, 0) {
        return fuzzer_mutate(data, size, max_size);
    }
    let text = serde_json::to_vec(&header).expect("a JSON value serialises");
    let mut out = (text.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(&text);
    out.extend_from_slice(&tensors);
    if out.len() > max_size {
        return fuzzer_mutate(data, size, max_size);
    }
    data[..out.len()].copy_from_slice(&out);
    out.len()
});
