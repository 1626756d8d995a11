// Encodings of docs/proofs.md §2 and §4: device key, readings hash, imputed mask, aggregates hash.
// Every value goes through Solidity's abi.encode (ethers' AbiCoder) and keccak256.
import { AbiCoder, getBytes, hexlify, keccak256 } from 'ethers';

const abi = AbiCoder.defaultAbiCoder();

/** The int64 a quarter hour left missing by cleaning is committed as (docs/proofs.md §2). */
export const MISSING = -(2n ** 63n);

/** keccak256(abi.encode(bytes32 salt, string deviceId)). */
export function deviceKey(salt, deviceId) {
  return keccak256(abi.encode(['bytes32', 'string'], [salt, deviceId]));
}

/** keccak256(abi.encode(bytes32 salt, uint256 periodId, uint256 start, uint256 step, int64[] values, bytes mask)). */
export function readingsHash(salt, periodId, start, step, values, imputedMask) {
  return keccak256(
    abi.encode(
      ['bytes32', 'uint256', 'uint256', 'uint256', 'int64[]', 'bytes'],
      [salt, BigInt(periodId), BigInt(start), BigInt(step), values.map(BigInt), imputedMask],
    ),
  );
}

/** The imputed mask: ceil(n/8) bytes, bit k (byte k // 8, bit k % 8 from the least significant) set when k was imputed. */
export function imputedMask(imputed) {
  const bytes = new Uint8Array(Math.ceil(imputed.length / 8));
  imputed.forEach((flag, k) => {
    if (flag) bytes[k >> 3] |= 1 << (k & 7);
  });
  return hexlify(bytes);
}

/** The booleans of a mask of n values (the inverse of imputedMask). */
export function maskBits(mask, n) {
  const bytes = getBytes(mask);
  return Array.from({ length: n }, (_, k) => k >> 3 < bytes.length && ((bytes[k >> 3] >> (k & 7)) & 1) === 1);
}

/** keccak256(abi.encode(uint256 periodId, int64[] load, int64[] production, int64[] S, int64[] I, int64[] W, uint256 U)). */
export function aggregatesHash(periodId, agg) {
  return keccak256(
    abi.encode(
      ['uint256', 'int64[]', 'int64[]', 'int64[]', 'int64[]', 'int64[]', 'uint256'],
      [
        BigInt(periodId),
        agg.communityLoad.map(BigInt),
        agg.communityProduction.map(BigInt),
        agg.hourlyShared.map(BigInt),
        agg.hourlyInjection.map(BigInt),
        agg.hourlyWithdrawal.map(BigInt),
        BigInt(agg.uncappedTotal),
      ],
    ),
  );
}

/** OpenZeppelin StandardMerkleTree leaf hash: keccak256(bytes.concat(keccak256(abi.encode(...)))). */
export function leafHash(types, values) {
  return keccak256(keccak256(abi.encode(types, values)));
}
