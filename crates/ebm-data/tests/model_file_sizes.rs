//! Model files whose metadata claims more than their tensors hold, found by
//! the `model_metadata` fuzz target: each must be a typed format error,
//! refused before the claimed size is allocated. This test binary's
//! allocator refuses any single request over 64 MiB (the process aborts
//! with "memory allocation of … bytes failed"), so a loader that allocates
//! what the header claims fails here instead of passing on overcommit.

use ebm_core::Error;
use ebm_data::persist::SavedModel;
use ebm_models::ising::{Boundary, Ising};
use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeMap;

/// The system allocator, refusing requests over [`CAP`] bytes.
struct Capped;

const CAP: usize = 64 << 20;

// SAFETY: forwards to `System`, or returns null (a failed allocation).
unsafe impl GlobalAlloc for Capped {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() > CAP { std::ptr::null_mut() } else { unsafe { System.alloc(layout) } }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if layout.size() > CAP {
            std::ptr::null_mut()
        } else {
            unsafe { System.alloc_zeroed(layout) }
        }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > CAP {
            std::ptr::null_mut()
        } else {
            unsafe { System.realloc(ptr, layout, new_size) }
        }
    }
}

#[global_allocator]
static ALLOC: Capped = Capped;

/// A file from a JSON header and a data section.
fn file(header: &str, data: &[u8]) -> Vec<u8> {
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend(header.as_bytes());
    out.extend(data);
    out
}

/// Rewrites a file's JSON header (keeping the data section).
fn edit_header(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header = String::from_utf8(bytes[8..8 + n].to_vec()).unwrap();
    assert!(header.contains(from), "{header}");
    file(&header.replace(from, to), &bytes[8 + n..])
}

fn format_reason(bytes: &[u8]) -> String {
    match SavedModel::from_bytes(bytes) {
        Err(Error::Format { reason, .. }) => reason,
        other => panic!("expected a format error, got {other:?}"),
    }
}

/// The reproducer: a 3×3 periodic Ising file (9 spins, 18 bonds) whose
/// `ebm.lattice_dims` says `"99999999"`, a periodic chain of 10⁸ sites. The
/// loader used to build that lattice (1.6 GB of bonds and parameters) before
/// comparing it with the 9 fields present; so did every lattice up to
/// `MAX_SITES` (2²⁸) sites.
#[test]
fn lattice_dims_larger_than_the_tensors_are_refused_before_allocating() {
    let ising = Ising::lattice(&[3, 3], Boundary::Periodic, 1.0, 0.1).unwrap();
    let bytes = SavedModel::Ising(ising).to_bytes(&BTreeMap::new()).unwrap();
    assert!(SavedModel::from_bytes(&bytes).is_ok());
    let dims = "\"ebm.lattice_dims\":\"3,3\"";
    for claim in ["99999999", "16384,16384", "645,645,645", "268435456", "3,3,3", "9"] {
        let forged = edit_header(&bytes, dims, &format!("\"ebm.lattice_dims\":\"{claim}\""));
        let reason = format_reason(&forged);
        assert!(reason.contains("not the bonds of the periodic"), "{claim}: {reason}");
    }
    // past the cap and of the wrong dimension: the lattice's own typed errors
    for (claim, says) in [("16385,16385", "too many"), ("1,1,1,9", "dimension"), ("3,0", "side")] {
        let forged = edit_header(&bytes, dims, &format!("\"ebm.lattice_dims\":\"{claim}\""));
        let reason = format_reason(&forged).to_lowercase();
        assert!(reason.contains(says), "{claim}: {reason}");
    }
    // 9 sites as 9×1 open (8 bonds) for a file of 18 edges: refused too
    let open = edit_header(&bytes, "\"periodic\"", "\"open\"");
    let forged = edit_header(&open, dims, "\"ebm.lattice_dims\":\"9,1\"");
    assert!(format_reason(&forged).contains("not the bonds of the open"));
}

/// A categorical RBM file with `n_categories` = 0: `W` (n_v × 0 × 1) and
/// `g` (n_v × 0) hold no values whatever n_v, so `ebm.n_visible` = 2⁴⁰ fits
/// the tensors present; the constructor used to allocate n_v category counts
/// before checking q.
#[test]
fn a_categorical_rbm_with_no_categories_is_refused_before_allocating() {
    for (q, nv) in [(0u64, 1u64 << 40), (0, 1), (1, 1), (257, 1)] {
        let (nw, ng) = (nv * q, nv * q);
        let header = format!(
            concat!(
                r#"{{"__metadata__":{{"ebm.format":"1","ebm.kind":"potts_rbm","#,
                r#""ebm.n_units":"{nu}","ebm.n_visible":"{nv}","ebm.n_hidden":"1","#,
                r#""ebm.n_categories":"{q}"}},"#,
                r#""W":{{"dtype":"F64","shape":[{nv},{q},1],"data_offsets":[0,{ew}]}},"#,
                r#""g":{{"dtype":"F64","shape":[{nv},{q}],"data_offsets":[{ew},{eg}]}},"#,
                r#""c":{{"dtype":"F64","shape":[1],"data_offsets":[{eg},{ec}]}}}}"#
            ),
            nu = nv + 1,
            nv = nv,
            q = q,
            ew = 8 * nw,
            eg = 8 * (nw + ng),
            ec = 8 * (nw + ng + 1),
        );
        let data = vec![0u8; 8 * (nw + ng + 1) as usize];
        let reason = format_reason(&file(&header, &data));
        assert!(reason.contains("number of categories"), "q = {q}: {reason}");
    }
}
