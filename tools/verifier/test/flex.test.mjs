// docs/proofs.md §8, flexibility: the delivery rule, the event reward and its floor, the budget cap, and the two
// leaf encodings (the expected hashes are those of oracle/flex/settlement.py for the same inputs).
// Run: node --test tools/verifier/test
import assert from 'node:assert/strict';
import test from 'node:test';
import { checkFlexParams, delivered, eventLeaf, eventReward, periodLeaf } from '../lib/flex.mjs';
import { parseParams } from '../lib/json.mjs';
import { allowedAmounts, largestRemainder } from '../lib/rewards.mjs';

const big = (xs) => xs.map(BigInt);
const FLEX = { rate: 10n ** 18n, min_performance_bps: 2000n, max_per_period: 10n ** 21n };

test('§8: delivered = min(max(baseline − metered, 0), dispatched), slot by slot', () => {
  assert.deepEqual(
    delivered(big([500, 500, 500, 500]), big([100, 600, 400, 500]), big([250, 250, 250, -5])),
    big([250, 0, 100, 0]),
  );
});

test('§8: rate · Σ delivered // 1000 at or above the performance floor, else 0', () => {
  const asked = big([250, 250, 250, 250]);
  assert.equal(eventReward(FLEX, asked, big([250, 250, 250, 250])), 10n ** 18n); // 1 kWh
  assert.equal(eventReward(FLEX, asked, big([100, 100, 100, 100])), 4n * 10n ** 17n); // 40 % ≥ 20 %
  assert.equal(eventReward(FLEX, asked, big([50, 50, 50, 50])), 2n * 10n ** 17n); // exactly the floor
  assert.equal(eventReward(FLEX, asked, big([40, 40, 40, 40])), 0n); // 16 %: the penalty
  assert.equal(eventReward(FLEX, big([0, 0]), big([0, 0])), 0n); // nothing dispatched
  assert.equal(eventReward({ ...FLEX, rate: 7n }, asked, big([1, 0, 0, 0])), 0n); // under the floor
  assert.equal(eventReward({ ...FLEX, rate: 7n, min_performance_bps: 0n }, asked, big([1, 0, 0, 0])), 0n); // 7 // 1000
});

test('§8: over the budget each reward is the floor of its share or one more; the split is exact', () => {
  const u = new Map([
    ['0x0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a', 10n ** 18n],
    ['0x0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b', 4n * 10n ** 17n],
  ]);
  const budget = 7n * 10n ** 17n;
  assert.deepEqual([...largestRemainder(u, budget).values()], [5n * 10n ** 17n, 2n * 10n ** 17n]);
  assert.deepEqual(allowedAmounts(4n * 10n ** 17n, 14n * 10n ** 17n, budget).amounts, [
    2n * 10n ** 17n,
    2n * 10n ** 17n + 1n,
  ]);
});

test('§8: the event leaf and the flexibility period leaf', () => {
  const account = `0x${'0a'.repeat(20)}`;
  const quarter = big([250, 250, 250, 250]);
  const base = big([500, 500, 500, 500]);
  const salt = `0x${'01'.repeat(32)}`;
  const leaf = eventLeaf(salt, 'rest:e1', account, 20260715, 1800000000, 7, base, quarter, quarter, quarter);
  assert.deepEqual(leaf, [
    '0xe152e803c1707c73f3213f19e945b67e9f54252d684152bc171364cc6d89785f',
    '0x608c11d718d4d4b92e8fa4ab8b4325cc6192613effaa85eb7855175a62f4e5c0',
  ]);
  assert.deepEqual(periodLeaf(20260715, 7, `0x${'ab'.repeat(32)}`, 14n * 10n ** 17n, 7n * 10n ** 17n, 3), [
    '0x9d04d7aa857cd69ad83fbf107cdd1570357feababb81d03e24c211179ab9e24d',
    '0x45ab2764b90b7eac0d5fc51993cbbbc1df66938c4b7f5b43dc1013c481cb0b44',
  ]);
});

test('§8: a flexibility model has exactly rate, min_performance_bps, max_per_period, the floor a share', () => {
  assert.deepEqual(checkFlexParams(parseParams('{"max_per_period":5,"min_performance_bps":0,"rate":1}')), {
    max_per_period: 5n,
    min_performance_bps: 0n,
    rate: 1n,
  });
  assert.throws(() => checkFlexParams(parseParams('{"max_per_period":5,"rate":1}')), /missing min_performance_bps/);
  const flex = (text) => checkFlexParams(parseParams(text));
  assert.throws(() => flex('{"a":1,"max_per_period":5,"min_performance_bps":0,"rate":1}'), /unknown a/);
  assert.throws(() => flex('{"max_per_period":5,"min_performance_bps":10001,"rate":1}'), /10 000/);
});
