// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {ActorBase, IProviderAssist} from "./ActorBase.sol";
import {SystemGhost, Deployment} from "./SystemGhost.sol";
import {IJobCoordinator} from "../../../../contracts/interfaces/IJobCoordinator.sol";
import {IDisputeModule} from "../../../../contracts/interfaces/IDisputeModule.sol";
import {IProviderRegistry} from "../../../../contracts/interfaces/IProviderRegistry.sol";
import {IStakingVault} from "../../../../contracts/interfaces/IStakingVault.sol";
import {IDailyCredit} from "../../../../contracts/interfaces/IDailyCredit.sol";
import {IVoucherMarket} from "../../../../contracts/interfaces/IVoucherMarket.sol";
import {IBurnMintEngine} from "../../../../contracts/interfaces/IBurnMintEngine.sol";
import {IComputeCredit} from "../../../../contracts/interfaces/IComputeCredit.sol";
import {IProtocolToken} from "../../../../contracts/interfaces/IProtocolToken.sol";

/// @title ChallengerActor
/// @notice Watchers and griefers: challenge submitted results inside their window with a bond — wrong ones (an
///         honest watcher, who earns the finder fee), right ones (a griefer, who loses the bond to the provider),
///         or after the window (ChallengeWindowClosed) — and, as adversaries, call the protocol's privileged
///         entry points directly (slash, lock, spend, redeem vouchers, mint credit or tokens, mark a job
///         challenged): every such call must be refused by access control.
/// @dev A challenge needs a job in its window; when none is at hand the provider actor makes one (honest or
///      wrong as the mode asks), so most calls open a dispute.
contract ChallengerActor is ActorBase {
    address[] internal _challengers;
    address[] internal _providers;
    address[] internal _requesters;

    constructor(SystemGhost ghost_, Deployment memory d) ActorBase(ghost_, d) {
        _challengers = ghost_.actors().challengers;
        _providers = ghost_.actors().providers;
        _requesters = ghost_.actors().requesters;
    }

    /// @notice A challenger disputes a result: three calls in eight a wrong one, three a right one, the rest one
    ///         whose window has closed (falling back to a wrong one when there is none).
    function challenge(uint256 actorSeed, uint256 jobSeed, uint256 modeSeed) external action("challenge") {
        address c = _challengers[actorSeed % _challengers.length];
        uint256 mode = _mode(modeSeed, 8);
        uint256 id;
        if (mode >= 6) id = ghost.find(jobSeed, SystemGhost.Q.SubmittedLate);
        if (id == 0) {
            bool faulty = mode < 3 || mode >= 6;
            id = ghost.find(
                jobSeed,
                faulty ? SystemGhost.Q.ChallengeableFaulty : SystemGhost.Q.ChallengeableValid
            );
            if (id == 0) id = IProviderAssist(ghost.providerActor()).assistSubmit(jobSeed, faulty);
        }
        if (id == 0) {
            _skip();
            return;
        }
        _challenge(c, id, "challenge");
    }

    /// @notice An adversary calls one of the protocol's privileged functions itself; access control must refuse.
    function tryPrivileged(uint256 actorSeed, uint256 whichSeed) external action("tryPrivileged") {
        address c = _challengers[actorSeed % _challengers.length];
        address victim = _requesters[whichSeed % _requesters.length];
        address p = _providers[whichSeed % _providers.length];
        uint256 which = _mode(whichSeed, 10);
        address target;
        bytes memory data;
        if (which == 0)
            (target, data) = (address(registry), abi.encodeCall(IProviderRegistry.slash, (p, 1e18, c)));
        else if (which == 1)
            (target, data) = (address(registry), abi.encodeCall(IProviderRegistry.lockCollateral, (p, 1e18)));
        else if (which == 2)
            (target, data) = (address(registry), abi.encodeCall(IProviderRegistry.jail, (p, type(uint64).max)));
        else if (which == 3) (target, data) = (address(vault), abi.encodeCall(IStakingVault.unlock, (victim, 1)));
        else if (which == 4)
            (target, data) = (address(dailyCredit), abi.encodeCall(IDailyCredit.spend, (victim, 1e18)));
        else if (which == 5)
            (target, data) = (address(market), abi.encodeCall(IVoucherMarket.redeem, (victim, class1, 1, c)));
        else if (which == 6)
            (target, data) = (address(engine), abi.encodeCall(IBurnMintEngine.mintSubsidisedCredits, (c, 1e18)));
        else if (which == 7)
            (target, data) = (address(computeCredit), abi.encodeCall(IComputeCredit.mint, (c, 1e18)));
        else if (which == 8) (target, data) = (address(token), abi.encodeCall(IProtocolToken.mint, (c, 1e18)));
        else (target, data) = (address(coordinator), abi.encodeCall(IJobCoordinator.markChallenged, (1)));
        (bool ok, bytes memory ret) = _call(c, target, data);
        _outcome(ok, ret, IAccessControl.AccessControlUnauthorizedAccount.selector, "tryPrivileged");
    }

    /// @notice For another actor: a job under challenge (wrong or right as `seed` says), made if needed.
    function assistChallenge(uint256 seed) external returns (uint256 id) {
        bool faulty = _mode(seed, 2) == 0;
        id = ghost.find(seed, faulty ? SystemGhost.Q.ChallengeableFaulty : SystemGhost.Q.ChallengeableValid);
        if (id == 0) id = IProviderAssist(ghost.providerActor()).assistSubmit(seed, faulty);
        if (id == 0) return 0;
        if (!_challenge(_challengers[seed % _challengers.length], id, "challenge (assist)")) return 0;
    }

    function _challenge(address c, uint256 id, string memory name) internal returns (bool ok) {
        SystemGhost.JobGhost memory g = ghost.job(id);
        uint256 bond = disputes.challengeBond();
        if (token.balanceOf(c) < bond) {
            _skip();
            return false;
        }
        bytes4 expected;
        if (g.status != IJobCoordinator.JobStatus.Submitted) expected = IJobCoordinator.InvalidJobStatus.selector;
        else if (_time() >= g.challengeEnds) expected = IJobCoordinator.ChallengeWindowClosed.selector;
        uint256 held = token.balanceOf(address(disputes));
        bytes memory ret;
        (ok, ret) = _call(c, address(disputes), abi.encodeCall(IDisputeModule.challenge, (id)));
        if (!_outcome(ok, ret, expected, g.faulty ? string.concat(name, " (wrong result)") : name)) return false;
        uint256 timeoutAt = _time() + disputes.disputeTimeout();
        ghost.bookChallenge(id, c, bond, timeoutAt);
        _eq(token.balanceOf(address(disputes)), held + bond, string.concat(name, ": bond held"));
        IDisputeModule.Dispute memory d = disputes.getDispute(id);
        if (d.challenger != c || d.provider != g.provider || d.bond != bond || d.timeoutAt != timeoutAt) {
            _violation(string.concat(name, ": dispute record"));
        }
    }
}
