/**
 * The relayer's durable state: SQLite through better-sqlite3, in WAL mode. It holds each job's state machine,
 * every transaction the relayer signed (with its idempotency key, nonce and raw bytes) and the last block whose
 * events were applied. Each transition is committed before its side effect (a transaction is stored signed
 * before it is broadcast, together with the job state that records it), so a crash at any point resumes without
 * loss and without a second transaction for the same step: the key is UNIQUE, and a stored transaction is
 * re-broadcast, never re-signed with a new nonce.
 */
import Database from "better-sqlite3";

/**
 * A job's state, as this relayer knows it.
 *  provider path: seen → input → accepting → accepted → inferred → submitting → submitted → finalizing → finalized
 *  endings: expired, challenged → faulted | finalized, cancelled, lost (another provider took it),
 *           skipped (not taken: reason in `error`), missed (deadline passed before it could be taken)
 *  watcher path: observed → verify → verified | mismatch → challenging → challenged
 */
export type JobState =
  | "seen"
  | "input"
  | "accepting"
  | "accepted"
  | "inferred"
  | "submitting"
  | "submitted"
  | "finalizing"
  | "finalized"
  | "expired"
  | "challenged"
  | "faulted"
  | "cancelled"
  | "lost"
  | "skipped"
  | "missed"
  | "observed"
  | "verify"
  | "verified"
  | "mismatch"
  | "challenging"
  | "settled";

export const TERMINAL_STATES: readonly JobState[] = [
  "finalized",
  "expired",
  "faulted",
  "cancelled",
  "lost",
  "skipped",
  "missed",
  "verified",
  "settled",
];

export interface JobRecord {
  jobId: number;
  /** 1 when this relayer pursues the job as its provider, 0 when it only observes it (watcher). */
  mine: number;
  state: JobState;
  modelId: string;
  requester: string;
  provider: string | null;
  kind: number;
  classId: string;
  inputHash: string;
  inputRef: string;
  maxUnits: number;
  deadline: number;
  escrow: string;
  requestedBlock: number;
  prompt: string | null;
  output: string | null;
  outputHash: string | null;
  unitsUsed: number | null;
  claimedHash: string | null;
  claimedUnits: number | null;
  challengeEnds: number | null;
  inferenceMs: number | null;
  overheadMs: number;
  paid: string | null;
  txKey: string | null;
  error: string | null;
  updatedAt: number;
}

export type TxStatus = "pending" | "mined" | "failed" | "dropped";

export interface TxRecord {
  id: number;
  key: string;
  method: string;
  jobIds: number[];
  nonce: number;
  to: string;
  data: string;
  gasLimit: string;
  maxFeePerGas: string;
  maxPriorityFeePerGas: string;
  /** Every hash broadcast for this nonce (replacements append), newest last. */
  hashes: string[];
  raw: string;
  status: TxStatus;
  sentBlock: number;
  sentAt: number;
  minedBlock: number | null;
  gasUsed: string | null;
  gasPrice: string | null;
  error: string | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
  job_id INTEGER PRIMARY KEY,
  mine INTEGER NOT NULL,
  state TEXT NOT NULL,
  model_id TEXT NOT NULL,
  requester TEXT NOT NULL,
  provider TEXT,
  kind INTEGER NOT NULL,
  class_id TEXT NOT NULL,
  input_hash TEXT NOT NULL,
  input_ref TEXT NOT NULL,
  max_units INTEGER NOT NULL,
  deadline INTEGER NOT NULL,
  escrow TEXT NOT NULL,
  requested_block INTEGER NOT NULL,
  prompt TEXT,
  output TEXT,
  output_hash TEXT,
  units_used INTEGER,
  claimed_hash TEXT,
  claimed_units INTEGER,
  challenge_ends INTEGER,
  inference_ms REAL,
  overhead_ms REAL NOT NULL DEFAULT 0,
  paid TEXT,
  tx_key TEXT,
  error TEXT,
  updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state, job_id);
CREATE TABLE IF NOT EXISTS txs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  key TEXT NOT NULL UNIQUE,
  method TEXT NOT NULL,
  job_ids TEXT NOT NULL,
  nonce INTEGER NOT NULL UNIQUE,
  to_addr TEXT NOT NULL,
  data TEXT NOT NULL,
  gas_limit TEXT NOT NULL,
  max_fee TEXT NOT NULL,
  max_priority TEXT NOT NULL,
  hashes TEXT NOT NULL,
  raw TEXT NOT NULL,
  status TEXT NOT NULL,
  sent_block INTEGER NOT NULL,
  sent_at INTEGER NOT NULL,
  mined_block INTEGER,
  gas_used TEXT,
  gas_price TEXT,
  error TEXT
);
CREATE INDEX IF NOT EXISTS txs_status ON txs (status, nonce);
`;

const JOB_COLUMNS: Record<keyof JobRecord, string> = {
  jobId: "job_id",
  mine: "mine",
  state: "state",
  modelId: "model_id",
  requester: "requester",
  provider: "provider",
  kind: "kind",
  classId: "class_id",
  inputHash: "input_hash",
  inputRef: "input_ref",
  maxUnits: "max_units",
  deadline: "deadline",
  escrow: "escrow",
  requestedBlock: "requested_block",
  prompt: "prompt",
  output: "output",
  outputHash: "output_hash",
  unitsUsed: "units_used",
  claimedHash: "claimed_hash",
  claimedUnits: "claimed_units",
  challengeEnds: "challenge_ends",
  inferenceMs: "inference_ms",
  overheadMs: "overhead_ms",
  paid: "paid",
  txKey: "tx_key",
  error: "error",
  updatedAt: "updated_at",
};

const JOB_SELECT = `SELECT ${Object.entries(JOB_COLUMNS)
  .map(([field, column]) => `${column} AS ${field}`)
  .join(", ")} FROM jobs`;

const TX_SELECT = `SELECT id, key, method, job_ids AS jobIds, nonce, to_addr AS "to", data, gas_limit AS gasLimit,
  max_fee AS maxFeePerGas, max_priority AS maxPriorityFeePerGas, hashes, raw, status, sent_block AS sentBlock,
  sent_at AS sentAt, mined_block AS minedBlock, gas_used AS gasUsed, gas_price AS gasPrice, error FROM txs`;

type TxRow = Omit<TxRecord, "hashes" | "jobIds"> & { hashes: string; jobIds: string };

function txFromRow(row: TxRow | undefined): TxRecord | undefined {
  if (row === undefined) return undefined;
  return { ...row, hashes: JSON.parse(row.hashes) as string[], jobIds: JSON.parse(row.jobIds) as number[] };
}

export type NewJob = Omit<
  JobRecord,
  | "prompt"
  | "output"
  | "outputHash"
  | "unitsUsed"
  | "claimedHash"
  | "claimedUnits"
  | "challengeEnds"
  | "inferenceMs"
  | "overheadMs"
  | "paid"
  | "txKey"
  | "error"
  | "updatedAt"
> &
  Partial<Pick<JobRecord, "prompt" | "error">>;

export type NewTx = Omit<TxRecord, "id" | "status" | "minedBlock" | "gasUsed" | "gasPrice" | "error">;

/** The relayer's SQLite database. Synchronous: every call is one short local transaction. */
export class JobStore {
  readonly db: Database.Database;

  /** Opens (creating if needed) the database at `file`; `readonly` for `cinder-relayer status`. */
  constructor(file: string, options: { readonly?: boolean } = {}) {
    this.db = new Database(file, {
      readonly: options.readonly ?? false,
      fileMustExist: options.readonly ?? false,
    });
    if (!options.readonly) {
      this.db.pragma("journal_mode = WAL");
      // NORMAL in WAL mode is durable across process crashes (SIGKILL); only a power loss can drop the last commit.
      this.db.pragma("synchronous = NORMAL");
      this.db.pragma("busy_timeout = 5000");
      this.db.exec(SCHEMA);
    }
  }

  close(): void {
    this.db.close();
  }

  /** Runs `fn` in one SQLite transaction (all or nothing). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  getMeta(key: string): string | undefined {
    const row = this.db.prepare("SELECT value FROM meta WHERE key = ?").get(key) as
      { value: string } | undefined;
    return row?.value;
  }

  setMeta(key: string, value: string): void {
    this.db
      .prepare(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
      )
      .run(key, value);
  }

  /** The last block whose events were all applied, or undefined before the first scan. */
  cursor(): number | undefined {
    const value = this.getMeta("cursor");
    return value === undefined ? undefined : Number(value);
  }

  setCursor(block: number): void {
    this.setMeta("cursor", String(block));
  }

  job(jobId: number): JobRecord | undefined {
    return this.db.prepare(`${JOB_SELECT} WHERE job_id = ?`).get(jobId) as JobRecord | undefined;
  }

  /** Inserts a job first seen in a `JobRequested` event; a replayed event leaves the existing row alone. */
  insertJob(job: NewJob): boolean {
    const result = this.db
      .prepare(
        `INSERT INTO jobs (job_id, mine, state, model_id, requester, provider, kind, class_id, input_hash, input_ref,
           max_units, deadline, escrow, requested_block, prompt, error, updated_at)
         VALUES (@jobId, @mine, @state, @modelId, @requester, @provider, @kind, @classId, @inputHash, @inputRef,
           @maxUnits, @deadline, @escrow, @requestedBlock, @prompt, @error, @updatedAt)
         ON CONFLICT(job_id) DO NOTHING`,
      )
      .run({ prompt: null, error: null, ...job, updatedAt: Date.now() });
    return result.changes === 1;
  }

  /**
   * Updates a job; with `from`, only if its state is one of them (a guarded transition). Returns whether the row
   * changed, so a replayed event or a stale worker cannot move a job backwards.
   */
  updateJob(jobId: number, patch: Partial<Omit<JobRecord, "jobId">>, from?: readonly JobState[]): boolean {
    const fields = Object.keys(patch) as (keyof JobRecord)[];
    const sets = [...fields.map((field) => `${JOB_COLUMNS[field]} = @${field}`), "updated_at = @updatedAt"];
    let sql = `UPDATE jobs SET ${sets.join(", ")} WHERE job_id = @jobId`;
    if (from !== undefined) sql += ` AND state IN (${from.map((state) => `'${state}'`).join(", ")})`;
    return this.db.prepare(sql).run({ ...patch, jobId, updatedAt: Date.now() }).changes === 1;
  }

  /** Adds relayer processing time (beyond inference) to a job. */
  addOverhead(jobId: number, ms: number): void {
    this.db.prepare("UPDATE jobs SET overhead_ms = overhead_ms + ? WHERE job_id = ?").run(ms, jobId);
  }

  /** Jobs in any of `states`, oldest first. */
  jobsIn(states: readonly JobState[], limit = 1000, mine?: boolean): JobRecord[] {
    const where = `state IN (${states.map((state) => `'${state}'`).join(", ")})${mine === undefined ? "" : ` AND mine = ${mine ? 1 : 0}`}`;
    return this.db.prepare(`${JOB_SELECT} WHERE ${where} ORDER BY job_id LIMIT ?`).all(limit) as JobRecord[];
  }

  /** Jobs in `states` whose current step transaction (`tx_key`) failed on-chain or was dropped. */
  jobsWithFailedTx(states: readonly JobState[]): JobRecord[] {
    const columns = Object.entries(JOB_COLUMNS).map(([field, column]) => `jobs.${column} AS ${field}`);
    return this.db
      .prepare(
        `SELECT ${columns.join(", ")} FROM jobs JOIN txs ON txs.key = jobs.tx_key
         WHERE jobs.state IN (${states.map((state) => `'${state}'`).join(", ")})
           AND txs.status IN ('failed', 'dropped') ORDER BY jobs.job_id`,
      )
      .all() as JobRecord[];
  }

  /** Every job, newest first (for `status`). */
  allJobs(limit = 100): JobRecord[] {
    return this.db.prepare(`${JOB_SELECT} ORDER BY job_id DESC LIMIT ?`).all(limit) as JobRecord[];
  }

  /** How many jobs are in each state. */
  jobCounts(): Record<string, number> {
    const rows = this.db.prepare("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state").all() as {
      state: string;
      n: number;
    }[];
    return Object.fromEntries(rows.map((row) => [row.state, row.n]));
  }

  insertTx(tx: NewTx): TxRecord {
    const result = this.db
      .prepare(
        `INSERT INTO txs (key, method, job_ids, nonce, to_addr, data, gas_limit, max_fee, max_priority, hashes, raw,
           status, sent_block, sent_at)
         VALUES (@key, @method, @jobIds, @nonce, @to, @data, @gasLimit, @maxFeePerGas, @maxPriorityFeePerGas, @hashes,
           @raw, 'pending', @sentBlock, @sentAt)`,
      )
      .run({ ...tx, jobIds: JSON.stringify(tx.jobIds), hashes: JSON.stringify(tx.hashes) });
    return this.tx(Number(result.lastInsertRowid))!;
  }

  tx(id: number): TxRecord | undefined {
    return txFromRow(this.db.prepare(`${TX_SELECT} WHERE id = ?`).get(id) as TxRow | undefined);
  }

  txByKey(key: string): TxRecord | undefined {
    return txFromRow(this.db.prepare(`${TX_SELECT} WHERE key = ?`).get(key) as TxRow | undefined);
  }

  /** Transactions not yet known to be mined or dropped, by nonce. */
  pendingTxs(): TxRecord[] {
    return (this.db.prepare(`${TX_SELECT} WHERE status = 'pending' ORDER BY nonce`).all() as TxRow[]).map(
      (row) => txFromRow(row)!,
    );
  }

  /** The highest nonce ever signed, or -1. */
  maxNonce(): number {
    const row = this.db.prepare("SELECT MAX(nonce) AS n FROM txs").get() as { n: number | null };
    return row.n ?? -1;
  }

  /** Records a replacement: a new raw transaction (same nonce, higher fees) and its hash. */
  replaceTx(
    id: number,
    patch: {
      raw: string;
      hash: string;
      maxFeePerGas: string;
      maxPriorityFeePerGas: string;
      sentBlock: number;
    },
  ): void {
    const tx = this.tx(id)!;
    this.db
      .prepare(
        "UPDATE txs SET raw = ?, hashes = ?, max_fee = ?, max_priority = ?, sent_block = ?, sent_at = ? WHERE id = ?",
      )
      .run(
        patch.raw,
        JSON.stringify([...tx.hashes, patch.hash]),
        patch.maxFeePerGas,
        patch.maxPriorityFeePerGas,
        patch.sentBlock,
        Date.now(),
        id,
      );
  }

  settleTx(
    id: number,
    patch: { status: TxStatus; minedBlock?: number; gasUsed?: string; gasPrice?: string; error?: string },
  ): void {
    this.db
      .prepare(
        "UPDATE txs SET status = ?, mined_block = ?, gas_used = ?, gas_price = ?, error = ? WHERE id = ?",
      )
      .run(
        patch.status,
        patch.minedBlock ?? null,
        patch.gasUsed ?? null,
        patch.gasPrice ?? null,
        patch.error ?? null,
        id,
      );
  }

  /** Every transaction, newest first (for `status` and tests). */
  allTxs(limit = 1_000_000): TxRecord[] {
    return (this.db.prepare(`${TX_SELECT} ORDER BY nonce DESC LIMIT ?`).all(limit) as TxRow[]).map((row) =>
      txFromRow(row)!,
    );
  }
}
