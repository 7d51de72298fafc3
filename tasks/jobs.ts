/**
 * The job lifecycle from the command line: request (requester), accept / submit (provider, for manual runs before
 * the relayer), finalize / cancel / expire, challenge / vote / resolve (disputes), and `cinder:job` to read a job's
 * state and history. Every argument and precondition is checked before anything is sent, so a mistake costs no gas
 * and says what to do. Also exports the small time and USD helpers the other job-era tasks share.
 */
import { readFileSync } from "node:fs";
import { task } from "hardhat/config";
import { ZeroAddress, getAddress, id, toBeHex, toUtf8Bytes, zeroPadValue } from "ethers";
import type { Log } from "ethers";
import {
  TaskError,
  account,
  chainNow,
  formatAmount,
  formatDuration,
  formatTime,
  loadCinder,
  parseAddress,
  parseAmount,
  parseInteger,
  parseDuration,
  parseModelId,
  plural,
  send,
  usd,
  type Cinder,
} from "./lib";
import { JobStatus, PaymentKindName, SkipReason, type JobStatusName } from "../bindings/enums";
import { resultTypedData } from "../bindings/attestation";
import { stablecoinAt } from "./vouchers";

// ---------------------------------------------------------------- shared helpers

export const STATUS = JobStatus;
export type StatusName = JobStatusName;
const TERMINAL: ReadonlySet<StatusName> = new Set(["Finalized", "Cancelled", "Expired", "Faulted"]);
const KIND = PaymentKindName;
const PAY_KINDS: Record<string, number> = { voucher: 0, daily: 1, compute: 2 };
const SKIP_REASONS = SkipReason;
const OUTCOMES = ["None", "Open", "Upheld", "Rejected", "TimedOut"] as const;
const VERDICTS = ["Pending", "Valid", "Fault"] as const;

const WAD = 10n ** 18n;
const UINT32_MAX = 2n ** 32n - 1n;
const UINT96_MAX = 2n ** 96n - 1n;
/** `cinder:job --watch` poll interval. */
const WATCH_INTERVAL_MS = 2_000;
/** Extra seconds added to a deadline asked at the coordinator's minimum, so it still fits when mined. */
const DEADLINE_SLACK = 30n;

/** "stories260K (…) 0xd49e…fd10", or the bare id for a model the registry does not know. */
export async function modelLabel(c: Cinder, modelId: string): Promise<string> {
  try {
    const model = await c.modelRegistry.getModel(modelId);
    return `${model.name}${model.active ? "" : " [inactive]"} ${modelId}`;
  } catch {
    return `${modelId} (not registered)`;
  }
}

/** A model id argument that must be registered and active; the error lists the active models. */
export async function activeModel(c: Cinder, value: string | undefined): Promise<string> {
  const modelId = parseModelId(value);
  if (await c.modelRegistry.isActive(modelId)) return modelId;
  const names: string[] = [];
  for (const known of await c.modelRegistry.modelIds()) {
    const model = await c.modelRegistry.getModel(known);
    if (model.active) names.push(`${model.name} (${known})`);
  }
  let registered = true;
  try {
    await c.modelRegistry.getModel(modelId);
  } catch {
    registered = false;
  }
  throw new TaskError(
    `--model ${value} (${modelId}) is ${registered ? "registered but not active" : "not registered"}; ` +
      `active models: ${names.length ? names.join(", ") : "none"}`,
  );
}

type JobView = Awaited<ReturnType<Cinder["jobCoordinator"]["getJob"]>>;

/** The job of an `--id` argument, or a clear error when it does not exist. */
export async function loadJob(
  c: Cinder,
  value: string | undefined,
): Promise<{ jobId: bigint; job: JobView }> {
  const jobId = parseInteger(value, "--id");
  const count = await c.jobCoordinator.jobCount();
  if (jobId === 0n || jobId > count)
    throw new TaskError(`job ${jobId} does not exist (${plural(count, "job")})`);
  return { jobId, job: await c.jobCoordinator.getJob(jobId) };
}

export function statusOf(job: JobView): StatusName {
  return STATUS[Number(job.status)];
}

function wrongStatus(jobId: bigint, job: JobView, action: string, needed: string): TaskError {
  return new TaskError(`job ${jobId} is ${statusOf(job)}: ${action} needs ${needed}`);
}

/** An escrow-unit amount of `job`: vouchers for a voucher job, USD for a credit job. */
function escrowUnits(kind: bigint, amount: bigint): string {
  return Number(kind) === 0 ? plural(amount, "voucher") : usd(amount);
}

async function symbolOf(c: Cinder): Promise<string> {
  return c.token.symbol();
}

/** Why `provider` cannot take a job of `modelId` now (eligiblePrice is 0), in words. */
async function whyIneligible(c: Cinder, provider: string, modelId: string, now: bigint): Promise<string> {
  const p = await c.providerRegistry.getProvider(provider);
  const status = ["None", "Active", "Exiting"][Number(p.status)];
  if (status === "None") return `${provider} is not a registered provider (cinder:register-provider)`;
  if (status === "Exiting") return `provider ${provider} is exiting and takes no new jobs`;
  if (p.jailedUntil > now) return `provider ${provider} is jailed until ${formatTime(p.jailedUntil, now)}`;
  const minBond = await c.providerRegistry.minBond();
  if (p.bond < minBond) {
    const symbol = await symbolOf(c);
    return (
      `provider ${provider}'s bond ${formatAmount(p.bond, symbol)} is below the minimum ` +
      `${formatAmount(minBond, symbol)} (top it up with increaseBond)`
    );
  }
  if (!(await c.modelRegistry.isActive(modelId))) return `model ${modelId} is not active`;
  return `provider ${provider} does not offer model ${await modelLabel(c, modelId)}`;
}

async function requireNotPaused(c: Cinder, action: string): Promise<void> {
  if (await c.jobCoordinator.paused()) {
    throw new TaskError(
      `the JobCoordinator is paused by the guardian: ${action} is refused until it is unpaused`,
    );
  }
}

/** The logs `contract` emitted among `logs`, parsed, in order. */
function parsedLogs(
  contract: { target: unknown; interface: { parseLog(log: { topics: string[]; data: string }): unknown } },
  logs: readonly Log[],
) {
  const out: { name: string; args: Record<string, unknown> & unknown[] }[] = [];
  const address = String(contract.target).toLowerCase();
  for (const log of logs) {
    if (log.address.toLowerCase() !== address) continue;
    const parsed = contract.interface.parseLog({ topics: [...log.topics], data: log.data }) as {
      name: string;
      args: Record<string, unknown> & unknown[];
    } | null;
    if (parsed) out.push(parsed);
  }
  return out;
}

// ---------------------------------------------------------------- job view and history

interface HistoryEntry {
  blockNumber: number;
  index: number;
  name: string;
  text: string;
}

const HISTORY_EVENTS = new Set([
  "JobRequested",
  "JobAccepted",
  "ResultSubmitted",
  "JobChallenged",
  "JobFinalized",
  "JobCancelled",
  "JobExpired",
  "JobFaulted",
  "JobSkipped",
  "Challenged",
  "Voted",
  "DisputeResolved",
]);

/** The job's events (coordinator, dispute module, verifier) from block `fromBlock` on, described. */
async function jobHistory(c: Cinder, jobId: bigint, fromBlock: number, now: bigint): Promise<HistoryEntry[]> {
  const symbol = await symbolOf(c);
  const { kind } = await c.jobCoordinator.getJob(jobId);
  const contracts = [c.jobCoordinator, c.disputeModule, c.verifier];
  const addresses = await Promise.all(contracts.map((x) => x.getAddress()));
  const logs = await c.signer.provider.getLogs({
    address: addresses,
    topics: [null, zeroPadValue(toBeHex(jobId), 32)],
    fromBlock,
    toBlock: "latest",
  });
  const entries: HistoryEntry[] = [];
  for (const log of logs) {
    const parsed = contracts.flatMap((contract) => parsedLogs(contract, [log]))[0];
    if (!parsed || !HISTORY_EVENTS.has(parsed.name)) continue;
    entries.push({
      blockNumber: log.blockNumber,
      index: log.index,
      name: parsed.name,
      text: describeEvent(parsed.name, parsed.args as unknown as EventArgs, kind, symbol, now),
    });
  }
  return entries.sort((x, y) => x.blockNumber - y.blockNumber || x.index - y.index);
}

type EventArgs = Record<string, bigint & string & boolean>;

function describeEvent(name: string, a: EventArgs, kind: bigint, symbol: string, now: bigint): string {
  switch (name) {
    case "JobRequested": {
      const t = a.terms as unknown as {
        provider: string;
        kind: bigint;
        classId: bigint;
        maxUnits: bigint;
        escrow: bigint;
        deadline: bigint;
      };
      return (
        `by ${a.requester}, ${t.provider === ZeroAddress ? "open to any provider" : `direct to ${t.provider}`}, ` +
        `${KIND[Number(t.kind)]}${t.kind === 0n ? ` class ${t.classId}` : ""}, ` +
        `up to ${plural(t.maxUnits, "unit")}, escrow ${escrowUnits(t.kind, t.escrow)}, ` +
        `deadline ${formatTime(t.deadline, now)}`
      );
    }
    case "JobAccepted":
      return (
        `by ${a.provider}, collateral ${formatAmount(a.collateral, symbol)}` +
        (a.pricePerUnit !== 0n ? `, price ${usd(a.pricePerUnit)} per unit` : "")
      );
    case "ResultSubmitted":
      return (
        `by ${a.provider}: output ${a.outputHash}, ${plural(a.unitsUsed, "unit")} used, ` +
        `challenge window ends ${formatTime(a.challengeEnds, now)}`
      );
    case "JobChallenged":
      return `provider ${a.provider}`;
    case "Challenged":
      return `by ${a.challenger}, bond ${formatAmount(a.bond, symbol)}`;
    case "Voted":
      return (
        `arbiter ${a.arbiter} voted ${a.fault ? "fault" : "valid"} ` +
        `(tally: ${a.faultVotes} fault, ${a.validVotes} valid)`
      );
    case "DisputeResolved":
      return a.outcome === 2n
        ? `Upheld: provider slashed ${formatAmount(a.slashed, symbol)} (finder fee ` +
            `${formatAmount(a.finderFee, symbol)} to the challenger) and jailed`
        : a.outcome === 3n
          ? "Rejected: the result stands, the challenger's bond goes to the provider"
          : "TimedOut: no verdict in time, the result stands and the challenger's bond is returned";
    case "JobFinalized":
      return `provider paid ${escrowUnits(kind, a.paid)}, requester refunded ${escrowUnits(kind, a.refunded)}`;
    case "JobCancelled":
    case "JobFaulted":
      return `requester refunded ${escrowUnits(kind, a.refunded)}`;
    case "JobExpired":
      return (
        `requester refunded ${escrowUnits(kind, a.refunded)}` +
        (a.slashed !== 0n ? `, provider slashed ${formatAmount(a.slashed, symbol)} (burned)` : "")
      );
    case "JobSkipped":
      return `skipped by finalizeBatch: ${SKIP_REASONS[Number(a.reason)]}`;
    default:
      return "";
  }
}

async function describeJob(c: Cinder, jobId: bigint, job: JobView, now: bigint): Promise<string[]> {
  const kind = Number(job.kind);
  const status = statusOf(job);
  const symbol = await symbolOf(c);
  const released = TERMINAL.has(status) ? ` (no longer held: ${status.toLowerCase()})` : "";
  const rows: [string, string][] = [
    ["requester", job.requester],
    [
      "provider",
      job.provider === ZeroAddress
        ? "none yet (open request)"
        : status === "Requested"
          ? `${job.provider} (direct request, not accepted yet)`
          : job.provider,
    ],
    ["model", await modelLabel(c, job.modelId)],
    ["inputHash", job.inputHash],
    ["outputHash", job.outputHash === `0x${"0".repeat(64)}` ? "- (no result yet)" : job.outputHash],
    [
      "units",
      job.challengeEnds === 0n
        ? `up to ${plural(job.maxUnits, "unit")}`
        : `${job.unitsUsed.toLocaleString("en-US")} used of ${plural(job.maxUnits, "unit")} max`,
    ],
  ];
  if (kind === 0) {
    const cls = await c.voucherMarket.getClass(job.classId);
    rows.push([
      "escrow",
      `${plural(job.escrow, "voucher")} of class ${job.classId} (${cls.unitsPerVoucher.toLocaleString("en-US")} units each)${released}`,
    ]);
    rows.push(["price", `fixed by voucher class ${job.classId}`]);
  } else {
    rows.push([
      "escrow",
      `${usd(job.escrow)} of ${kind === 1 ? "DailyCredit allowance" : "ComputeCredit"}${released}`,
    ]);
    rows.push([
      "price",
      `${usd(job.pricePerUnit)} per unit (${status === "Requested" ? "the requester's cap" : "the provider's price"})`,
    ]);
    if (kind === 1) {
      rows.push([
        "funded day",
        `${job.fundedDay} (${new Date(Number(job.fundedDay) * 86_400_000).toISOString().slice(0, 10)} UTC)`,
      ]);
    }
  }
  rows.push([
    "collateral",
    job.collateral === 0n ? "- (not accepted)" : `${formatAmount(job.collateral, symbol)}${released}`,
  ]);
  rows.push(["deadline", formatTime(job.deadline, now)]);
  rows.push([
    "challenge end",
    job.challengeEnds === 0n ? "- (no result yet)" : formatTime(job.challengeEnds, now),
  ]);
  const dispute = await c.disputeModule.getDispute(jobId);
  if (Number(dispute.outcome) !== 0) {
    const [fault, valid] = await c.verifier.tally(jobId);
    rows.push([
      "dispute",
      `${OUTCOMES[Number(dispute.outcome)]}, challenger ${dispute.challenger}, bond ${formatAmount(dispute.bond, symbol)}` +
        (Number(dispute.outcome) === 1
          ? `, votes ${fault} fault / ${valid} valid of ${await c.verifier.threshold()} needed, ` +
            `times out ${formatTime(dispute.timeoutAt, now)}`
          : ""),
    ]);
  }
  return [
    `job ${jobId}: ${status} (${KIND[kind]}${kind === 0 ? ` class ${job.classId}` : ""})`,
    ...rows.map(([k, v]) => `  ${k.padEnd(14)}${v}`),
  ];
}

function historyLines(entries: HistoryEntry[]): string[] {
  return entries.map((e) => `  block ${String(e.blockNumber).padEnd(6)} ${e.name.padEnd(16)}${e.text}`);
}

task("cinder:job", "A job's full state and event history; --watch follows it to a terminal status")
  .addOptionalParam("id", "job id")
  .addFlag("watch", "poll every 2 s and print each transition until Finalized, Cancelled, Expired or Faulted")
  .addOptionalParam("from", "account index or address (default: the first account)")
  .setAction(async (args: { id?: string; watch: boolean; from?: string }, hre) => {
    const c = await loadCinder(hre, args.from);
    const { jobId, job } = await loadJob(c, args.id);
    let now = await chainNow(hre);
    const fromBlock = c.manifest.startBlock;
    const history = await jobHistory(c, jobId, fromBlock, now);
    for (const line of await describeJob(c, jobId, job, now)) console.log(line);
    console.log("history");
    for (const line of historyLines(history)) console.log(line);
    if (!args.watch) return;

    let status = statusOf(job);
    if (TERMINAL.has(status)) {
      console.log(`job ${jobId} is ${status}: a terminal status, nothing to watch`);
      return;
    }
    console.log(`watching job ${jobId} (every ${WATCH_INTERVAL_MS / 1000} s) until a terminal status…`);
    let seen = history.length;
    let lastBlock = await hre.ethers.provider.getBlockNumber();
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, WATCH_INTERVAL_MS));
      const block = await hre.ethers.provider.getBlockNumber();
      if (block === lastBlock) continue;
      lastBlock = block;
      now = await chainNow(hre);
      const current = await c.jobCoordinator.getJob(jobId);
      const entries = await jobHistory(c, jobId, fromBlock, now);
      const next = statusOf(current);
      if (next !== status) {
        console.log(`job ${jobId}: ${status} → ${next} (block ${block})`);
        status = next;
      }
      for (const line of historyLines(entries.slice(seen))) console.log(line);
      seen = entries.length;
      if (TERMINAL.has(status)) {
        for (const line of await describeJob(c, jobId, current, now)) console.log(line);
        return;
      }
    }
  });

// ---------------------------------------------------------------- requester

interface RequestArgs {
  model?: string;
  prompt?: string;
  promptFile?: string;
  maxUnits?: string;
  pay?: string;
  class?: string;
  maxPrice?: string;
  deadline?: string;
  provider?: string;
  inputRef?: string;
  from?: string;
}

task(
  "cinder:request",
  "Requests an inference job, escrowing its full maximum cost (the prompt stays off-chain)",
)
  .addOptionalParam("model", "model name (hashed, e.g. stories260K) or 0x-prefixed 32-byte id")
  .addOptionalParam("prompt", "the prompt text (only its keccak256 goes on chain)")
  .addOptionalParam("promptFile", "read the prompt from this file instead")
  .addOptionalParam("maxUnits", "most model units the job may use")
  .addOptionalParam("pay", "voucher | daily | compute")
  .addOptionalParam("class", "voucher class id (--pay voucher; default 1)")
  .addOptionalParam(
    "maxPrice",
    "highest USD price per unit accepted (--pay daily|compute; default: --provider's price)",
  )
  .addOptionalParam("deadline", "time to the result deadline: 90s, 10m, 2h, 1d", "10m")
  .addOptionalParam("provider", "a provider address for a direct request (default: open to any provider)")
  .addOptionalParam("inputRef", "opaque input reference stored on chain (a URI or ciphertext)", "inline:")
  .addOptionalParam("from", "account index or address (default: the first account)")
  .setAction(async (args: RequestArgs, hre) => {
    // Arguments first: nothing below reads the chain until every argument is valid.
    if (args.prompt !== undefined && args.promptFile !== undefined) {
      throw new TaskError("give either --prompt or --prompt-file, not both");
    }
    let prompt: string;
    if (args.promptFile !== undefined) {
      try {
        prompt = readFileSync(args.promptFile, "utf8");
      } catch (error) {
        throw new TaskError(`--prompt-file ${args.promptFile} cannot be read: ${(error as Error).message}`);
      }
    } else if (args.prompt !== undefined) {
      prompt = args.prompt;
    } else {
      throw new TaskError("--prompt (or --prompt-file) is required");
    }
    if (prompt === "") throw new TaskError("the prompt is empty");
    parseModelId(args.model);
    const maxUnits = parseInteger(args.maxUnits, "--max-units", 1n, UINT32_MAX);
    const payText = (args.pay ?? "").trim().toLowerCase();
    if (args.pay === undefined) throw new TaskError("--pay is required: voucher, daily or compute");
    if (!(payText in PAY_KINDS))
      throw new TaskError(`--pay "${args.pay}" is not one of voucher, daily, compute`);
    const kind = PAY_KINDS[payText];
    if (kind === 0 && args.maxPrice !== undefined) {
      throw new TaskError(
        "--max-price is for --pay daily|compute: a voucher job's price is fixed by its class",
      );
    }
    if (kind !== 0 && args.class !== undefined) {
      throw new TaskError("--class is for --pay voucher: credit payments have no voucher class");
    }
    const classId = kind === 0 ? parseInteger(args.class ?? "1", "--class", 1n) : 0n;
    let maxPrice = args.maxPrice === undefined ? undefined : parseAmount(args.maxPrice, "--max-price");
    if (maxPrice !== undefined && maxPrice > UINT96_MAX) {
      throw new TaskError(`--max-price ${args.maxPrice} is too large (at most ${usd(UINT96_MAX)} per unit)`);
    }
    const duration = parseDuration(args.deadline ?? "10m", "--deadline");
    const provider = args.provider === undefined ? ZeroAddress : parseAddress(args.provider, "--provider");
    const inputRef = toUtf8Bytes(args.inputRef ?? "inline:");

    const c = await loadCinder(hre, args.from);
    const me = c.signer.address;
    const coordinator = await c.jobCoordinator.getAddress();
    const maxRef = await c.jobCoordinator.MAX_INPUT_REF();
    if (BigInt(inputRef.length) > maxRef) {
      throw new TaskError(
        `--input-ref is ${inputRef.length} bytes; at most ${maxRef} (put larger inputs behind a URI)`,
      );
    }
    const modelId = provider === ZeroAddress ? await activeModel(c, args.model) : parseModelId(args.model);
    await requireNotPaused(c, "requesting a job");

    const now = await chainNow(hre);
    const [minDuration, maxDuration] = await c.jobCoordinator.jobDurationBounds();
    if (duration < minDuration || duration > maxDuration) {
      throw new TaskError(
        `--deadline ${args.deadline} is outside the coordinator's bounds: ` +
          `${formatDuration(minDuration)} to ${formatDuration(maxDuration)}`,
      );
    }
    // The request is mined a little after `now`: keep a deadline asked at the minimum inside the bounds.
    let deadline = now + (duration < minDuration + DEADLINE_SLACK ? minDuration + DEADLINE_SLACK : duration);
    if (deadline > now + maxDuration) deadline = now + maxDuration;

    if (provider !== ZeroAddress) {
      const price = await c.providerRegistry.eligiblePrice(provider, modelId);
      if (price === 0n) throw new TaskError(`--provider: ${await whyIneligible(c, provider, modelId, now)}`);
      if (kind !== 0) {
        if (maxPrice === undefined) maxPrice = price;
        else if (price > maxPrice) {
          throw new TaskError(
            `--provider ${provider} charges ${usd(price)} per unit, above --max-price ${usd(maxPrice)}: ` +
              "it could not accept the job",
          );
        }
      }
    }

    const approvals: (() => Promise<unknown>)[] = [];
    if (kind === 0) {
      const classCount = await c.voucherMarket.classCount();
      if (classId > classCount) {
        throw new TaskError(
          `voucher class ${classId} does not exist (${plural(classCount, "class", "classes")})`,
        );
      }
      const cls = await c.voucherMarket.getClass(classId);
      if (cls.modelId !== modelId) {
        throw new TaskError(
          `voucher class ${classId} pays for model ${await modelLabel(c, cls.modelId)}, not ${await modelLabel(c, modelId)}`,
        );
      }
      const needed = (maxUnits + cls.unitsPerVoucher - 1n) / cls.unitsPerVoucher;
      const held = await c.voucherMarket.balanceOf(me, classId);
      if (held < needed) {
        throw new TaskError(
          `${me} holds ${plural(held, "voucher")} of class ${classId}; this job needs ${needed} ` +
            `(${maxUnits.toLocaleString("en-US")} units at ${cls.unitsPerVoucher.toLocaleString("en-US")} per voucher): ` +
            "buy more first (cinder:buy-voucher)",
        );
      }
      if (!(await c.voucherMarket.isApprovedForAll(me, coordinator))) {
        approvals.push(() =>
          send(
            c,
            "VoucherMarket.setApprovalForAll(JobCoordinator)",
            c.voucherMarket.setApprovalForAll(coordinator, true),
          ),
        );
      }
    } else {
      if (maxPrice === undefined) {
        throw new TaskError(
          `--max-price is required for --pay ${payText} (the highest USD per unit you accept), unless --provider is given`,
        );
      }
      const escrow = maxUnits * maxPrice;
      if (kind === 1) {
        const allowance = await c.dailyCredit.dailyAllowance(me);
        if (allowance < escrow) {
          throw new TaskError(
            `${me}'s DailyCredit allowance left today is ${usd(allowance)}; this job escrows ${usd(escrow)} ` +
              `(${maxUnits.toLocaleString("en-US")} units × ${usd(maxPrice)})`,
          );
        }
        const subsidy = await c.engine.subsidyRemaining();
        if (subsidy < escrow) {
          throw new TaskError(
            `the engine's subsidy budget left this epoch is ${usd(subsidy)}; this job needs ${usd(escrow)}`,
          );
        }
      } else {
        const balance = await c.computeCredit.balanceOf(me);
        if (balance < escrow) {
          throw new TaskError(
            `${me} holds ${usd(balance)} of ComputeCredit; this job escrows ${usd(escrow)} ` +
              `(${maxUnits.toLocaleString("en-US")} units × ${usd(maxPrice)})`,
          );
        }
        if ((await c.computeCredit.allowance(me, coordinator)) < escrow) {
          approvals.push(() =>
            send(
              c,
              `ComputeCredit.approve(JobCoordinator, ${usd(escrow)})`,
              c.computeCredit.approve(coordinator, escrow),
            ),
          );
        }
      }
    }

    for (const approve of approvals) await approve();
    const inputHash = id(prompt);
    const receipt = await send(
      c,
      "requestJob",
      c.jobCoordinator.requestJob(
        modelId,
        inputHash,
        inputRef,
        maxUnits,
        { kind, classId, maxPricePerUnit: kind === 0 ? 0n : maxPrice! },
        deadline,
        provider,
      ),
    );
    const event = parsedLogs(c.jobCoordinator, receipt.logs).find((e) => e.name === "JobRequested");
    if (!event) throw new TaskError("requestJob succeeded but logged no JobRequested event");
    const jobId = event.args.jobId as bigint;
    const terms = event.args.terms as unknown as { escrow: bigint; deadline: bigint };
    console.log(`job ${jobId} requested (${KIND[kind]}${kind === 0 ? ` class ${classId}` : ""})`);
    console.log(`  model     ${await modelLabel(c, modelId)}`);
    console.log(`  inputHash ${inputHash} (keccak256 of the prompt; the prompt is not on chain)`);
    console.log(`  inputRef  ${args.inputRef ?? "inline:"}`);
    console.log(`  max units ${maxUnits.toLocaleString("en-US")}`);
    console.log(
      `  escrow    ${escrowUnits(BigInt(kind), terms.escrow)}` +
        [` of class ${classId}`, " of DailyCredit allowance", " of ComputeCredit"][kind],
    );
    if (kind !== 0) console.log(`  max price ${usd(maxPrice!)} per unit`);
    console.log(`  deadline  ${formatTime(terms.deadline, await chainNow(hre))}`);
    console.log(`  provider  ${provider === ZeroAddress ? "any eligible provider" : provider}`);
  });

task("cinder:cancel", "Cancels your job before a provider accepts it (full refund)")
  .addOptionalParam("id", "job id")
  .addOptionalParam("from", "account index or address (default: the first account)")
  .setAction(async (args: { id?: string; from?: string }, hre) => {
    const c = await loadCinder(hre, args.from);
    const { jobId, job } = await loadJob(c, args.id);
    if (statusOf(job) !== "Requested") {
      throw wrongStatus(jobId, job, "cancel", "Requested (not yet accepted)");
    }
    if (getAddress(job.requester) !== c.signer.address) {
      throw new TaskError(`job ${jobId} was requested by ${job.requester}; only it may cancel (--from)`);
    }
    const receipt = await send(c, `cancel(${jobId})`, c.jobCoordinator.cancel(jobId));
    const event = parsedLogs(c.jobCoordinator, receipt.logs).find((e) => e.name === "JobCancelled");
    console.log(`job ${jobId} cancelled: refunded ${escrowUnits(job.kind, event?.args.refunded as bigint)}`);
  });

task(
  "cinder:expire",
  "Ends a job whose deadline passed without a result (refund; a late provider is slashed)",
)
  .addOptionalParam("id", "job id")
  .addOptionalParam("from", "account index or address (default: the first account)")
  .setAction(async (args: { id?: string; from?: string }, hre) => {
    const c = await loadCinder(hre, args.from);
    const { jobId, job } = await loadJob(c, args.id);
    const status = statusOf(job);
    if (status !== "Requested" && status !== "Accepted") {
      throw wrongStatus(jobId, job, "expire", "Requested or Accepted (no result before the deadline)");
    }
    const now = await chainNow(hre);
    if (now + 1n < job.deadline) {
      throw new TaskError(
        `job ${jobId}'s deadline is ${formatTime(job.deadline, now)}: it cannot expire before`,
      );
    }
    const receipt = await send(c, `expire(${jobId})`, c.jobCoordinator.expire(jobId));
    const a = parsedLogs(c.jobCoordinator, receipt.logs).find((e) => e.name === "JobExpired")?.args;
    const slashed = (a?.slashed as bigint) ?? 0n;
    console.log(
      `job ${jobId} expired: requester refunded ${escrowUnits(job.kind, a?.refunded as bigint)}` +
        (slashed !== 0n
          ? `, provider ${a?.provider} slashed ${formatAmount(slashed, await symbolOf(c))}`
          : ""),
    );
  });

// ---------------------------------------------------------------- provider

task("cinder:accept", "Accepts a requested job as the provider, locking collateral from its bond")
  .addOptionalParam("id", "job id")
  .addOptionalParam("from", "the provider's account index or address (default: the first account)")
  .setAction(async (args: { id?: string; from?: string }, hre) => {
    const c = await loadCinder(hre, args.from);
    const { jobId, job } = await loadJob(c, args.id);
    const me = c.signer.address;
    if (statusOf(job) !== "Requested") throw wrongStatus(jobId, job, "accept", "Requested");
    await requireNotPaused(c, "accepting a job");
    const now = await chainNow(hre);
    if (now + 1n >= job.deadline) {
      throw new TaskError(
        `job ${jobId}'s deadline passed (${formatTime(job.deadline, now)}): it can only expire (cinder:expire)`,
      );
    }
    if (job.provider !== ZeroAddress && getAddress(job.provider) !== me) {
      throw new TaskError(`job ${jobId} is a direct request to ${job.provider}; you are ${me}`);
    }
    const price = await c.providerRegistry.eligiblePrice(me, job.modelId);
    if (price === 0n) throw new TaskError(await whyIneligible(c, me, job.modelId, now));
    if (job.kind !== 0n && price > job.pricePerUnit) {
      throw new TaskError(
        `your price ${usd(price)} per unit is above job ${jobId}'s cap of ${usd(job.pricePerUnit)} per unit`,
      );
    }
    const collateralPerUsd = await c.jobCoordinator.collateralPerUsd();
    // The coordinator's rule: a voucher job's value is its escrowed vouchers' USD value, a credit job's is
    // maxUnits at the provider's price.
    let value = job.maxUnits * price;
    if (job.kind === 0n) {
      const voucherClass = await c.voucherMarket.getClass(job.classId);
      const { decimals } = await stablecoinAt(hre, c, voucherClass.stablecoin);
      value = job.escrow * voucherClass.unitPrice * 10n ** (18n - BigInt(decimals));
    }
    const collateral = (value * collateralPerUsd + WAD - 1n) / WAD;
    const free = await c.providerRegistry.freeBond(me);
    const symbol = await symbolOf(c);
    if (free < collateral) {
      throw new TaskError(
        `job ${jobId} needs ${formatAmount(collateral, symbol)} of collateral; your free bond is ${formatAmount(free, symbol)}`,
      );
    }
    await send(c, `acceptJob(${jobId})`, c.jobCoordinator.acceptJob(jobId));
    const locked = (await c.jobCoordinator.getJob(jobId)).collateral;
    console.log(
      `job ${jobId} accepted by ${me}: collateral ${formatAmount(locked, symbol)} locked` +
        (job.kind !== 0n ? `, price ${usd(price)} per unit` : "") +
        `; submit before ${formatTime(job.deadline, await chainNow(hre))}`,
    );
  });

task("cinder:submit", "Submits an accepted job's result with an EIP-712 attestation by the provider's signer")
  .addOptionalParam("id", "job id")
  .addOptionalParam("output", "the output text (only its keccak256 goes on chain)")
  .addOptionalParam("units", "model units used (≤ the job's max units)")
  .addOptionalParam(
    "signer",
    "account index or address whose key signs the Result (default: the provider itself)",
  )
  .addOptionalParam("from", "the provider's account index or address (default: the first account)")
  .setAction(
    async (args: { id?: string; output?: string; units?: string; signer?: string; from?: string }, hre) => {
      if (args.output === undefined || args.output === "") throw new TaskError("--output is required");
      const unitsUsed = parseInteger(args.units, "--units", 0n, UINT32_MAX);
      const c = await loadCinder(hre, args.from);
      const attester = args.signer === undefined ? c.signer : await account(hre, args.signer);
      const { jobId, job } = await loadJob(c, args.id);
      const me = c.signer.address;
      if (statusOf(job) !== "Accepted") throw wrongStatus(jobId, job, "submit", "Accepted");
      if (getAddress(job.provider) !== me) {
        throw new TaskError(
          `job ${jobId} was accepted by ${job.provider}; submit from that account (--from)`,
        );
      }
      const now = await chainNow(hre);
      if (now + 1n >= job.deadline) {
        throw new TaskError(
          `job ${jobId}'s deadline passed (${formatTime(job.deadline, now)}): too late to submit; it can only expire`,
        );
      }
      if (unitsUsed > job.maxUnits) {
        throw new TaskError(`--units ${unitsUsed} is more than job ${jobId}'s max of ${job.maxUnits}`);
      }
      const expected = await c.providerRegistry.signerOf(me);
      if (getAddress(expected) !== attester.address) {
        const signers = await hre.ethers.getSigners();
        const index = signers.findIndex((s) => s.address === getAddress(expected));
        throw new TaskError(
          `provider ${me}'s attestation signer is ${expected}, not ${attester.address}: ` +
            (index >= 0 ? `pass --signer ${index}` : "its key is not among this network's accounts"),
        );
      }
      const outputHash = id(args.output);
      const { domain, types } = resultTypedData(
        (await hre.ethers.provider.getNetwork()).chainId,
        await c.jobCoordinator.getAddress(),
      );
      const signature = await attester.signTypedData(domain, types, {
        jobId,
        modelId: job.modelId,
        inputHash: job.inputHash,
        outputHash,
        unitsUsed,
      });
      const receipt = await send(
        c,
        `submitResult(${jobId})`,
        c.jobCoordinator.submitResult(jobId, outputHash, unitsUsed, signature),
      );
      const a = parsedLogs(c.jobCoordinator, receipt.logs).find((e) => e.name === "ResultSubmitted")?.args;
      console.log(
        `job ${jobId} result submitted: outputHash ${outputHash}, ${plural(unitsUsed, "unit")} used, ` +
          `signed by ${attester.address}`,
      );
      console.log(
        `  challenge window ends ${formatTime(a?.challengeEnds as bigint, await chainNow(hre))}; ` +
          `then cinder:finalize --id ${jobId}`,
      );
    },
  );

// ---------------------------------------------------------------- settlement

task(
  "cinder:finalize",
  "Settles jobs whose challenge window passed (finalizeBatch); prints settled and skipped",
)
  .addOptionalParam("id", "job id, or several separated by commas (1,2,3)")
  .addOptionalParam("from", "account index or address (default: the first account)")
  .setAction(async (args: { id?: string; from?: string }, hre) => {
    if (args.id === undefined || args.id.trim() === "") throw new TaskError("--id is required");
    const texts = args.id.split(",").map((t) => t.trim());
    const ids = texts.map((t) => parseInteger(t, "--id"));
    const unique = new Set(ids.map(String));
    if (unique.size !== ids.length) throw new TaskError(`--id ${args.id} lists a job more than once`);
    const c = await loadCinder(hre, args.from);
    const maxBatch = await c.jobCoordinator.MAX_BATCH();
    if (BigInt(ids.length) > maxBatch)
      throw new TaskError(`--id lists ${ids.length} jobs; at most ${maxBatch}`);
    const now = await chainNow(hre);
    const jobs = new Map<bigint, JobView>();
    const notReady: string[] = [];
    for (const text of texts) {
      const { jobId, job } = await loadJob(c, text);
      jobs.set(jobId, job);
      const status = statusOf(job);
      if (status !== "Submitted") {
        notReady.push(
          `job ${jobId} is ${status} (finalize needs Submitted` +
            (status === "Challenged" ? "; a challenged job settles through cinder:resolve)" : ")"),
        );
      } else if (now + 1n < job.challengeEnds) {
        notReady.push(`job ${jobId}'s challenge window ends ${formatTime(job.challengeEnds, now)}`);
      }
    }
    if (notReady.length === ids.length) throw new TaskError(`nothing to finalize: ${notReady.join("; ")}`);

    const receipt = await send(c, `finalizeBatch(${ids.join(",")})`, c.jobCoordinator.finalizeBatch(ids));
    const events = parsedLogs(c.jobCoordinator, receipt.logs);
    const settled = events.filter((e) => e.name === "JobFinalized");
    const skipped = events.filter((e) => e.name === "JobSkipped");
    console.log(`settled ${settled.length} ${settled.length === 1 ? "job" : "jobs"}:`);
    for (const e of settled) {
      const job = jobs.get(e.args.jobId as bigint)!;
      console.log(
        `  job ${e.args.jobId}: provider ${e.args.provider} paid ${escrowUnits(job.kind, e.args.paid as bigint)}, ` +
          `requester refunded ${escrowUnits(job.kind, e.args.refunded as bigint)}`,
      );
    }
    console.log(
      `skipped ${skipped.length} ${skipped.length === 1 ? "job" : "jobs"}${skipped.length ? ":" : ""}`,
    );
    const after = await chainNow(hre);
    for (const e of skipped) {
      const jobId = e.args.jobId as bigint;
      const reason = SKIP_REASONS[Number(e.args.reason)];
      const job = jobs.get(jobId)!;
      const why =
        reason === "WindowOpen"
          ? `challenge window ends ${formatTime(job.challengeEnds, after)}`
          : reason === "Challenged"
            ? "under dispute: settles through cinder:resolve"
            : `it is ${statusOf(job)}`;
      console.log(`  job ${jobId}: ${reason}: ${why}`);
    }
  });

// ---------------------------------------------------------------- disputes

task("cinder:challenge", "Challenges a submitted result inside its window, posting the challenge bond")
  .addOptionalParam("id", "job id")
  .addOptionalParam("from", "account index or address (default: the first account)")
  .setAction(async (args: { id?: string; from?: string }, hre) => {
    const c = await loadCinder(hre, args.from);
    const { jobId, job } = await loadJob(c, args.id);
    const me = c.signer.address;
    const status = statusOf(job);
    if (status === "Challenged")
      throw new TaskError(`job ${jobId} is already Challenged (cinder:job --id ${jobId})`);
    if (status !== "Submitted")
      throw wrongStatus(jobId, job, "challenge", "Submitted (a result in its window)");
    const now = await chainNow(hre);
    if (now + 1n >= job.challengeEnds) {
      throw new TaskError(`job ${jobId}'s challenge window closed ${formatTime(job.challengeEnds, now)}`);
    }
    if (getAddress(job.provider) === me) {
      throw new TaskError(`${me} is job ${jobId}'s provider: a provider cannot challenge its own result`);
    }
    const bond = await c.disputeModule.challengeBond();
    const symbol = await symbolOf(c);
    const balance = await c.token.balanceOf(me);
    if (balance < bond) {
      throw new TaskError(
        `the challenge bond is ${formatAmount(bond, symbol)}; ${me} holds ${formatAmount(balance, symbol)}`,
      );
    }
    const disputes = await c.disputeModule.getAddress();
    if ((await c.token.allowance(me, disputes)) < bond) {
      await send(
        c,
        `${symbol}.approve(DisputeModule, ${formatAmount(bond, symbol)})`,
        c.token.approve(disputes, bond),
      );
    }
    const receipt = await send(c, `challenge(${jobId})`, c.disputeModule.challenge(jobId));
    const blockTime = BigInt((await hre.ethers.provider.getBlock(receipt.blockNumber))!.timestamp);
    const timeout = await c.disputeModule.disputeTimeout();
    console.log(
      `job ${jobId} challenged by ${me}: bond ${formatAmount(bond, symbol)} posted; the arbiters vote ` +
        `(cinder:vote), else it resolves for the provider at ${formatTime(blockTime + timeout, await chainNow(hre))}`,
    );
  });

task("cinder:vote", "Votes as an arbiter on a challenged job: --fault (result wrong) or --valid")
  .addOptionalParam("id", "job id")
  .addFlag("fault", "the re-executed output disagrees: uphold the challenge")
  .addFlag("valid", "the result is correct: reject the challenge")
  .addOptionalParam("from", "the arbiter's account index or address (default: the first account)")
  .setAction(async (args: { id?: string; fault: boolean; valid: boolean; from?: string }, hre) => {
    if (args.fault === args.valid) throw new TaskError("give exactly one of --fault or --valid");
    const c = await loadCinder(hre, args.from);
    const { jobId, job } = await loadJob(c, args.id);
    const me = c.signer.address;
    if (!(await c.verifier.hasRole(await c.verifier.ARBITER_ROLE(), me))) {
      throw new TaskError(`${me} is not an arbiter of the committee (ARBITER_ROLE)`);
    }
    if (statusOf(job) !== "Challenged") throw wrongStatus(jobId, job, "a vote", "Challenged");
    if (await c.verifier.hasVoted(jobId, me)) throw new TaskError(`${me} already voted on job ${jobId}`);
    const verdict = VERDICTS[Number(await c.verifier.verdict(jobId))];
    if (verdict !== "Pending") {
      throw new TaskError(`job ${jobId}'s verdict is already ${verdict}: run cinder:resolve --id ${jobId}`);
    }
    await send(c, `vote(${jobId}, ${args.fault ? "fault" : "valid"})`, c.verifier.vote(jobId, args.fault));
    const [faultVotes, validVotes] = await c.verifier.tally(jobId);
    const after = VERDICTS[Number(await c.verifier.verdict(jobId))];
    console.log(
      `voted ${args.fault ? "fault" : "valid"} on job ${jobId}: ${faultVotes} fault / ${validVotes} valid of ` +
        `${await c.verifier.threshold()} needed; verdict ${after}` +
        (after !== "Pending" ? ` (cinder:resolve --id ${jobId})` : ""),
    );
  });

task("cinder:resolve", "Resolves a job's dispute from the arbiters' verdict, or by timeout")
  .addOptionalParam("id", "job id")
  .addOptionalParam("from", "account index or address (default: the first account)")
  .setAction(async (args: { id?: string; from?: string }, hre) => {
    const c = await loadCinder(hre, args.from);
    const { jobId, job } = await loadJob(c, args.id);
    const dispute = await c.disputeModule.getDispute(jobId);
    const outcome = OUTCOMES[Number(dispute.outcome)];
    if (outcome === "None") {
      throw new TaskError(
        `job ${jobId} has no dispute (it is ${statusOf(job)}): resolve needs an open challenge`,
      );
    }
    if (outcome !== "Open") throw new TaskError(`job ${jobId}'s dispute is already resolved: ${outcome}`);
    const now = await chainNow(hre);
    const verifierAddress = await c.disputeModule.verifier();
    const verdict =
      verifierAddress.toLowerCase() === (await c.verifier.getAddress()).toLowerCase()
        ? VERDICTS[Number(await c.verifier.verdict(jobId))]
        : "Pending";
    if (verdict === "Pending" && now + 1n < dispute.timeoutAt) {
      const [fault, valid] = await c.verifier.tally(jobId);
      throw new TaskError(
        `job ${jobId} has no verdict yet (${fault} fault / ${valid} valid of ${await c.verifier.threshold()} ` +
          `needed) and its dispute times out ${formatTime(dispute.timeoutAt, now)}`,
      );
    }
    const receipt = await send(c, `resolve(${jobId})`, c.disputeModule.resolve(jobId));
    const a = parsedLogs(c.disputeModule, receipt.logs).find((e) => e.name === "DisputeResolved")?.args;
    const symbol = await symbolOf(c);
    const result = OUTCOMES[Number(a?.outcome)];
    const after = await c.jobCoordinator.getJob(jobId);
    console.log(
      `job ${jobId}'s dispute resolved: ${result} → job ${statusOf(after)}` +
        (result === "Upheld"
          ? `; provider slashed ${formatAmount(a?.slashed as bigint, symbol)} (finder fee ` +
            `${formatAmount(a?.finderFee as bigint, symbol)} to the challenger), jailed; requester refunded`
          : result === "Rejected"
            ? "; the challenger's bond goes to the provider, which is paid"
            : "; no verdict in time: the provider is paid and the challenger's bond returned"),
    );
  });
