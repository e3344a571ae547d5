// A seeded PRNG so that the bootstrap gives the same interval for the same
// samples on every run and every machine (issue 6: "seeded, so the same samples
// give the same interval"). Math.random cannot be seeded.

/**
 * mulberry32 (Tommy Ettinger, public domain; the widely copied 32-bit-state
 * generator from bryc's "PRNGs in JavaScript" notes). Returns numbers in [0, 1).
 * 32 bits of state is plenty for resampling indices; it is not for cryptography.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
