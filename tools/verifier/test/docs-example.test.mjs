// The worked examples of docs/proofs.md and docs/rewards.md, recomputed by the JavaScript verifier's code.
// Run: node --test tools/verifier/test
import assert from 'node:assert/strict';
import test from 'node:test';
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { MISSING, deviceKey, imputedMask, maskBits, readingsHash } from '../lib/encoding.mjs';
import { parseJson, parseParams } from '../lib/json.mjs';
import { periodGrid } from '../lib/period.mjs';
import { allowedAmounts, largestRemainder, memberSeries, terms, uncappedReward } from '../lib/rewards.mjs';

test('proofs.md §1: period identifiers, DST days included', () => {
  assert.deepEqual(periodGrid(20261125), { start: 1795561200, quarters: 96, step: 900, end: 1795561200 + 86400 });
  assert.equal(periodGrid(20260329).quarters, 92);
  assert.equal(periodGrid(20261025).quarters, 100);
  assert.equal(periodGrid(20260330).start - periodGrid(20260329).start, 23 * 3600);
  assert.equal(periodGrid(20261026).start - periodGrid(20261025).start, 25 * 3600);
  assert.equal(periodGrid(20260101).start, Date.UTC(2025, 11, 31, 23) / 1000);
  assert.throws(() => periodGrid(20260230));
});

test('proofs.md §2: the worked device-day leaf', () => {
  const salt = `0x${'11'.repeat(32)}`;
  const values = Array(96).fill(120);
  values[0] = -250;
  values[1] = MISSING;
  const imputed = Array(96).fill(false);
  imputed[2] = imputed[9] = true;
  const mask = imputedMask(imputed);
  assert.equal(mask, '0x040200000000000000000000');
  assert.deepEqual(maskBits(mask, 96), imputed);
  const key = deviceKey(salt, 'IT001E12345678');
  assert.equal(key, '0x9713102a33ea3680a1cfb433569db65b48c5e654921680c16c9a4df0647bd8e0');
  const rh = readingsHash(salt, 20261125, 1795561200, 900, values, mask);
  assert.equal(rh, '0xcb5c58b131f839183bdde0acc4119f184e01566f6c72fd694a337207d1b713e7');
  const tree = StandardMerkleTree.of([[key, rh]], ['bytes32', 'bytes32']);
  assert.equal(tree.root, '0xee6eb619c87e9c7774b317f38055235cf089e20b266a4765c98bc5cbe07b5414');
});

// rewards.md: A (0x…0a) a prosumer, B (0x…0b) a consumer, one hour. Devices as committed (report's signs).
const A = '0x000000000000000000000000000000000000000a';
const B = '0x000000000000000000000000000000000000000b';
const devicesA = [
  { deviceId: 'A-load', quantity: 'load', values: [100, 100, 100, 100] },
  { deviceId: 'A-pv', quantity: 'production', values: [-300, -300, 0, 0] },
];
const devicesB = [{ deviceId: 'B-load', quantity: 'load', values: [100, 200, 100, 0] }];
const aggregates = {
  communityLoad: [200, 300, 200, 100],
  communityProduction: [-300, -300, 0, 0],
  hourlyShared: [400],
  hourlyInjection: [400],
  hourlyWithdrawal: [600],
  uncappedTotal: 499,
};
const reward = (kind, params, profile, devices) =>
  uncappedReward({
    kind,
    params: parseParams(JSON.stringify(params)),
    member: { active: true, profile },
    devices,
    aggregates,
  }).u;

test('rewards.md: the common terms', () => {
  const a = terms(memberSeries(devicesA, 4), aggregates);
  const b = terms(memberSeries(devicesB, 4), aggregates);
  assert.deepEqual([a.sc, a.sp, a.sw, a.E, a.PAR], [200n, 400000n, 133333n, 400n, 10000n]);
  assert.deepEqual([b.sc, b.sp, b.sw, b.E, b.PAR], [0n, 0n, 266666n, 400n, 20000n]);
});

const sc = { a: 1000, b: 500, c: 250 };
const np = { rate: 1000, par_ref_bps: 20000 };

test('rewards.md §1–3 and the bonus', () => {
  assert.equal(reward('self-consumption', { ...sc, max_per_period: 10 ** 6 }, 'prosumer', devicesA), 433n);
  assert.equal(reward('self-consumption', { ...sc, max_per_period: 10 ** 6 }, 'consumer', devicesB), 66n);
  assert.equal(reward('no-peaks', { ...np, max_per_period: 10 ** 6 }, 'prosumer', devicesA), 200n);
  assert.equal(reward('no-peaks', { ...np, max_per_period: 10 ** 6 }, 'consumer', devicesB), 0n);
  const combined = { ...sc, ...np, w_sc_bps: 7000, w_peak_bps: 3000, max_per_period: 10 ** 6 };
  assert.equal(reward('combined', combined, 'prosumer', devicesA), 363n);
  assert.equal(reward('combined', combined, 'consumer', devicesB), 46n);
  const bonus = { ...combined, bonus_prosumer: 7, bonus_consumer: 5 };
  assert.equal(reward('combined', bonus, 'prosumer', devicesA), 370n);
  assert.equal(reward('combined', bonus, 'consumer', devicesB), 51n);
  const inactive = uncappedReward({
    kind: 'combined',
    params: parseParams(JSON.stringify(bonus)),
    member: { active: false, profile: 'prosumer' },
    devices: devicesA,
    aggregates,
  });
  assert.equal(inactive.u, 0n);
});

test('rewards.md: the budget cap, from one bundle and from the whole period', () => {
  assert.deepEqual(allowedAmounts(433n, 499n, 400n), { capped: true, amounts: [347n, 348n] });
  assert.deepEqual(allowedAmounts(66n, 499n, 400n), { capped: true, amounts: [52n, 53n] });
  assert.deepEqual(allowedAmounts(66n, 499n, 499n), { capped: false, amounts: [66n] });
  const split = largestRemainder(
    new Map([
      [A, 433n],
      [B, 66n],
    ]),
    400n,
  );
  assert.deepEqual(
    [...split.entries()],
    [
      [A, 347n],
      [B, 53n],
    ],
  );
  // A tie goes to the lower address: 3 units over three equal members of 1 each, cap 2.
  const tie = largestRemainder(
    new Map([
      [B, 1n],
      [A, 1n],
      ['0x00000000000000000000000000000000000000ff', 1n],
    ]),
    2n,
  );
  assert.deepEqual([tie.get(A), tie.get(B), tie.get('0x00000000000000000000000000000000000000ff')], [1n, 1n, 0n]);
});

test('storage and exchange meters (rewards.md, inputs)', () => {
  const battery = memberSeries(
    [
      { quantity: 'load', values: [100, 100] },
      { quantity: 'storage', values: [50, -30] },
    ],
    2,
  );
  assert.deepEqual(
    [battery.L, battery.P, battery.inj, battery.wdr],
    [
      [150n, 100n],
      [0n, 30n],
      [0n, 0n],
      [150n, 70n],
    ],
  );
  const exchangeOnly = memberSeries([{ quantity: 'exchange', values: [70, -40] }], 2);
  assert.deepEqual(
    [exchangeOnly.L, exchangeOnly.P, exchangeOnly.inj, exchangeOnly.wdr],
    [
      [70n, 0n],
      [0n, 40n],
      [0n, 40n],
      [70n, 0n],
    ],
  );
  const missing = memberSeries([{ quantity: 'load', values: [MISSING, 5n] }], 2);
  assert.deepEqual(missing.L, [0n, 5n]);
});

test('a bundle is parsed without rounding its token amounts', () => {
  const b = parseJson('{"t": 1853899100000000001, "s": 5, "f": 134.0, "n": NaN, "x": [-1e3]}');
  assert.equal(b.t, 1853899100000000001n);
  assert.equal(b.s, 5);
  assert.equal(b.f, 134);
  assert.ok(Number.isNaN(b.n));
  assert.deepEqual(b.x, [-1000]);
  assert.throws(() => parseJson('{"a": 1,}'));
  assert.throws(() => parseParams('{"a":-1}'));
});
