/**
 * Distribution of the Kolmogorov-Smirnov statistics, following the algorithms scipy 1.10 uses so
 * p-values agree with scipy.stats.ks_2samp to ~1e-12 relative:
 *
 * - two-sample exact (small samples): the lattice-path count of Hodges (1958); for unequal sizes
 *   the recursion of Viehmann (2021, arXiv:2102.08037) that yields 1 − P directly and stays in
 *   [0, 1]; for equal sizes the closed alternating sum, evaluated Horner-style.
 * - asymptotic two-sample: the one-sample two-sided distribution D_n at n = round(n1·n2/(n1+n2)),
 *   computed as Simard & L'Ecuyer (2011) recommend: Ruben-Gambino closed forms at the ends,
 *   the Durbin matrix (Marsaglia-Tsang-Wang), Pomeranz's recursion, Pelz-Good's asymptotic series
 *   and 2 × the one-sided Smirnov tail (Birnbaum-Tingey sum), each in its own region.
 */
import { gcd, roundHalfEven } from './special';

const SCALE_EXPONENT = 128;
const SCALE_UP = 2 ** SCALE_EXPONENT;
const SCALE_DOWN = 2 ** -SCALE_EXPONENT;
const MIN_LOG = -708.3964185322641; // log of the smallest normal double
const LOG_2PI = Math.log(2 * Math.PI);
const SQRT_2PI = Math.sqrt(2 * Math.PI);
const PI2 = Math.PI ** 2;
const PI4 = Math.PI ** 4;
const PI6 = Math.PI ** 6;

const clip01 = (p: number): number => (p < 0 ? 0 : p > 1 ? 1 : p);

// Stirling series coefficients B_{2j}/(2j(2j−1)), j = 8 … 1 (highest degree first).
const STIRLING = [-3617 / 122400, 1 / 156, -691 / 360360, 1 / 1188, -1 / 1680, 1 / 1260, -1 / 360, 1 / 12];

/** log(n! / n^n) by Stirling's series, with n·log(n) removed up front to avoid cancellation. */
function logFactorialOverPower(n: number): number {
  const rn = 1 / n;
  const x = rn / n;
  let poly = 0;
  for (const c of STIRLING) poly = poly * x + c;
  return Math.log(n) / 2 - n + LOG_2PI / 2 + rn * poly;
}

/** n·x as an exact integer part and fraction (Dekker's two-product), as the Smirnov sum needs. */
function splitProduct(n: number, x: number): { floor: number; fraction: number; product: number } {
  const hi = n * x;
  const split = 134217729; // 2^27 + 1
  const splitParts = (v: number): [number, number] => {
    const t = split * v;
    const high = t - (t - v);
    return [high, v - high];
  };
  const [nh, nl] = splitParts(n);
  const [xh, xl] = splitParts(x);
  const lo = nh * xh - hi + nh * xl + nl * xh + nl * xl;
  let floor = Math.floor(hi);
  let fraction = hi - floor + lo;
  if (fraction < 0) {
    floor -= 1;
    fraction += 1;
  }
  if (fraction >= 1) {
    floor += 1;
    fraction -= 1;
  }
  return { floor, fraction, product: hi };
}

/**
 * One-sided Smirnov tail P(D_n+ >= x) (scipy.special.smirnov): x · Σ_{v=0}^{⌊n(1−x)⌋} C(n,v)
 * (x + v/n)^(v−1) (1 − x − v/n)^(n−v), every term positive, summed in logs.
 */
export function smirnovSf(n: number, x: number): number {
  if (!(n > 0) || !(x >= 0 && x <= 1)) return Number.NaN;
  if (n === 1) return 1 - x;
  if (x === 0) return 1;
  if (x === 1) return 0;
  const { floor: nxFloor, fraction: alpha, product: nx } = splitProduct(n, x);
  if (nxFloor === 0 || (nxFloor === 1 && alpha === 0)) {
    // x <= 1/n: P(D_n+ <= x) = x (1 + x)^(n−1)
    return clip01(1 - x * (1 + x) ** (n - 1));
  }
  if (-2 * n * x * x < MIN_LOG) return 0;
  if (nxFloor >= n - 1) return clip01((1 - x) ** n);
  if (n > 1_000_000) {
    // scipy's approximation beyond its exact-sum limit: p ≈ exp(−(6nx + 1)² / 18n).
    const logP = -((6 * nx + 1) ** 2) / 18 / n;
    return clip01(logP < -Math.LN2 ? Math.exp(logP) : 1 + Math.expm1(logP));
  }
  // Terms v = 0 … n − ⌈n·x⌉ (the boundary term is excluded when n·x is an integer).
  let lastV = n - nxFloor - (alpha === 0 ? 0 : 1);
  if (alpha === 0) lastV -= 1;
  const logX = Math.log(x);
  let sum = 0;
  // log C(n, v), accumulated with compensation: it grows to ~n·ln 2 and its rounding would otherwise
  // dominate the error of every term for large n.
  let logBinomial = 0;
  let logBinomialError = 0;
  const halfN = Math.floor(n / 2);
  for (let v = 0; v <= lastV; v++) {
    // Bases from the exact split of n·x: (x + v/n) = (⌊nx⌋ + v + α)/n, (1 − x − v/n) = (n − ⌊nx⌋ − v − α)/n.
    const up = v === 0 ? x : (nxFloor + v + alpha) / n;
    const down = (n - nxFloor - v - alpha) / n;
    const logTerm =
      logBinomial + logBinomialError + (v - 1) * (v === 0 ? logX : Math.log(up)) + (n - v) * Math.log(down);
    const term = Math.exp(logTerm);
    sum += term;
    if (term !== 0) {
      if (4 * (lastV + 1 - v) * term < Number.EPSILON * sum && v !== lastV) break;
    } else if (v > halfN) break;
    const step = Math.log((n - v) / (v + 1));
    const total = logBinomial + step;
    logBinomialError +=
      Math.abs(logBinomial) >= Math.abs(step) ? logBinomial - total + step : step - total + logBinomial;
    logBinomial = total;
  }
  return clip01(x * sum);
}

/** Durbin's matrix algorithm (Marsaglia, Tsang & Wang 2003): P(D_n <= d). */
function durbinMatrixCdf(n: number, d: number): number {
  if (d >= 1) return 1;
  const nd = n * d;
  if (nd <= 0.5) return 0;
  const k = Math.ceil(nd);
  const h = k - nd;
  const m = 2 * k - 1;
  const v = new Float64Array(m);
  const w = new Float64Array(m);
  let factorial = 1;
  for (let j = 1; j <= m; j++) {
    w[j - 1] = factorial;
    factorial /= j;
    v[j - 1] = (1 - h ** j) * factorial;
  }
  const tail = Math.max(2 * h - 1, 0) ** m - 2 * h ** m;
  v[m - 1] = (1 + tail) * factorial;
  // H[i][j]: first column v, last row v reversed, ones-then-factorials below the diagonal band.
  let H: Float64Array<ArrayBuffer> = new Float64Array(m * m);
  for (let i = 1; i < m; i++) for (let r = i - 1; r < m; r++) H[r * m + i] = w[r - i + 1]!;
  for (let r = 0; r < m; r++) H[r * m] = v[r]!;
  for (let c = 0; c < m; c++) H[(m - 1) * m + c] = v[m - 1 - c]!;

  const multiply = (a: Float64Array, b: Float64Array): Float64Array<ArrayBuffer> => {
    const out = new Float64Array(m * m);
    for (let i = 0; i < m; i++) {
      for (let l = 0; l < m; l++) {
        const a_il = a[i * m + l]!;
        if (a_il === 0) continue;
        const rowB = l * m;
        const rowOut = i * m;
        for (let j = 0; j < m; j++) out[rowOut + j]! += a_il * b[rowB + j]!;
      }
    }
    return out;
  };

  let power: Float64Array<ArrayBuffer> = new Float64Array(m * m);
  for (let i = 0; i < m; i++) power[i * m + i] = 1;
  let exponent = 0;
  let hExponent = 0;
  let remaining = n;
  while (remaining > 0) {
    if (remaining % 2) {
      power = multiply(power, H);
      exponent += hExponent;
    }
    H = multiply(H, H);
    hExponent *= 2;
    if (Math.abs(H[(k - 1) * m + (k - 1)]!) > SCALE_UP) {
      for (let i = 0; i < H.length; i++) H[i]! /= SCALE_UP;
      hExponent += SCALE_EXPONENT;
    }
    remaining = Math.floor(remaining / 2);
  }
  let p = power[(k - 1) * m + (k - 1)]!;
  for (let i = 1; i <= n; i++) {
    p = (i * p) / n;
    if (Math.abs(p) < SCALE_DOWN) {
      p *= SCALE_UP;
      exponent -= SCALE_EXPONENT;
    }
  }
  if (exponent !== 0) p *= 2 ** exponent;
  return clip01(p);
}

/** Row bounds of Pomeranz's recursion. */
function pomeranzBounds(i: number, n: number, ll: number, ceilF: number, roundF: number): [number, number] {
  let j1: number;
  let j2: number;
  if (i === 0) {
    j1 = -ll - ceilF - 1;
    j2 = ll + ceilF - 1;
  } else {
    const half = Math.floor((i + 1) / 2);
    if ((i + 1) % 2 === 0) {
      if (half === n + 1) {
        j1 = n - ll - ceilF - 1;
        j2 = n + ll + ceilF - 1;
      } else {
        j1 = half - 1 - ll - roundF - 1;
        j2 = half + ll - 1 + ceilF - 1;
      }
    } else {
      j1 = half - 1 - ll - 1;
      j2 = half + ll + roundF - 1;
    }
  }
  return [Math.max(j1 + 2, 0), Math.min(j2, n)];
}

/** Pomeranz (1974) recursion: P(D_n <= x), each row a convolution with Poisson-like weights. */
function pomeranzCdf(n: number, x: number): number {
  const t = n * x;
  const ll = Math.floor(t);
  const f = t - ll;
  const g = Math.min(f, 1 - f);
  const ceilF = f > 0 ? 1 : 0;
  const roundF = f > 0.5 ? 1 : 0;
  const size = 2 * (ll + 1);
  const gPower = new Float64Array(size);
  const twoGPower = new Float64Array(size);
  const oneMinusTwoGPower = new Float64Array(size);
  gPower[0] = twoGPower[0] = oneMinusTwoGPower[0] = 1;
  const gn = g / n;
  const twoGn = (2 * g) / n;
  const oneMinusTwoGn = (1 - 2 * g) / n;
  for (let m = 1; m < size; m++) {
    gPower[m] = (gPower[m - 1]! * gn) / m;
    twoGPower[m] = (twoGPower[m - 1]! * twoGn) / m;
    oneMinusTwoGPower[m] = (oneMinusTwoGPower[m - 1]! * oneMinusTwoGn) / m;
  }
  let previous = new Float64Array(size);
  let current = new Float64Array(size);
  current[0] = 1;
  let previousStart = 0;
  let currentStart = 0;
  let exponent = 0;
  let [j1, j2] = pomeranzBounds(0, n, ll, ceilF, roundF);
  for (let i = 1; i < 2 * n + 2; i++) {
    const k1 = j1;
    [previous, current] = [current, previous];
    [previousStart, currentStart] = [currentStart, previousStart];
    current.fill(0);
    [j1, j2] = pomeranzBounds(i, n, ll, ceilF, roundF);
    const weights = i === 1 || i === 2 * n + 1 ? gPower : i % 2 ? twoGPower : oneMinusTwoGPower;
    const width = j2 - k1 + 1;
    if (width > 0) {
      const offset = k1 - previousStart;
      const available = Math.min(width, size - offset);
      const weightCount = Math.min(width, size);
      const first = j1 - k1;
      const count = j2 - j1 + 1;
      let max = 0;
      for (let c = 0; c < count; c++) {
        // Entry first + c of the full convolution of previous[offset …] with weights[0 … width).
        const index = first + c;
        let acc = 0;
        const lo = Math.max(0, index - (weightCount - 1));
        const hi = Math.min(index, available - 1);
        for (let p = lo; p <= hi; p++) acc += previous[offset + p]! * weights[index - p]!;
        current[c] = acc;
        if (acc > max) max = acc;
      }
      if (max > 0 && max < SCALE_DOWN) {
        for (let c = 0; c < size; c++) current[c]! *= SCALE_UP;
        exponent -= SCALE_EXPONENT;
      }
      currentStart = previousStart + j1 - k1;
    }
  }
  let answer = current[n - currentStart]!;
  for (let m = 1; m <= n; m++) {
    if (Math.abs(answer) > SCALE_UP) {
      answer *= SCALE_DOWN;
      exponent += SCALE_EXPONENT;
    }
    answer *= m;
  }
  if (exponent !== 0) answer *= 2 ** exponent;
  return clip01(answer);
}

/** Pelz-Good (1976) asymptotic series for P(D_n <= x) in its small-x form. */
function pelzGoodCdf(n: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const z = Math.sqrt(n) * x;
  const z2 = z * z;
  const z3 = z2 * z;
  const z4 = z2 * z2;
  const z6 = z4 * z2;
  const qLog = -PI2 / 8 / z2;
  if (qLog < -708) return 0;
  let q = Math.exp(qLog);
  const k1a = -z2;
  const k1b = PI2 / 4;
  const k2a = 6 * z6 + 2 * z4;
  const k2b = ((2 * z4 - 5 * z2) * PI2) / 4;
  const k2c = (PI4 * (1 - 2 * z2)) / 16;
  const k3d = (PI6 * (5 - 30 * z2)) / 64;
  const k3c = (PI4 * (-60 * z2 + 212 * z4)) / 16;
  const k3b = (PI2 * (135 * z4 - 96 * z6)) / 4;
  const k3a = -30 * z6 - 90 * z ** 8;
  const K = [0, 0, 0, 0];
  const maxK = Math.ceil((16 * z) / Math.PI);
  for (let k = maxK; k > 0; k--) {
    const m = 2 * k - 1;
    const m2 = m * m;
    const m4 = m2 * m2;
    const m6 = m4 * m2;
    const qPower = q ** (8 * k);
    const coefficients = [1, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4, k3a + k3b * m2 + k3c * m4 + k3d * m6];
    for (let i = 0; i < 4; i++) K[i] = K[i]! * qPower + coefficients[i]!;
  }
  const divisors = [z, 6 * z4, 72 * z ** 7, 6480 * z ** 10];
  for (let i = 0; i < 4; i++) K[i] = (K[i]! * q * SQRT_2PI) / divisors[i]!;
  q = Math.exp(-PI2 / 2 / z2);
  let k2Extra = 0;
  let k3Extra = 0;
  const sqrt3z = Math.sqrt(3) * z;
  for (let k = maxK; k > 0; k--) {
    const k2 = k * k;
    const qk = q ** k2;
    k2Extra += k2 * qk;
    const kPi = Math.PI * k;
    k3Extra += (sqrt3z + kPi) * (sqrt3z - kPi) * k2 * qk;
  }
  K[2] = K[2]! + (k2Extra * PI2 * SQRT_2PI) / (-36 * z3);
  K[3] = K[3]! + (k3Extra * PI2 * SQRT_2PI) / (216 * z6);
  let total = 0;
  for (let i = 0; i < 4; i++) total += K[i]! / n ** (i / 2);
  return total;
}

/**
 * Survival function of the two-sided one-sample Kolmogorov-Smirnov statistic D_n
 * (scipy.stats.kstwo.sf(x, n)): P(D_n > x).
 */
export function kolmogorovSf(n: number, x: number): number {
  if (!Number.isInteger(n) || n <= 0 || Number.isNaN(x)) return Number.NaN;
  if (x >= 1) return 0;
  if (x <= 0) return 1;
  const t = n * x;
  if (t <= 1) {
    if (t <= 0.5) return 1;
    let cdf: number;
    if (n <= 140) {
      cdf = 1;
      for (let i = 1; i <= n; i++) cdf *= i * (1 / n) * (2 * t - 1);
    } else {
      cdf = Math.exp(logFactorialOverPower(n) + n * Math.log(2 * t - 1));
    }
    return clip01(1 - cdf);
  }
  if (t >= n - 1) return clip01(2 * (1 - x) ** n);
  if (x >= 0.5) return clip01(2 * smirnovSf(n, x));
  const nxx = t * x;
  if (n <= 140) {
    if (nxx <= 0.754693) return clip01(1 - durbinMatrixCdf(n, x));
    if (nxx <= 4) return clip01(1 - pomeranzCdf(n, x));
    return clip01(2 * smirnovSf(n, x));
  }
  if (nxx >= 370) return 0;
  if (nxx >= 2.2) return clip01(2 * smirnovSf(n, x));
  const cdf = n <= 100_000 && n * x ** 1.5 <= 1.4 ? durbinMatrixCdf(n, x) : pelzGoodCdf(n, x);
  return clip01(1 - clip01(cdf));
}

/** P(D_{n,n} >= h/n) for two samples of equal size n. */
function equalSizesOutsideProbability(n: number, h: number): number {
  // 2·Σ_k (−1)^(k+1) C(2n, n − k·h)/C(2n, n), nested so no term is subtracted from a larger one.
  let p = 0;
  for (let k = Math.floor(n / h); k >= 0; k--) {
    let ratio = 1;
    for (let j = 0; j < h; j++) ratio = ((n - k * h - j) * ratio) / (n + k * h + j + 1);
    p = ratio * (1 - p);
  }
  return 2 * p;
}

/**
 * 1 − (share of lattice paths from (0,0) to (m,n) staying strictly inside |x/m − y/n| < h/lcm),
 * i.e. P(D_{m,n} >= h/lcm(m,n)), by Viehmann's recursion on probabilities.
 */
function unequalSizesOutsideProbability(m0: number, n0: number, g: number, h: number): number {
  const [m, n] = m0 >= n0 ? [m0, n0] : [n0, m0];
  const mg = Math.floor(m / g);
  const ng = Math.floor(n / g);
  let minJ = 0;
  let maxJ = Math.min(Math.ceil(h / mg), n + 1);
  let currentLength = maxJ - minJ;
  const column = new Float64Array(n + 2).fill(1);
  for (let j = minJ; j < maxJ; j++) column[j] = 0;
  for (let i = 1; i <= m; i++) {
    const lastMinJ = minJ;
    const lastLength = currentLength;
    minJ = Math.min(Math.max(Math.floor((ng * i - h) / mg) + 1, 0), n);
    maxJ = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxJ <= minJ) return 1;
    let value = minJ === 0 ? 0 : 1;
    for (let jj = 0; jj < maxJ - minJ; jj++) {
      const j = jj + minJ;
      value = (column[jj + minJ - lastMinJ]! * i + value * j) / (i + j);
      column[jj] = value;
    }
    currentLength = maxJ - minJ;
    for (let c = currentLength; c < lastLength; c++) column[c] = 1;
  }
  return column[maxJ - minJ - 1]!;
}

export interface KsPValue {
  /** The statistic as the p-value used it (the exact method rounds it to a multiple of 1/lcm). */
  statistic: number;
  pValue: number;
  method: 'exact' | 'asymp';
}

/** Largest sample size for which scipy's default method='auto' computes the exact distribution. */
export const KS_EXACT_MAX_N = 10_000;

/** Two-sided p-value of the two-sample KS statistic d (scipy.stats.ks_2samp, method='auto'). */
export function ksTwoSamplePValue(d: number, n1: number, n2: number): KsPValue {
  if (Math.max(n1, n2) <= KS_EXACT_MAX_N) {
    const g = gcd(n1, n2);
    const lcm = (n1 / g) * n2;
    const h = roundHalfEven(d * lcm);
    const rounded = h / lcm;
    if (h === 0) return { statistic: rounded, pValue: 1, method: 'exact' };
    const p = n1 === n2 ? equalSizesOutsideProbability(n1, h) : unequalSizesOutsideProbability(n1, n2, g, h);
    if (p >= 0 && p <= 1) return { statistic: rounded, pValue: p, method: 'exact' };
    d = rounded; // numerically unusable: fall back to the asymptotic distribution, as scipy does
  }
  const [m, n] = n1 >= n2 ? [n1, n2] : [n2, n1];
  const en = (m * n) / (m + n);
  return { statistic: d, pValue: clip01(kolmogorovSf(roundHalfEven(en), d)), method: 'asymp' };
}
