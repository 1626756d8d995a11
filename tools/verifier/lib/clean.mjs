// Cleaning of one device's raw readings onto the period's grid, as docs/proofs.md §2.1 specifies, computed in
// exact rational arithmetic (the oracle computes in float64, so a value exactly halfway between two integers
// may be rounded either way; the check accepts both).
import { MISSING } from './encoding.mjs';

export const MARGIN = 24; // quarter hours of context either side of the day (6 h)
export const MAX_GAP = 24; // a gap is filled only when shorter than this (6 h)
const KNOTS_PER_SIDE = 4;

// ---- exact rationals -------------------------------------------------------------------------------------

const babs = (x) => (x < 0n ? -x : x);
const gcd = (a, b) => {
  a = babs(a);
  b = babs(b);
  while (b) [a, b] = [b, a % b];
  return a;
};

class Q {
  constructor(n, d = 1n) {
    if (d === 0n) throw new RangeError('division by zero');
    if (d < 0n) [n, d] = [-n, -d];
    const g = gcd(n, d) || 1n;
    this.n = n / g;
    this.d = d / g;
  }
  static of(x) {
    return x instanceof Q ? x : typeof x === 'bigint' ? new Q(x) : fromDouble(x);
  }
  add(o) {
    return new Q(this.n * o.d + o.n * this.d, this.d * o.d);
  }
  sub(o) {
    return new Q(this.n * o.d - o.n * this.d, this.d * o.d);
  }
  mul(o) {
    return new Q(this.n * o.n, this.d * o.d);
  }
  div(o) {
    return new Q(this.n * o.d, this.d * o.n);
  }
  cmp(o) {
    const l = this.n * o.d;
    const r = o.n * this.d;
    return l < r ? -1 : l > r ? 1 : 0;
  }
  isZero() {
    return this.n === 0n;
  }
  /** The nearest integers: [r] or, exactly halfway, [down, up]. Ties go half to even first (as numpy's rint). */
  nearest() {
    const fl = this.n >= 0n ? this.n / this.d : -((-this.n + this.d - 1n) / this.d); // floor
    const twice = 2n * (this.n - fl * this.d); // 2 * fractional part, in units of 1/d
    if (twice < this.d) return [fl];
    if (twice > this.d) return [fl + 1n];
    return fl % 2n === 0n ? [fl, fl + 1n] : [fl + 1n, fl];
  }
}

/** The exact rational value of a float64 (every finite double is a dyadic rational). */
function fromDouble(x) {
  if (!Number.isFinite(x)) throw new RangeError(`${x} is not finite`);
  if (Number.isInteger(x) && Number.isSafeInteger(x)) return new Q(BigInt(x));
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const sign = bits >> 63n ? -1n : 1n;
  const exp = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & ((1n << 52n) - 1n);
  let e;
  if (exp === 0) e = -1074;
  else {
    mant |= 1n << 52n;
    e = exp - 1075;
  }
  return e >= 0 ? new Q(sign * mant * (1n << BigInt(e))) : new Q(sign * mant, 1n << BigInt(-e));
}

// ---- the spline --------------------------------------------------------------------------------------------

/** Solve A·x = b exactly (Gaussian elimination on rationals; A is small and non-singular). */
function solve(A, b) {
  const m = b.length;
  const M = A.map((row, r) => [...row, b[r]]);
  for (let c = 0; c < m; c++) {
    const p = M.findIndex((row, r) => r >= c && !row[c].isZero());
    [M[c], M[p]] = [M[p], M[c]];
    for (let r = 0; r < m; r++) {
      if (r === c || M[r][c].isZero()) continue;
      const f = M[r][c].div(M[c][c]);
      for (let k = c; k <= m; k++) M[r][k] = M[r][k].sub(f.mul(M[c][k]));
    }
  }
  return M.map((row, r) => row[m].div(row[r]));
}

/**
 * The cubic spline with not-a-knot end conditions through (xs, ys) (scipy's CubicSpline default), at x.
 * Formulated on the second derivatives M_i; the spline is unique, so any exact method gives the same value.
 */
export function notAKnotSpline(xs, ys, x) {
  const m = xs.length;
  const X = xs.map((v) => new Q(BigInt(v)));
  const Y = ys.map(Q.of);
  const h = [];
  const slope = [];
  for (let i = 0; i < m - 1; i++) {
    h.push(X[i + 1].sub(X[i]));
    slope.push(Y[i + 1].sub(Y[i]).div(h[i]));
  }
  const zero = new Q(0n);
  const six = new Q(6n);
  const A = Array.from({ length: m }, () => Array.from({ length: m }, () => zero));
  const b = Array.from({ length: m }, () => zero);
  for (let i = 1; i < m - 1; i++) {
    A[i][i - 1] = h[i - 1];
    A[i][i] = new Q(2n).mul(h[i - 1].add(h[i]));
    A[i][i + 1] = h[i];
    b[i] = six.mul(slope[i].sub(slope[i - 1]));
  }
  // not-a-knot: the third derivative is continuous at x_1 and x_{m-2}: (M1-M0)/h0 = (M2-M1)/h1.
  A[0][0] = h[1];
  A[0][1] = h[0].add(h[1]).mul(new Q(-1n));
  A[0][2] = h[0];
  const k = m - 1;
  A[k][k - 2] = h[k - 1];
  A[k][k - 1] = h[k - 2].add(h[k - 1]).mul(new Q(-1n));
  A[k][k] = h[k - 2];
  const M = solve(A, b);
  const X0 = new Q(BigInt(x));
  let i = 0;
  while (i < m - 2 && X0.cmp(X[i + 1]) > 0) i++;
  const hi = h[i];
  const a = X[i + 1].sub(X0);
  const c = X0.sub(X[i]);
  const cube = (q) => q.mul(q).mul(q);
  return M[i]
    .mul(cube(a))
    .div(six.mul(hi))
    .add(M[i + 1].mul(cube(c)).div(six.mul(hi)))
    .add(Y[i].div(hi).sub(M[i].mul(hi).div(six)).mul(a))
    .add(
      Y[i + 1]
        .div(hi)
        .sub(M[i + 1].mul(hi).div(six))
        .mul(c),
    );
}

function linear(x0, y0, x1, y1, x) {
  const [X0, Y0, X1, Y1] = [new Q(BigInt(x0)), Q.of(y0), new Q(BigInt(x1)), Q.of(y1)];
  return Y0.add(
    Y1.sub(Y0)
      .mul(new Q(BigInt(x)).sub(X0))
      .div(X1.sub(X0)),
  );
}

// ---- cleaning ------------------------------------------------------------------------------------------------

/**
 * Clean raw readings (Unix seconds, Wh, in arrival order) onto the n quarter hours from `start`.
 * Returns, per quarter hour of the day, `allowed`: the committed int64 values the rules allow (one value, two at an
 * exact half, [MISSING] when left missing) and `imputed`: whether it was filled by interpolation.
 */
export function clean(timestamps, values, start, n, step = 900) {
  if (timestamps.length !== values.length)
    throw new Error(`${timestamps.length} timestamps but ${values.length} values`);
  const size = n + 2 * MARGIN;
  const series = Array(size).fill(null); // Q or null; window slot w = day slot + MARGIN
  const choices = Array(size).fill(null); // allowed committed values per slot
  const half = Math.floor(step / 2);
  for (let r = 0; r < timestamps.length; r++) {
    const v = values[r];
    if (typeof v !== 'number' || !Number.isFinite(v)) continue; // NaN, infinities, nulls are dropped
    const slot = Math.floor((Number(timestamps[r]) - start + half) / step);
    if (slot < -MARGIN || slot >= n + MARGIN) continue;
    series[slot + MARGIN] = Q.of(v); // the last reading of a quarter hour wins
  }
  // A measured value is exact in float64 too: it rounds one way only (half to even).
  for (let w = 0; w < size; w++) if (series[w]) choices[w] = [series[w].nearest()[0]];
  const imputed = Array(size).fill(false);
  let w = 0;
  while (w < size) {
    if (series[w]) {
      w++;
      continue;
    }
    let end = w;
    while (end < size && !series[end]) end++;
    const length = end - w;
    const bounded = w > 0 && end < size;
    const overlapsDay = w < n + MARGIN && end > MARGIN;
    if (overlapsDay && bounded && length < MAX_GAP) fillGap(series, choices, imputed, w, end);
    w = end;
  }
  const allowed = [];
  const mask = [];
  for (let t = 0; t < n; t++) {
    const c = choices[t + MARGIN];
    allowed.push(c === null ? [MISSING] : c);
    mask.push(imputed[t + MARGIN]);
  }
  return { allowed, imputed: mask };
}

function fillGap(series, choices, imputed, start, end) {
  const before = [];
  for (let k = start - 1; k >= 0 && before.length < KNOTS_PER_SIDE; k--) if (series[k]) before.unshift(k);
  const after = [];
  for (let k = end; k < series.length && after.length < KNOTS_PER_SIDE; k++) if (series[k]) after.push(k);
  const xs = [...before, ...after];
  const ys = xs.map((k) => series[k]);
  let lo = ys[0];
  let hi = ys[0];
  for (const y of ys) {
    if (y.cmp(lo) < 0) lo = y;
    if (y.cmp(hi) > 0) hi = y;
  }
  const filled = [];
  for (let x = start; x < end; x++) {
    let f =
      xs.length >= 4
        ? notAKnotSpline(xs, ys, x)
        : linear(before.at(-1), series[before.at(-1)], after[0], series[after[0]], x);
    if (f.cmp(lo) < 0) f = lo;
    if (f.cmp(hi) > 0) f = hi;
    filled.push(f.nearest());
  }
  // A filled quarter hour is a knot of the gaps after it, with its rounded value (half to even, as the oracle).
  filled.forEach((c, j) => {
    series[start + j] = new Q(c[0]);
    choices[start + j] = c;
    imputed[start + j] = true;
  });
}
