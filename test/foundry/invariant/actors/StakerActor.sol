// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ActorBase} from "./ActorBase.sol";
import {SystemGhost, Deployment} from "./SystemGhost.sol";
import {IStakingVault} from "../../../../contracts/interfaces/IStakingVault.sol";

/// @title StakerActor
/// @notice Stakers of the protocol token: stake, request an unstake (sometimes more than their unlocked stake),
///         cancel it, withdraw after the cooldown (or too early), claim rewards, burn their own tokens. Stake is
///         everyone's who has any: the plain stakers, the credit holders and the requesters (whose stake backs
///         their DailyCredit), so locked stake meets every vault path.
/// @dev Single-call rules: a claim pays exactly `earned`; a withdraw pays exactly the cooling amount and only after
///      the unlock time; an unstake never takes locked stake; each outcome as predicted (pauses included).
contract StakerActor is ActorBase {
    address[] internal _stakers; // who stakes fresh tokens
    address[] internal _everyone; // who may hold stake

    constructor(SystemGhost ghost_, Deployment memory d) ActorBase(ghost_, d) {
        _stakers = ghost_.actors().stakers;
        _everyone = ghost_.stakeholders();
    }

    /// @notice A staker stakes 1 token to all of its tokens (the holders and requesters too, one call in four).
    function stake(uint256 actorSeed, uint256 amount) external action("stake") {
        address[] memory list = _mode(actorSeed, 4) == 0 ? _everyone : _stakers;
        address a = _pick(list, actorSeed, _hasTokens);
        if (a == address(0)) {
            _skip();
            return;
        }
        amount = bound(amount, 1, token.balanceOf(a));
        _stake(a, amount, "stake");
    }

    /// @notice Requests an unstake of part of the unlocked stake; one call in four an account with locked stake
    ///         asks for one wei more than is unlocked (InsufficientUnlockedStake: locked stake cannot leave).
    function requestUnstake(uint256 actorSeed, uint256 amount) external action("requestUnstake") {
        bool tryLocked = _mode(amount, 4) == 0;
        address a = _pick(_everyone, actorSeed, tryLocked ? _hasLock : _hasStake);
        if (a == address(0)) {
            _skip();
            return;
        }
        uint256 free = vault.stakeOf(a) - vault.lockedOf(a);
        bool over = free == 0 || tryLocked;
        amount = over ? free + 1 : bound(amount, 1, free);
        bytes4 expected = over ? IStakingVault.InsufficientUnlockedStake.selector : bytes4(0);
        uint256 cooling = _cooling(a);
        (bool ok, bytes memory ret) = _call(
            a,
            address(vault),
            abi.encodeCall(IStakingVault.requestUnstake, (amount))
        );
        if (!_outcome(ok, ret, expected, "requestUnstake")) return;
        ghost.bookUnstake(a, amount);
        _eq(_cooling(a), cooling + amount, "requestUnstake: cooling");
        (, uint256 unlock) = vault.coolingOf(a);
        _eq(unlock, _time() + vault.cooldown(), "requestUnstake: unlock time");
    }

    /// @notice Cancels a pending unstake: the cooling amount earns again.
    function cancelUnstake(uint256 actorSeed) external action("cancelUnstake") {
        address a = _pick(_everyone, actorSeed, _isCooling);
        if (a == address(0)) {
            _skip();
            return;
        }
        uint256 cooling = _cooling(a);
        uint256 staked = vault.stakeOf(a);
        bytes4 expected = _unlessPaused(address(vault), 0);
        (bool ok, bytes memory ret) = _call(a, address(vault), abi.encodeCall(IStakingVault.cancelUnstake, ()));
        if (!_outcome(ok, ret, expected, "cancelUnstake")) return;
        ghost.bookStake(a, cooling);
        _eq(vault.stakeOf(a), staked + cooling, "cancelUnstake: stake");
    }

    /// @notice Withdraws cooled-down stake. Two calls in three first wait out the cooldown (time passes for
    ///         everyone); the third may come early (CooldownNotElapsed).
    function withdraw(uint256 actorSeed, uint256 waitSeed) external action("withdraw") {
        address a = _pick(_everyone, actorSeed, _isCooling);
        if (a == address(0)) {
            // Nobody is cooling down: a staker asks to unstake a little first.
            a = _pick(_everyone, actorSeed, _hasFreeStake);
            if (a == address(0)) {
                _skip();
                return;
            }
            uint256 amount = bound(waitSeed >> 32, 1, vault.stakeOf(a) - vault.lockedOf(a));
            vm.prank(a);
            vault.requestUnstake(amount);
            ghost.bookUnstake(a, amount);
            _done("requestUnstake (before withdraw)");
        }
        (uint256 cooling, uint256 unlock) = vault.coolingOf(a);
        if (_time() < unlock && _mode(waitSeed, 3) != 0) ghost.advance(unlock + bound(waitSeed >> 8, 0, 12 hours));
        bytes4 expected = _time() < unlock ? IStakingVault.CooldownNotElapsed.selector : bytes4(0);
        uint256 balance = token.balanceOf(a);
        (bool ok, bytes memory ret) = _call(a, address(vault), abi.encodeCall(IStakingVault.withdraw, ()));
        if (!_outcome(ok, ret, expected, "withdraw")) return;
        _eq(abi.decode(ret, (uint256)), cooling, "withdraw: amount");
        _eq(token.balanceOf(a), balance + cooling, "withdraw: paid");
    }

    /// @notice Claims staking rewards: exactly what `earned` reported is paid (the model bounds `earned`).
    function claim(uint256 actorSeed) external action("claim") {
        address a = _pick(_everyone, actorSeed, _hasEarned);
        if (a == address(0)) a = _everyone[actorSeed % _everyone.length];
        uint256 earned = vault.earned(a);
        uint256 balance = token.balanceOf(a);
        (bool ok, bytes memory ret) = _call(a, address(vault), abi.encodeCall(IStakingVault.claim, ()));
        if (!_outcome(ok, ret, 0, earned == 0 ? "claim (nothing earned)" : "claim")) return;
        _eq(abi.decode(ret, (uint256)), earned, "claim: amount");
        _eq(token.balanceOf(a), balance + earned, "claim: paid");
        ghost.bookClaim(a, earned);
    }

    /// @notice A holder burns some of its own tokens (DESIGN: anyone can burn their own).
    function burnTokens(uint256 actorSeed, uint256 amount) external action("burnTokens") {
        address a = _pick(_everyone, actorSeed, _hasTokens);
        if (a == address(0)) {
            _skip();
            return;
        }
        amount = bound(amount, 1, token.balanceOf(a) / 10 + 1);
        uint256 supply = token.totalSupply();
        (bool ok, bytes memory ret) = _call(a, address(token), abi.encodeWithSignature("burn(uint256)", amount));
        if (!_outcome(ok, ret, 0, "burnTokens")) return;
        ghost.bookTokenBurn(a, amount);
        _eq(token.totalSupply(), supply - amount, "burnTokens: supply");
    }

    /// @dev Stakes through the vault and books it (also used for genesis-free top-ups by other actors' flows).
    function _stake(address a, uint256 amount, string memory name) internal returns (bool) {
        bytes4 expected = _unlessPaused(address(vault), 0);
        uint256 staked = vault.stakeOf(a);
        (bool ok, bytes memory ret) = _call(a, address(vault), abi.encodeCall(IStakingVault.stake, (amount)));
        if (!_outcome(ok, ret, expected, name)) return false;
        ghost.bookStake(a, amount);
        _eq(vault.stakeOf(a), staked + amount, string.concat(name, ": stake"));
        return true;
    }

    function _cooling(address a) internal view returns (uint256 c) {
        (c, ) = vault.coolingOf(a);
    }

    function _hasTokens(address a) internal view returns (bool) {
        return token.balanceOf(a) != 0;
    }

    function _hasFreeStake(address a) internal view returns (bool) {
        return vault.stakeOf(a) > vault.lockedOf(a);
    }

    function _hasLock(address a) internal view returns (bool) {
        return vault.lockedOf(a) != 0;
    }

    function _hasStake(address a) internal view returns (bool) {
        return vault.stakeOf(a) != 0;
    }

    function _isCooling(address a) internal view returns (bool) {
        return _cooling(a) != 0;
    }

    function _hasEarned(address a) internal view returns (bool) {
        return vault.earned(a) != 0;
    }
}
