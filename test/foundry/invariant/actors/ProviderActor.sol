// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ActorBase, IRequesterAssist} from "./ActorBase.sol";
import {SystemGhost, Deployment} from "./SystemGhost.sol";
import {IJobCoordinator} from "../../../../contracts/interfaces/IJobCoordinator.sol";
import {IProviderRegistry} from "../../../../contracts/interfaces/IProviderRegistry.sol";
import {IBurnMintEngine} from "../../../../contracts/interfaces/IBurnMintEngine.sol";
import {IVoucherMarket} from "../../../../contracts/interfaces/IVoucherMarket.sol";
import {ICinderErrors} from "../../../../contracts/interfaces/ICinderErrors.sol";

/// @title ProviderActor
/// @notice GPU providers: register (again after an exit; below the minimum bond: BondTooSmall; twice:
///         AlreadyRegistered), add bond, change their price (or withdraw their offer), request an exit and withdraw
///         the bond after unbonding (too early: UnbondingNotElapsed; with jobs open: JobsStillOpen); accept jobs
///         (named or open; refused when not named, ineligible, jailed, above the cap, short of free bond, late),
///         submit attested results (honest, wrong on purpose, signed with another key, more units than allowed,
///         late), redeem ComputeCredit for tokens, claim their share of emissions (again: AlreadyClaimed; not yet
///         distributed: NotDistributed) and withdraw their voucher earnings.
/// @dev Outcomes are predicted from the ghost's provider model (status, bond, locked, jail, price), not the
///      registry's views. A wrong result is marked in the ghost so the arbiter can vote on it truthfully.
contract ProviderActor is ActorBase {
    bytes32 private constant _DOMAIN_TYPEHASH = keccak256(
        "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    );
    bytes32 private constant _RESULT_TYPEHASH = keccak256(
        "Result(uint256 jobId,bytes32 modelId,bytes32 inputHash,bytes32 outputHash,uint256 unitsUsed)"
    );

    address[] internal _providers;
    uint256[] internal _keys;
    uint256 internal immutable _USD_SCALE;

    constructor(SystemGhost ghost_, Deployment memory d) ActorBase(ghost_, d) {
        _providers = ghost_.actors().providers;
        _keys = ghost_.actors().signerKeys;
        _USD_SCALE = 10 ** (18 - d.usdc.decimals());
    }

    // ================================================================ registration

    /// @notice An unregistered provider registers with a bond of half the minimum to 30 000 tokens (below the
    ///         minimum: BondTooSmall); one call in six a registered one tries again (AlreadyRegistered).
    function register(uint256 actorSeed, uint256 bond, uint256 priceSeed) external action("register") {
        address p =
            _mode(actorSeed, 6) == 0
                ? _providers[actorSeed % _providers.length]
                : _pick(_providers, actorSeed, _isNone);
        if (p == address(0)) {
            _skip();
            return;
        }
        uint256 minBond = registry.minBond();
        if (token.balanceOf(p) < minBond) {
            _skip();
            return;
        }
        bond = bound(bond, minBond / 2, Math.min(30_000e18, token.balanceOf(p)));
        bytes4 expected = _unlessPaused(
            address(registry),
            bond < minBond
                ? IProviderRegistry.BondTooSmall.selector
                : ghost.provider(p).status != 0
                    ? IProviderRegistry.AlreadyRegistered.selector
                    : bytes4(0)
        );
        _register(p, bond, bound(priceSeed, 5e12, 4e13), expected);
    }

    function _register(address p, uint256 bond, uint256 price, bytes4 expected) internal {
        (bool ok, bytes memory ret) = _call(
            p,
            address(registry),
            abi.encodeCall(
                IProviderRegistry.register,
                (bond, "https://provider.example", _signer(p), _ids(), _prices(price))
            )
        );
        if (!_outcome(ok, ret, expected, "register")) return;
        ghost.bookRegister(p, bond, price);
        _eq(registry.getProvider(p).bond, bond, "register: bond");
    }

    /// @notice An active provider adds 1 to 5 000 tokens of bond (not active: InvalidStatus).
    function increaseBond(uint256 actorSeed, uint256 amount) external action("increaseBond") {
        address p = _providers[actorSeed % _providers.length];
        if (token.balanceOf(p) == 0) {
            _skip();
            return;
        }
        amount = bound(amount, 1, Math.min(5_000e18, token.balanceOf(p)));
        bytes4 expected = _unlessPaused(
            address(registry),
            ghost.provider(p).status != 1 ? IProviderRegistry.InvalidStatus.selector : bytes4(0)
        );
        (bool ok, bytes memory ret) = _call(
            p,
            address(registry),
            abi.encodeCall(IProviderRegistry.increaseBond, (amount))
        );
        if (!_outcome(ok, ret, expected, "increaseBond")) return;
        ghost.bookIncreaseBond(p, amount);
        _eq(registry.getProvider(p).bond, ghost.provider(p).bond, "increaseBond: bond");
    }

    /// @notice An active provider reprices the model (one call in ten withdraws its offer: price 0).
    function updateOffer(uint256 actorSeed, uint256 priceSeed) external action("updateOffer") {
        address p = _providers[actorSeed % _providers.length];
        uint256 price = _mode(priceSeed, 10) == 0 ? 0 : bound(priceSeed, 5e12, 4e13);
        bytes4 expected = ghost.provider(p).status != 1 ? IProviderRegistry.InvalidStatus.selector : bytes4(0);
        (bool ok, bytes memory ret) = _call(
            p,
            address(registry),
            abi.encodeCall(IProviderRegistry.updateOffer, (_ids(), _prices(price)))
        );
        if (!_outcome(ok, ret, expected, "updateOffer")) return;
        ghost.bookOffer(p, price);
    }

    /// @notice An active provider starts unbonding: it ends after max(unbonding period, slashable window).
    function requestExit(uint256 actorSeed) external action("requestExit") {
        address p = _providers[actorSeed % _providers.length];
        bytes4 expected = ghost.provider(p).status != 1 ? IProviderRegistry.InvalidStatus.selector : bytes4(0);
        (bool ok, bytes memory ret) = _call(
            p,
            address(registry),
            abi.encodeCall(IProviderRegistry.requestExit, ())
        );
        if (!_outcome(ok, ret, expected, "requestExit")) return;
        uint256 ends = _time() + Math.max(registry.unbondingPeriod(), coordinator.slashableWindow());
        ghost.bookExit(p, ends);
        _eq(registry.getProvider(p).unbondingEnds, ends, "requestExit: unbonding end");
    }

    /// @notice An exiting provider withdraws its bond; half the calls first wait out the unbonding (time passes
    ///         for everyone). Too early: UnbondingNotElapsed; with a job still open: JobsStillOpen.
    function withdrawBond(uint256 actorSeed, uint256 waitSeed) external action("withdrawBond") {
        address p = _pick(_providers, actorSeed, _isExiting);
        if (p == address(0)) p = _providers[actorSeed % _providers.length];
        SystemGhost.ProviderGhost memory g = ghost.provider(p);
        if (g.status == 2 && _time() < g.unbondingEnds && _mode(waitSeed, 2) == 0) {
            ghost.advance(g.unbondingEnds + bound(waitSeed >> 8, 0, 1 days));
        }
        bytes4 expected;
        if (g.status != 2) expected = IProviderRegistry.InvalidStatus.selector;
        else if (_time() < g.unbondingEnds) expected = IProviderRegistry.UnbondingNotElapsed.selector;
        else if (g.openJobs != 0) expected = IProviderRegistry.JobsStillOpen.selector;
        uint256 balance = token.balanceOf(p);
        (bool ok, bytes memory ret) = _call(
            p,
            address(registry),
            abi.encodeCall(IProviderRegistry.withdrawBond, ())
        );
        if (!_outcome(ok, ret, expected, "withdrawBond")) return;
        _eq(abi.decode(ret, (uint256)), g.bond, "withdrawBond: amount");
        _eq(token.balanceOf(p), balance + g.bond, "withdrawBond: paid");
        ghost.bookWithdrawBond(p, g.bond);
    }

    // ================================================================ jobs

    /// @notice A provider accepts a requested job (three calls in four one some provider can take). Half the
    ///         calls it is the named or an able provider, a quarter any provider, a quarter the most expensive.
    function acceptJob(uint256 jobSeed, uint256 providerSeed) external action("acceptJob") {
        uint256 id =
            _mode(jobSeed, 4) != 0 ? _findAcceptable(jobSeed) : ghost.find(jobSeed, SystemGhost.Q.Requested);
        if (id == 0) id = IRequesterAssist(ghost.requesterActor()).assistRequest(jobSeed);
        if (id == 0) {
            _skip();
            return;
        }
        uint256 mode = _mode(providerSeed, 4);
        address p = ghost.job(id).provider;
        if (mode == 2) p = _providers[providerSeed % _providers.length];
        else if (mode == 3) p = _mostExpensive();
        else if (p == address(0)) p = _able(id);
        if (p == address(0)) p = _providers[providerSeed % _providers.length];
        _accept(id, p, "acceptJob");
    }

    /// @notice A provider submits a result for an accepted job (three calls in four one still before its
    ///         deadline): honest with 0 to maxUnits units, or (one in eight) a wrong one; one in ten signed with
    ///         another provider's key (InvalidAttestation), one in twenty with more units than allowed.
    function submitResult(uint256 jobSeed, uint256 unitsSeed, uint256 modeSeed) external action("submitResult") {
        uint256 id = _mode(jobSeed, 4) != 0 ? ghost.find(jobSeed, SystemGhost.Q.LiveAccepted) : 0;
        if (id == 0) id = ghost.find(jobSeed, SystemGhost.Q.Accepted);
        if (id == 0) id = _assistAccept(jobSeed);
        if (id == 0) {
            _skip();
            return;
        }
        uint256 mode = _mode(modeSeed, 40);
        uint256 maxUnits = ghost.job(id).maxUnits;
        uint256 units = mode < 2 ? maxUnits + 1 : _boundUsed(unitsSeed, maxUnits);
        _submit(id, units, mode % 8 == 7, mode >= 2 && mode < 6, "submitResult");
    }

    /// @notice A provider redeems part of its ComputeCredit for freshly minted tokens at the oracle price; one
    ///         call in eight with a minimum one above the output (SlippageExceeded).
    function redeem(uint256 actorSeed, uint256 amount, uint256 modeSeed) external action("redeem") {
        address p = _pick(_providers, actorSeed, _hasCredit);
        if (p == address(0)) {
            _skip();
            return;
        }
        amount = bound(amount, 1, computeCredit.balanceOf(p));
        uint256 tokens = Math.mulDiv(amount, 1e18, ghost.price());
        uint256 minOut = _mode(modeSeed, 8) == 2 ? tokens + 1 : tokens;
        bytes4 expected;
        if (tokens == 0) expected = ICinderErrors.ZeroAmount.selector;
        else if (minOut > tokens) expected = IBurnMintEngine.SlippageExceeded.selector;
        else if (tokens > ghost.capLeft(true)) expected = IBurnMintEngine.EpochMintCapExceeded.selector;
        _redeem(p, amount, tokens, minOut, _unlessPaused(address(engine), expected));
    }

    function _redeem(address p, uint256 amount, uint256 tokens, uint256 minOut, bytes4 expected) internal {
        uint256 balance = token.balanceOf(p);
        (bool ok, bytes memory ret) = _call(
            p,
            address(engine),
            abi.encodeCall(IBurnMintEngine.redeem, (amount, minOut, p))
        );
        if (!_outcome(ok, ret, expected, "redeem")) return;
        ghost.bookRedeem(p, amount, tokens);
        _eq(abi.decode(ret, (uint256)), tokens, "redeem: tokens out");
        _eq(token.balanceOf(p), balance + tokens, "redeem: paid");
    }

    /// @notice A provider (one with something to claim, if any) claims its share of up to three distributed
    ///         epochs; one call in six adds one it has claimed (AlreadyClaimed), one in six the current,
    ///         undistributed epoch (NotDistributed).
    function claimEmissions(uint256 actorSeed, uint256 modeSeed) external action("claimEmissions") {
        address p = _providers[actorSeed % _providers.length];
        (uint256[] memory epochs, uint256 amount) = _claimable(p, modeSeed);
        for (uint256 i = 1; i < _providers.length && epochs.length == 0; ++i) {
            p = _providers[_at(actorSeed, i, _providers.length)];
            (epochs, amount) = _claimable(p, modeSeed);
        }
        uint256 n = epochs.length;
        uint256 mode = _mode(modeSeed, 6);
        bytes4 expected;
        assembly ("memory-safe") {
            mstore(epochs, 4) // room for one more
        }
        if (mode == 0) {
            uint256[] memory done = ghost.distributedEpochs();
            for (uint256 i; i < done.length; ++i) {
                if (ghost.emissionClaimed(done[i], p)) {
                    epochs[n++] = done[i];
                    expected = IBurnMintEngine.AlreadyClaimed.selector;
                    break;
                }
            }
        } else if (mode == 1) {
            epochs[n++] = ghost.today();
            expected = IBurnMintEngine.NotDistributed.selector;
        }
        assembly ("memory-safe") {
            mstore(epochs, n)
        }
        if (n == 0) {
            _skip();
            return;
        }
        _claim(p, epochs, amount, expected);
    }

    /// @dev Up to three distributed epochs `p` has not claimed (in an array with room for four), and its share.
    function _claimable(address p, uint256 seed) internal view returns (uint256[] memory epochs, uint256 amount) {
        uint256[] memory done = ghost.distributedEpochs();
        epochs = new uint256[](4);
        uint256 n;
        for (uint256 i; i < done.length && n < 3; ++i) {
            uint256 e = done[_at(seed, i, done.length)];
            if (ghost.emissionClaimed(e, p)) continue;
            epochs[n++] = e;
            amount += ghost.emissionShare(e, p);
        }
        assembly ("memory-safe") {
            mstore(epochs, n)
        }
    }

    function _claim(address p, uint256[] memory epochs, uint256 amount, bytes4 expected) internal {
        uint256 balance = token.balanceOf(p);
        (bool ok, bytes memory ret) = _call(
            p,
            address(engine),
            abi.encodeCall(IBurnMintEngine.claimEmissions, (epochs))
        );
        if (!_outcome(ok, ret, expected, "claimEmissions")) return;
        for (uint256 i; i < epochs.length; ++i)
            ghost.bookEmissionClaim(p, epochs[i], ghost.emissionShare(epochs[i], p));
        _eq(abi.decode(ret, (uint256)), amount, "claimEmissions: amount");
        _eq(token.balanceOf(p), balance + amount, "claimEmissions: paid");
    }

    /// @notice A provider withdraws the voucher earnings the market credited it (three calls in four one that is
    ///         owed something; nothing owed: ZeroAmount).
    function withdrawEarnings(uint256 actorSeed) external action("withdrawEarnings") {
        address p = _mode(actorSeed, 4) == 0 ? address(0) : _pick(_providers, actorSeed, _isOwed);
        if (p == address(0)) p = _providers[actorSeed % _providers.length];
        uint256 owed = ghost.owed(p);
        uint256 balance = usdc.balanceOf(p);
        (bool ok, bytes memory ret) = _call(
            p,
            address(market),
            abi.encodeCall(IVoucherMarket.withdraw, (p, usdc))
        );
        if (!_outcome(ok, ret, owed == 0 ? ICinderErrors.ZeroAmount.selector : bytes4(0), "withdrawEarnings"))
            return;
        _eq(abi.decode(ret, (uint256)), owed, "withdrawEarnings: amount != owed");
        _eq(usdc.balanceOf(p), balance + owed, "withdrawEarnings: paid");
        ghost.bookOwedWithdrawn(p);
    }

    // ================================================================ assists (for other actors)

    /// @notice For another actor: an accepted job still before its deadline, accepting one if needed.
    function assistAccept(uint256 seed) external returns (uint256) {
        return _assistAccept(seed);
    }

    /// @notice For another actor: a job just submitted (inside its challenge window), honest or wrong.
    function assistSubmit(uint256 seed, bool faulty) external returns (uint256 id) {
        id = _assistAccept(seed);
        if (id == 0) return 0;
        uint256 maxUnits = ghost.job(id).maxUnits;
        if (!_submit(id, (maxUnits * 2) / 3, faulty, false, "submitResult (assist)")) return 0;
    }

    // ================================================================ internal

    function _assistAccept(uint256 seed) internal returns (uint256 id) {
        id = ghost.find(seed, SystemGhost.Q.LiveAccepted);
        if (id != 0 && ghost.job(id).deadline > _time() + 10 minutes) return id;
        id = _findAcceptable(seed);
        if (id == 0) id = IRequesterAssist(ghost.requesterActor()).assistRequest(seed);
        if (id == 0) return 0;
        address p = _able(id);
        if (p == address(0) || !_accept(id, p, "acceptJob (assist)")) return 0;
    }

    function _accept(uint256 id, address p, string memory name) internal returns (bool ok) {
        SystemGhost.JobGhost memory g = ghost.job(id);
        uint256 price = ghost.eligiblePrice(p);
        uint256 collateral = _collateral(g, price);
        SystemGhost.ProviderGhost memory pg = ghost.provider(p);
        bytes4 expected;
        if (ghost.paused(address(coordinator))) expected = bytes4(keccak256("EnforcedPause()"));
        else if (g.status != IJobCoordinator.JobStatus.Requested)
            expected = IJobCoordinator.InvalidJobStatus.selector;
        else if (_time() >= g.deadline) expected = IJobCoordinator.DeadlinePassed.selector;
        else if (g.provider != address(0) && g.provider != p)
            expected = IJobCoordinator.ProviderNotEligible.selector;
        else if (price == 0) expected = IJobCoordinator.ProviderNotEligible.selector;
        else if (g.kind != IJobCoordinator.PaymentKind.Voucher && price > g.price) {
            expected = IJobCoordinator.PriceAboveCap.selector;
        } else if (pg.bond - pg.locked < collateral) expected = IProviderRegistry.InsufficientFreeBond.selector;
        bytes memory ret;
        (ok, ret) = _call(p, address(coordinator), abi.encodeCall(IJobCoordinator.acceptJob, (id)));
        if (!_outcome(ok, ret, expected, name)) return false;
        ghost.bookAccept(id, p, price, collateral);
        IProviderRegistry.ProviderRecord memory r = registry.getProvider(p);
        _eq(r.locked, pg.locked + collateral, string.concat(name, ": collateral locked"));
        _eq(r.openJobs, pg.openJobs + 1, string.concat(name, ": open jobs"));
    }

    /// @param faulty A wrong result on purpose (the output the honest model would not produce).
    /// @param wrongKey Signed by another provider's attestation key.
    function _submit(
        uint256 id,
        uint256 units,
        bool faulty,
        bool wrongKey,
        string memory name
    ) internal returns (bool ok) {
        SystemGhost.JobGhost memory g = ghost.job(id);
        bytes4 expected;
        if (_time() >= g.deadline) expected = IJobCoordinator.DeadlinePassed.selector;
        else if (units > g.maxUnits) expected = IJobCoordinator.UnitsExceedMax.selector;
        else if (wrongKey) expected = IJobCoordinator.InvalidAttestation.selector;
        bytes32 outputHash = keccak256(abi.encode(faulty ? "wrong" : "output", id, units));
        bytes memory ret;
        (ok, ret) = _call(g.provider, address(coordinator), _submitCall(id, g, outputHash, units, wrongKey));
        if (!_outcome(ok, ret, expected, faulty ? string.concat(name, " (wrong result)") : name)) return false;
        ghost.bookSubmit(id, units, faulty);
        _eq(
            coordinator.getJob(id).challengeEnds,
            ghost.job(id).challengeEnds,
            string.concat(name, ": challenge end")
        );
    }

    function _submitCall(
        uint256 id,
        SystemGhost.JobGhost memory g,
        bytes32 outputHash,
        uint256 units,
        bool wrongKey
    ) internal view returns (bytes memory) {
        bytes memory sig = _sign(id, g, outputHash, units, wrongKey);
        return abi.encodeCall(IJobCoordinator.submitResult, (id, outputHash, units, sig));
    }

    function _sign(
        uint256 id,
        SystemGhost.JobGhost memory g,
        bytes32 outputHash,
        uint256 units,
        bool wrongKey
    ) internal view returns (bytes memory) {
        bytes32 domain = keccak256(
            abi.encode(
                _DOMAIN_TYPEHASH,
                keccak256("Cinder JobCoordinator"),
                keccak256("1"),
                block.chainid,
                address(coordinator)
            )
        );
        bytes32 structHash = keccak256(abi.encode(_RESULT_TYPEHASH, id, modelId, g.inputHash, outputHash, units));
        uint256 index = _indexOf(g.provider);
        if (wrongKey) index = (index + 1) % _keys.length;
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(
            _keys[index],
            keccak256(abi.encodePacked("\x19\x01", domain, structHash))
        );
        return abi.encodePacked(r, s, v);
    }

    /// @dev Bond locked at acceptance: collateralPerUsd per USD at stake, rounded up — the escrowed vouchers'
    ///      value, or maxUnits at the provider's price.
    function _collateral(SystemGhost.JobGhost memory g, uint256 price) internal view returns (uint256) {
        uint256 value;
        if (g.kind == IJobCoordinator.PaymentKind.Voucher) {
            IVoucherMarket.VoucherClass memory c = market.getClass(g.classId);
            value = Math.ceilDiv(g.maxUnits, c.unitsPerVoucher) * c.unitPrice * _USD_SCALE;
        } else {
            value = g.maxUnits * price;
        }
        return Math.mulDiv(value, coordinator.collateralPerUsd(), 1e18, Math.Rounding.Ceil);
    }

    /// @dev A provider that can accept `id` now by the model, or zero.
    function _able(uint256 id) internal view returns (address) {
        SystemGhost.JobGhost memory g = ghost.job(id);
        uint256 n = _providers.length;
        for (uint256 i; i < n; ++i) {
            address p = _providers[_at(id, i, n)];
            if (g.provider != address(0) && g.provider != p) continue;
            uint256 price = ghost.eligiblePrice(p);
            if (price == 0) continue;
            if (g.kind != IJobCoordinator.PaymentKind.Voucher && price > g.price) continue;
            SystemGhost.ProviderGhost memory pg = ghost.provider(p);
            if (pg.bond - pg.locked >= _collateral(g, price)) return p;
        }
        return address(0);
    }

    function _findAcceptable(uint256 seed) internal view returns (uint256) {
        uint256 n = ghost.jobCount();
        for (uint256 i; i < n; ++i) {
            uint256 id = _at(seed, i, n) + 1;
            if (ghost.matches(id, SystemGhost.Q.LiveRequested) && _able(id) != address(0)) return id;
        }
        return 0;
    }

    function _mostExpensive() internal view returns (address best) {
        uint256 price;
        for (uint256 i; i < _providers.length; ++i) {
            uint256 p = ghost.provider(_providers[i]).price;
            if (p > price) (price, best) = (p, _providers[i]);
        }
    }

    /// @dev 0, all, or anything up to `max`.
    function _boundUsed(uint256 seed, uint256 max) internal pure returns (uint256) {
        uint256 mode = _mode(seed, 5);
        if (mode == 0) return 0;
        if (mode == 1) return max;
        return bound(seed >> 8, 0, max);
    }

    function _ids() internal view returns (bytes32[] memory ids) {
        ids = new bytes32[](1);
        ids[0] = modelId;
    }

    function _prices(uint256 price) internal pure returns (uint256[] memory prices) {
        prices = new uint256[](1);
        prices[0] = price;
    }

    function _signer(address p) internal view returns (address) {
        return vm.addr(_keys[_indexOf(p)]);
    }

    function _indexOf(address p) internal view returns (uint256) {
        for (uint256 i; i < _providers.length; ++i) if (_providers[i] == p) return i;
        revert("ProviderActor: unknown provider");
    }

    function _isNone(address p) internal view returns (bool) {
        return ghost.provider(p).status == 0;
    }

    function _isExiting(address p) internal view returns (bool) {
        return ghost.provider(p).status == 2;
    }

    function _isOwed(address p) internal view returns (bool) {
        return ghost.owed(p) != 0;
    }

    function _hasCredit(address p) internal view returns (bool) {
        return computeCredit.balanceOf(p) != 0;
    }
}
