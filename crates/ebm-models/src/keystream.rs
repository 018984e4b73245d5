//! The ChaCha8 keystream of the lattice kernels (Ising and Potts
//! checkerboards), sixteen blocks at a time (portable, and AVX-512 with the
//! blocks in the lanes of `zmm` registers): exactly the words of
//! `ChaCha8Rng` in a fixed permutation. Also the instruction-set levels the
//! kernels are compiled for, detected at run time ([`Isa`]).

/// Random words per generated group: 16 ChaCha blocks of 16 words.
pub(crate) const GROUP: usize = 256;

/// Kernel levels (`LEVEL` const parameters): portable loops, AVX2, AVX-512.
pub(crate) const GENERIC: u8 = 0;
/// AVX2 (+ FMA, BMI).
pub(crate) const AVX2: u8 = 1;
/// AVX-512 F, BW, VL.
pub(crate) const AVX512: u8 = 2;

/// The instruction set the kernels were compiled for, detected at run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Isa {
    Generic,
    #[cfg(target_arch = "x86_64")]
    Avx2,
    #[cfg(target_arch = "x86_64")]
    Avx512,
}

impl Isa {
    pub(crate) fn detect() -> Isa {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512bw")
                && std::arch::is_x86_feature_detected!("avx512vl")
            {
                return Isa::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                return Isa::Avx2;
            }
        }
        Isa::Generic
    }

    /// Every level this CPU can run, the portable one first (for tests that
    /// compare the kernels compiled for each).
    #[cfg(test)]
    pub(crate) fn available() -> Vec<Isa> {
        let mut isas = vec![Isa::Generic];
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                isas.push(Isa::Avx2);
            }
            if Isa::detect() == Isa::Avx512 {
                isas.push(Isa::Avx512);
            }
        }
        isas
    }
}

/// "expand 32-byte k".
pub(crate) const CHACHA_CONSTANTS: [u32; 4] = [0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574];

/// ChaCha8 keystream of `(key, stream)`, sixteen blocks per call.
pub(crate) struct WideChaCha8 {
    pub(crate) key: [u32; 8],
    pub(crate) stream: u64,
    pub(crate) block: u64,
}

impl WideChaCha8 {
    /// Writes blocks `block..block + 16` as `out[16·w + b]` = word w of block
    /// `block + b`, and advances by 16 blocks.
    #[inline(always)]
    pub(crate) fn fill<const LEVEL: u8>(&mut self, out: &mut [u32; GROUP]) {
        #[cfg(target_arch = "x86_64")]
        if LEVEL >= AVX512 {
            // SAFETY: LEVEL = AVX512 only inside functions compiled with
            // `target_feature(enable = "avx512f,…")`, called after run-time
            // detection of AVX-512 F.
            unsafe { self.fill_avx512(out) };
            self.block = self.block.wrapping_add(16);
            return;
        }
        const C: [u32; 4] = CHACHA_CONSTANTS;
        let ctr = |b: usize| self.block.wrapping_add(b as u64);
        let init: [[u32; 16]; 16] = [
            [C[0]; 16],
            [C[1]; 16],
            [C[2]; 16],
            [C[3]; 16],
            [self.key[0]; 16],
            [self.key[1]; 16],
            [self.key[2]; 16],
            [self.key[3]; 16],
            [self.key[4]; 16],
            [self.key[5]; 16],
            [self.key[6]; 16],
            [self.key[7]; 16],
            std::array::from_fn(|b| ctr(b) as u32),
            std::array::from_fn(|b| (ctr(b) >> 32) as u32),
            [self.stream as u32; 16],
            [(self.stream >> 32) as u32; 16],
        ];
        let mut x = init;
        #[inline(always)]
        fn add16(a: [u32; 16], b: [u32; 16]) -> [u32; 16] {
            std::array::from_fn(|l| a[l].wrapping_add(b[l]))
        }
        #[inline(always)]
        fn qr(x: &mut [[u32; 16]; 16], a: usize, b: usize, c: usize, d: usize) {
            let (mut va, mut vb, mut vc, mut vd) = (x[a], x[b], x[c], x[d]);
            for l in 0..16 {
                va[l] = va[l].wrapping_add(vb[l]);
                vd[l] = (vd[l] ^ va[l]).rotate_left(16);
                vc[l] = vc[l].wrapping_add(vd[l]);
                vb[l] = (vb[l] ^ vc[l]).rotate_left(12);
                va[l] = va[l].wrapping_add(vb[l]);
                vd[l] = (vd[l] ^ va[l]).rotate_left(8);
                vc[l] = vc[l].wrapping_add(vd[l]);
                vb[l] = (vb[l] ^ vc[l]).rotate_left(7);
            }
            (x[a], x[b], x[c], x[d]) = (va, vb, vc, vd);
        }
        for _ in 0..4 {
            qr(&mut x, 0, 4, 8, 12);
            qr(&mut x, 1, 5, 9, 13);
            qr(&mut x, 2, 6, 10, 14);
            qr(&mut x, 3, 7, 11, 15);
            qr(&mut x, 0, 5, 10, 15);
            qr(&mut x, 1, 6, 11, 12);
            qr(&mut x, 2, 7, 8, 13);
            qr(&mut x, 3, 4, 9, 14);
        }
        // straight-line code: a loop over w here gets vectorised across w
        // (with gathers) instead of across the 16 lanes
        let mut finish = |w: usize| {
            out[16 * w..16 * w + 16].copy_from_slice(&add16(x[w], init[w]));
        };
        finish(0);
        finish(1);
        finish(2);
        finish(3);
        finish(4);
        finish(5);
        finish(6);
        finish(7);
        finish(8);
        finish(9);
        finish(10);
        finish(11);
        finish(12);
        finish(13);
        finish(14);
        finish(15);
        self.block = self.block.wrapping_add(16);
    }

    /// [`Self::fill`] (without advancing) with the sixteen blocks in the
    /// sixteen lanes of sixteen `zmm` registers, rotations by `vprold`.
    ///
    /// # Safety
    /// AVX-512 F must be available.
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    pub(crate) unsafe fn fill_avx512(&self, out: &mut [u32; GROUP]) {
        use std::arch::x86_64::*;
        // SAFETY: the caller guarantees AVX-512 F; the 16 stores cover
        // `out[16·w..16·w + 16]` for w < 16, inside `out` (256 words).
        unsafe {
            let bc = |v: u32| _mm512_set1_epi32(v as i32);
            let lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
            let base = _mm512_set1_epi64(self.block as i64);
            // 64-bit counters block + b, split into low and high words
            let c_lo64 =
                _mm512_add_epi64(base, _mm512_cvtepu32_epi64(_mm512_castsi512_si256(lanes)));
            let c_hi64 = _mm512_add_epi64(
                base,
                _mm512_cvtepu32_epi64(_mm512_extracti64x4_epi64::<1>(lanes)),
            );
            let pick_lo =
                _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            let pick_hi =
                _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
            let ctr_lo = _mm512_permutex2var_epi32(c_lo64, pick_lo, c_hi64);
            let ctr_hi = _mm512_permutex2var_epi32(c_lo64, pick_hi, c_hi64);
            let k = &self.key;
            let init = [
                bc(CHACHA_CONSTANTS[0]),
                bc(CHACHA_CONSTANTS[1]),
                bc(CHACHA_CONSTANTS[2]),
                bc(CHACHA_CONSTANTS[3]),
                bc(k[0]),
                bc(k[1]),
                bc(k[2]),
                bc(k[3]),
                bc(k[4]),
                bc(k[5]),
                bc(k[6]),
                bc(k[7]),
                ctr_lo,
                ctr_hi,
                bc(self.stream as u32),
                bc((self.stream >> 32) as u32),
            ];
            let mut x = init;
            macro_rules! qr {
                ($a:literal, $b:literal, $c:literal, $d:literal) => {
                    x[$a] = _mm512_add_epi32(x[$a], x[$b]);
                    x[$d] = _mm512_rol_epi32::<16>(_mm512_xor_si512(x[$d], x[$a]));
                    x[$c] = _mm512_add_epi32(x[$c], x[$d]);
                    x[$b] = _mm512_rol_epi32::<12>(_mm512_xor_si512(x[$b], x[$c]));
                    x[$a] = _mm512_add_epi32(x[$a], x[$b]);
                    x[$d] = _mm512_rol_epi32::<8>(_mm512_xor_si512(x[$d], x[$a]));
                    x[$c] = _mm512_add_epi32(x[$c], x[$d]);
                    x[$b] = _mm512_rol_epi32::<7>(_mm512_xor_si512(x[$b], x[$c]));
                };
            }
            for _ in 0..4 {
                qr!(0, 4, 8, 12);
                qr!(1, 5, 9, 13);
                qr!(2, 6, 10, 14);
                qr!(3, 7, 11, 15);
                qr!(0, 5, 10, 15);
                qr!(1, 6, 11, 12);
                qr!(2, 7, 8, 13);
                qr!(3, 4, 9, 14);
            }
            let p = out.as_mut_ptr();
            for w in 0..16 {
                _mm512_storeu_si512(p.add(16 * w).cast(), _mm512_add_epi32(x[w], init[w]));
            }
        }
    }
}
