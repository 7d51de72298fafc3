/** The relayer's pino logger: JSON lines on stdout, with any key material redacted should it ever be passed in. */
import pino, { type Logger } from "pino";

export type { Logger };

/** A JSON logger at `level`, tagged with the relayer's `name` (several relayers can share one terminal). */
export function createLogger(level: string, name = "relayer"): Logger {
  return pino({
    name,
    level,
    base: { name },
    redact: { paths: ["privateKey", "*.privateKey", "password", "*.password"], censor: "[redacted]" },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
