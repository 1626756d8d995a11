// Reference answers from @openzeppelin/merkle-tree for the Python cross-check tests.
// Reads one JSON request per line on stdin and writes one JSON answer per line:
//   {"op": "of", "encoding": [...], "values": [...]} -> {"root", "dump", "proofs"}
//   {"op": "load", "dump": {...}}                   -> {"root", "proofs"}   (throws if invalid)
//   {"op": "verify", "root", "encoding", "value", "proof"} -> {"ok": bool}
const readline = require('readline');
const { StandardMerkleTree } = require('@openzeppelin/merkle-tree');

function answer(req) {
  if (req.op === 'of') {
    const tree = StandardMerkleTree.of(req.values, req.encoding);
    return { root: tree.root, dump: tree.dump(), proofs: req.values.map((_, i) => tree.getProof(i)) };
  }
  if (req.op === 'load') {
    const tree = StandardMerkleTree.load(req.dump);
    return { root: tree.root, proofs: req.dump.values.map((_, i) => tree.getProof(i)) };
  }
  if (req.op === 'verify') {
    return { ok: StandardMerkleTree.verify(req.root, req.encoding, req.value, req.proof) };
  }
  throw new Error(`unknown op ${req.op}`);
}

const rl = readline.createInterface({ input: process.stdin, terminal: false });
rl.on('line', line => {
  let out;
  try {
    out = answer(JSON.parse(line));
  } catch (err) {
    out = { error: String(err && err.message ? err.message : err) };
  }
  process.stdout.write(JSON.stringify(out) + '\n');
});
