//! Swendsen–Wang on a uniform torus, in stripes that threads share.
//!
//! The lattice is cut into stripes of whole slabs (a slab: every site with
//! one value of the slowest coordinate: a row in 2-D, a plane in 3-D). The
//! cut depends on the lattice only, never on the thread count, and each
//! stripe draws from its own two ChaCha streams, keyed per sweep by one word
//! of the chain's stream (purpose [`Purpose::STRIPES`], index = stripe for
//! the bonds, 2^32 + stripe for the coins). So the sweep is bit-identical on
//! any number of threads.
//!
//! 1. *Bonds* (stripes in parallel): every site draws a 32-bit word per
//!    forward bond (+1 along each axis). An eligible bond (equal values)
//!    whose word is below the threshold opens. A bond inside the stripe
//!    joins a union-find forest local to the stripe; a bond that leaves it
//!    (the last slab's bonds along the slowest axis) is kept in the
//!    stripe's list of crossings. The forest then links every site to its
//!    stripe-local root in one forward pass, and every local root draws a
//!    32-bit *coin*.
//! 2. *Crossings* (in order): the listed bonds join the local trees, and
//!    the paths from their ends are compressed, so every site reaches its
//!    root in at most two steps.
//! 3. *Moves* (stripes in parallel): each cluster takes the option drawn
//!    from its root's coin (uniform over the q options), and every site
//!    applies its cluster's option.
//!
//! A union always hangs the larger root under the smaller, so a cluster's
//! root is its smallest site whatever the order of the unions: the result
//! does not depend on how the work was scheduled.

use super::ClusterMoves;
use ebm_core::{EnergyModel, Purpose, Seed, UnitOf};
use rand::Rng;
use rayon::prelude::*;

/// Sites per stripe aimed at by default: enough work per stripe to outweigh
/// a fork, and two stripes on a 64 × 64 lattice.
pub(crate) const STRIPE_SITES: usize = 2048;
/// At most this many stripes (crossings grow with their number).
const MAX_STRIPES: usize = 16;
/// At most this many sites of a line draw their words in one bulk call.
const PIECE: usize = 256;

/// How a torus of `dims` (slowest axis first) is cut into stripes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Layout {
    /// The sides (the first `d`).
    dims: [usize; 3],
    d: usize,
    n: usize,
    /// Sites per stripe (a whole number of slabs); the last may be shorter.
    len: usize,
    stripes: usize,
}

impl Layout {
    /// The cut of a torus of `dims` (1 to 3 sides) aiming at `sites` per
    /// stripe.
    pub(crate) fn new(dims: &[usize], sites: usize) -> Layout {
        let n: usize = dims.iter().product();
        let slab = n / dims[0];
        let want = (n / sites.max(1)).clamp(1, MAX_STRIPES);
        let len = dims[0].div_ceil(want) * slab;
        let mut sides = [1; 3];
        sides[..dims.len()].copy_from_slice(dims);
        Layout { dims: sides, d: dims.len(), n, len, stripes: n.div_ceil(len) }
    }

    fn range(&self, s: usize) -> std::ops::Range<usize> {
        s * self.len..((s + 1) * self.len).min(self.n)
    }
}

/// A sweep's scratch, owned by the chain: per-stripe crossings, wraps and
/// cluster counts; per site the bond bits and a coin slot (meaningful at the
/// local roots only).
#[derive(Debug, Clone, Default)]
pub(crate) struct Stripes {
    crossings: Vec<Vec<[u32; 2]>>,
    wraps: Vec<Vec<[u32; 2]>>,
    bits: Vec<u8>,
    counts: Vec<u64>,
    coins: Vec<u32>,
}

/// The torus geometry a stripe pass reads: sides and strides per axis.
#[derive(Debug, Clone, Copy)]
struct Geometry<const D: usize> {
    dims: [usize; D],
    strides: [usize; D],
}

impl<const D: usize> Geometry<D> {
    fn new(dims: &[usize]) -> Self {
        let mut g = Geometry { dims: [0; D], strides: [0; D] };
        let mut stride = 1;
        for a in (0..D).rev() {
            g.dims[a] = dims[a];
            g.strides[a] = stride;
            stride *= dims[a];
        }
        g
    }
}

/// One Swendsen–Wang update of `x` (no fields, no clamp, bonds joining
/// equal values only, every bond opening below `threshold`); returns the
/// number of clusters. `parent` is the forest's scratch (length N).
pub(crate) fn sweep<M, R>(
    x: &mut [UnitOf<M>],
    parent: &mut [u32],
    scratch: &mut Stripes,
    layout: Layout,
    q: usize,
    threshold: u64,
    rng: &mut R,
) -> u64
where
    M: EnergyModel + ?Sized,
    M::Space: ClusterMoves<M>,
    R: Rng + ?Sized,
{
    let key = Seed(rng.next_u64());
    scratch.crossings.resize_with(layout.stripes, Vec::new);
    scratch.wraps.resize_with(layout.stripes, Vec::new);
    scratch.bits.resize(layout.n, 0);
    scratch.counts.resize(layout.stripes, 0);
    scratch.coins.resize(layout.n, 0);
    let dims = &layout.dims[..layout.d];
    match layout.d {
        1 => bonds::<M, 1>(x, parent, scratch, dims, layout, threshold, key),
        2 => bonds::<M, 2>(x, parent, scratch, dims, layout, threshold, key),
        _ => bonds::<M, 3>(x, parent, scratch, dims, layout, threshold, key),
    }
    crossings(parent, &scratch.crossings);
    moves::<M>(x, parent, scratch, layout, q)
}

/// Phase 1 over every stripe.
fn bonds<M, const D: usize>(
    x: &[UnitOf<M>],
    parent: &mut [u32],
    scratch: &mut Stripes,
    dims: &[usize],
    layout: Layout,
    threshold: u64,
    key: Seed,
) where
    M: EnergyModel + ?Sized,
    M::Space: ClusterMoves<M>,
{
    let geo = Geometry::<D>::new(dims);
    type Job<'a> = (usize, (((&'a mut [u32], &'a mut [u32]), &'a mut [u8]), Lists<'a>));
    let work = |(s, (((forest, coins), bits), (crossings, wraps))): Job<'_>| {
        let start = layout.range(s).start;
        let sc = StripeScratch { forest, coins, bits, crossings, wraps };
        stripe_bonds::<M, D>(x, sc, start, geo, threshold, key, s)
    };
    let len = layout.len;
    let Stripes { crossings, wraps, bits, coins, .. } = scratch;
    if layout.stripes == 1 || rayon::current_num_threads() == 1 {
        let lists = crossings.iter_mut().zip(wraps.iter_mut());
        let jobs = parent.chunks_mut(len).zip(coins.chunks_mut(len)).zip(bits.chunks_mut(len));
        jobs.zip(lists).enumerate().for_each(work);
    } else {
        let lists = crossings.par_iter_mut().zip(wraps.par_iter_mut());
        let jobs =
            parent.par_chunks_mut(len).zip(coins.par_chunks_mut(len)).zip(bits.par_chunks_mut(len));
        jobs.zip(lists).enumerate().for_each(work);
    }
}

/// A stripe's lists of crossings and wraps.
type Lists<'a> = (&'a mut Vec<[u32; 2]>, &'a mut Vec<[u32; 2]>);

/// A stripe's slices of the sweep's scratch.
struct StripeScratch<'a> {
    forest: &'a mut [u32],
    coins: &'a mut [u32],
    bits: &'a mut [u8],
    crossings: &'a mut Vec<[u32; 2]>,
    wraps: &'a mut Vec<[u32; 2]>,
}

/// Phase 1 on one stripe starting at site `start`.
///
/// - Draws, line by line along the fastest axis: the bits of each site's
///   open forward bonds (bit a: along axis a), branch-free over contiguous
///   runs of neighbours. A bond leaving the stripe's last slab along the
///   slowest axis is listed in `crossings` (with one stripe too: it wraps).
/// - Labels: sites in increasing order, each joined to its open backward
///   neighbours (the forward bonds of earlier sites). Every root is the
///   smallest site of its tree, so the site and the roots of its open
///   neighbours all hang under their minimum, without a branch on the bonds.
///   A bond wrapping around a faster axis goes back to an earlier site of
///   the slab: it is listed in `wraps` and joined after.
/// - One forward pass links each site to its root; then every local root
///   (the clusters' roots are among them) draws a coin from a second stream.
#[allow(clippy::too_many_arguments)]
fn stripe_bonds<M, const D: usize>(
    x: &[UnitOf<M>],
    sc: StripeScratch<'_>,
    start: usize,
    geo: Geometry<D>,
    threshold: u64,
    key: Seed,
    stripe: usize,
) where
    M: EnergyModel + ?Sized,
    M::Space: ClusterMoves<M>,
{
    let StripeScratch { forest, coins, bits, crossings, wraps } = sc;
    let len = forest.len();
    let slab = geo.strides[0];
    // (in 1-D the stripe is the line, its last site's bond a crossing)
    let line = if D == 1 { len } else { geo.dims[D - 1] };
    let n = geo.dims[0] * slab;
    let mut rng = key.stream(Purpose::STRIPES, stripe as u64);
    crossings.clear();
    wraps.clear();
    // draws, line by line (a line: the sites along the fastest axis), in
    // pieces of at most PIECE sites; the words of a piece are axis-major
    let mut buffer = [0u32; PIECE * 3];
    let mut lc = [0usize; D]; // the line's coordinates (all but the last)
    lc[0] = start / slab;
    for line_start in (start..start + len).step_by(line) {
        for c0 in (0..line).step_by(PIECE) {
            let m = PIECE.min(line - c0);
            let words = &mut buffer[..D * m];
            rng.fill_u32(words);
            let base = line_start + c0;
            let b = &mut bits[base - start..base - start + m];
            let here = &x[base..base + m];
            // the fastest axis: neighbour i + 1, but the line's last site wraps
            let w = &words[(D - 1) * m..D * m];
            let inner = m - usize::from(c0 + m == line);
            let next = &x[base + 1..base + 1 + inner];
            for k in 0..inner {
                b[k] = u8::from((here[k] == next[k]) & (u64::from(w[k]) < threshold)) << (D - 1);
            }
            if inner < m {
                let j = if D > 1 { line_start } else { (line_start + line) % n };
                let open = (here[m - 1] == x[j]) & (u64::from(w[m - 1]) < threshold);
                b[m - 1] = u8::from(open) << (D - 1);
            }
            // the slower axes: the neighbours form a contiguous run
            for a in 0..D - 1 {
                let to = if lc[a] + 1 < geo.dims[a] {
                    base + geo.strides[a]
                } else {
                    base + geo.strides[a] - geo.dims[a] * geo.strides[a]
                };
                let there = &x[to..to + m];
                let w = &words[a * m..(a + 1) * m];
                for k in 0..m {
                    b[k] |= u8::from((here[k] == there[k]) & (u64::from(w[k]) < threshold)) << a;
                }
            }
        }
        for a in (0..D - 1).rev() {
            lc[a] += 1;
            if lc[a] < geo.dims[a] {
                break;
            }
            lc[a] = 0;
        }
    }
    // the last slab's bonds along the slowest axis leave the stripe
    for (k, &b) in bits.iter().enumerate().skip(len - slab) {
        if b & 1 != 0 {
            let i = start + k;
            let j = if i + slab < n { i + slab } else { i + slab - n };
            crossings.push([i as u32, j as u32]);
        }
    }
    // labels
    let mut coord = [0usize; D];
    coord[0] = start / slab;
    for k in 0..len {
        let i = start + k;
        let mut m = i;
        let mut cand = [i; D];
        for a in 0..D {
            let back = if a == 0 { k >= slab } else { coord[a] > 0 };
            if back {
                let nb = i - geo.strides[a];
                let open = bits[nb - start] >> a & 1 != 0;
                // the previous site's parent is a root (each step leaves the
                // site it labels under one); farther sites' roots may have
                // moved since: two hops, then the rare rest
                let r = if a == D - 1 {
                    forest[nb - start] as usize
                } else {
                    let mut r = forest[forest[nb - start] as usize - start] as usize;
                    while forest[r - start] as usize != r {
                        r = forest[r - start] as usize;
                    }
                    forest[nb - start] = r as u32;
                    r
                };
                cand[a] = if open { r } else { i };
                m = m.min(cand[a]);
            }
        }
        for c in cand {
            forest[c - start] = m as u32;
        }
        forest[k] = m as u32;
        let axes = coord.iter().zip(&geo.dims).zip(&geo.strides).enumerate().skip(1);
        for (a, ((&c, &l), &stride)) in axes {
            if c + 1 == l && bits[k] >> a & 1 != 0 {
                wraps.push([(i + stride - l * stride) as u32, i as u32]);
            }
        }
        next(&mut coord, &geo.dims);
    }
    for &[a, b] in wraps.iter() {
        local_union(forest, start, a as usize, b as usize);
    }
    // every pointer goes to a smaller site, so one forward pass links each
    // site to its root; and a coin for every local root (the clusters' roots
    // are among them), in order, from a stream of its own, branch-free on
    // the roots
    let mut rng = key.stream(Purpose::STRIPES, 1 << 32 | stripe as u64);
    let mut words = [0u32; 64];
    let mut pos = words.len();
    for k in 0..len {
        let root = forest[forest[k] as usize - start];
        forest[k] = root;
        if pos == words.len() {
            rng.fill_u32(&mut words);
            pos = 0;
        }
        coins[k] = words[pos];
        pos += usize::from(root as usize == start + k);
    }
}

/// The next site's coordinates (the last axis runs fastest).
#[inline]
fn next<const D: usize>(coord: &mut [usize; D], dims: &[usize; D]) {
    for a in (0..D).rev() {
        coord[a] += 1;
        if coord[a] < dims[a] {
            return;
        }
        coord[a] = 0;
    }
}

/// The root of `i` in a stripe's forest (sites offset by `start`), halving
/// paths on the way.
#[inline]
fn local_find(forest: &mut [u32], start: usize, mut i: usize) -> usize {
    loop {
        let p = forest[i - start] as usize;
        if p == i {
            return i;
        }
        let g = forest[p - start];
        forest[i - start] = g;
        i = p;
    }
}

/// Joins two trees of a stripe's forest, the larger root under the smaller.
#[inline]
fn local_union(forest: &mut [u32], start: usize, a: usize, b: usize) {
    let (ra, rb) = (local_find(forest, start, a), local_find(forest, start, b));
    if ra < rb {
        forest[rb - start] = ra as u32;
    } else if rb < ra {
        forest[ra - start] = rb as u32;
    }
}

/// Phase 2: the crossing bonds join the stripes' trees; then every end's
/// path is compressed to its root.
fn crossings(parent: &mut [u32], lists: &[Vec<[u32; 2]>]) {
    for &[a, b] in lists.iter().flatten() {
        super::bonds::union(parent, a, b);
    }
    for &e in lists.iter().flatten().flatten() {
        let root = super::bonds::find(parent, e);
        let mut i = e;
        while parent[i as usize] != root && i != root {
            let next = parent[i as usize];
            parent[i as usize] = root;
            i = next;
        }
    }
}

/// Phase 3: every site takes its cluster's option; returns the number of
/// clusters.
fn moves<M>(
    x: &mut [UnitOf<M>],
    parent: &[u32],
    scratch: &mut Stripes,
    layout: Layout,
    q: usize,
) -> u64
where
    M: EnergyModel + ?Sized,
    M::Space: ClusterMoves<M>,
{
    let coins = &scratch.coins;
    let work = |(s, (xs, count)): (usize, (&mut [UnitOf<M>], &mut u64))| {
        let start = layout.range(s).start;
        let mut roots = 0;
        for (k, v) in xs.iter_mut().enumerate() {
            let i = start + k;
            let mut r = parent[i] as usize;
            while parent[r] as usize != r {
                r = parent[r] as usize;
            }
            roots += u64::from(r == i);
            let option = ((u64::from(coins[r]) * q as u64) >> 32) as usize;
            *v = M::Space::apply(*v, option);
        }
        *count = roots;
    };
    let counts = &mut scratch.counts;
    if layout.stripes == 1 || rayon::current_num_threads() == 1 {
        x.chunks_mut(layout.len).zip(counts.iter_mut()).enumerate().for_each(work);
    } else {
        x.par_chunks_mut(layout.len).zip(counts.par_iter_mut()).enumerate().for_each(work);
    }
    scratch.counts.iter().sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_cover_the_lattice_in_whole_slabs() {
        for dims in [&[4usize, 4][..], &[64, 64], &[256, 256], &[100, 7], &[16, 16, 16], &[4096]] {
            let l = Layout::new(dims, STRIPE_SITES);
            let slab = l.n / dims[0];
            assert_eq!(l.len % slab, 0, "{dims:?}");
            assert!(l.stripes <= MAX_STRIPES);
            assert_eq!(l.range(l.stripes - 1).end, l.n);
            assert!(!l.range(l.stripes - 1).is_empty());
        }
        assert_eq!(Layout::new(&[256, 256], STRIPE_SITES).stripes, 16);
        assert_eq!(Layout::new(&[64, 64], STRIPE_SITES).stripes, 2);
        assert_eq!(Layout::new(&[8, 8], STRIPE_SITES).stripes, 1);
        // one slab per stripe
        assert_eq!(Layout::new(&[3, 3], 1).stripes, 3);
        assert_eq!(Layout::new(&[2, 2, 3], 1).stripes, 2);
    }
}
