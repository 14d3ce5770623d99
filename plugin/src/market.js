// The prover market's rules as the plugin needs them, as pure functions: what a job is
// worth doing, what a heartbeat and a submission sign, how a snarkjs proof becomes the
// 256-byte blob L1 verifies, and how a block's proofs become its aggregate. No I/O here:
// node's test runner checks these alone, and tests/plugin checks them against the node's
// Python (chain/market/signing.py, chain/zk/signing.py, chain/l1/calldata.py).

import { concat, getBytes, hexlify, keccak256, toBeHex, toUtf8Bytes, zeroPadValue } from "ethers";

export const SUBMISSION_DOMAIN = "duet/submitProof";
export const PROOF_BYTES = 256;
export const WORD_BYTES = 32;
export const FIELD_MODULUS =
  21888242871839275222246405745257275088548364400416034343698204186575808495617n;
// Renew the heartbeat when less than a third of `activeBlocks` is left, at most once per
// five blocks (a heartbeat takes a block or two to land): chain/client/prover/loop.py.
export const RENEW_FRACTION = 3;
export const RENEW_EVERY_BLOCKS = 5;

// -- jobs -------------------------------------------------------------------------------

/** The order jobs are taken in: aggregations first (milliseconds, and each lets L1 settle a
 * block), then the earliest deadline, the oldest block, the job id. */
export function compareJobs(a, b) {
  const key = (job) => [job.kind === "aggregate" ? 0 : 1, job.deadline, job.height];
  const [ka, kb] = [key(a), key(b)];
  for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return ka[i] - kb[i];
  return a.jobId < b.jobId ? -1 : a.jobId > b.jobId ? 1 : 0;
}

/** Whether a job can still be done in time: `estimateS` seconds of proving must end before
 * its deadline block, `blockS` seconds per ZK block from `height`, the current head. A job
 * that cannot is let go at once rather than proven for nothing. */
export function canFinishInTime(job, height, estimateS, blockS) {
  const blocksLeft = job.deadline - height;
  if (blocksLeft <= 0) return false;
  return estimateS <= blocksLeft * blockS;
}

/** The `activeUntil` of a heartbeat to send now, or null when the current one holds. */
export function nextHeartbeat(height, activeUntil, lastSentAt, activeBlocks) {
  const next = height + 1;
  if ((activeUntil - next) * RENEW_FRACTION >= activeBlocks) return null;
  if (lastSentAt !== null && next - lastSentAt < RENEW_EVERY_BLOCKS) return null;
  return next + activeBlocks;
}

// -- signatures -------------------------------------------------------------------------

/** keccak(domain ‖ chainId as 8 bytes ‖ jobId ‖ keccak(result)): what a submission signs
 * with EIP-191, so it holds for one chain, one job and one result. */
export function submissionDigest(chainId, jobId, result) {
  return keccak256(
    concat([
      toUtf8Bytes(SUBMISSION_DOMAIN),
      zeroPadValue(toBeHex(BigInt(chainId)), 8),
      zeroPadValue(jobId, 32),
      keccak256(result),
    ]),
  );
}

/** The EIP-712 typed data of a Heartbeat operation (chain/zk/signing.py): the rollup's
 * domain, the operation's fields, then fee, nonce and the signer's account index. */
export function heartbeatTypedData(domain, { activeUntil, fee, nonce, fromIndex }) {
  return {
    domain: {
      name: "Duet",
      version: "1",
      chainId: BigInt(domain.chainId),
      verifyingContract: domain.verifyingContract,
    },
    types: {
      Heartbeat: [
        { name: "activeUntil", type: "uint32" },
        { name: "fee", type: "uint256" },
        { name: "nonce", type: "uint32" },
        { name: "fromIndex", type: "uint16" },
      ],
    },
    message: {
      activeUntil: BigInt(activeUntil),
      fee: BigInt(fee),
      nonce: BigInt(nonce),
      fromIndex: BigInt(fromIndex),
    },
  };
}

/** The wire form `duet_sendOperation` takes. */
export function formatHeartbeat(address, fields, signature) {
  const quantity = (value) => "0x" + BigInt(value).toString(16);
  return {
    type: "Heartbeat",
    from: address,
    activeUntil: quantity(fields.activeUntil),
    fee: quantity(fields.fee),
    nonce: quantity(fields.nonce),
    fromIndex: quantity(fields.fromIndex),
    signature,
  };
}

// -- proofs -----------------------------------------------------------------------------

const word = (value) => zeroPadValue(toBeHex(BigInt(value)), WORD_BYTES);

/** A snarkjs proof.json as the 256-byte blob: A.x, A.y, B.x.c1, B.x.c0, B.y.c1, B.y.c0,
 * C.x, C.y (G2 imaginary part first, the EIP-197 order; snarkjs lists the real part first). */
export function proofToBlob(proof) {
  const [ax, ay] = proof.pi_a;
  const [[bx0, bx1], [by0, by1]] = proof.pi_b;
  const [cx, cy] = proof.pi_c;
  return concat([ax, ay, bx1, bx0, by1, by0, cx, cy].map(word));
}

/** The blob back as a snarkjs proof.json (projective, z = 1). */
export function blobToProof(blob) {
  const bytes = getBytes(blob);
  if (bytes.length !== PROOF_BYTES) throw new Error(`a proof is 256 bytes, got ${bytes.length}`);
  const w = [];
  for (let i = 0; i < PROOF_BYTES; i += WORD_BYTES) {
    w.push(BigInt(hexlify(bytes.subarray(i, i + WORD_BYTES))).toString());
  }
  const [ax, ay, bx1, bx0, by1, by0, cx, cy] = w;
  return {
    pi_a: [ax, ay, "1"],
    pi_b: [
      [bx0, bx1],
      [by0, by1],
      ["1", "0"],
    ],
    pi_c: [cx, cy, "1"],
    protocol: "groth16",
    curve: "bn128",
  };
}

/** keccak256 of a snarkjs verification key in the bytes the rollup takes: α ‖ β ‖ γ ‖ δ ‖
 * IC[], G1 as x, y and G2 as x.c1, x.c0, y.c1, y.c0 (chain/l1/keys.py). */
export function vkHash(vk) {
  if (vk.protocol !== "groth16" || vk.curve !== "bn128") {
    throw new Error("not a snarkjs Groth16 key on bn128");
  }
  const g1 = ([x, y, z]) => {
    if (BigInt(z) !== 1n) throw new Error("G1 point not in affine form");
    return [x, y];
  };
  const g2 = ([[x0, x1], [y0, y1], [z0, z1]]) => {
    if (BigInt(z0) !== 1n || BigInt(z1) !== 0n) throw new Error("G2 point not in affine form");
    return [x1, x0, y1, y0];
  };
  const words = [
    ...g1(vk.vk_alpha_1),
    ...g2(vk.vk_beta_2),
    ...g2(vk.vk_gamma_2),
    ...g2(vk.vk_delta_2),
    ...vk.IC.flatMap(g1),
  ];
  return keccak256(concat(words.map(word)));
}

// -- aggregation ------------------------------------------------------------------------

/** Each op's public inputs [pre, post, w1..wk], chained from the parent block's root as the
 * rollup chains them: pre_0 = parentRoot, pre_{j+1} = post_j. */
export function chainStatements(parentRoot, ops) {
  let pre = BigInt(parentRoot);
  return ops.map((op) => {
    const statement = [pre, BigInt(op.postRoot), ...op.words.map(BigInt)];
    pre = BigInt(op.postRoot);
    return statement.map(String);
  });
}

/** A block's `ops` calldata: per op its circuit id (1 byte), post-root, words and proof
 * (chain/l1/calldata.py). `circuits` maps a circuit name to its duet_getCircuits entry. */
export function encodeOps(ops, circuits) {
  const parts = [];
  for (const op of ops) {
    const circuit = circuits[op.circuit];
    if (circuit === undefined) throw new Error(`unknown circuit ${op.circuit}`);
    if (op.words.length !== circuit.nPublic - 2) {
      throw new Error(`${op.circuit} takes ${circuit.nPublic - 2} words, got ${op.words.length}`);
    }
    for (const value of [op.postRoot, ...op.words]) {
      if (BigInt(value) >= FIELD_MODULUS) throw new Error(`${value} is not a field element`);
    }
    const proof = getBytes(op.proof);
    if (proof.length !== PROOF_BYTES) throw new Error(`${op.circuit}: a proof is 256 bytes`);
    parts.push(toBeHex(circuit.id, 1), word(op.postRoot), ...op.words.map(word), proof);
  }
  return concat(parts);
}

// -- display ----------------------------------------------------------------------------

/** Wei as ZKPoW with up to `digits` decimals; a negative balance is a debt. */
export function formatZkpow(wei, digits = 4) {
  const value = BigInt(wei);
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const unit = 10n ** 18n;
  const scale = 10n ** BigInt(digits);
  const scaled = (abs * scale + unit / 2n) / unit;
  const whole = scaled / scale;
  const fraction = (scaled % scale).toString().padStart(digits, "0").replace(/0+$/, "");
  const text = fraction ? `${whole}.${fraction}` : `${whole}`;
  return { text: `${text} ZKPoW`, debt: negative };
}
