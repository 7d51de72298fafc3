import { expect } from "chai";
import { createHash } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import {
  createBackend,
  InferenceInputError,
  LlamaBackend,
  llamaBackendSchema,
  modelBackendSchema,
  OpenAiBackend,
  openaiBackendSchema,
  OpenAiHttpError,
  resolveModelFile,
  STORIES260K,
  type GenerateResult,
  type InferenceBackend,
} from "../../relayer/inference";

const MODEL = path.join(__dirname, "../../../shared/models/stories260K.gguf");
const logger = pino({ level: "silent" });
const ONCE = "Once upon a time";

async function expectReject(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected the promise to reject");
}

const tmpDirs: string[] = [];
/** A fresh temporary directory, removed after the suite (even when a test fails). */
function tmpDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cinder-inference-"));
  tmpDirs.push(dir);
  return dir;
}

/** A node:http server whose request handler each test sets. */
async function startServer(): Promise<{
  url: string;
  hits: { path: string; body: string; headers: http.IncomingHttpHeaders }[];
  setHandler: (
    h: (req: http.IncomingMessage, res: http.ServerResponse, body: string, n: number) => void,
  ) => void;
  close: () => Promise<void>;
}> {
  const hits: { path: string; body: string; headers: http.IncomingHttpHeaders }[] = [];
  let handler: (req: http.IncomingMessage, res: http.ServerResponse, body: string, n: number) => void = (
    _q,
    res,
  ) => res.end();
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString("utf8")));
    req.on("end", () => {
      hits.push({ path: req.url ?? "", body, headers: req.headers });
      handler(req, res, body, hits.length);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    setHandler: (h) => {
      handler = h;
      hits.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe("relayer inference", function () {
  after(function () {
    for (const dir of tmpDirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  describe("config schemas", function () {
    it("applies defaults and rejects bad configs with messages that say what to do", function () {
      const llama = llamaBackendSchema.parse({ backend: "llama", model: MODEL });
      expect(llama).to.include({ threads: 1, contextSize: 512, maxTokens: 256, seed: 42 });
      expect(llama.cacheDir).to.equal(path.join(os.homedir(), ".cache", "cinder", "models"));
      const openai = openaiBackendSchema.parse({
        backend: "openai",
        baseUrl: "http://127.0.0.1:8080",
        model: "m",
      });
      expect(openai).to.include({
        api: "completions",
        timeoutMs: 60000,
        retries: 3,
        maxTokens: 256,
        seed: 42,
      });

      const bad = (v: unknown) => {
        const r = modelBackendSchema.safeParse(v);
        expect(r.success, JSON.stringify(v)).to.equal(false);
        return r.error!.issues.map((i) => i.message).join("\n");
      };
      expect(bad({ backend: "gpt" })).to.match(/backend must be "llama" or "openai"/);
      expect(bad({ backend: "llama", model: STORIES260K.url })).to.match(/sha256 is required/);
      expect(
        bad({ backend: "llama", model: "http://example.com/m.gguf", sha256: STORIES260K.sha256 }),
      ).to.match(/https/);
      expect(bad({ backend: "llama", model: MODEL, sha256: "abc" })).to.match(/64 hex/);
      expect(bad({ backend: "llama", model: MODEL, thread: 2 })).to.match(/unknown key\(s\) "thread"/);
      expect(bad({ backend: "llama", model: MODEL, contextSize: 32 })).to.match(/at least 64/);
      expect(bad({ backend: "llama", model: MODEL, maxTokens: 512 })).to.match(/smaller than contextSize/);
      expect(bad({ backend: "openai", baseUrl: "ftp://x", model: "m" })).to.match(/http\(s\) URL/);
      expect(bad({ backend: "openai", baseUrl: "http://x", model: "m", apiKeyEnv: "sk-secret" })).to.match(
        /NAME of an environment variable/,
      );
      expect(bad({ backend: "openai", baseUrl: "http://x", model: "m", api: "chat2" })).to.match(
        /"completions" or "chat"/,
      );
      // sha256 is normalized to lowercase
      const upper = llamaBackendSchema.parse({
        backend: "llama",
        model: MODEL,
        sha256: STORIES260K.sha256.toUpperCase(),
      });
      expect(upper.sha256).to.equal(STORIES260K.sha256);
      expect(() => createBackend({ backend: "llama" } as never, logger)).to.throw(
        /invalid model backend config/,
      );
    });
  });

  describe("llama backend (stories260K)", function () {
    let backend: InferenceBackend;

    before(async function () {
      backend = createBackend(
        { backend: "llama", model: MODEL, threads: 1, maxTokens: 64, sha256: STORIES260K.sha256 },
        logger,
      );
      expect(backend).to.be.instanceOf(LlamaBackend);
      await backend.load();
      await backend.load(); // idempotent
    });
    after(async function () {
      await backend?.close();
    });

    it("completes 'Once upon a time' greedily with exact token counts", async function () {
      const r = await backend.generate(ONCE, { maxTokens: 40, seed: 42 });
      expect(r.text.startsWith(", there was a little girl named Lily")).to.equal(true, r.text);
      expect(r.tokens).to.equal(40);
      expect(r.promptTokens).to.be.greaterThan(1);
      expect(r.timings.totalMs).to.be.greaterThan(0);
      expect(r.timings.firstTokenMs).to.be.a("number");
      expect(r.timings.tokensPerSecond).to.be.greaterThan(0);
      expect(backend.kind).to.equal("llama");
      expect(backend.model).to.equal("stories260K.gguf");
    });

    it("gives the same text for the same prompt, with other jobs in between and concurrently", async function () {
      const a1 = await backend.generate(ONCE, { maxTokens: 60, seed: 42 });
      const b = await backend.generate("The little dog", { maxTokens: 60, seed: 42 });
      const a2 = await backend.generate(ONCE, { maxTokens: 60, seed: 42 });
      expect(b.text).to.not.equal(a1.text);
      expect(a2.text).to.equal(a1.text);
      expect(a2.tokens).to.equal(a1.tokens);
      // concurrent calls are serialized on the single sequence and stay deterministic
      const all = await Promise.all(
        [ONCE, "The little dog", ONCE].map((p) => backend.generate(p, { maxTokens: 60, seed: 7 })),
      );
      expect(all[0].text).to.equal(a1.text);
      expect(all[1].text).to.equal(b.text);
      expect(all[2].text).to.equal(a1.text);
    });

    it("caps output at maxTokens (and at the config's maxTokens)", async function () {
      const r = await backend.generate(ONCE, { maxTokens: 5, seed: 42 });
      expect(r.tokens).to.be.within(1, 5);
      expect(r.text.length).to.be.lessThan(30);
      const capped = await backend.generate(ONCE, { maxTokens: 10_000, seed: 42 });
      expect(capped.tokens).to.equal(64); // config maxTokens
      const zero = await expectReject(backend.generate(ONCE, { maxTokens: 0, seed: 42 }));
      expect(zero).to.be.instanceOf(InferenceInputError);
    });

    it("streams chunks that concatenate to the text, keeping the space before the first word", async function () {
      const chunks: string[] = [];
      const r = await backend.generate("The cat", { maxTokens: 30, seed: 42, onText: (c) => chunks.push(c) });
      expect(chunks.length).to.be.greaterThan(5);
      expect(chunks.join("")).to.equal(r.text);
      expect(r.text.startsWith(" ")).to.equal(true, JSON.stringify(r.text));
    });

    it("stops at stop sequences", async function () {
      const full = await backend.generate(ONCE, { maxTokens: 40, seed: 42 });
      expect(full.text).to.include("park");
      const r = await backend.generate(ONCE, { maxTokens: 40, seed: 42, stop: ["park"] });
      expect(r.text).to.not.include("park");
      expect(full.text.startsWith(r.text)).to.equal(true);
      expect(r.tokens).to.be.lessThan(40);
    });

    it("rejects a prompt that does not fit in the context with InferenceInputError (exact boundary)", async function () {
      const long = "Once upon a time there was a cat. ".repeat(80);
      const e1 = await expectReject(backend.generate(long, { maxTokens: 10, seed: 42 }));
      expect(e1).to.be.instanceOf(InferenceInputError);
      expect(e1.message).to.match(/exceeds the context .*512 tokens.*shorten the prompt or lower maxTokens/);

      // prompt + maxTokens == contextSize is accepted and generates all tokens without a context shift
      const prompt = "Once upon a time there was a cat. ".repeat(14);
      const promptTokens = await (backend as LlamaBackend).countPromptTokens(prompt);
      const tight = new LlamaBackend(
        llamaBackendSchema.parse({ backend: "llama", model: MODEL, contextSize: 512, maxTokens: 511 }),
        logger,
      );
      try {
        const fits = 512 - promptTokens;
        expect(fits).to.be.within(64, 511);
        const ok = await tight.generate(prompt, { maxTokens: fits, seed: 42 });
        expect(ok.promptTokens).to.equal(promptTokens);
        expect(ok.tokens).to.be.at.most(fits);
        const e2 = await expectReject(tight.generate(prompt, { maxTokens: fits + 1, seed: 42 }));
        expect(e2).to.be.instanceOf(InferenceInputError);
        // check() applies the same rule without generating: the relayer calls it before accepting a job.
        await tight.check(prompt, fits);
        expect(await expectReject(tight.check(prompt, fits + 1))).to.be.instanceOf(InferenceInputError);
        expect(await expectReject(tight.check(prompt, 0))).to.be.instanceOf(InferenceInputError);
      } finally {
        await tight.close();
      }
    });

    it("honours an abort signal and refuses work after close", async function () {
      const ctrl = new AbortController();
      ctrl.abort(new Error("job cancelled"));
      const e = await expectReject(backend.generate(ONCE, { maxTokens: 5, seed: 42, signal: ctrl.signal }));
      expect(e.message).to.equal("job cancelled");
      const other = createBackend({ backend: "llama", model: MODEL }, logger);
      await other.close();
      expect((await expectReject(other.generate(ONCE, { maxTokens: 5, seed: 1 }))).message).to.match(
        /closed/,
      );
    });

    it("routes llama.cpp logs to the backend's logger, also with two models loaded", async function () {
      const lines: string[] = [];
      const capture = pino({ level: "debug" }, { write: (s: string) => lines.push(s) });
      const second = createBackend({ backend: "llama", model: MODEL, threads: 1 }, capture);
      try {
        await second.load(); // `backend` (same thread count) is still loaded
        const logs = lines.map((l) => JSON.parse(l) as { msg: string; llamaCpp?: string; model?: string });
        // The model's harmless "bad special token" load warnings are routed at debug, not warn.
        const line = logs.find((l) => /bad special token/.test(l.llamaCpp ?? ""));
        expect(line?.msg).to.equal("llama.cpp");
        expect(line?.model).to.equal("stories260K.gguf");
        expect(logs.some((l) => l.msg === "llama.cpp warning")).to.equal(false);
        expect(logs.some((l) => l.msg === "llama model loaded")).to.equal(true);
        // both models still work after one of them is closed (they share one Llama instance)
        await second.close();
        expect((await backend.generate(ONCE, { maxTokens: 3, seed: 1 })).tokens).to.equal(3);
      } finally {
        await second.close();
      }
    });

    it("fails clearly on a sha256 mismatch, a non-GGUF file and a missing file", async function () {
      const wrong = createBackend({ backend: "llama", model: MODEL, sha256: "0".repeat(64) }, logger);
      const e1 = await expectReject(wrong.load());
      expect(e1.message).to.match(/has sha256 270cba1b.* but the config expects 0{64}/);

      const dir = tmpDir();
      const notGguf = path.join(dir, "model.gguf");
      fs.writeFileSync(notGguf, "this is not a model");
      const e2 = await expectReject(createBackend({ backend: "llama", model: notGguf }, logger).load());
      expect(e2.message).to.match(/is not a GGUF file/);

      const e3 = await expectReject(
        createBackend({ backend: "llama", model: path.join(dir, "missing.gguf") }, logger).load(),
      );
      expect(e3.message).to.match(/does not exist/);
    });
  });

  describe("model download (local HTTP server)", function () {
    let srv: Awaited<ReturnType<typeof startServer>>;
    const bytes = fs.readFileSync(MODEL);

    before(async function () {
      srv = await startServer();
    });
    after(async function () {
      await srv.close();
    });
    const serveModel = () =>
      srv.setHandler((req, res) => {
        if (req.url !== "/stories260K.gguf") {
          res.writeHead(404).end("not found");
          return;
        }
        res.writeHead(200, { "content-type": "application/octet-stream", "content-length": bytes.length });
        // write in pieces so the hash is computed over a real stream
        for (let i = 0; i < bytes.length; i += 100_000) res.write(bytes.subarray(i, i + 100_000));
        res.end();
      });

    it("downloads, verifies and caches; a second call does not hit the server", async function () {
      serveModel();
      const cacheDir = tmpDir();
      const cfg = { model: `${srv.url}/stories260K.gguf`, sha256: STORIES260K.sha256, cacheDir };
      const file = await resolveModelFile(cfg, logger);
      expect(file).to.equal(path.join(cacheDir, `${STORIES260K.sha256}.gguf`));
      expect(createHash("sha256").update(fs.readFileSync(file)).digest("hex")).to.equal(STORIES260K.sha256);
      expect(fs.statSync(file).size).to.equal(STORIES260K.bytes);
      expect(srv.hits.length).to.equal(1);

      expect(await resolveModelFile(cfg, logger)).to.equal(file);
      expect(srv.hits.length).to.equal(1);
      expect(fs.readdirSync(cacheDir)).to.deep.equal([`${STORIES260K.sha256}.gguf`]);

      // a corrupt cached copy is replaced
      fs.writeFileSync(file, "corrupt");
      expect(await resolveModelFile(cfg, logger)).to.equal(file);
      expect(srv.hits.length).to.equal(2);
      expect(fs.statSync(file).size).to.equal(STORIES260K.bytes);

      // the downloaded file is usable by the llama backend (whose llama.cpp logs still reach its logger after
      // every earlier backend was closed)
      const lines: string[] = [];
      const capture = pino({ level: "debug" }, { write: (line: string) => lines.push(line) });
      const b = createBackend({ backend: "llama", ...cfg }, capture);
      try {
        const r = await b.generate(ONCE, { maxTokens: 8, seed: 42 });
        expect(r.text.startsWith(", there was")).to.equal(true, r.text);
        expect(srv.hits.length).to.equal(2);
        expect(lines.join("")).to.match(/bad special token/);
      } finally {
        await b.close();
      }
    });

    it("rejects a wrong sha256 without leaving a file in the cache", async function () {
      serveModel();
      const cacheDir = tmpDir();
      const wrong = "ab".repeat(32);
      const e = await expectReject(
        resolveModelFile({ model: `${srv.url}/stories260K.gguf`, sha256: wrong, cacheDir }, logger),
      );
      expect(e.message).to.match(
        new RegExp(`has sha256 ${STORIES260K.sha256} but the config expects ${wrong}`),
      );
      expect(fs.readdirSync(cacheDir)).to.deep.equal([]);
    });

    it("fails clearly on HTTP errors, plain http to a remote host and a URL without sha256", async function () {
      serveModel();
      const cacheDir = tmpDir();
      const e1 = await expectReject(
        resolveModelFile({ model: `${srv.url}/nope.gguf`, sha256: STORIES260K.sha256, cacheDir }, logger),
      );
      expect(e1.message).to.match(/HTTP 404/);
      expect(fs.readdirSync(cacheDir)).to.deep.equal([]);
      const e2 = await expectReject(
        resolveModelFile(
          { model: "http://example.com/m.gguf", sha256: STORIES260K.sha256, cacheDir },
          logger,
        ),
      );
      expect(e2.message).to.match(/must use https/);
      const e3 = await expectReject(
        resolveModelFile({ model: `${srv.url}/stories260K.gguf`, cacheDir }, logger),
      );
      expect(e3.message).to.match(/sha256 is required/);
      expect(srv.hits.length).to.equal(1);
    });
  });

  describe("openai backend (fake OpenAI-compatible server)", function () {
    let srv: Awaited<ReturnType<typeof startServer>>;
    before(async function () {
      srv = await startServer();
    });
    after(async function () {
      await srv.close();
    });

    const make = (over: Record<string, unknown> = {}) =>
      new OpenAiBackend(
        openaiBackendSchema.parse({
          backend: "openai",
          baseUrl: srv.url,
          model: "tiny",
          retries: 2,
          ...over,
        }),
        logger,
        { backoffBaseMs: 5, backoffMaxMs: 5_000 },
      );

    /** Streams SSE events with awkward chunk boundaries and CRLF line endings. */
    const sse = (res: http.ServerResponse, events: unknown[], done = true) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      let out = events.map((e) => `data: ${JSON.stringify(e)}\r\n\r\n`).join("");
      out = `: keep-alive comment\n\n${out}${done ? "data: [DONE]\n\n" : ""}`;
      for (let i = 0; i < out.length; i += 7) res.write(out.slice(i, i + 7));
      res.end();
    };
    const completionEvents = (pieces: string[], usage?: unknown) => [
      ...pieces.map((p) => ({ choices: [{ index: 0, text: p, finish_reason: null }] })),
      ...(usage ? [{ choices: [], usage }] : []),
    ];

    it("streams /v1/completions and counts tokens from usage", async function () {
      srv.setHandler((_q, res) =>
        sse(res, completionEvents(["Hello", ", wor", "ld ✓"], { prompt_tokens: 4, completion_tokens: 5 })),
      );
      const b = make({ maxTokens: 100 });
      await b.load();
      const chunks: string[] = [];
      const r: GenerateResult = await b.generate("Say hi", {
        maxTokens: 500,
        seed: 9,
        stop: ["\n"],
        onText: (c) => chunks.push(c),
      });
      expect(r.text).to.equal("Hello, world ✓");
      expect(chunks).to.deep.equal(["Hello", ", wor", "ld ✓"]);
      expect(r.tokens).to.equal(5);
      expect(r.promptTokens).to.equal(4);
      expect(r.timings.firstTokenMs).to.be.a("number");
      expect(srv.hits.length).to.equal(1);
      expect(srv.hits[0].path).to.equal("/v1/completions");
      expect(JSON.parse(srv.hits[0].body)).to.deep.equal({
        model: "tiny",
        prompt: "Say hi",
        max_tokens: 100,
        temperature: 0,
        seed: 9,
        stream: true,
        stream_options: { include_usage: true },
        stop: ["\n"],
      });
      expect(srv.hits[0].headers.authorization).to.equal(undefined);
    });

    it("streams /v1/chat/completions (baseUrl ending in /v1) with a bearer key from the environment", async function () {
      srv.setHandler((_q, res) =>
        sse(res, [
          { choices: [{ index: 0, delta: { role: "assistant" } }] },
          { choices: [{ index: 0, delta: { content: "Hi" } }] },
          { choices: [{ index: 0, delta: { content: " there" } }] },
          { choices: [{ index: 0, delta: {}, finish_reason: "stop" }] },
          { choices: [], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } },
        ]),
      );
      process.env.CINDER_TEST_OPENAI_KEY = "sk-test-123";
      try {
        const b = make({ baseUrl: `${srv.url}/v1/`, api: "chat", apiKeyEnv: "CINDER_TEST_OPENAI_KEY" });
        const r = await b.generate("Hello?", { maxTokens: 16, seed: 1 });
        expect(r).to.include({ text: "Hi there", tokens: 2, promptTokens: 3 });
        expect(srv.hits[0].path).to.equal("/v1/chat/completions");
        expect(srv.hits[0].headers.authorization).to.equal("Bearer sk-test-123");
        const body = JSON.parse(srv.hits[0].body);
        expect(body.messages).to.deep.equal([{ role: "user", content: "Hello?" }]);
        expect(body).to.include({ max_tokens: 16, temperature: 0, seed: 1, stream: true });
      } finally {
        delete process.env.CINDER_TEST_OPENAI_KEY;
      }
      const missing = make({ apiKeyEnv: "CINDER_TEST_OPENAI_KEY" });
      expect((await expectReject(missing.load())).message).to.match(/CINDER_TEST_OPENAI_KEY .* is not set/);
    });

    it("accepts a non-streaming JSON answer", async function () {
      srv.setHandler((_q, res) => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          JSON.stringify({ choices: [{ text: "plain" }], usage: { prompt_tokens: 1, completion_tokens: 1 } }),
        );
      });
      const r = await make().generate("x", { maxTokens: 4, seed: 1 });
      expect(r).to.include({ text: "plain", tokens: 1 });
    });

    it("retries a 429, respecting Retry-After", async function () {
      srv.setHandler((_q, res, _b, n) => {
        if (n === 1) {
          res.writeHead(429, { "retry-after": "1", "content-type": "application/json" });
          res.end(JSON.stringify({ error: { message: "slow down" } }));
          return;
        }
        sse(res, completionEvents(["ok"], { prompt_tokens: 1, completion_tokens: 1 }));
      });
      const t0 = performance.now();
      const r = await make().generate("x", { maxTokens: 4, seed: 1 });
      expect(r.text).to.equal("ok");
      expect(srv.hits.length).to.equal(2);
      expect(performance.now() - t0).to.be.at.least(950);
    });

    it("retries network errors", async function () {
      srv.setHandler((req, res, _b, n) => {
        if (n === 1) {
          req.socket.destroy();
          return;
        }
        sse(res, completionEvents(["ok"], { prompt_tokens: 1, completion_tokens: 1 }));
      });
      const r = await make().generate("x", { maxTokens: 4, seed: 1 });
      expect(r.text).to.equal("ok");
      expect(srv.hits.length).to.equal(2);
    });

    it("gives up after the configured retries on 5xx", async function () {
      srv.setHandler((_q, res) => res.writeHead(500, { "content-type": "text/plain" }).end("model crashed"));
      const e = await expectReject(make({ retries: 2 }).generate("x", { maxTokens: 4, seed: 1 }));
      expect(e.message).to.match(/HTTP 500: model crashed.*gave up after 3 attempt/);
      expect(srv.hits.length).to.equal(3);
    });

    it("does not retry a 400 and surfaces the server's message", async function () {
      srv.setHandler((_q, res) => {
        res.writeHead(400, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            error: { message: "prompt is too long for the context", type: "invalid_request" },
          }),
        );
      });
      const e = await expectReject(make().generate("x", { maxTokens: 4, seed: 1 }));
      expect(e).to.be.instanceOf(OpenAiHttpError);
      expect((e as OpenAiHttpError).status).to.equal(400);
      expect(e.message).to.match(/HTTP 400: prompt is too long for the context/);
      expect(srv.hits.length).to.equal(1);
    });

    it("times out a server that never answers", async function () {
      srv.setHandler(() => undefined);
      const t0 = performance.now();
      const e = await expectReject(
        make({ timeoutMs: 150, retries: 1 }).generate("x", { maxTokens: 4, seed: 1 }),
      );
      expect(e.message).to.match(/did not finish within timeoutMs=150.*gave up after 2 attempt/);
      expect(srv.hits.length).to.equal(2);
      expect(performance.now() - t0).to.be.within(290, 3000);
    });

    it("rejects a stream without usage (units must be counted by the backend)", async function () {
      srv.setHandler((_q, res) => sse(res, completionEvents(["no", " usage"])));
      const e = await expectReject(make().generate("x", { maxTokens: 4, seed: 1 }));
      expect(e.message).to.match(/sent no usage\.completion_tokens/);
      expect(srv.hits.length).to.equal(1);
    });

    it("does not retry once text was streamed to onText, and surfaces errors sent in the stream", async function () {
      srv.setHandler((_q, res) => {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write(`data: ${JSON.stringify({ choices: [{ text: "partial" }] })}\n\n`);
        setTimeout(() => res.socket?.destroy(), 20);
      });
      const e1 = await expectReject(make().generate("x", { maxTokens: 4, seed: 1, onText: () => undefined }));
      expect(e1.message).to.match(/after part of the output was streamed/);
      expect(srv.hits.length).to.equal(1);

      // without a streaming consumer the request is simply retried, and the text is not duplicated
      srv.setHandler((_q, res, _b, n) => {
        if (n === 1) {
          res.writeHead(200, { "content-type": "text/event-stream" });
          res.write(`data: ${JSON.stringify({ choices: [{ text: "par" }] })}\n\n`);
          setTimeout(() => res.socket?.destroy(), 20);
          return;
        }
        sse(res, completionEvents(["par", "tial"], { prompt_tokens: 1, completion_tokens: 2 }));
      });
      const r = await make().generate("x", { maxTokens: 4, seed: 1 });
      expect(r).to.include({ text: "partial", tokens: 2 });
      expect(srv.hits.length).to.equal(2);

      srv.setHandler((_q, res) => sse(res, [{ error: { message: "out of memory" } }]));
      const e2 = await expectReject(make().generate("x", { maxTokens: 4, seed: 1 }));
      expect(e2.message).to.match(/reported an error in the stream: out of memory/);
      expect(srv.hits.length).to.equal(1);
    });
  });
});
