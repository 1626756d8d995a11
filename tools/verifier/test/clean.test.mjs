// Cleaning as docs/proofs.md §2.1 states it, on small hand-made days. Run: node --test tools/verifier/test
import assert from 'node:assert/strict';
import test from 'node:test';
import { MAX_GAP, clean, notAKnotSpline } from '../lib/clean.mjs';
import { MISSING } from '../lib/encoding.mjs';
import { periodGrid } from '../lib/period.mjs';

const { start, quarters } = periodGrid(20261025); // 100 quarter hours
const grid = Array.from({ length: quarters }, (_, k) => start + 900 * k);
const one = (allowed) => allowed.map((a) => (a.length === 1 ? a[0] : a));

test('a short gap on a ramp is filled exactly and flagged', () => {
  const keep = grid.map((_, k) => k).filter((k) => k < 30 || k >= 35);
  const { allowed, imputed } = clean(
    keep.map((k) => grid[k]),
    keep.map((k) => 10 * k),
    start,
    quarters,
  );
  assert.deepEqual(
    one(allowed),
    grid.map((_, k) => BigInt(10 * k)),
  );
  assert.deepEqual(
    imputed.flatMap((f, k) => (f ? [k] : [])),
    [30, 31, 32, 33, 34],
  );
});

test('a gap of 6 hours stays missing', () => {
  const keep = grid.map((_, k) => k).filter((k) => k < 10 || k >= 10 + MAX_GAP);
  const { allowed, imputed } = clean(
    keep.map((k) => grid[k]),
    keep.map(() => 50),
    start,
    quarters,
  );
  assert.ok(allowed.slice(10, 10 + MAX_GAP).every((a) => a[0] === MISSING));
  assert.equal(allowed[9][0], 50n);
  assert.ok(!imputed.some(Boolean));
});

test('a gap at the edge of the window is not extrapolated; context before the day fills an edge gap', () => {
  const late = clean(
    grid.slice(3),
    grid.slice(3).map(() => 1),
    start,
    quarters,
  );
  assert.deepEqual(late.allowed.slice(0, 3), [[MISSING], [MISSING], [MISSING]]);
  const before = Array.from({ length: 8 }, (_, k) => start - 900 * (8 - k));
  const ts = [...before, ...grid.slice(2)];
  const filled = clean(
    ts,
    ts.map(() => 7),
    start,
    quarters,
  );
  assert.deepEqual(one(filled.allowed.slice(0, 2)), [7n, 7n]);
  assert.deepEqual(filled.imputed.slice(0, 3), [true, true, false]);
});

test('off-grid timestamps snap to the nearest quarter hour; the last reading of a slot wins', () => {
  const ts = [...grid, grid[5] + 120, grid[7] - 60, grid[9] + 450];
  const vals = [...grid.map(() => 1), 99, 42, 13];
  const { allowed } = clean(ts, vals, start, quarters);
  assert.deepEqual([allowed[5], allowed[7], allowed[9], allowed[10]], [[99n], [42n], [1n], [13n]]);
});

test('measured values round half to even; non-finite values are dropped', () => {
  const { allowed, imputed } = clean(grid.slice(0, 8), [0.5, 1.5, 2.5, -0.5, 7, NaN, 9, 10], start, quarters);
  assert.deepEqual(one(allowed.slice(0, 4)), [0n, 2n, 2n, -0n]);
  assert.equal(imputed[5], true); // the NaN left a one-slot gap, filled from its neighbours
});

test('fewer than 4 knots: a straight line; an exact half may be rounded either way', () => {
  // Knots at slots -1 and 1 only (the window starts just before): the line through 10 and 11 gives 10.5.
  const { allowed, imputed } = clean([start - 900, start + 900], [10, 11], start, quarters);
  assert.deepEqual(allowed[0], [10n, 11n]);
  assert.ok(imputed[0]);
});

test('a filled gap is a knot, with its rounded value, for the gaps after it', () => {
  const keep = grid.map((_, k) => k).filter((k) => ![20, 22].includes(k));
  const vals = keep.map((k) => (k % 2 ? 100 : 0));
  const { allowed, imputed } = clean(
    keep.map((k) => grid[k]),
    vals,
    start,
    quarters,
  );
  assert.ok(imputed[20] && imputed[22]);
  assert.equal(allowed[20].length, 1);
  assert.equal(allowed[22].length, 1);
});

test('the not-a-knot spline through 4 points is their cubic', () => {
  const cube = (x) => x ** 3 - 2 * x + 5;
  const xs = [0, 1, 4, 6];
  const f = notAKnotSpline(xs, xs.map(cube), 2);
  assert.equal(f.n * 1n, BigInt(cube(2)) * f.d);
  const six = [0, 1, 2, 5, 6, 8];
  const g = notAKnotSpline(six, six.map(cube), 3);
  assert.equal(g.n, BigInt(cube(3)) * g.d); // not-a-knot reproduces a cubic exactly
});
