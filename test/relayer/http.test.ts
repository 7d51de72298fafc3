import { expect } from "chai";
import http from "node:http";
import { Writable } from "node:stream";
import { Wallet, keccak256, toUtf8Bytes } from "ethers";
import pino from "pino";
import { RelayerClient, RelayerHttpError } from "../../relayer/client";
import { promptHash, signInput, signOutputRequest, type DeliveryContext } from "../../relayer/delivery";
import {
  InputConflictError,
  createRelayerHttpServer,
  parseJobId,
  type DeliveryBackend,
  type DeliveryJob,
  type RelayerHttpServer,
} from "../../relayer/http/server";
import { RelayerMetrics } from "../../relayer/metrics";

const MAX_PROMPT = 1024;

/** In-memory DeliveryBackend: jobs by id, prompts delivered, a switchable health. */
class FakeBackend implements DeliveryBackend {
  readonly jobs = new Map<bigint, DeliveryJob>();
  readonly prompts = new Map<bigint, string>();
  readonly conflicting = new Set<bigint>();
  healthy = true;

  jobForDelivery(jobId: bigint): DeliveryJob | undefined {
    if (jobId === 13n) throw new Error("database is locked");
    return this.jobs.get(jobId);
  }
  deliverInput(jobId: bigint, prompt: string): "stored" | "duplicate" {
    if (this.conflicting.has(jobId)) throw new InputConflictError();
    const existing = this.prompts.get(jobId);
    if (existing !== undefined) {
      if (existing !== prompt) throw new InputConflictError();
      return "duplicate";
    }
    this.prompts.set(jobId, prompt);
    const job = this.jobs.get(jobId);
    if (job) job.hasInput = true;
    return "stored";
  }
  health() {
    return { ok: this.healthy, head: 123, processed: 120 };
  }
  info() {
    return { address: "0x00000000000000000000000000000000000000aa", publicKey: "0x02ab", models: ["m"] };
  }
  jobCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const job of this.jobs.values()) counts[job.state] = (counts[job.state] ?? 0) + 1;
    return counts;
  }
}

async function expectHttpError(p: Promise<unknown>, status: number, code: string): Promise<RelayerHttpError> {
  try {
    await p;
  } catch (err) {
    expect(err).to.be.instanceOf(RelayerHttpError);
    const e = err as RelayerHttpError;
    expect({ status: e.status, code: e.code }).to.deep.equal({ status, code });
    expect(e.message).to.be.a("string").and.not.equal("");
    return e;
  }
  expect.fail(`expected HTTP ${status} ${code}`);
}

/** A raw request with node:http (fetch cannot send everything we need to test). */
function rawRequest(
  port: number,
  opts: { method: string; path: string; headers?: http.OutgoingHttpHeaders; body?: string | Buffer },
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port, method: opts.method, path: opts.path, headers: opts.headers, agent: false },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on("error", reject);
    req.end(opts.body);
  });
}

describe("relayer/http server + client", () => {
  const requester = new Wallet("0x" + "33".repeat(32));
  const stranger = new Wallet("0x" + "44".repeat(32));
  const ctx: DeliveryContext = { chainId: 31337n, coordinator: "0x" + "c0".repeat(20) };
  const prompt = "Tell me about embers. ✨";
  const outputText = "Embers glow after the flame.";

  let backend: FakeBackend;
  let metrics: RelayerMetrics;
  let server: RelayerHttpServer;
  let port: number;
  let base: string;
  let client: RelayerClient;

  const job = (over: Partial<DeliveryJob> = {}): DeliveryJob => ({
    requester: requester.address,
    inputHash: promptHash(prompt),
    state: "Accepted",
    hasInput: false,
    output: null,
    ...over,
  });

  before(async () => {
    backend = new FakeBackend();
    backend.jobs.set(1n, job());
    backend.jobs.set(2n, job({ requester: requester.address.toLowerCase() }));
    backend.jobs.set(3n, job());
    backend.conflicting.add(3n);
    backend.jobs.set(4n, job());
    backend.jobs.set(
      5n,
      job({
        state: "Submitted",
        hasInput: true,
        output: { text: outputText, outputHash: keccak256(toUtf8Bytes(outputText)), unitsUsed: 7 },
      }),
    );
    backend.jobs.set(0n, job());
    metrics = new RelayerMetrics();
    server = createRelayerHttpServer({
      host: "127.0.0.1",
      port: 0,
      chainId: ctx.chainId,
      coordinator: ctx.coordinator,
      maxPromptBytes: MAX_PROMPT,
      backend,
      metrics,
      logger: pino({ level: "silent" }),
    });
    ({ port } = await server.listen());
    expect(port).to.be.greaterThan(0);
    base = `http://127.0.0.1:${port}`;
    client = new RelayerClient(base + "/");
  });

  after(async () => {
    await server.close();
  });

  const postInput = (jobId: string, body: string, contentType = "application/json") =>
    fetch(`${base}/v1/jobs/${jobId}/input`, {
      method: "POST",
      headers: { "content-type": contentType },
      body,
    });

  async function expectError(res: Response, status: number, code: string): Promise<void> {
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect({ status: res.status, code: body.error.code }).to.deep.equal({ status, code });
    expect(body.error.message).to.be.a("string").with.length.greaterThan(10);
  }

  describe("POST /v1/jobs/:jobId/input", () => {
    it("stores a signed prompt (202), then reports a duplicate (200)", async () => {
      expect(await client.sendInput(requester, ctx, 1n, prompt)).to.equal("stored");
      expect(backend.prompts.get(1n)).to.equal(prompt);
      expect(await client.sendInput(requester, ctx, 1n, prompt)).to.equal("duplicate");

      const sig = await signInput(requester, ctx, 2n, prompt);
      const res = await postInput(
        "2",
        JSON.stringify({ prompt, signature: sig }),
        "application/json; charset=UTF-8",
      );
      expect(res.status).to.equal(202);
      expect(await res.json()).to.deep.equal({ jobId: "2", status: "stored" });
      const again = await postInput("2", JSON.stringify({ prompt, signature: sig }));
      expect(again.status).to.equal(200);
      expect(await again.json()).to.deep.equal({ jobId: "2", status: "duplicate" });
    });

    it("accepts jobId 0", async () => {
      expect(await client.sendInput(requester, ctx, 0n, prompt)).to.equal("stored");
    });

    it("401 BAD_SIGNATURE when the signer is not the requester", async () => {
      await expectHttpError(client.sendInput(stranger, ctx, 4n, prompt), 401, "BAD_SIGNATURE");
      expect(backend.prompts.has(4n)).to.equal(false);
    });

    it("401 BAD_SIGNATURE for the requester's signature bound to another chain, coordinator or job", async () => {
      await expectHttpError(
        client.sendInput(requester, { ...ctx, chainId: 1n }, 4n, prompt),
        401,
        "BAD_SIGNATURE",
      );
      await expectHttpError(
        client.sendInput(requester, { ...ctx, coordinator: "0x" + "c1".repeat(20) }, 4n, prompt),
        401,
        "BAD_SIGNATURE",
      );
      const sigForJob1 = await signInput(requester, ctx, 1n, prompt);
      await expectError(
        await postInput("4", JSON.stringify({ prompt, signature: sigForJob1 })),
        401,
        "BAD_SIGNATURE",
      );
      // a signature of the right length that recovers to nothing valid
      const garbage = "0x" + "ff".repeat(65);
      await expectError(
        await postInput("4", JSON.stringify({ prompt, signature: garbage })),
        401,
        "BAD_SIGNATURE",
      );
      expect(backend.prompts.has(4n)).to.equal(false);
    });

    it("400 INPUT_HASH_MISMATCH for another prompt, even signed by the requester", async () => {
      await expectHttpError(client.sendInput(requester, ctx, 4n, prompt + "!"), 400, "INPUT_HASH_MISMATCH");
      expect(backend.prompts.has(4n)).to.equal(false);
    });

    it("404 UNKNOWN_JOB for a job the relayer has not seen", async () => {
      const e = await expectHttpError(client.sendInput(requester, ctx, 999n, prompt), 404, "UNKNOWN_JOB");
      expect(e.message).to.match(/retry/);
    });

    it("409 INPUT_CONFLICT when the backend holds another prompt", async () => {
      await expectHttpError(client.sendInput(requester, ctx, 3n, prompt), 409, "INPUT_CONFLICT");
    });

    it("400 BAD_REQUEST for bad JSON and bad fields", async () => {
      const sig = await signInput(requester, ctx, 4n, prompt);
      const bodies = [
        "{not json",
        "",
        "[]",
        "null",
        '"text"',
        JSON.stringify({ signature: sig }),
        JSON.stringify({ prompt: 42, signature: sig }),
        JSON.stringify({ prompt }),
        JSON.stringify({ prompt, signature: "0x1234" }),
        JSON.stringify({ prompt, signature: sig.slice(2) }),
      ];
      for (const body of bodies) await expectError(await postInput("4", body), 400, "BAD_REQUEST");
      // invalid UTF-8 in the body
      const res = await fetch(`${base}/v1/jobs/4/input`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: Buffer.concat([
          Buffer.from('{"prompt":"'),
          Buffer.from([0xff, 0xfe]),
          Buffer.from(`","signature":"${sig}"}`),
        ]),
      });
      await expectError(res, 400, "BAD_REQUEST");
      expect(backend.prompts.has(4n)).to.equal(false);
    });

    it("415 for a body that is not declared as UTF-8 JSON", async () => {
      const body = JSON.stringify({ prompt, signature: await signInput(requester, ctx, 4n, prompt) });
      for (const type of [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/json; charset=latin1",
      ]) {
        await expectError(await postInput("4", body, type), 415, "UNSUPPORTED_MEDIA_TYPE");
      }
      const none = await rawRequest(port, { method: "POST", path: "/v1/jobs/4/input", body });
      expect(none.status).to.equal(415);
      expect(backend.prompts.has(4n)).to.equal(false);
    });

    it("400 BAD_REQUEST for a jobId that is not a decimal uint256", async () => {
      const body = JSON.stringify({ prompt, signature: await signInput(requester, ctx, 1n, prompt) });
      const tooBig = (1n << 256n).toString();
      for (const id of ["abc", "-1", "1.5", "0x10", "1e3", "%31", tooBig, "9".repeat(100)]) {
        await expectError(await postInput(id, body), 400, "BAD_REQUEST");
      }
      const maxId = ((1n << 256n) - 1n).toString();
      await expectError(await postInput(maxId, body), 404, "UNKNOWN_JOB");
      expect(parseJobId(maxId)).to.equal((1n << 256n) - 1n);
      expect(parseJobId(tooBig)).to.equal(undefined);
      expect(parseJobId("")).to.equal(undefined);
    });

    it("413 for a declared oversized body, without waiting for it; the server stays healthy", async () => {
      const res = await fetch(`${base}/v1/jobs/4/input`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: Buffer.alloc(8 * 1024 * 1024, 0x61),
      });
      await expectError(res, 413, "PROMPT_TOO_LARGE");
      expect(res.headers.get("connection")).to.equal("close");
      expect((await client.health()).ok).to.equal(true);
      expect(await client.sendInput(requester, ctx, 4n, prompt)).to.equal("stored");
    });

    it("413 as soon as a streamed body passes the limit, before the client has finished sending", async () => {
      // 64 KiB, past the body limit (1024 × 6 + 4096), and the request is never ended: the server must answer
      // without waiting for the rest (if it buffered to the end, this would hang until the test times out).
      const result = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request(
          {
            host: "127.0.0.1",
            port,
            method: "POST",
            path: "/v1/jobs/4/input",
            headers: { "content-type": "application/json", "transfer-encoding": "chunked" },
            agent: false,
          },
          (res) => {
            let body = "";
            res.on("data", (d) => (body += d));
            res.on("end", () => {
              resolve({ status: res.statusCode ?? 0, body });
              req.destroy();
            });
          },
        );
        req.on("error", reject);
        req.write(Buffer.alloc(64 * 1024, 0x61));
      });
      expect(result.status).to.equal(413);
      expect(JSON.parse(result.body).error.code).to.equal("PROMPT_TOO_LARGE");
      expect((await client.health()).ok).to.equal(true);
    });

    it("413 for a prompt over maxPromptBytes inside a body under the body limit", async () => {
      const big = "é".repeat(MAX_PROMPT / 2 + 1); // 1026 UTF-8 bytes, 513 characters
      backend.jobs.set(6n, job({ inputHash: promptHash(big) }));
      await expectHttpError(client.sendInput(requester, ctx, 6n, big), 413, "PROMPT_TOO_LARGE");
      const sig = await signInput(requester, ctx, 6n, big);
      const res = await postInput("6", JSON.stringify({ prompt: big, signature: sig }));
      expect(res.headers.get("connection")).to.equal("keep-alive"); // the body was read in full
      await expectError(res, 413, "PROMPT_TOO_LARGE");
      expect(backend.prompts.has(6n)).to.equal(false);
      const fits = "é".repeat(MAX_PROMPT / 2); // exactly the limit
      backend.jobs.set(7n, job({ inputHash: promptHash(fits) }));
      expect(await client.sendInput(requester, ctx, 7n, fits)).to.equal("stored");
    });

    it("405 for another method", async () => {
      const res = await fetch(`${base}/v1/jobs/1/input`);
      expect(res.headers.get("allow")).to.equal("POST");
      await expectError(res, 405, "METHOD_NOT_ALLOWED");
    });
  });

  describe("GET /v1/jobs/:jobId/output", () => {
    const now = () => Math.floor(Date.now() / 1000);
    const getOutput = (jobId: string, headers: Record<string, string>) =>
      fetch(`${base}/v1/jobs/${jobId}/output`, { headers });

    it("200 with the output for the requester", async () => {
      expect(await client.fetchOutput(requester, ctx, 5n)).to.deep.equal({
        output: outputText,
        outputHash: keccak256(toUtf8Bytes(outputText)),
        unitsUsed: 7,
      });
      const expires = now() + 60;
      const res = await getOutput("5", {
        "x-cinder-expires": String(expires),
        "x-cinder-signature": await signOutputRequest(requester, ctx, 5n, expires),
      });
      expect(res.status).to.equal(200);
      expect(await res.json()).to.deep.equal({
        jobId: "5",
        output: outputText,
        outputHash: keccak256(toUtf8Bytes(outputText)),
        unitsUsed: 7,
      });
    });

    it("202 with the state while not inferred; the client returns null", async () => {
      expect(await client.fetchOutput(requester, ctx, 1n)).to.equal(null);
      const expires = now() + 60;
      const res = await getOutput("1", {
        "x-cinder-expires": String(expires),
        "x-cinder-signature": await signOutputRequest(requester, ctx, 1n, expires),
      });
      expect(res.status).to.equal(202);
      expect(await res.json()).to.deep.equal({ jobId: "1", state: "Accepted" });
    });

    it("401 BAD_SIGNATURE for another signer, another job's signature, or another expiry", async () => {
      await expectHttpError(client.fetchOutput(stranger, ctx, 5n), 401, "BAD_SIGNATURE");
      await expectHttpError(client.fetchOutput(requester, { ...ctx, chainId: 1n }, 5n), 401, "BAD_SIGNATURE");
      const expires = now() + 60;
      const sigJob1 = await signOutputRequest(requester, ctx, 1n, expires);
      await expectError(
        await getOutput("5", { "x-cinder-expires": String(expires), "x-cinder-signature": sigJob1 }),
        401,
        "BAD_SIGNATURE",
      );
      const sig = await signOutputRequest(requester, ctx, 5n, expires);
      await expectError(
        await getOutput("5", { "x-cinder-expires": String(expires + 1), "x-cinder-signature": sig }),
        401,
        "BAD_SIGNATURE",
      );
    });

    it("401 REQUEST_EXPIRED for an expired or too-far expiry, even if correctly signed", async () => {
      for (const expires of [now() - 1, now() - 3600, now() + 3600 + 120, now() + 86_400]) {
        const sig = await signOutputRequest(requester, ctx, 5n, expires);
        await expectError(
          await getOutput("5", { "x-cinder-expires": String(expires), "x-cinder-signature": sig }),
          401,
          "REQUEST_EXPIRED",
        );
      }
    });

    it("401 SIGNATURE_REQUIRED without the headers; 400 for malformed headers", async () => {
      await expectError(await getOutput("5", {}), 401, "SIGNATURE_REQUIRED");
      await expectError(
        await getOutput("5", { "x-cinder-expires": String(now() + 60) }),
        401,
        "SIGNATURE_REQUIRED",
      );
      const sig = await signOutputRequest(requester, ctx, 5n, now() + 60);
      await expectError(
        await getOutput("5", { "x-cinder-expires": "soon", "x-cinder-signature": sig }),
        400,
        "BAD_REQUEST",
      );
      await expectError(
        await getOutput("5", { "x-cinder-expires": String(now() + 60), "x-cinder-signature": "0xzz" }),
        400,
        "BAD_REQUEST",
      );
    });

    it("404 UNKNOWN_JOB and 400 for a bad jobId", async () => {
      await expectHttpError(client.fetchOutput(requester, ctx, 999n), 404, "UNKNOWN_JOB");
      const expires = now() + 60;
      const sig = await signOutputRequest(requester, ctx, 5n, expires);
      await expectError(
        await getOutput("five", { "x-cinder-expires": String(expires), "x-cinder-signature": sig }),
        400,
        "BAD_REQUEST",
      );
    });

    it("405 for POST", async () => {
      const res = await fetch(`${base}/v1/jobs/5/output`, { method: "POST" });
      await expectError(res, 405, "METHOD_NOT_ALLOWED");
    });

    it("the client rejects an output that does not match its outputHash", async () => {
      backend.jobs.set(
        8n,
        job({ output: { text: "tampered", outputHash: keccak256(toUtf8Bytes("x")), unitsUsed: 1 } }),
      );
      await expectHttpError(client.fetchOutput(requester, ctx, 8n), 200, "OUTPUT_HASH_MISMATCH");
    });
  });

  describe("health, status, metrics, unknown routes", () => {
    it("/healthz is 200 when ok and 503 when not", async () => {
      const ok = await fetch(`${base}/healthz`);
      expect(ok.status).to.equal(200);
      expect(await ok.json()).to.deep.equal({ ok: true, head: 123, processed: 120 });
      backend.healthy = false;
      try {
        const down = await fetch(`${base}/healthz`);
        expect(down.status).to.equal(503);
        expect(await down.json()).to.include({ ok: false });
        expect((await client.health()).ok).to.equal(false);
      } finally {
        backend.healthy = true;
      }
    });

    it("/v1/status returns the job counts", async () => {
      expect(await client.status()).to.deep.equal(backend.jobCounts());
      expect(await client.provider()).to.deep.equal(backend.info());
      expect(backend.jobCounts()).to.include({ Submitted: 1 });
    });

    it("/metrics exposes cinder_relayer_ metrics with the backend's job counts", async () => {
      metrics.inferenceTokens.inc({ model: "tiny" }, 5);
      const res = await fetch(`${base}/metrics`);
      expect(res.status).to.equal(200);
      expect(res.headers.get("content-type")).to.equal(metrics.registry.contentType);
      const text = await res.text();
      const counts = backend.jobCounts();
      for (const [state, n] of Object.entries(counts)) {
        expect(text).to.include(`cinder_relayer_jobs{state="${state}"} ${n}`);
      }
      expect(text).to.include('cinder_relayer_inference_tokens_total{model="tiny"} 5');
      expect(text).to.match(
        /cinder_relayer_http_requests_total\{route="\/v1\/jobs\/:jobId\/input",method="POST",status="202"\} \d+/,
      );
      expect(text).to.include("cinder_relayer_http_request_seconds_bucket");
      const names = [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]);
      expect(names.length).to.be.greaterThan(10);
      for (const name of names) expect(name.startsWith("cinder_relayer_"), name).to.equal(true);
    });

    it("404 NOT_FOUND for unknown routes, 405 for a wrong method", async () => {
      for (const path of ["/", "/nope", "/v1/jobs/1", "/v1/jobs/1/input/x", "/metrics/x"]) {
        const res = await fetch(base + path);
        expect(res.headers.get("connection")).to.equal("keep-alive"); // no body left unread: keep the connection
        await expectError(res, 404, "NOT_FOUND");
      }
      // a rejected request whose body was not read closes the connection instead of reading the body
      const withBody = await postInput("not-a-number", JSON.stringify({ prompt: "x".repeat(3000) }));
      expect(withBody.headers.get("connection")).to.equal("close");
      await expectError(withBody, 400, "BAD_REQUEST");
      for (const path of ["/healthz", "/metrics", "/v1/status"]) {
        const res = await fetch(base + path, { method: "DELETE" });
        expect(res.headers.get("allow")).to.equal("GET, HEAD");
        await expectError(res, 405, "METHOD_NOT_ALLOWED");
      }
    });

    it("500 INTERNAL when the backend throws, without leaking the error; the server keeps serving", async () => {
      const res = await fetch(`${base}/v1/jobs/13/output`, {
        headers: {
          "x-cinder-expires": String(Math.floor(Date.now() / 1000) + 60),
          "x-cinder-signature": await signOutputRequest(
            requester,
            ctx,
            13n,
            Math.floor(Date.now() / 1000) + 60,
          ),
        },
      });
      const text = await res.text();
      expect(res.status).to.equal(500);
      expect(JSON.parse(text).error.code).to.equal("INTERNAL");
      expect(text).to.not.include("database is locked");
      expect((await client.health()).ok).to.equal(true);
    });

    it("ignores query strings when routing", async () => {
      expect((await fetch(`${base}/healthz?verbose=1`)).status).to.equal(200);
    });
  });

  describe("logging and lifecycle", () => {
    it("logs rejections without the prompt, and close() ends idle keep-alive connections at once", async () => {
      const lines: Record<string, unknown>[] = [];
      const sink = new Writable({
        write(chunk, _enc, cb) {
          for (const line of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(line));
          cb();
        },
      });
      const b = new FakeBackend();
      b.jobs.set(1n, job());
      const s = createRelayerHttpServer({
        host: "127.0.0.1",
        port: 0,
        chainId: ctx.chainId,
        coordinator: ctx.coordinator,
        maxPromptBytes: MAX_PROMPT,
        backend: b,
        metrics: new RelayerMetrics(),
        logger: pino({ level: "info" }, sink),
      });
      const { port: p } = await s.listen();
      const c = new RelayerClient(`http://127.0.0.1:${p}`);
      await expectHttpError(c.sendInput(stranger, ctx, 1n, prompt), 401, "BAD_SIGNATURE");
      await expectHttpError(c.sendInput(requester, ctx, 42n, prompt), 404, "UNKNOWN_JOB");

      // an idle keep-alive connection must not hold close() for the keep-alive timeout
      const agent = new http.Agent({ keepAlive: true });
      await new Promise<void>((resolve, reject) => {
        http
          .get({ host: "127.0.0.1", port: p, path: "/healthz", agent }, (res) => {
            res.resume();
            res.on("end", () => resolve());
          })
          .on("error", reject);
      });
      expect(Object.keys(agent.sockets).length + Object.keys(agent.freeSockets).length).to.equal(1);
      const t0 = Date.now();
      await s.close();
      expect(Date.now() - t0).to.be.lessThan(1000);
      agent.destroy();
      await s.close(); // idempotent

      const rejected = lines.filter((l) => l.code !== undefined);
      expect(rejected.map((l) => [l.status, l.code, l.level])).to.deep.equal([
        [401, "BAD_SIGNATURE", 40],
        [404, "UNKNOWN_JOB", 30],
      ]);
      expect(JSON.stringify(lines)).to.not.include(prompt);
      await expectHttpError(c.health(), 0, "NETWORK_ERROR");
    });
  });
});
