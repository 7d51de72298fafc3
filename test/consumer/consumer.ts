/**
 * A dApp's view of Cinder: compiled (never run) by test/hardhat/Bindings.test.ts against the built package, through
 * the package's own name and `exports`, exactly as a project that installed `cinder-protocol` would. Must compile
 * without errors; misuse.ts beside it must fail exactly where it misuses the API (proof the types are not `any`).
 */
import {
  JsonRpcProvider,
  Wallet,
  ZeroAddress,
  id,
  toUtf8Bytes,
  type ContractTransactionReceipt,
} from "ethers";
import {
  connectCinder,
  deployments,
  resultTypedData,
  JobStatus,
  PaymentKind,
  type CinderManifest,
  type IJobCoordinator,
  type JobCoordinator,
} from "cinder-protocol";

export async function requestStory(
  manifest: CinderManifest,
  privateKey: string,
): Promise<{
  receipt: ContractTransactionReceipt | null;
  status: (typeof JobStatus)[number];
  escrow: bigint;
}> {
  const signer = new Wallet(privateKey, new JsonRpcProvider("http://127.0.0.1:8545"));
  const cinder = connectCinder(manifest, signer);
  const coordinator: JobCoordinator = cinder.jobCoordinator;

  const payment: IJobCoordinator.PaymentStruct = {
    kind: PaymentKind.Voucher,
    classId: 1n,
    maxPricePerUnit: 0n,
  };
  const deadline = BigInt(Math.floor(Date.now() / 1000) + 600);
  const tx = await coordinator.requestJob(
    id("stories260K"),
    id("Once upon a time"),
    toUtf8Bytes("https://provider.example/jobs/input"),
    2_500n,
    payment,
    deadline,
    ZeroAddress,
  );
  const receipt = await tx.wait();

  const job = await coordinator.getJob(await coordinator.jobCount());
  const status = JobStatus[Number(job.status)];
  const escrow: bigint = job.escrow;

  const typed = resultTypedData(11155111, await coordinator.getAddress());
  void typed.types.Result;
  void deployments[11155111];
  return { receipt, status, escrow };
}
