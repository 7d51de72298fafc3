/**
 * Prompt delivery between a requester and a provider's relayer.
 *
 * - EIP-712 messages signed by the job's requester: `JobInput` (proves the prompt posted over HTTP is the
 *   requester's) and `OutputRequest` (authorises reading a job's output from the relayer).
 * - On-chain `inputRef` encodings: inline plaintext (`data:text/plain;base64,...`), ECIES-encrypted to the
 *   provider's secp256k1 key (`cinder-enc:v1:...`), or anything else ("external": the requester POSTs the prompt).
 */
import { createCipheriv, createDecipheriv, createECDH, hkdfSync, randomBytes } from "node:crypto";
import {
  SigningKey,
  getAddress,
  getBytes,
  hexlify,
  keccak256,
  toUtf8Bytes,
  verifyTypedData,
  type BytesLike,
  type Signer,
  type TypedDataDomain,
} from "ethers";

/** Chain context of a delivery signature: the chain and the JobCoordinator it is bound to. */
export interface DeliveryContext {
  chainId: bigint;
  coordinator: string;
}

/** Anything that can sign EIP-712 typed data (an ethers Wallet, a JsonRpcSigner, ...). */
export type TypedDataSigner = Pick<Signer, "signTypedData">;

/** EIP-712 types of the message a requester signs to deliver a prompt over HTTP. */
export const INPUT_TYPES = {
  JobInput: [
    { name: "jobId", type: "uint256" },
    { name: "inputHash", type: "bytes32" },
  ],
} as const satisfies Record<string, { name: string; type: string }[]>;

/** EIP-712 types of the message a requester signs to read a job's output from a relayer. */
export const OUTPUT_REQUEST_TYPES = {
  OutputRequest: [
    { name: "jobId", type: "uint256" },
    { name: "expiresAt", type: "uint256" },
  ],
} as const satisfies Record<string, { name: string; type: string }[]>;

/** An output request may be valid for at most this many seconds from the server's clock. */
export const OUTPUT_REQUEST_MAX_TTL_SECONDS = 3600;

/** Default cap on a prompt decoded from an on-chain inputRef (64 KiB). */
export const DEFAULT_MAX_PROMPT_BYTES = 64 * 1024;

/** Prefix of an inline plaintext inputRef. */
export const INLINE_REF_PREFIX = "data:text/plain;base64,";
/** Prefix of an ECIES-encrypted inputRef. */
export const ENCRYPTED_REF_PREFIX = "cinder-enc:v1:";

const HKDF_INFO = "cinder-input-v1";
const EPH_PUB_LEN = 33;
const IV_LEN = 12;
const TAG_LEN = 16;
const ENVELOPE_HEADER_LEN = EPH_PUB_LEN + IV_LEN + TAG_LEN;

/** Why an inputRef could not be decoded. */
export type InputRefErrorCode = "MALFORMED_REF" | "PROMPT_TOO_LARGE" | "DECRYPT_FAILED" | "BAD_KEY";

/** Thrown by {@link decodeInputRef} and {@link encryptInputRef}; `code` tells the caller what went wrong. */
export class InputRefError extends Error {
  constructor(
    readonly code: InputRefErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "InputRefError";
  }
}

/** Result of {@link decodeInputRef}. `prompt` is absent for external refs and for encrypted refs decoded without a key. */
export type DecodedInputRef =
  | { kind: "inline"; prompt: string }
  | { kind: "encrypted"; prompt?: string }
  | { kind: "external"; prompt?: undefined };

/** keccak256 of the UTF-8 bytes of a prompt: the job's on-chain `inputHash`. */
export function promptHash(prompt: string): string {
  return keccak256(toUtf8Bytes(prompt));
}

/** The EIP-712 domain of delivery messages: "Cinder Relayer" v1 on `chainId`, bound to the coordinator. */
export function deliveryDomain(chainId: bigint, coordinator: string): TypedDataDomain {
  return { name: "Cinder Relayer", version: "1", chainId, verifyingContract: getAddress(coordinator) };
}

function typesOf(types: Record<string, readonly { name: string; type: string }[]>) {
  // ethers wants mutable arrays; the exported constants are readonly.
  return Object.fromEntries(Object.entries(types).map(([k, v]) => [k, v.map((f) => ({ ...f }))]));
}

/** Signs `JobInput(jobId, keccak256(prompt))` as the requester. Returns the 65-byte signature (hex). */
export async function signInput(
  signer: TypedDataSigner,
  ctx: DeliveryContext,
  jobId: bigint,
  prompt: string,
): Promise<string> {
  const domain = deliveryDomain(ctx.chainId, ctx.coordinator);
  return signer.signTypedData(domain, typesOf(INPUT_TYPES), { jobId, inputHash: promptHash(prompt) });
}

/**
 * Recovers the address that signed `JobInput(jobId, inputHash)`. Throws if the signature is malformed;
 * a valid signature over other data recovers some other address, so always compare with the expected signer.
 */
export function recoverInputSigner(
  ctx: DeliveryContext,
  jobId: bigint,
  inputHash: string,
  sig: string,
): string {
  const domain = deliveryDomain(ctx.chainId, ctx.coordinator);
  return verifyTypedData(domain, typesOf(INPUT_TYPES), { jobId, inputHash }, sig);
}

/** Signs `OutputRequest(jobId, expiresAt)` (expiresAt in unix seconds) as the requester. */
export async function signOutputRequest(
  signer: TypedDataSigner,
  ctx: DeliveryContext,
  jobId: bigint,
  expiresAt: bigint | number,
): Promise<string> {
  const domain = deliveryDomain(ctx.chainId, ctx.coordinator);
  return signer.signTypedData(domain, typesOf(OUTPUT_REQUEST_TYPES), { jobId, expiresAt: BigInt(expiresAt) });
}

/** Recovers the address that signed `OutputRequest(jobId, expiresAt)`. Throws if the signature is malformed. */
export function recoverOutputRequestSigner(
  ctx: DeliveryContext,
  jobId: bigint,
  expiresAt: bigint | number,
  sig: string,
): string {
  const domain = deliveryDomain(ctx.chainId, ctx.coordinator);
  return verifyTypedData(domain, typesOf(OUTPUT_REQUEST_TYPES), { jobId, expiresAt: BigInt(expiresAt) }, sig);
}

/** Encodes a prompt as a public inline inputRef; returns the on-chain bytes as hex. */
export function encodeInlineRef(prompt: string): string {
  return hexlify(toUtf8Bytes(INLINE_REF_PREFIX + Buffer.from(prompt, "utf8").toString("base64")));
}

function compressedPublicKey(publicKey: BytesLike): Buffer {
  try {
    return Buffer.from(getBytes(SigningKey.computePublicKey(publicKey, true)));
  } catch {
    throw new InputRefError(
      "BAD_KEY",
      "invalid provider public key: pass a secp256k1 public key as hex, compressed (33 bytes, e.g. " +
        "signingKey.compressedPublicKey) or uncompressed (65 bytes, e.g. signingKey.publicKey)",
    );
  }
}

function aesKey(shared: Buffer, ephPub: Buffer): Buffer {
  return Buffer.from(hkdfSync("sha256", shared, ephPub, HKDF_INFO, 32));
}

/**
 * Encrypts a prompt to the provider's secp256k1 public key (compressed or uncompressed hex) and returns the
 * on-chain inputRef bytes as hex: `cinder-enc:v1:<base64(ephPub33 || iv12 || tag16 || ciphertext)>`.
 */
export function encryptInputRef(publicKey: BytesLike, prompt: string): string {
  const recipient = compressedPublicKey(publicKey);
  const ecdh = createECDH("secp256k1");
  ecdh.generateKeys();
  const ephPub = ecdh.getPublicKey(null, "compressed");
  const key = aesKey(ecdh.computeSecret(recipient), ephPub);
  const iv = randomBytes(IV_LEN);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  const ciphertext = Buffer.concat([cipher.update(prompt, "utf8"), cipher.final()]);
  const envelope = Buffer.concat([ephPub, iv, cipher.getAuthTag(), ciphertext]);
  return hexlify(toUtf8Bytes(ENCRYPTED_REF_PREFIX + envelope.toString("base64")));
}

const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

/** Strict base64: canonical alphabet, padding, and no stray bits (Buffer.from silently skips bad characters). */
function decodeBase64Strict(b64: string, what: string): Buffer {
  if (b64.length % 4 !== 0 || !BASE64_RE.test(b64)) {
    throw new InputRefError("MALFORMED_REF", `${what}: invalid base64 (use standard padded base64)`);
  }
  const bytes = Buffer.from(b64, "base64");
  if (bytes.toString("base64") !== b64) {
    throw new InputRefError("MALFORMED_REF", `${what}: non-canonical base64`);
  }
  return bytes;
}

const utf8Fatal = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function decodeUtf8(bytes: Uint8Array, what: string): string {
  try {
    return utf8Fatal.decode(bytes);
  } catch {
    throw new InputRefError("MALFORMED_REF", `${what}: the prompt is not valid UTF-8`);
  }
}

function startsWith(bytes: Uint8Array, prefix: string): boolean {
  const p = Buffer.from(prefix, "utf8");
  return bytes.length >= p.length && Buffer.from(bytes.buffer, bytes.byteOffset, p.length).equals(p);
}

function base64Budget(decodedBytes: number): number {
  return Math.ceil(decodedBytes / 3) * 4;
}

function privateKeyBytes(privateKey: BytesLike | { privateKey: string }): Buffer {
  const raw =
    typeof privateKey === "object" && "privateKey" in privateKey ? privateKey.privateKey : privateKey;
  let bytes: Uint8Array;
  try {
    bytes = getBytes(raw);
  } catch {
    throw new InputRefError(
      "BAD_KEY",
      "invalid provider private key: pass 32 bytes as 0x-prefixed hex or a Wallet",
    );
  }
  if (bytes.length !== 32) {
    throw new InputRefError("BAD_KEY", "invalid provider private key: expected 32 bytes");
  }
  return Buffer.from(bytes);
}

function decrypt(envelope: Buffer, privateKey: BytesLike | { privateKey: string }): Buffer {
  const ephPub = envelope.subarray(0, EPH_PUB_LEN);
  const iv = envelope.subarray(EPH_PUB_LEN, EPH_PUB_LEN + IV_LEN);
  const tag = envelope.subarray(EPH_PUB_LEN + IV_LEN, ENVELOPE_HEADER_LEN);
  const ciphertext = envelope.subarray(ENVELOPE_HEADER_LEN);
  const ecdh = createECDH("secp256k1");
  try {
    ecdh.setPrivateKey(privateKeyBytes(privateKey));
  } catch (err) {
    if (err instanceof InputRefError) throw err;
    throw new InputRefError("BAD_KEY", "invalid provider private key: not a valid secp256k1 scalar");
  }
  let shared: Buffer;
  try {
    shared = ecdh.computeSecret(ephPub);
  } catch {
    throw new InputRefError(
      "MALFORMED_REF",
      "encrypted inputRef: the ephemeral public key is not a secp256k1 point",
    );
  }
  try {
    const decipher = createDecipheriv("aes-256-gcm", aesKey(shared, ephPub), iv, { authTagLength: TAG_LEN });
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch {
    throw new InputRefError(
      "DECRYPT_FAILED",
      "encrypted inputRef: authentication failed (encrypted to another provider's key, or corrupted); " +
        "ask the requester to deliver the prompt over HTTP",
    );
  }
}

/**
 * Decodes the on-chain `inputRef` bytes of a job.
 *
 * - inline: returns the plaintext prompt.
 * - encrypted: decrypts with `privateKey` (hex or a Wallet/SigningKey); without a key returns `{ kind: "encrypted" }`
 *   (e.g. a watcher that cannot re-execute a private job).
 * - anything else (including bytes that are not UTF-8): `{ kind: "external" }`.
 *
 * Throws {@link InputRefError} for a malformed inline/encrypted ref (bad base64, truncated envelope, invalid UTF-8),
 * a prompt larger than `maxBytes`, or a ciphertext that does not authenticate under the key. Never returns garbage.
 */
export function decodeInputRef(
  refHex: BytesLike,
  privateKey?: BytesLike | { privateKey: string },
  maxBytes: number = DEFAULT_MAX_PROMPT_BYTES,
): DecodedInputRef {
  let bytes: Uint8Array;
  try {
    bytes = getBytes(refHex);
  } catch {
    throw new InputRefError("MALFORMED_REF", "inputRef: expected 0x-prefixed hex bytes");
  }

  if (startsWith(bytes, INLINE_REF_PREFIX)) {
    const b64Len = bytes.length - Buffer.byteLength(INLINE_REF_PREFIX);
    if (b64Len > base64Budget(maxBytes)) {
      throw new InputRefError("PROMPT_TOO_LARGE", `inline inputRef: the prompt exceeds ${maxBytes} bytes`);
    }
    const b64 = Buffer.from(bytes).toString("latin1").slice(INLINE_REF_PREFIX.length);
    const raw = decodeBase64Strict(b64, "inline inputRef");
    if (raw.length > maxBytes) {
      throw new InputRefError("PROMPT_TOO_LARGE", `inline inputRef: the prompt exceeds ${maxBytes} bytes`);
    }
    return { kind: "inline", prompt: decodeUtf8(raw, "inline inputRef") };
  }

  if (startsWith(bytes, ENCRYPTED_REF_PREFIX)) {
    const b64Len = bytes.length - Buffer.byteLength(ENCRYPTED_REF_PREFIX);
    if (b64Len > base64Budget(maxBytes + ENVELOPE_HEADER_LEN)) {
      throw new InputRefError("PROMPT_TOO_LARGE", `encrypted inputRef: the prompt exceeds ${maxBytes} bytes`);
    }
    const b64 = Buffer.from(bytes).toString("latin1").slice(ENCRYPTED_REF_PREFIX.length);
    const envelope = decodeBase64Strict(b64, "encrypted inputRef");
    if (envelope.length < ENVELOPE_HEADER_LEN) {
      throw new InputRefError(
        "MALFORMED_REF",
        `encrypted inputRef: truncated (${envelope.length} bytes; the header alone is ${ENVELOPE_HEADER_LEN})`,
      );
    }
    if (envelope.length - ENVELOPE_HEADER_LEN > maxBytes) {
      throw new InputRefError("PROMPT_TOO_LARGE", `encrypted inputRef: the prompt exceeds ${maxBytes} bytes`);
    }
    if (privateKey === undefined) return { kind: "encrypted" };
    return { kind: "encrypted", prompt: decodeUtf8(decrypt(envelope, privateKey), "encrypted inputRef") };
  }

  // Refs that look like one of ours but are not exactly it are mistakes, not external references.
  if (startsWith(bytes, "data:")) {
    throw new InputRefError(
      "MALFORMED_REF",
      `inline inputRef: unsupported data URI (use "${INLINE_REF_PREFIX}")`,
    );
  }
  if (startsWith(bytes, "cinder-enc:")) {
    throw new InputRefError(
      "MALFORMED_REF",
      `encrypted inputRef: unsupported version (use "${ENCRYPTED_REF_PREFIX}")`,
    );
  }
  return { kind: "external" };
}
