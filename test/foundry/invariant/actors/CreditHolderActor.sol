// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ActorBase} from "./ActorBase.sol";
import {SystemGhost, Deployment} from "./SystemGhost.sol";
import {ReferenceCurve} from "../../utils/ReferenceCurve.sol";
import {IStakingVault} from "../../../../contracts/interfaces/IStakingVault.sol";
import {IDailyCredit} from "../../../../contracts/interfaces/IDailyCredit.sol";

/// @title CreditHolderActor
/// @notice DailyCredit holders (the DIEM analogue): mint credits against stake (staking the shortfall first, or
///         failing for want of free stake, or for a stake limit one wei too low), burn them to unlock their stake
///         pro rata, and pass them on to requesters or each other. Requesters may also mint and burn their own.
/// @dev Single-call rules: a mint locks exactly the quote, never less than the reference curve asks
///      (ReferenceCurve, independent of MintRateCurve); a burn unlocks its pro-rata stake (all of it when the
///      position closes); a transfer never raises the receiver's allowance the same day (received credits count
///      from the next day) and never raises the sender's.
contract CreditHolderActor is ActorBase {
    address[] internal _holders;
    address[] internal _minters; // holders, then requesters
    address[] internal _receivers; // requesters, then holders

    uint256 internal immutable _BASE;
    uint256 internal immutable _POWER;
    uint256 internal immutable _TARGET;

    constructor(SystemGhost ghost_, Deployment memory d) ActorBase(ghost_, d) {
        _holders = ghost_.actors().holders;
        _minters = ghost_.dcrActors();
        address[] memory r = ghost_.actors().requesters;
        for (uint256 i; i < r.length; ++i) _receivers.push(r[i]);
        for (uint256 i; i < _holders.length; ++i) _receivers.push(_holders[i]);
        (_BASE, _POWER, _TARGET) = d.dailyCredit.curve();
    }

    /// @notice Mints 0.001 to 50 credits (a holder, or one call in four a requester). Short of free stake, the
    ///         minter stakes what is missing first, except one call in five which must fail
    ///         (InsufficientUnlockedStake); one call in eight sets the stake limit one wei under the quote
    ///         (StakeLimitExceeded).
    function mint(uint256 actorSeed, uint256 amount, uint256 modeSeed) external action("mint") {
        address a =
            _mode(actorSeed, 4) == 0
                ? _minters[actorSeed % _minters.length]
                : _holders[actorSeed % _holders.length];
        amount = bound(amount, 1e15, 50e18);
        uint256 quote = dailyCredit.quoteMint(amount);
        uint256 free = vault.stakeOf(a) - vault.lockedOf(a);
        uint256 mode = _mode(modeSeed, 40);
        if (quote > free && mode % 5 != 0) {
            uint256 missing = quote - free;
            if (token.balanceOf(a) < missing || ghost.paused(address(vault))) {
                _skip();
                return;
            }
            vm.prank(a);
            vault.stake(missing);
            ghost.bookStake(a, missing);
            free = quote;
        }
        uint256 limit = mode % 8 == 3 ? quote - 1 : quote;
        bytes4 expected = _unlessPaused(
            address(dailyCredit),
            limit < quote
                ? IDailyCredit.StakeLimitExceeded.selector
                : quote > free
                    ? IStakingVault.InsufficientUnlockedStake.selector
                    : bytes4(0)
        );
        _mint(a, amount, quote, limit, expected);
    }

    function _mint(address a, uint256 amount, uint256 quote, uint256 limit, bytes4 expected) internal {
        uint256 locked = vault.lockedBy(a, address(dailyCredit));
        uint256 supply = dailyCredit.totalSupply();
        (bool ok, bytes memory ret) = _call(
            a,
            address(dailyCredit),
            abi.encodeCall(IDailyCredit.mint, (amount, limit))
        );
        if (!_outcome(ok, ret, expected, "mint")) return;
        ghost.bookDcrMint(a, amount);
        uint256 stakeLocked = abi.decode(ret, (uint256));
        _eq(stakeLocked, quote, "mint: locked != quote");
        _eq(vault.lockedBy(a, address(dailyCredit)), locked + quote, "mint: vault lock");
        _checkCurve(amount, supply + amount, stakeLocked);
    }

    /// @dev A mint never locks less than the reference curve asks at the supply after the mint.
    function _checkCurve(uint256 amount, uint256 supplyAfter, uint256 stakeLocked) internal {
        uint256 refRate = ReferenceCurve.rate(_BASE, _POWER, _TARGET, supplyAfter);
        if (stakeLocked < Math.mulDiv(amount, refRate, 1e18)) _violation("mint: locked less than the curve asks");
    }

    /// @notice Burns part of a position (one call in four all of it, when the balance allows); one call in eight
    ///         asks for more than the position (BurnExceedsPosition).
    function burn(uint256 actorSeed, uint256 amount) external action("burn") {
        address a = _pick(_minters, actorSeed, _canBurn);
        if (a == address(0)) {
            _skip();
            return;
        }
        IDailyCredit.Position memory p = dailyCredit.positionOf(a);
        uint256 balance = dailyCredit.balanceOf(a);
        uint256 mode = _mode(amount, 8);
        bytes4 expected;
        if (mode == 0) {
            amount = p.credits + 1;
            expected = IDailyCredit.BurnExceedsPosition.selector;
        } else if (mode == 1 && balance >= p.credits) {
            amount = p.credits;
        } else {
            amount = bound(amount, 1, Math.min(p.credits, balance));
        }
        uint256 unlocked = amount == p.credits ? p.stakeLocked : Math.mulDiv(p.stakeLocked, amount, p.credits);
        uint256 locked = vault.lockedBy(a, address(dailyCredit));
        (bool ok, bytes memory ret) = _call(a, address(dailyCredit), abi.encodeCall(IDailyCredit.burn, (amount)));
        if (!_outcome(ok, ret, expected, "burn")) return;
        ghost.bookDcrBurn(a, amount);
        _eq(abi.decode(ret, (uint256)), unlocked, "burn: unlocked != pro rata");
        _eq(vault.lockedBy(a, address(dailyCredit)), locked - unlocked, "burn: vault unlock");
    }

    /// @notice Passes credits on: a holder (or a requester) sends part of its balance to a requester or a holder.
    function transfer(uint256 fromSeed, uint256 toSeed, uint256 amount) external action("transfer") {
        address from = _pick(_minters, fromSeed, _hasCredit);
        if (from == address(0)) {
            _skip();
            return;
        }
        address to = _receivers[toSeed % _receivers.length];
        if (to == from) to = _receivers[_at(toSeed, 1, _receivers.length)];
        amount = bound(amount, 1, dailyCredit.balanceOf(from));
        uint256 fromAllowance = dailyCredit.dailyAllowance(from);
        (bool ok, bytes memory ret) = _call(
            from,
            address(dailyCredit),
            abi.encodeWithSignature("transfer(address,uint256)", to, amount)
        );
        if (!_outcome(ok, ret, 0, "transfer")) return;
        ghost.bookDcrTransfer(from, to, amount);
        // Received credits count from the next day: the receiver's allowance stays within what its balance at the
        // day's start and its own mints allow (the model), whatever it receives; sent credits stop counting at once.
        _eq(dailyCredit.dailyAllowance(to), ghost.allowanceModel(to), "transfer: receiver's allowance");
        _eq(dailyCredit.dailyAllowance(from), ghost.allowanceModel(from), "transfer: sender's allowance");
        if (dailyCredit.dailyAllowance(from) > fromAllowance) _violation("transfer: sending raised the allowance");
    }

    function _canBurn(address a) internal view returns (bool) {
        return dailyCredit.positionOf(a).credits != 0 && dailyCredit.balanceOf(a) != 0;
    }

    function _hasCredit(address a) internal view returns (bool) {
        return dailyCredit.balanceOf(a) != 0;
    }
}
