/** The job store: idempotent inserts, guarded transitions, unique idempotency keys and nonces, durable cursor. */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { JobStore, type NewJob, type NewTx } from "../../relayer/store";

const job = (jobId: number, patch: Partial<NewJob> = {}): NewJob => ({
  jobId,
  mine: 1,
  state: "seen",
  modelId: "0x" + "11".repeat(32),
  requester: "0x" + "22".repeat(20),
  provider: null,
  kind: 0,
  classId: "1",
  inputHash: "0x" + "33".repeat(32),
  inputRef: "0x",
  maxUnits: 30,
  deadline: 1_000,
  escrow: "1",
  requestedBlock: 5,
  ...patch,
});

const tx = (key: string, nonce: number): NewTx => ({
  key,
  method: "acceptJob",
  jobIds: [1],
  nonce,
  to: "0x" + "44".repeat(20),
  data: "0x",
  gasLimit: "100000",
  maxFeePerGas: "2",
  maxPriorityFeePerGas: "1",
  hashes: ["0x" + "55".repeat(32)],
  raw: "0x02",
  sentBlock: 1,
  sentAt: 0,
});

describe("relayer job store", function () {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "cinder-store-"));
    file = path.join(dir, "relayer.db");
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("inserts a job once: a replayed JobRequested leaves the row (and its progress) alone", function () {
    const store = new JobStore(file);
    expect(store.insertJob(job(1))).to.equal(true);
    store.updateJob(1, { state: "accepted" });
    expect(store.insertJob(job(1, { state: "input", prompt: "other" }))).to.equal(false);
    expect(store.job(1)).to.include({ state: "accepted", prompt: null });
    store.close();
  });

  it("applies a guarded transition only from the listed states", function () {
    const store = new JobStore(file);
    store.insertJob(job(1, { state: "finalized" }));
    expect(store.updateJob(1, { state: "submitted" }, ["submitting"])).to.equal(false);
    expect(store.job(1)!.state).to.equal("finalized");
    store.insertJob(job(2, { state: "submitting" }));
    expect(store.updateJob(2, { state: "submitted", challengeEnds: 99 }, ["submitting"])).to.equal(true);
    expect(store.job(2)).to.include({ state: "submitted", challengeEnds: 99 });
    expect(store.jobsIn(["submitted"]).map((j) => j.jobId)).to.deep.equal([2]);
    expect(store.jobCounts()).to.deep.equal({ finalized: 1, submitted: 1 });
    store.close();
  });

  it("refuses a second transaction with the same idempotency key or the same nonce, atomically with its caller", function () {
    const store = new JobStore(file);
    store.insertJob(job(1));
    store.insertTx(tx("accept:1", 0));
    expect(() => store.insertTx(tx("accept:1", 1))).to.throw(/UNIQUE/);
    expect(() => store.insertTx(tx("accept:2", 0))).to.throw(/UNIQUE/);
    // The state change that goes with a transaction is rolled back with it.
    expect(() =>
      store.transaction(() => {
        store.updateJob(1, { state: "accepting" });
        store.insertTx(tx("accept:1", 5));
      }),
    ).to.throw(/UNIQUE/);
    expect(store.job(1)!.state).to.equal("seen");
    expect(store.maxNonce()).to.equal(0);
    store.close();
  });

  it("keeps the cursor, jobs and transactions across a reopen (WAL)", function () {
    const store = new JobStore(file);
    store.transaction(() => {
      store.insertJob(job(3));
      store.setCursor(42);
    });
    store.insertTx(tx("submit:3", 7));
    store.replaceTx(store.txByKey("submit:3")!.id, {
      raw: "0x03",
      hash: "0x" + "66".repeat(32),
      maxFeePerGas: "4",
      maxPriorityFeePerGas: "2",
      sentBlock: 9,
    });
    store.close();
    const reopened = new JobStore(file);
    expect(reopened.cursor()).to.equal(42);
    expect(reopened.job(3)!.state).to.equal("seen");
    const stored = reopened.txByKey("submit:3")!;
    expect(stored).to.include({ nonce: 7, raw: "0x03", status: "pending", sentBlock: 9 });
    expect(stored.hashes).to.have.length(2);
    expect(reopened.pendingTxs().map((t) => t.key)).to.deep.equal(["submit:3"]);
    reopened.settleTx(stored.id, { status: "mined", minedBlock: 10, gasUsed: "21000", gasPrice: "1" });
    expect(reopened.pendingTxs()).to.deep.equal([]);
    reopened.close();
    const readonly = new JobStore(file, { readonly: true });
    expect(readonly.allJobs().map((j) => j.jobId)).to.deep.equal([3]);
    readonly.close();
  });
});
