// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ActorBase} from "./ActorBase.sol";
import {SystemGhost, Deployment} from "./SystemGhost.sol";
import {IJobCoordinator} from "../../../../contracts/interfaces/IJobCoordinator.sol";
import {IBurnMintEngine} from "../../../../contracts/interfaces/IBurnMintEngine.sol";
import {IDailyCredit} from "../../../../contracts/interfaces/IDailyCredit.sol";
import {ICinderErrors} from "../../../../contracts/interfaces/ICinderErrors.sol";
import {IComputeCredit} from "../../../../contracts/interfaces/IComputeCredit.sol";

/// @title RequesterActor
/// @notice Users who want inference: buy ComputeCredit by burning tokens (one call in eight with a minimum one wei
///         above the output: SlippageExceeded), request jobs paid with vouchers of either class, with their
///         DailyCredit allowance (sized to fit it and the day's subsidy budget, or one unit too large for them) or
///         with ComputeCredit; open or direct to a provider (eligible or not), with deadlines from a minute to the
///         one-day maximum (one in sixteen beyond it: InvalidDeadline); cancel their requested jobs (or someone
///         else's: NotJobParty); and try to hand ComputeCredit to another user (NonTransferable, DESIGN.md).
/// @dev The allowance a DailyCredit request may spend is predicted from the ghost's day books (balance at day
///      start, net minted today, spent today), not read from the contract, so a wrong allowance is a violation.
contract RequesterActor is ActorBase {
    struct Request {
        address requester;
        IJobCoordinator.PaymentKind kind;
        uint256 classId;
        uint256 maxUnits;
        uint256 cap;
        uint256 deadline;
        address provider;
        bool tooLarge; // a DailyCredit request one unit beyond what fits
        bool badDeadline;
    }

    address[] internal _requesters;
    address[] internal _providers;
    uint256 internal immutable _USD_SCALE;

    constructor(SystemGhost ghost_, Deployment memory d) ActorBase(ghost_, d) {
        _requesters = ghost_.actors().requesters;
        _providers = ghost_.actors().providers;
        _USD_SCALE = 10 ** (18 - d.usdc.decimals());
    }

    // ================================================================ ComputeCredit

    /// @notice Burns 0.001 to 2 000 tokens for ComputeCredit at the oracle price, less the spread.
    function buyComputeCredit(
        uint256 actorSeed,
        uint256 tokens,
        uint256 modeSeed
    ) external action("buyComputeCredit") {
        address a = _requesters[actorSeed % _requesters.length];
        uint256 balance = token.balanceOf(a);
        if (balance < 1e15) {
            _skip();
            return;
        }
        tokens = bound(tokens, 1e15, Math.min(balance, 2_000e18));
        uint256 gross = Math.mulDiv(tokens, ghost.price(), 1e18);
        uint256 spread = Math.mulDiv(gross, engine.config().mintSpreadBps, BPS, Math.Rounding.Ceil);
        uint256 minOut = _mode(modeSeed, 8) == 1 ? gross - spread + 1 : gross - spread;
        _buyCredit(a, tokens, gross - spread, spread, minOut);
    }

    function _buyCredit(address a, uint256 tokens, uint256 net, uint256 spread, uint256 minOut) internal {
        bytes4 expected = _unlessPaused(
            address(engine),
            net == 0
                ? ICinderErrors.ZeroAmount.selector
                : minOut > net
                    ? IBurnMintEngine.SlippageExceeded.selector
                    : bytes4(0)
        );
        uint256 credit = computeCredit.balanceOf(a);
        (bool ok, bytes memory ret) = _call(
            a,
            address(engine),
            abi.encodeCall(IBurnMintEngine.mintCredits, (tokens, minOut, a))
        );
        if (!_outcome(ok, ret, expected, "buyComputeCredit")) return;
        ghost.bookMintCredits(a, tokens, net, spread);
        _eq(abi.decode(ret, (uint256)), net, "buyComputeCredit: credit out");
        _eq(computeCredit.balanceOf(a), credit + net, "buyComputeCredit: credited");
    }

    /// @notice ComputeCredit moves only through the protocol: a transfer to another user must fail.
    function transferComputeCredit(
        uint256 actorSeed,
        uint256 toSeed,
        uint256 amount
    ) external action("transferComputeCredit") {
        address from = _requesters[actorSeed % _requesters.length];
        address to = _providers[toSeed % _providers.length];
        uint256 balance = computeCredit.balanceOf(from);
        if (balance == 0) {
            _skip();
            return;
        }
        amount = bound(amount, 1, balance);
        (bool ok, bytes memory ret) = _call(
            from,
            address(computeCredit),
            abi.encodeCall(IERC20.transfer, (to, amount))
        );
        _outcome(ok, ret, IComputeCredit.NonTransferable.selector, "transferComputeCredit");
    }

    // ================================================================ jobs

    /// @notice A requester asks for a job (see the contract notice for the shapes).
    function requestJob(
        uint256 actorSeed,
        uint256 kindSeed,
        uint256 unitsSeed,
        uint256 capSeed,
        uint256 deadlineSeed,
        uint256 providerSeed
    ) external action("requestJob") {
        Request memory r;
        r.requester = _requesters[actorSeed % _requesters.length];
        r.kind = IJobCoordinator.PaymentKind(_mode(kindSeed, 3));
        r.classId = _mode(kindSeed >> 8, 2) == 0 ? class1 : class2;
        r.maxUnits = unitsSeed;
        r.cap = _boundCap(capSeed);
        r.deadline = _time() + _boundDuration(deadlineSeed);
        r.badDeadline = _mode(deadlineSeed >> 16, 16) == 0;
        if (r.badDeadline) r.deadline = _time() + coordinatorMaxJob() + 1;
        if (_mode(providerSeed, 3) == 0) r.provider = _providers[providerSeed % _providers.length];
        r.tooLarge = _mode(kindSeed >> 16, 6) == 0;
        _request(r, "requestJob");
    }

    /// @notice The requester cancels its requested job (one is made if none is); one call in five it is another
    ///         requester (NotJobParty).
    function cancel(uint256 jobSeed, uint256 callerSeed) external action("cancel") {
        uint256 id = ghost.find(jobSeed, SystemGhost.Q.Requested);
        if (id == 0) id = this.assistRequest(jobSeed);
        if (id == 0) {
            _skip();
            return;
        }
        address requester = ghost.job(id).requester;
        address caller = requester;
        if (_mode(callerSeed, 5) == 0) {
            for (uint256 i; i < _requesters.length && caller == requester; ++i)
                caller = _requesters[_at(callerSeed, i, _requesters.length)];
        }
        _startLogs();
        (bool ok, bytes memory ret) = _call(
            caller,
            address(coordinator),
            abi.encodeCall(IJobCoordinator.cancel, (id))
        );
        bytes4 expected = caller == requester ? bytes4(0) : IJobCoordinator.NotJobParty.selector;
        if (!_outcome(ok, ret, expected, "cancel")) return;
        _settled(_one(id), _oneStatus(IJobCoordinator.JobStatus.Cancelled), "cancel");
    }

    /// @notice For another actor: a fresh open job some provider can take now (cap at the highest price, two-hour
    ///         deadline, payment kind rotating), or 0 when no provider can take one.
    function assistRequest(uint256 seed) external returns (uint256 id) {
        if (!_someoneCanAccept()) return 0;
        Request memory r;
        uint256 n = ghost.jobCount();
        r.requester = _requesters[_at(seed, n, _requesters.length)];
        r.kind = IJobCoordinator.PaymentKind(_at(seed, n, 3));
        r.classId = _at(seed, n, 2) == 0 ? class1 : class2;
        r.maxUnits = seed >> 8;
        r.cap = _maxPrice();
        r.deadline = _time() + 2 hours;
        id = _request(r, "requestJob (assist)");
    }

    // ================================================================ internal

    function _request(Request memory r, string memory name) internal returns (uint256 id) {
        if (!_fitPayment(r)) {
            _skip();
            return 0;
        }
        bytes4 expected = _requestError(r);
        uint256 escrow = _escrowOf(r);
        uint256 allowance = ghost.allowanceModel(r.requester);
        (bool ok, bytes memory ret) = _call(r.requester, address(coordinator), _requestCall(r));
        if (!_outcome(ok, ret, expected, name)) return 0;
        SystemGhost.JobGhost memory g;
        g.kind = r.kind;
        g.requester = r.requester;
        g.provider = r.provider;
        g.classId = r.kind == IJobCoordinator.PaymentKind.Voucher ? r.classId : 0;
        g.inputHash = _inputHash(ghost.jobCount() + 1, r.requester);
        g.maxUnits = r.maxUnits;
        g.deadline = r.deadline;
        g.escrow = escrow;
        if (r.kind != IJobCoordinator.PaymentKind.Voucher) g.price = r.cap;
        id = ghost.bookRequest(g);
        _eq(abi.decode(ret, (uint256)), id, string.concat(name, ": job id"));
        _eq(coordinator.getJob(id).escrow, escrow, string.concat(name, ": escrow"));
        if (r.kind == IJobCoordinator.PaymentKind.DailyCredit) {
            _eq(
                dailyCredit.dailyAllowance(r.requester),
                allowance - escrow,
                string.concat(name, ": allowance spent")
            );
        }
    }

    /// @dev Sizes the job to what the requester has: vouchers it holds (1 to 3 vouchers' worth), DailyCredit
    ///      allowance and subsidy left (the model's), ComputeCredit balance. Falls back to ComputeCredit when the
    ///      chosen payment has nothing; false when nothing fits at all.
    function _fitPayment(Request memory r) internal view returns (bool) {
        if (r.kind == IJobCoordinator.PaymentKind.Voucher) {
            uint256 upv = market.getClass(r.classId).unitsPerVoucher;
            uint256 held = market.balanceOf(r.requester, r.classId);
            if (held == 0) {
                r.classId = r.classId == class1 ? class2 : class1;
                upv = market.getClass(r.classId).unitsPerVoucher;
                held = market.balanceOf(r.requester, r.classId);
            }
            if (held != 0) {
                r.maxUnits = bound(r.maxUnits, 1, Math.min(held, 3) * upv);
                return true;
            }
            r.kind = IJobCoordinator.PaymentKind.ComputeCredit;
        }
        r.maxUnits = bound(r.maxUnits, 1, 300_000);
        if (r.kind == IJobCoordinator.PaymentKind.DailyCredit) {
            uint256 room = Math.min(ghost.allowanceModel(r.requester), ghost.subsidyLeft());
            if (r.tooLarge) {
                r.maxUnits = room / r.cap + 1;
                return r.maxUnits <= type(uint32).max;
            }
            r.maxUnits = Math.min(r.maxUnits, room / r.cap);
            if (r.maxUnits != 0) return true;
            r.kind = IJobCoordinator.PaymentKind.ComputeCredit;
            r.maxUnits = 1;
        }
        uint256 most = computeCredit.balanceOf(r.requester) / r.cap;
        r.maxUnits = Math.min(r.maxUnits, most);
        return r.maxUnits != 0;
    }

    function _requestError(Request memory r) internal view returns (bytes4) {
        if (ghost.paused(address(coordinator))) return bytes4(keccak256("EnforcedPause()"));
        if (r.badDeadline) return IJobCoordinator.InvalidDeadline.selector;
        if (r.provider != address(0) && ghost.eligiblePrice(r.provider) == 0) {
            return IJobCoordinator.ProviderNotEligible.selector;
        }
        if (r.kind == IJobCoordinator.PaymentKind.DailyCredit) {
            uint256 escrow = r.maxUnits * r.cap;
            if (ghost.allowanceModel(r.requester) < escrow)
                return IDailyCredit.InsufficientDailyAllowance.selector;
            if (ghost.subsidyLeft() < escrow) return IBurnMintEngine.SubsidyBudgetExceeded.selector;
        }
        return 0;
    }

    function _escrowOf(Request memory r) internal view returns (uint256) {
        if (r.kind == IJobCoordinator.PaymentKind.Voucher) {
            return Math.ceilDiv(r.maxUnits, market.getClass(r.classId).unitsPerVoucher);
        }
        return r.maxUnits * r.cap;
    }

    function _requestCall(Request memory r) internal view returns (bytes memory) {
        IJobCoordinator.Payment memory payment =
            r.kind == IJobCoordinator.PaymentKind.Voucher
                ? IJobCoordinator.Payment(r.kind, r.classId, 0)
                : IJobCoordinator.Payment(r.kind, 0, r.cap);
        return
            abi.encodeCall(
                IJobCoordinator.requestJob,
                (
                    modelId,
                    _inputHash(ghost.jobCount() + 1, r.requester),
                    "ipfs://input",
                    r.maxUnits,
                    payment,
                    r.deadline,
                    r.provider
                )
            );
    }

    function _inputHash(uint256 id, address requester) internal pure returns (bytes32) {
        return keccak256(abi.encode("input", id, requester));
    }

    /// @dev Whether some provider is eligible now with free bond (for an assisted request).
    function _someoneCanAccept() internal view returns (bool) {
        for (uint256 i; i < _providers.length; ++i) {
            address p = _providers[i];
            SystemGhost.ProviderGhost memory g = ghost.provider(p);
            if (ghost.eligiblePrice(p) != 0 && g.bond - g.locked >= 50e18) return true;
        }
        return false;
    }

    /// @dev The highest price an eligible provider asks (at least the lowest listed one).
    function _maxPrice() internal view returns (uint256 price) {
        for (uint256 i; i < _providers.length; ++i) price = Math.max(price, ghost.eligiblePrice(_providers[i]));
        if (price == 0) price = 1e13;
    }

    /// @dev A provider's listed price, half of the lowest, or anything up to 4/3 of the highest.
    function _boundCap(uint256 seed) internal view returns (uint256) {
        uint256 mode = _mode(seed, _providers.length + 2);
        uint256 hi = _maxPrice();
        if (mode < _providers.length) {
            uint256 p = ghost.provider(_providers[mode]).price;
            return p == 0 ? hi : p;
        }
        if (mode == _providers.length) return 5e12;
        return bound(seed >> 8, 5e12, (hi * 4) / 3);
    }

    /// @dev Minutes, hours, or up to the longest job.
    function _boundDuration(uint256 seed) internal view returns (uint256) {
        uint256 mode = _mode(seed, 4);
        if (mode == 0) return bound(seed >> 8, 60, 59 minutes);
        if (mode == 3) return bound(seed >> 8, 6 hours, coordinatorMaxJob());
        return bound(seed >> 8, 1 hours, 6 hours);
    }

    function coordinatorMaxJob() internal view returns (uint256 maxDuration) {
        (, maxDuration) = coordinator.jobDurationBounds();
    }
}
