/**
 * Wrong uses of the bindings. test/hardhat/Bindings.test.ts compiles this file with consumer.ts and expects a type
 * error on each line marked `expect:` below, and none elsewhere: bindings typed as `any` would accept them all.
 */
import { ZeroAddress, id } from "ethers";
import { connectCinder, type CinderManifest, type IJobCoordinator } from "cinder-protocol";

export async function misuse(manifest: CinderManifest) {
  const coordinator = connectCinder(manifest, null).jobCoordinator;
  const payment: IJobCoordinator.PaymentStruct = { kind: 0, classId: 1n, maxPricePerUnit: 0n };
  await coordinator.requestJob(id("m"), id("x"), "0x", 1n, payment, 1n); // expect: TS2345 (seven arguments, not six)
  const wrong: IJobCoordinator.PaymentStruct = { kind: 0, classId: 1n, amount: 5n }; // expect: TS2353 (no `amount`)
  const notAString: string = await coordinator.getJob(1n); // expect: TS2322 (a struct, not a string)
  await coordinator.finalizeBatch(ZeroAddress); // expect: TS2345 (ids, not an address)
  return { wrong, notAString };
}
