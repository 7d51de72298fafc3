/**
 * Resolves the `model` of a llama backend config to a verified local GGUF file: a local path is checked (exists,
 * readable, GGUF magic, optional sha256); an https URL is downloaded once into `cacheDir/<sha256>.gguf`
 * (hash verified while streaming, atomic rename) and reused afterwards.
 */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Logger } from "pino";
import { isLoopbackHttpUrl, isUrl } from "./config";

/** The tiny test model (karpathy's stories260K converted to GGUF by ggml-org). MIT-licensed. */
export const STORIES260K = {
  url: "https://huggingface.co/ggml-org/models/resolve/main/tinyllamas/stories260K.gguf",
  sha256: "270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d",
  bytes: 1185376,
} as const;

/** What `resolveModelFile` needs from the llama backend config. */
export interface ModelSourceConfig {
  model: string;
  sha256?: string;
  cacheDir: string;
}

const GGUF_MAGIC = "GGUF";

/** sha256 (lowercase hex) of a file, streamed. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(file), hash);
  return hash.digest("hex");
}

/** Throws unless `file` starts with the GGUF magic bytes. */
async function assertGguf(file: string, what: string): Promise<void> {
  const fh = await fs.open(file, "r");
  try {
    const buf = Buffer.alloc(4);
    const { bytesRead } = await fh.read(buf, 0, 4, 0);
    if (bytesRead < 4 || buf.toString("latin1") !== GGUF_MAGIC) {
      throw new Error(
        `${what} is not a GGUF file (it does not start with the "GGUF" magic bytes): ` +
          `point model at a llama.cpp .gguf file`,
      );
    }
  } finally {
    await fh.close();
  }
}

function expandHome(p: string): string {
  return p === "~" || p.startsWith("~/") ? path.join(os.homedir(), p.slice(1)) : p;
}

/**
 * Returns the path of a verified local GGUF file for `cfg.model`.
 * @throws a clear error when the file is missing/unreadable/not GGUF, the sha256 does not match, or the download fails.
 */
export async function resolveModelFile(cfg: ModelSourceConfig, logger: Logger): Promise<string> {
  const expected = cfg.sha256?.toLowerCase();
  if (isUrl(cfg.model)) return downloadModel(cfg.model, expected, expandHome(cfg.cacheDir), logger);

  const file = path.resolve(expandHome(cfg.model));
  try {
    const st = await fs.stat(file);
    if (!st.isFile())
      throw new Error(`model path ${file} is not a regular file: point model at a .gguf file`);
    await fs.access(file, fs.constants.R_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT")
      throw new Error(`model file ${file} does not exist: check the model path in the config`);
    if (code === "EACCES") throw new Error(`model file ${file} is not readable: fix its permissions`);
    throw err;
  }
  await assertGguf(file, `model file ${file}`);
  if (expected !== undefined) {
    const actual = await sha256File(file);
    if (actual !== expected) {
      throw new Error(
        `model file ${file} has sha256 ${actual} but the config expects ${expected}: ` +
          `the file is corrupt or a different model; replace the file or fix sha256`,
      );
    }
    logger.debug({ file, sha256: actual }, "model file sha256 verified");
  }
  return file;
}

async function downloadModel(
  rawUrl: string,
  expected: string | undefined,
  cacheDir: string,
  logger: Logger,
): Promise<string> {
  const url = new URL(rawUrl);
  if (url.protocol !== "https:" && !isLoopbackHttpUrl(url)) {
    throw new Error(
      `model URL ${url.origin}${url.pathname} must use https:// (plain http only for localhost)`,
    );
  }
  if (expected === undefined || !/^[0-9a-f]{64}$/.test(expected)) {
    throw new Error(
      "sha256 is required when model is a URL: add the file's sha256 (64 hex characters) to the config",
    );
  }
  const shownUrl = `${url.origin}${url.pathname}`; // never log query strings (they may carry tokens)
  await fs.mkdir(cacheDir, { recursive: true });
  const target = path.join(cacheDir, `${expected}.gguf`);

  // Reuse a cached copy whose hash matches.
  try {
    const actual = await sha256File(target);
    if (actual === expected) {
      logger.debug({ file: target }, "using cached model file");
      return target;
    }
    logger.warn(
      { file: target, sha256: actual, expected },
      "cached model file is corrupt; downloading it again",
    );
    await fs.rm(target, { force: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }

  const tmp = path.join(cacheDir, `.${expected}.${process.pid}.${randomBytes(4).toString("hex")}.part`);
  const started = performance.now();
  logger.info({ url: shownUrl, file: target }, "downloading model");
  try {
    let res: Response;
    try {
      res = await fetch(url, { redirect: "follow" });
    } catch (err) {
      throw new Error(
        `could not download model from ${shownUrl}: ${errMessage(err)}; check the URL and network`,
      );
    }
    if (!res.ok || res.body === null) {
      throw new Error(
        `could not download model from ${shownUrl}: HTTP ${res.status} ${res.statusText}; check the URL`,
      );
    }
    const hash = createHash("sha256");
    let bytes = 0;
    const body = Readable.fromWeb(res.body as import("node:stream/web").ReadableStream<Uint8Array>);
    body.on("data", (chunk: Buffer) => {
      hash.update(chunk);
      bytes += chunk.length;
    });
    try {
      await pipeline(body, createWriteStream(tmp, { flags: "wx" }));
    } catch (err) {
      throw new Error(`download of ${shownUrl} failed after ${bytes} bytes: ${errMessage(err)}; try again`);
    }
    const actual = hash.digest("hex");
    if (actual !== expected) {
      throw new Error(
        `model downloaded from ${shownUrl} has sha256 ${actual} but the config expects ${expected}: ` +
          `the URL serves a different file; fix the URL or sha256`,
      );
    }
    await assertGguf(tmp, `the file downloaded from ${shownUrl}`);
    await fs.rename(tmp, target);
    logger.info(
      { url: shownUrl, file: target, bytes, ms: Math.round(performance.now() - started) },
      "model downloaded and verified",
    );
    return target;
  } finally {
    await fs.rm(tmp, { force: true });
  }
}

function errMessage(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as Error & { cause?: unknown }).cause;
    return cause instanceof Error ? `${err.message} (${cause.message})` : err.message;
  }
  return String(err);
}
