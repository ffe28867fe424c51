import { createHash } from 'node:crypto';
import { MerkleTree } from 'merkletreejs';

/**
 * Merkle trees over accepted device messages (merkletreejs, SHA-256).
 *
 * Leaf = SHA-256(0x00 || message bytes): the prefix keeps a leaf from ever
 * being confused with an inner node (second-preimage). Inner node =
 * SHA-256(left || right), with an odd node carried up unpaired (merkletreejs
 * default, no duplication, so no CVE-2012-2459-style ambiguity). Leaves are
 * kept in insertion order (event id order), so a proof is a list of sibling
 * hashes with their side.
 */
export interface MerkleStep {
  readonly position: 'left' | 'right';
  readonly hash: string;
}

function sha256(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

const LEAF_PREFIX = Buffer.from([0]);

export function leafHash(message: string): string {
  return sha256(Buffer.concat([LEAF_PREFIX, Buffer.from(message)])).toString('hex');
}

export interface BuiltTree {
  readonly root: string;
  proof(index: number): MerkleStep[];
}

export function buildTree(leafHashes: readonly string[]): BuiltTree {
  if (leafHashes.length === 0) throw new Error('a Merkle tree needs at least one leaf');
  const tree = new MerkleTree(
    leafHashes.map((h) => Buffer.from(h, 'hex')),
    sha256,
    { hashLeaves: false, sortPairs: false, sortLeaves: false, duplicateOdd: false },
  );
  return {
    root: tree.getRoot().toString('hex'),
    proof: (index: number) =>
      tree.getProof(Buffer.from(leafHashes[index] as string, 'hex'), index).map((p) => ({
        position: p.position as 'left' | 'right',
        hash: (p.data as Buffer).toString('hex'),
      })),
  };
}

/** Recomputes the root from a leaf and its path; a verifier needs nothing else. */
export function rootFromProof(leaf: string, proof: readonly MerkleStep[]): string {
  let node: Buffer = Buffer.from(leaf, 'hex');
  for (const step of proof) {
    const sibling = Buffer.from(step.hash, 'hex');
    node = step.position === 'left' ? sha256(Buffer.concat([sibling, node])) : sha256(Buffer.concat([node, sibling]));
  }
  return node.toString('hex');
}
