// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {JobsFixture} from "./invariant/Jobs.invariant.t.sol";
import {IJobCoordinator} from "../../contracts/interfaces/IJobCoordinator.sol";
import {IDisputeModule} from "../../contracts/interfaces/IDisputeModule.sol";
import {IProviderRegistry} from "../../contracts/interfaces/IProviderRegistry.sol";

/// @notice Fuzz tests of the job lifecycle's arithmetic on the full stack (JobsFixture): what settlement pays and
///         refunds for any size, usage, payment kind and provider; what an attestation binds; which ids a batch
///         settles; what lateness and faults cost a provider.
contract JobCoordinatorFuzzTest is JobsFixture {
    bytes32 private constant _DOMAIN_TYPEHASH = keccak256(
        "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    );
    bytes32 private constant _RESULT_TYPEHASH = keccak256(
        "Result(uint256 jobId,bytes32 modelId,bytes32 inputHash,bytes32 outputHash,uint256 unitsUsed)"
    );
    bytes32 private constant _OUTPUT = keccak256("output");
    uint256 private constant _BPS = 10_000;
    uint256 private constant _FEE_BPS = 100; // VoucherMarket protocol fee
    uint256 private constant _COLLATERAL_PER_USD = 100e18;
    uint256 private constant _LATE_SLASH_BPS = 1_000;
    uint256 private constant _FAULT_SLASH_BPS = 1_000;
    uint256 private constant _FINDER_FEE_BPS = 5_000;
    uint256 private constant _CHALLENGE_BOND = 100e18;

    /// @dev Per-party balances a settlement moves.
    struct Balances {
        uint256 requesterVouchers;
        uint256 requesterCredit;
        uint256 requesterAllowance;
        uint256 providerCredit;
        uint256 providerOwed;
        uint256 treasuryOwed;
        uint256 creditSupply;
        uint256 tokenSupply;
        uint256 workUsd;
    }

    function setUp() public {
        _deployFixture();
    }

    // ================================================================ settlement

    /// @notice A finalized job pays the provider for the units used (whole vouchers, or units × its price) and
    ///         refunds the requester the rest of the escrow; the coordinator keeps nothing, the collateral is
    ///         released and the work recorded.
    function testFuzz_finalizePaysTheUnitsUsedAndRefundsTheRest(
        uint8 kindSeed,
        uint256 maxUnits,
        uint256 unitsUsed,
        uint8 providerSeed
    ) public {
        IJobCoordinator.PaymentKind kind = IJobCoordinator.PaymentKind(kindSeed % 3);
        maxUnits = bound(maxUnits, 1, 6 * UNITS_PER_VOUCHER);
        unitsUsed = bound(unitsUsed, 0, maxUnits);
        uint256 p = providerSeed % 3;
        address requester = requesters[0];
        Balances memory before = _balances(requester, providers[p]);

        uint256 id = _request(requester, kind, maxUnits, address(0));
        _accept(id, p);
        _submit(id, p, unitsUsed);
        vm.warp(block.timestamp + 1 hours);
        vm.prank(keeper);
        coordinator.finalize(id);

        Balances memory afterwards = _balances(requester, providers[p]);
        vm.assertEq(uint8(coordinator.getJob(id).status), uint8(IJobCoordinator.JobStatus.Finalized), "status");
        if (kind == IJobCoordinator.PaymentKind.Voucher) {
            uint256 paid = Math.ceilDiv(unitsUsed, UNITS_PER_VOUCHER);
            uint256 principal = paid * USDC;
            uint256 fee = Math.mulDiv(principal, _FEE_BPS, _BPS, Math.Rounding.Ceil);
            vm.assertEq(
                afterwards.requesterVouchers,
                before.requesterVouchers - paid,
                "requester keeps the unused"
            );
            vm.assertEq(afterwards.providerOwed, before.providerOwed + principal - fee, "provider credited");
            vm.assertEq(afterwards.treasuryOwed, before.treasuryOwed + fee, "treasury fee");
            vm.assertEq(afterwards.workUsd, before.workUsd + principal * 1e12, "organic work");
        } else {
            uint256 paid = unitsUsed * registry.priceOf(providers[p], MODEL);
            vm.assertEq(afterwards.providerCredit, before.providerCredit + paid, "provider paid in credit");
            vm.assertEq(afterwards.workUsd, before.workUsd + paid, "work");
            if (kind == IJobCoordinator.PaymentKind.ComputeCredit) {
                vm.assertEq(afterwards.requesterCredit, before.requesterCredit - paid, "requester refunded");
                vm.assertEq(afterwards.creditSupply, before.creditSupply, "credit moved, not minted");
            } else {
                // Same UTC day: the unused allowance comes back and the unused subsidy is burned.
                vm.assertEq(afterwards.requesterAllowance, before.requesterAllowance - paid, "allowance restored");
                vm.assertEq(afterwards.creditSupply, before.creditSupply + paid, "only the pay stays minted");
                vm.assertEq(engine.epochLedger(block.timestamp / 1 days).subsidyMintedUsd, paid, "subsidy used");
            }
        }
        vm.assertEq(market.balanceOf(address(coordinator), classId), 0, "coordinator holds no vouchers");
        vm.assertEq(computeCredit.balanceOf(address(coordinator)), 0, "coordinator holds no credit");
        IProviderRegistry.ProviderRecord memory r = registry.getProvider(providers[p]);
        vm.assertEq(r.locked, 0, "collateral released");
        vm.assertEq(r.openJobs, 0, "job closed");
    }

    /// @notice A batch settles each submitted job whose window has passed exactly once, whatever else it holds
    ///         (requested, accepted, unready, challenged, finalized and unknown ids, duplicates), and reports the
    ///         rest as skipped in order.
    function testFuzz_batchSettlesEachReadyJobOnce(uint256[8] memory picks, uint256 size) public {
        // 1 requested, 2 accepted, 3 and 4 ready (two providers, vouchers and credit), 5 challenged,
        // 6 finalized, 7 submitted with its window open; 0 and 8 do not exist.
        _request(requesters[0], IJobCoordinator.PaymentKind.Voucher, 1_500, address(0));
        _accept(_request(requesters[0], IJobCoordinator.PaymentKind.Voucher, 2_000, address(0)), 0);
        for (uint256 i; i < 4; ++i) {
            IJobCoordinator.PaymentKind kind =
                i == 1 ? IJobCoordinator.PaymentKind.ComputeCredit : IJobCoordinator.PaymentKind.Voucher;
            uint256 id = _request(requesters[1], kind, 2_500, address(0));
            _accept(id, i % 2);
            _submit(id, i % 2, 1_200);
        }
        vm.prank(challenger);
        disputes.challenge(5);
        vm.warp(block.timestamp + 1 hours);
        vm.prank(keeper);
        coordinator.finalize(6);
        uint256 last = _request(requesters[2], IJobCoordinator.PaymentKind.Voucher, 700, address(0));
        _accept(last, 2);
        _submit(last, 2, 700);

        uint256[] memory ids = new uint256[](bound(size, 1, 8));
        bool[9] memory seen;
        uint256 expectedSettled;
        uint256[] memory expectedSkipped = new uint256[](ids.length);
        uint256 skippedCount;
        for (uint256 i; i < ids.length; ++i) {
            ids[i] = picks[i] % 9;
            if ((ids[i] == 3 || ids[i] == 4) && !seen[ids[i]]) {
                seen[ids[i]] = true;
                ++expectedSettled;
            } else {
                expectedSkipped[skippedCount++] = ids[i];
            }
        }
        vm.prank(keeper);
        (uint256 settled, uint256[] memory skipped) = coordinator.finalizeBatch(ids);

        vm.assertEq(settled, expectedSettled, "settled");
        vm.assertEq(skipped.length, skippedCount, "skipped count");
        for (uint256 i; i < skippedCount; ++i) vm.assertEq(skipped[i], expectedSkipped[i], "skipped id");
        for (uint256 id = 3; id <= 4; ++id) {
            IJobCoordinator.JobStatus expected =
                seen[id] ? IJobCoordinator.JobStatus.Finalized : IJobCoordinator.JobStatus.Submitted;
            vm.assertEq(uint8(coordinator.getJob(id).status), uint8(expected), "ready job");
        }
        vm.assertEq(
            uint8(coordinator.getJob(5).status),
            uint8(IJobCoordinator.JobStatus.Challenged),
            "challenged"
        );
        vm.assertEq(uint8(coordinator.getJob(7).status), uint8(IJobCoordinator.JobStatus.Submitted), "unready");
        // Job 3 (vouchers) pays provider0 two vouchers less the fee, once; job 4 (credit) pays provider1 1 200
        // units at its price, once.
        uint256 principal = 2 * USDC;
        uint256 voucherPay = seen[3] ? principal - Math.mulDiv(principal, _FEE_BPS, _BPS, Math.Rounding.Ceil) : 0;
        vm.assertEq(market.owed(providers[0], usdc), voucherPay, "vouchers paid once");
        uint256 creditPay = seen[4] ? 1_200 * registry.priceOf(providers[1], MODEL) : 0;
        vm.assertEq(computeCredit.balanceOf(providers[1]), creditPay, "credit paid once");
    }

    // ================================================================ attestation

    /// @notice A result is accepted only under an EIP-712 signature by the provider's signer over exactly this
    ///         job, model, input, output and units, on this chain and this coordinator.
    function testFuzz_attestationBindsEveryField(uint8 field, uint256 units, bytes32 other) public {
        uint256 id = _request(requesters[0], IJobCoordinator.PaymentKind.Voucher, 3_000, address(0));
        _accept(id, 1);
        units = bound(units, 0, 3_000);
        vm.assume(other != _OUTPUT && other != _input(id) && other != MODEL);

        bytes memory tampered = _tamperedSignature(field % 8, id, units, other);
        // What the coordinator recovers from it over the true result: anyone but provider1's signer.
        address recovered = ECDSA.recover(
            _digest(block.chainid, address(coordinator), _structHash(id, MODEL, _input(id), _OUTPUT, units)),
            tampered
        );
        address signer = vm.addr(signerKeys[1]);
        vm.assertTrue(recovered != signer, "tampered signature recovers the signer");
        vm.prank(providers[1]);
        vm.expectRevert(
            abi.encodeWithSelector(IJobCoordinator.InvalidAttestation.selector, id, recovered, signer)
        );
        coordinator.submitResult(id, _OUTPUT, units, tampered);

        _submit(id, 1, units);
        vm.assertEq(uint8(coordinator.getJob(id).status), uint8(IJobCoordinator.JobStatus.Submitted), "accepted");
        vm.assertEq(coordinator.getJob(id).unitsUsed, units, "units");
    }

    // ================================================================ slashing

    /// @notice A job accepted and not delivered by its deadline expires with a full refund; the provider loses
    ///         ⌈collateral × lateSlashBps⌉ of its bond (burned) and the collateral is released.
    function testFuzz_expiryRefundsInFullAndBurnsTheLateSlash(
        uint8 kindSeed,
        uint256 maxUnits,
        uint256 lateBy,
        uint8 providerSeed
    ) public {
        IJobCoordinator.PaymentKind kind = IJobCoordinator.PaymentKind(kindSeed % 3);
        maxUnits = bound(maxUnits, 1, 6 * UNITS_PER_VOUCHER);
        uint256 p = providerSeed % 3;
        address requester = requesters[0];
        Balances memory before = _balances(requester, providers[p]);
        uint256 bond = registry.getProvider(providers[p]).bond;

        uint256 id = _request(requester, kind, maxUnits, providers[p]);
        _accept(id, p);
        uint256 collateral = coordinator.getJob(id).collateral;
        uint256 value =
            kind == IJobCoordinator.PaymentKind.Voucher
                ? Math.ceilDiv(maxUnits, UNITS_PER_VOUCHER) * WAD
                : maxUnits * registry.priceOf(providers[p], MODEL);
        vm.assertEq(collateral, Math.mulDiv(value, _COLLATERAL_PER_USD, WAD, Math.Rounding.Ceil), "collateral");
        // Still the same UTC day (deadline 2 hours after 13:00, at most 6 more hours late).
        vm.warp(coordinator.getJob(id).deadline + bound(lateBy, 0, 6 hours));
        vm.prank(keeper);
        coordinator.expire(id);

        uint256 slash = Math.mulDiv(collateral, _LATE_SLASH_BPS, _BPS, Math.Rounding.Ceil);
        Balances memory afterwards = _balances(requester, providers[p]);
        IProviderRegistry.ProviderRecord memory r = registry.getProvider(providers[p]);
        vm.assertEq(r.bond, bond - slash, "bond cut by the late slash");
        vm.assertEq(afterwards.tokenSupply, before.tokenSupply - slash, "late slash burned");
        vm.assertEq(r.locked, 0, "collateral released");
        vm.assertEq(r.openJobs, 0, "job closed");
        vm.assertEq(afterwards.requesterVouchers, before.requesterVouchers, "vouchers refunded in full");
        vm.assertEq(afterwards.requesterCredit, before.requesterCredit, "credit refunded in full");
        vm.assertEq(afterwards.requesterAllowance, before.requesterAllowance, "allowance restored in full");
        vm.assertEq(afterwards.creditSupply, before.creditSupply, "subsidy burned back");
        vm.assertEq(afterwards.workUsd, before.workUsd, "no work recorded");
    }

    /// @notice An upheld challenge refunds the requester in full, slashes faultSlashBps of the provider's whole
    ///         bond (finderFeeBps of it to the challenger, the rest burned), returns the challenger's bond and
    ///         jails the provider.
    function testFuzz_upheldChallengeSlashesTheBondAndPaysTheFinder(
        uint256 maxUnits,
        uint256 unitsUsed,
        uint8 providerSeed
    ) public {
        maxUnits = bound(maxUnits, 1, 6 * UNITS_PER_VOUCHER);
        unitsUsed = bound(unitsUsed, 0, maxUnits);
        uint256 p = providerSeed % 3;
        address requester = requesters[0];
        uint256 vouchers = market.balanceOf(requester, classId);
        uint256 challengerTokens = token.balanceOf(challenger);

        uint256 id = _request(requester, IJobCoordinator.PaymentKind.Voucher, maxUnits, address(0));
        _accept(id, p);
        _submit(id, p, unitsUsed);
        vm.prank(challenger);
        disputes.challenge(id);
        vm.assertEq(token.balanceOf(address(disputes)), _CHALLENGE_BOND, "challenger bond held");
        vm.prank(arbiter);
        verifier.vote(id, true);
        uint256 bond = registry.getProvider(providers[p]).bond;
        uint256 supply = token.totalSupply();
        vm.prank(keeper);
        vm.assertEq(uint8(disputes.resolve(id)), uint8(IDisputeModule.Outcome.Upheld), "upheld");

        uint256 slash = Math.mulDiv(bond, _FAULT_SLASH_BPS, _BPS);
        uint256 finderFee = Math.mulDiv(slash, _FINDER_FEE_BPS, _BPS);
        IProviderRegistry.ProviderRecord memory r = registry.getProvider(providers[p]);
        vm.assertEq(uint8(coordinator.getJob(id).status), uint8(IJobCoordinator.JobStatus.Faulted), "faulted");
        vm.assertEq(market.balanceOf(requester, classId), vouchers, "requester refunded in full");
        vm.assertEq(r.bond, bond - slash, "bond slashed");
        vm.assertEq(r.locked, 0, "collateral released");
        vm.assertEq(r.openJobs, 0, "job closed");
        vm.assertEq(r.jailedUntil, block.timestamp + 1 days, "jailed");
        vm.assertEq(token.balanceOf(challenger), challengerTokens + finderFee, "bond back plus the finder fee");
        vm.assertEq(token.totalSupply(), supply - (slash - finderFee), "the rest burned");
        vm.assertEq(token.balanceOf(address(disputes)), 0, "no bond left behind");
    }

    // ================================================================ helpers

    /// @dev A job of `maxUnits` due in 2 hours; credit jobs capped at the highest provider price.
    function _request(
        address requester,
        IJobCoordinator.PaymentKind kind,
        uint256 maxUnits,
        address provider
    ) internal returns (uint256) {
        IJobCoordinator.Payment memory payment =
            kind == IJobCoordinator.PaymentKind.Voucher
                ? IJobCoordinator.Payment(kind, classId, 0)
                : IJobCoordinator.Payment(kind, 0, registry.priceOf(providers[2], MODEL));
        bytes32 inputHash = keccak256(abi.encode("input", coordinator.jobCount() + 1));
        vm.prank(requester);
        return
            coordinator.requestJob(
                MODEL,
                inputHash,
                "ipfs://input",
                maxUnits,
                payment,
                block.timestamp + 2 hours,
                provider
            );
    }

    function _input(uint256 id) internal view returns (bytes32) {
        return coordinator.getJob(id).inputHash;
    }

    function _accept(uint256 id, uint256 p) internal {
        vm.prank(providers[p]);
        coordinator.acceptJob(id);
    }

    function _submit(uint256 id, uint256 p, uint256 units) internal {
        bytes32 structHash = _structHash(id, MODEL, coordinator.getJob(id).inputHash, _OUTPUT, units);
        bytes memory signature = _signDigest(
            signerKeys[p],
            _digest(block.chainid, address(coordinator), structHash)
        );
        vm.prank(providers[p]);
        coordinator.submitResult(id, _OUTPUT, units, signature);
    }

    /// @dev provider1's attestation of (id, MODEL, input, _OUTPUT, units) with one thing changed: 0 the job id,
    ///      1 the model, 2 the input hash, 3 the output hash, 4 the units, 5 the chain id, 6 the verifying
    ///      contract, 7 the signer (another provider's key).
    function _tamperedSignature(
        uint256 field,
        uint256 id,
        uint256 units,
        bytes32 other
    ) internal view returns (bytes memory) {
        bytes32 inputHash = coordinator.getJob(id).inputHash;
        bytes32 structHash = _structHash(
            field == 0 ? id + 1 : id,
            field == 1 ? other : MODEL,
            field == 2 ? other : inputHash,
            field == 3 ? other : _OUTPUT,
            field == 4 ? units + 1 : units
        );
        bytes32 digest = _digest(
            field == 5 ? block.chainid + 1 : block.chainid,
            field == 6 ? address(disputes) : address(coordinator),
            structHash
        );
        return _signDigest(signerKeys[field == 7 ? 2 : 1], digest);
    }

    function _structHash(
        uint256 id,
        bytes32 modelId,
        bytes32 inputHash,
        bytes32 outputHash,
        uint256 units
    ) internal pure returns (bytes32) {
        return keccak256(abi.encode(_RESULT_TYPEHASH, id, modelId, inputHash, outputHash, units));
    }

    /// @dev The EIP-712 digest under the coordinator's domain ("Cinder JobCoordinator", version "1").
    function _digest(uint256 chainId, address verifying, bytes32 structHash) internal pure returns (bytes32) {
        bytes32 domain = keccak256(
            abi.encode(_DOMAIN_TYPEHASH, keccak256("Cinder JobCoordinator"), keccak256("1"), chainId, verifying)
        );
        return keccak256(abi.encodePacked("\x19\x01", domain, structHash));
    }

    function _signDigest(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    function _balances(address requester, address provider) internal view returns (Balances memory b) {
        b.requesterVouchers = market.balanceOf(requester, classId);
        b.requesterCredit = computeCredit.balanceOf(requester);
        b.requesterAllowance = dailyCredit.dailyAllowance(requester);
        b.providerCredit = computeCredit.balanceOf(provider);
        b.providerOwed = market.owed(provider, usdc);
        b.treasuryOwed = market.owed(treasury, usdc);
        b.creditSupply = computeCredit.totalSupply();
        b.tokenSupply = token.totalSupply();
        b.workUsd = engine.epochLedger(block.timestamp / 1 days).workUsd;
    }
}
