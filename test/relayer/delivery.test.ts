import { expect } from "chai";
import { createCipheriv, createECDH, hkdfSync, randomBytes } from "node:crypto";
import { Wallet, getBytes, hexlify, keccak256, toUtf8Bytes, toUtf8String } from "ethers";
import {
  DEFAULT_MAX_PROMPT_BYTES,
  ENCRYPTED_REF_PREFIX,
  INLINE_REF_PREFIX,
  InputRefError,
  decodeInputRef,
  deliveryDomain,
  encodeInlineRef,
  encryptInputRef,
  promptHash,
  recoverInputSigner,
  recoverOutputRequestSigner,
  signInput,
  signOutputRequest,
  type DeliveryContext,
} from "../../relayer/delivery";

const ref = (s: string) => hexlify(toUtf8Bytes(s));

function expectRefError(fn: () => unknown, code: string, pattern: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, "expected an InputRefError").to.be.instanceOf(InputRefError);
  expect((caught as InputRefError).code).to.equal(code);
  expect((caught as Error).message).to.match(pattern);
}

/** Base64 payload of an encrypted ref, decoded. */
function envelopeOf(refHex: string): Buffer {
  return Buffer.from(toUtf8String(refHex).slice(ENCRYPTED_REF_PREFIX.length), "base64");
}
function refOfEnvelope(envelope: Buffer): string {
  return ref(ENCRYPTED_REF_PREFIX + envelope.toString("base64"));
}

describe("relayer/delivery", () => {
  const provider = new Wallet("0x" + "11".repeat(32));
  const other = new Wallet("0x" + "22".repeat(32));
  const requester = new Wallet("0x" + "33".repeat(32));
  const ctx: DeliveryContext = { chainId: 31337n, coordinator: "0x" + "c0".repeat(20) };
  const prompt = "Write a haiku about embers. ✨ ünïcödé\nline two";

  describe("promptHash and domain", () => {
    it("promptHash is keccak256 of the UTF-8 bytes", () => {
      expect(promptHash(prompt)).to.equal(keccak256(toUtf8Bytes(prompt)));
    });
    it("the domain is Cinder Relayer v1 on the chain, bound to the coordinator", () => {
      const d = deliveryDomain(ctx.chainId, ctx.coordinator);
      expect(d).to.include({ name: "Cinder Relayer", version: "1", chainId: 31337n });
      expect(d.verifyingContract?.toLowerCase()).to.equal(ctx.coordinator);
    });
  });

  describe("inline refs", () => {
    it("round-trips a prompt, including non-ASCII text", () => {
      const hex = encodeInlineRef(prompt);
      expect(toUtf8String(hex).startsWith(INLINE_REF_PREFIX)).to.equal(true);
      expect(decodeInputRef(hex)).to.deep.equal({ kind: "inline", prompt });
    });
    it("round-trips an empty prompt", () => {
      expect(decodeInputRef(encodeInlineRef(""))).to.deep.equal({ kind: "inline", prompt: "" });
    });
    it("accepts Uint8Array input", () => {
      expect(decodeInputRef(getBytes(encodeInlineRef("hi")))).to.deep.equal({ kind: "inline", prompt: "hi" });
    });
    it("rejects malformed base64", () => {
      expectRefError(
        () => decodeInputRef(ref(INLINE_REF_PREFIX + "aGVsbG8*")),
        "MALFORMED_REF",
        /invalid base64/,
      );
      expectRefError(
        () => decodeInputRef(ref(INLINE_REF_PREFIX + "aGVsbG8")),
        "MALFORMED_REF",
        /invalid base64/,
      );
      expectRefError(
        () => decodeInputRef(ref(INLINE_REF_PREFIX + "aGV sbG8=")),
        "MALFORMED_REF",
        /invalid base64/,
      );
      // "aGVsbG9=" has non-zero padding bits: Buffer.from would silently accept it
      expectRefError(
        () => decodeInputRef(ref(INLINE_REF_PREFIX + "aGVsbG9=")),
        "MALFORMED_REF",
        /non-canonical/,
      );
    });
    it("rejects a prompt that is not UTF-8", () => {
      const bad = Buffer.from([0xff, 0xfe, 0x41]).toString("base64");
      expectRefError(() => decodeInputRef(ref(INLINE_REF_PREFIX + bad)), "MALFORMED_REF", /not valid UTF-8/);
    });
    it("rejects other data URIs instead of treating them as external", () => {
      expectRefError(
        () => decodeInputRef(ref("data:text/html;base64,aGk=")),
        "MALFORMED_REF",
        /unsupported data URI/,
      );
      expectRefError(
        () => decodeInputRef(ref("data:text/plain,hi")),
        "MALFORMED_REF",
        /unsupported data URI/,
      );
    });
    it("enforces maxBytes (default 64 KiB)", () => {
      const big = "a".repeat(DEFAULT_MAX_PROMPT_BYTES + 1);
      expectRefError(() => decodeInputRef(encodeInlineRef(big)), "PROMPT_TOO_LARGE", /exceeds 65536 bytes/);
      const exact = "a".repeat(DEFAULT_MAX_PROMPT_BYTES);
      expect(decodeInputRef(encodeInlineRef(exact)).prompt).to.equal(exact);
      expectRefError(
        () => decodeInputRef(encodeInlineRef("abcdef"), undefined, 5),
        "PROMPT_TOO_LARGE",
        /5 bytes/,
      );
      expect(decodeInputRef(encodeInlineRef("abcde"), undefined, 5).prompt).to.equal("abcde");
    });
    it("rejects input that is not hex bytes", () => {
      expectRefError(() => decodeInputRef("not hex"), "MALFORMED_REF", /hex/);
    });
  });

  describe("encrypted refs", () => {
    it("round-trips with a compressed public key and the provider Wallet", () => {
      const hex = encryptInputRef(provider.signingKey.compressedPublicKey, prompt);
      expect(toUtf8String(hex).startsWith(ENCRYPTED_REF_PREFIX)).to.equal(true);
      expect(decodeInputRef(hex, provider)).to.deep.equal({ kind: "encrypted", prompt });
    });
    it("round-trips with an uncompressed public key and a private key hex", () => {
      const hex = encryptInputRef(provider.signingKey.publicKey, prompt);
      expect(decodeInputRef(hex, provider.privateKey)).to.deep.equal({ kind: "encrypted", prompt });
    });
    it("uses a fresh ephemeral key and IV for each encryption", () => {
      const a = envelopeOf(encryptInputRef(provider.signingKey.publicKey, prompt));
      const b = envelopeOf(encryptInputRef(provider.signingKey.publicKey, prompt));
      expect(a.subarray(0, 33).equals(b.subarray(0, 33))).to.equal(false);
      expect(a.subarray(33, 45).equals(b.subarray(33, 45))).to.equal(false);
      expect(a.length).to.equal(33 + 12 + 16 + Buffer.byteLength(prompt));
    });
    it("decrypts an envelope built independently from the documented format", () => {
      // ECDH secp256k1 → HKDF-SHA256(shared, salt = ephPub33, info "cinder-input-v1") → AES-256-GCM
      const eph = createECDH("secp256k1");
      eph.generateKeys();
      const ephPub = eph.getPublicKey(null, "compressed");
      const shared = eph.computeSecret(Buffer.from(getBytes(provider.signingKey.publicKey)));
      const key = Buffer.from(hkdfSync("sha256", shared, ephPub, "cinder-input-v1", 32));
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", key, iv);
      const ct = Buffer.concat([cipher.update(prompt, "utf8"), cipher.final()]);
      const env = Buffer.concat([ephPub, iv, cipher.getAuthTag(), ct]);
      expect(decodeInputRef(refOfEnvelope(env), provider)).to.deep.equal({ kind: "encrypted", prompt });
    });
    it("without a key reports kind encrypted and no prompt", () => {
      const hex = encryptInputRef(provider.signingKey.publicKey, prompt);
      expect(decodeInputRef(hex)).to.deep.equal({ kind: "encrypted" });
    });
    it("fails with another provider's key", () => {
      const hex = encryptInputRef(provider.signingKey.publicKey, prompt);
      expectRefError(() => decodeInputRef(hex, other), "DECRYPT_FAILED", /authentication failed/);
    });
    it("fails on a tampered ciphertext, tag, IV or ephemeral key", () => {
      const env = envelopeOf(encryptInputRef(provider.signingKey.publicKey, prompt));
      for (const index of [env.length - 1, 33 + 12 + 3, 33 + 2]) {
        const t = Buffer.from(env);
        t[index] ^= 0x01;
        expectRefError(
          () => decodeInputRef(refOfEnvelope(t), provider),
          "DECRYPT_FAILED",
          /authentication failed/,
        );
      }
      // flipping the ephemeral key's x coordinate yields another point or none at all: either way an error
      const t = Buffer.from(env);
      t[10] ^= 0x01;
      expect(() => decodeInputRef(refOfEnvelope(t), provider)).to.throw(InputRefError);
    });
    it("fails on a truncated envelope", () => {
      const env = envelopeOf(encryptInputRef(provider.signingKey.publicKey, prompt));
      // cut into the ciphertext: authentication fails
      expectRefError(
        () => decodeInputRef(refOfEnvelope(env.subarray(0, env.length - 5)), provider),
        "DECRYPT_FAILED",
        /authentication failed/,
      );
      // shorter than the header: truncated, even without a key
      expectRefError(() => decodeInputRef(refOfEnvelope(env.subarray(0, 40))), "MALFORMED_REF", /truncated/);
      expectRefError(
        () => decodeInputRef(refOfEnvelope(env.subarray(0, 60)), provider),
        "MALFORMED_REF",
        /truncated/,
      );
    });
    it("rejects an invalid ephemeral public key", () => {
      const env = envelopeOf(encryptInputRef(provider.signingKey.publicKey, prompt));
      env[0] = 0x05; // not a compressed point prefix
      expectRefError(
        () => decodeInputRef(refOfEnvelope(env), provider),
        "MALFORMED_REF",
        /ephemeral public key/,
      );
    });
    it("rejects malformed base64 and unknown versions", () => {
      expectRefError(
        () => decodeInputRef(ref(ENCRYPTED_REF_PREFIX + "%%%%")),
        "MALFORMED_REF",
        /invalid base64/,
      );
      expectRefError(() => decodeInputRef(ref("cinder-enc:v2:AAAA")), "MALFORMED_REF", /unsupported version/);
    });
    it("enforces maxBytes on the plaintext size", () => {
      const hex = encryptInputRef(provider.signingKey.publicKey, "x".repeat(100));
      expectRefError(() => decodeInputRef(hex, provider, 99), "PROMPT_TOO_LARGE", /99 bytes/);
      expect(decodeInputRef(hex, provider, 100).prompt).to.equal("x".repeat(100));
    });
    it("rejects an invalid public or private key", () => {
      expectRefError(() => encryptInputRef("0x1234", prompt), "BAD_KEY", /public key/);
      const hex = encryptInputRef(provider.signingKey.publicKey, prompt);
      expectRefError(() => decodeInputRef(hex, "0x1234"), "BAD_KEY", /private key/);
      expectRefError(() => decodeInputRef(hex, "0x" + "00".repeat(32)), "BAD_KEY", /private key/);
    });
  });

  describe("external refs", () => {
    it("treats other strings and non-UTF-8 bytes as external", () => {
      expect(
        decodeInputRef(ref("ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi")),
      ).to.deep.equal({
        kind: "external",
      });
      expect(decodeInputRef(ref("https://requester.example/prompts/7"))).to.deep.equal({ kind: "external" });
      expect(decodeInputRef("0x")).to.deep.equal({ kind: "external" });
      expect(decodeInputRef("0xdeadbeef")).to.deep.equal({ kind: "external" });
    });
  });

  describe("EIP-712 signatures", () => {
    const jobId = 42n;
    const inputHash = promptHash(prompt);

    it("signInput is recovered as the requester", async () => {
      const sig = await signInput(requester, ctx, jobId, prompt);
      expect(recoverInputSigner(ctx, jobId, inputHash, sig)).to.equal(requester.address);
    });
    it("an input signature does not transfer to another jobId, chainId, coordinator or prompt", async () => {
      const sig = await signInput(requester, ctx, jobId, prompt);
      const others = [
        recoverInputSigner(ctx, jobId + 1n, inputHash, sig),
        recoverInputSigner({ ...ctx, chainId: 1n }, jobId, inputHash, sig),
        recoverInputSigner({ ...ctx, coordinator: "0x" + "c1".repeat(20) }, jobId, inputHash, sig),
        recoverInputSigner(ctx, jobId, promptHash(prompt + " "), sig),
      ];
      for (const addr of others) expect(addr).to.not.equal(requester.address);
    });
    it("signOutputRequest is recovered as the requester and binds expiresAt", async () => {
      const sig = await signOutputRequest(requester, ctx, jobId, 1_900_000_000);
      expect(recoverOutputRequestSigner(ctx, jobId, 1_900_000_000n, sig)).to.equal(requester.address);
      expect(recoverOutputRequestSigner(ctx, jobId, 1_900_000_001n, sig)).to.not.equal(requester.address);
      expect(recoverOutputRequestSigner(ctx, jobId + 1n, 1_900_000_000n, sig)).to.not.equal(
        requester.address,
      );
      expect(recoverOutputRequestSigner({ ...ctx, chainId: 5n }, jobId, 1_900_000_000n, sig)).to.not.equal(
        requester.address,
      );
      expect(
        recoverOutputRequestSigner(
          { ...ctx, coordinator: "0x" + "c1".repeat(20) },
          jobId,
          1_900_000_000n,
          sig,
        ),
      ).to.not.equal(requester.address);
    });
    it("an input signature is not an output request signature", async () => {
      const sig = await signInput(requester, ctx, jobId, prompt);
      expect(recoverOutputRequestSigner(ctx, jobId, BigInt(inputHash), sig)).to.not.equal(requester.address);
    });
    it("a malformed signature throws", () => {
      expect(() => recoverInputSigner(ctx, jobId, inputHash, "0x1234")).to.throw();
    });
  });
});
