/**
 * The contracts' enums by value, for display and for building calls. Free of TypeChain imports, so the Hardhat
 * tasks can use them before the first compile.
 */

/** `IJobCoordinator.JobStatus` names, indexed by value (`JobStatus[Number(job.status)]`). */
export const JobStatus = [
  "None",
  "Requested",
  "Accepted",
  "Submitted",
  "Challenged",
  "Finalized",
  "Cancelled",
  "Expired",
  "Faulted",
] as const;
export type JobStatusName = (typeof JobStatus)[number];

/** `IJobCoordinator.PaymentKind` names, indexed by value. */
export const PaymentKindName = ["Voucher", "DailyCredit", "ComputeCredit"] as const;

/** `IJobCoordinator.PaymentKind` values, by name (the `kind` of `requestJob`'s payment). */
export const PaymentKind = { Voucher: 0, DailyCredit: 1, ComputeCredit: 2 } as const;

/** `IJobCoordinator.SkipReason` names, indexed by value. */
export const SkipReason = ["NotSubmitted", "WindowOpen", "Challenged"] as const;

/** `IProviderRegistry.Status` names, indexed by value. */
export const ProviderStatus = ["None", "Active", "Exiting"] as const;

/** `IDisputeModule.Outcome` names, indexed by value. */
export const DisputeOutcome = ["None", "Open", "Upheld", "Rejected", "TimedOut"] as const;
