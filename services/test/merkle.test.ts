import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { buildTree, leafHash, rootFromProof } from '../src/trace/merkle.js';

test('every leaf of any tree proves to the root, and no other leaf does', () => {
  fc.assert(
    fc.property(fc.array(fc.string({ minLength: 1 }), { minLength: 1, maxLength: 70 }), fc.nat(), (messages, pick) => {
      const leaves = messages.map((m, i) => leafHash(`${i}:${m}`));
      const tree = buildTree(leaves);
      const i = pick % leaves.length;
      const proof = tree.proof(i);
      assert.equal(rootFromProof(leaves[i] as string, proof), tree.root);
      const forged = leafHash(`forged:${messages[i]}`);
      assert.notEqual(rootFromProof(forged, proof), tree.root);
    }),
    { numRuns: 200 },
  );
});

test('a path with a flipped side or a changed sibling does not prove', () => {
  const leaves = Array.from({ length: 9 }, (_, i) => leafHash(`event ${i}`));
  const tree = buildTree(leaves);
  const proof = tree.proof(4);
  assert.ok(proof.length > 0);
  const flipped = proof.map((s, i) =>
    i === 0 ? { ...s, position: s.position === 'left' ? 'right' : 'left' } : s,
  ) as typeof proof;
  assert.notEqual(rootFromProof(leaves[4] as string, flipped), tree.root);
  const changed = proof.map((s, i) => (i === proof.length - 1 ? { ...s, hash: leafHash('x') } : s));
  assert.notEqual(rootFromProof(leaves[4] as string, changed), tree.root);
});

test('a leaf is domain-separated from an inner node', () => {
  const a = leafHash('a');
  const b = leafHash('b');
  const tree = buildTree([a, b]);
  // The root of two leaves is not the leaf hash of their concatenation.
  assert.notEqual(
    tree.root,
    leafHash(Buffer.concat([Buffer.from(a, 'hex'), Buffer.from(b, 'hex')]).toString('latin1')),
  );
});
