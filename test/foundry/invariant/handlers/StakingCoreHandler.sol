// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {HandlerStats} from "../../utils/HandlerStats.sol";
import {console} from "../../utils/console.sol";
import {ProtocolToken} from "../../../../contracts/ProtocolToken.sol";
import {StakingVault} from "../../../../contracts/StakingVault.sol";
import {DailyCredit} from "../../../../contracts/DailyCredit.sol";
import {IProtocolToken} from "../../../../contracts/interfaces/IProtocolToken.sol";
import {IStakingVault} from "../../../../contracts/interfaces/IStakingVault.sol";
import {IDailyCredit} from "../../../../contracts/interfaces/IDailyCredit.sol";

/// @title StakingCoreHandler
/// @notice Drives ProtocolToken + StakingVault + DailyCredit for the invariant test: a fixed set of actors
///         stake, unstake, withdraw, claim, burn tokens, and mint, burn, transfer and have spent their daily
///         credit; the handler itself is the rewarder (minting emissions up to the token's cap) and the
///         credit spender; time moves forward by hours to days, crossing UTC days.
/// @dev Every input is bounded to something the protocol accepts, and the actor is picked among those
///      able to act, so nearly every call changes state (see `done` vs `calls`). Rules a single call must
///      obey (a claim pays what `earned` said; an early withdraw, an over-spend, an over-unstake, a mint past
///      the slippage limit or past `maxSupply` revert) are checked here and recorded as violations, which
///      the invariant test asserts to be zero: a revert inside a handler is not a failure with
///      fail_on_revert = false. Ghost totals follow every value that moves.
contract StakingCoreHandler is HandlerStats {
    ProtocolToken public immutable token;
    StakingVault public immutable vault;
    DailyCredit public immutable credit;

    address[] internal _actors;

    // ---------------------------------------------------------------- ghost totals

    uint256 public ghostTokenMinted; // emissions minted by the rewarder
    uint256 public ghostTokenBurned; // burned by actors
    uint256 public ghostStaked; // Σ stake
    uint256 public ghostWithdrawn; // Σ withdraw
    uint256 public ghostNotified; // Σ notifyReward
    uint256 public ghostClaimed; // Σ claim
    uint256 public ghostCreditMinted;
    uint256 public ghostCreditBurned;
    uint256 public ghostCapHits; // mints refused at maxSupply

    /// @notice Per UTC day: the credit supply when the day began, credits minted and USD spent that day.
    struct DayBook {
        bool seen;
        uint256 supplyAtStart;
        uint256 minted;
        uint256 spent;
    }

    uint256[] internal _days;
    mapping(uint256 day => DayBook) internal _books;
    mapping(uint256 day => mapping(address account => uint256)) public ghostSpentBy;

    // ---------------------------------------------------------------- call statistics

    uint256 internal immutable _START;

    constructor(ProtocolToken token_, StakingVault vault_, DailyCredit credit_, address[] memory actors_) {
        token = token_;
        vault = vault_;
        credit = credit_;
        _actors = actors_;
        _START = block.timestamp;
        for (uint256 i; i < actors_.length; ++i) {
            vm.prank(actors_[i]);
            token_.approve(address(vault_), type(uint256).max);
        }
        token_.approve(address(vault_), type(uint256).max);
        _touchDay();
    }

    function _beforeAction() internal override {
        _touchDay();
    }

    // ================================================================ vault

    function stake(uint256 actorSeed, uint256 amount) external action("stake") {
        address a = _pick(actorSeed, _hasTokens);
        if (a == address(0)) return;
        amount = bound(amount, 1, token.balanceOf(a));
        vm.prank(a);
        vault.stake(amount);
        ghostStaked += amount;
        ++done["stake"];
    }

    function requestUnstake(uint256 actorSeed, uint256 amount) external action("requestUnstake") {
        address a = _pick(actorSeed, _hasFreeStake);
        if (a == address(0)) return;
        uint256 free = vault.stakeOf(a) - vault.lockedOf(a);
        if (amount % 8 == 0 && vault.lockedOf(a) != 0) {
            // Locked stake cannot be unstaked.
            vm.prank(a);
            try vault.requestUnstake(free + 1) {
                _violation("requestUnstake took locked stake");
            } catch (bytes memory reason) {
                _expectSelector(
                    reason,
                    IStakingVault.InsufficientUnlockedStake.selector,
                    "requestUnstake over the lock"
                );
            }
        }
        amount = bound(amount, 1, free);
        vm.prank(a);
        vault.requestUnstake(amount);
        ++done["requestUnstake"];
    }

    function cancelUnstake(uint256 actorSeed) external action("cancelUnstake") {
        address a = _pick(actorSeed, _isCooling);
        if (a == address(0)) return;
        vm.prank(a);
        vault.cancelUnstake();
        ++done["cancelUnstake"];
    }

    /// @dev Half the time before the unlock time: the withdraw must revert. Otherwise waits out the
    ///      cooldown (a warp, crossing days) and withdraws.
    function withdraw(uint256 actorSeed, uint256 waitSeed) external action("withdraw") {
        address a = _pick(actorSeed, _isCooling);
        if (a == address(0)) return;
        (uint256 cooling, uint256 unlockTime) = vault.coolingOf(a);
        if (block.timestamp < unlockTime) {
            if (waitSeed % 2 == 0) {
                vm.prank(a);
                try vault.withdraw() {
                    _violation("withdraw before the cooldown");
                } catch (bytes memory reason) {
                    _expectSelector(reason, IStakingVault.CooldownNotElapsed.selector, "early withdraw");
                }
                ++done["withdraw (refused early)"];
                return;
            }
            _warpTo(unlockTime + bound(waitSeed, 0, 1 days));
        }
        uint256 before = token.balanceOf(a);
        vm.prank(a);
        uint256 amount = vault.withdraw();
        if (amount != cooling || token.balanceOf(a) != before + amount) _violation("withdraw paid a wrong amount");
        ghostWithdrawn += amount;
        ++done["withdraw"];
    }

    function claim(uint256 actorSeed) external action("claim") {
        address a = _pick(actorSeed, _hasEarned);
        if (a == address(0)) a = _actors[actorSeed % _actors.length]; // a zero claim is a no-op
        uint256 owed = vault.earned(a);
        uint256 before = token.balanceOf(a);
        vm.prank(a);
        uint256 amount = vault.claim();
        if (amount != owed || token.balanceOf(a) != before + amount) _violation("claim paid other than earned");
        ghostClaimed += amount;
        if (amount != 0) ++done["claim"];
    }

    /// @dev The rewarder mints fresh emissions (as the engine would) and streams them; past the token's
    ///      cap the mint must revert, and the rewarder streams what is left under it.
    function notifyReward(uint256 amount) external action("notifyReward") {
        amount = bound(amount, 1, 3_000_000e18);
        uint256 room = token.maxSupply() - token.totalSupply();
        if (amount > room) {
            try token.mint(address(this), amount) {
                _violation("minted past maxSupply");
                ghostTokenMinted += amount;
            } catch (bytes memory reason) {
                _expectSelector(reason, IProtocolToken.MaxSupplyExceeded.selector, "mint past the cap");
                ++ghostCapHits;
            }
            amount = room;
        }
        if (amount == 0) return;
        token.mint(address(this), amount);
        ghostTokenMinted += amount;
        vault.notifyReward(amount);
        ghostNotified += amount;
        ++done["notifyReward"];
    }

    // ================================================================ token

    function burnTokens(uint256 actorSeed, uint256 amount) external action("burnTokens") {
        address a = _pick(actorSeed, _hasTokens);
        if (a == address(0)) return;
        amount = bound(amount, 1, token.balanceOf(a) / 4 + 1);
        vm.prank(a);
        token.burn(amount);
        ghostTokenBurned += amount;
        ++done["burnTokens"];
    }

    // ================================================================ credit

    /// @dev Mints as much as the actor's free stake allows at most, sized from the rate at the current
    ///      supply and shrunk until the quote fits. One mint in eight first tries a limit one wei too low.
    function mintCredit(uint256 actorSeed, uint256 amount) external action("mintCredit") {
        address a = _pick(actorSeed, _hasFreeStake);
        if (a == address(0)) return;
        uint256 free = vault.stakeOf(a) - vault.lockedOf(a);
        uint256 most = (free * 1e18) / credit.mintRate(credit.totalSupply());
        if (most == 0) return;
        amount = bound(amount, 1, most);
        uint256 quote = credit.quoteMint(amount);
        for (uint256 i; quote > free && i < 8; ++i) {
            amount = (amount * free) / quote;
            if (amount == 0) return;
            quote = credit.quoteMint(amount);
        }
        if (quote > free) return;

        if (amount % 8 == 0) {
            vm.prank(a);
            try credit.mint(amount, quote - 1) {
                _violation("mint locked more than maxStakeToLock");
            } catch (bytes memory reason) {
                _expectSelector(reason, IDailyCredit.StakeLimitExceeded.selector, "mint over the stake limit");
            }
        }
        uint256 lockedBefore = vault.lockedBy(a, address(credit));
        vm.prank(a);
        uint256 locked = credit.mint(amount, quote);
        if (locked != quote || vault.lockedBy(a, address(credit)) != lockedBefore + locked) {
            _violation("mint locked other than quoted");
        }
        ghostCreditMinted += amount;
        _books[_today()].minted += amount;
        ++done["mintCredit"];
    }

    function burnCredit(uint256 actorSeed, uint256 amount) external action("burnCredit") {
        address a = _pick(actorSeed, _canBurnCredit);
        if (a == address(0)) return;
        IDailyCredit.Position memory p = credit.positionOf(a);
        uint256 balance = credit.balanceOf(a);
        // One burn in four closes the whole position when the balance allows it.
        amount = amount % 4 == 0 && balance >= p.credits ? p.credits : bound(amount, 1, _min(p.credits, balance));
        uint256 lockedBefore = vault.lockedBy(a, address(credit));
        vm.prank(a);
        uint256 unlocked = credit.burn(amount);
        if (vault.lockedBy(a, address(credit)) != lockedBefore - unlocked)
            _violation("burn unlocked other than reported");
        if (amount == p.credits && unlocked != p.stakeLocked) _violation("closing burn left stake locked");
        ghostCreditBurned += amount;
        ++done["burnCredit"];
    }

    function transferCredit(uint256 fromSeed, uint256 toSeed, uint256 amount) external action("transferCredit") {
        address from = _pick(fromSeed, _hasCredit);
        if (from == address(0)) return;
        address to = _actors[toSeed % _actors.length];
        amount = bound(amount, 1, credit.balanceOf(from));
        vm.prank(from);
        credit.transfer(to, amount);
        ++done["transferCredit"];
    }

    /// @dev The handler is the spender (the JobCoordinator). One spend in eight first tries one wei more
    ///      than the allowance.
    function spend(uint256 actorSeed, uint256 usd) external action("spend") {
        address a = _pick(actorSeed, _hasAllowance);
        if (a == address(0)) return;
        uint256 available = credit.dailyAllowance(a);
        if (usd % 8 == 0) {
            try credit.spend(a, available + 1) {
                _violation("spent past the daily allowance");
                _recordSpend(a, available + 1);
            } catch (bytes memory reason) {
                _expectSelector(reason, IDailyCredit.InsufficientDailyAllowance.selector, "over-spend");
            }
            available = credit.dailyAllowance(a);
            if (available == 0) return;
        }
        usd = bound(usd, 1, available);
        credit.spend(a, usd);
        _recordSpend(a, usd);
        ++done["spend"];
    }

    // ================================================================ time

    function warp(uint256 secondsAhead) external action("warp") {
        _warpTo(block.timestamp + bound(secondsAhead, 1 hours, 3 days));
        ++done["warp"];
    }

    // ================================================================ views for the invariants

    function actors() external view returns (address[] memory) {
        return _actors;
    }

    function daysSeen() external view returns (uint256[] memory) {
        return _days;
    }

    function dayBook(uint256 day) external view returns (DayBook memory) {
        return _books[day];
    }

    /// @notice Prints, per action, how often it was called and how often it changed state.
    function logCallSummary() external view {
        for (uint256 i; i < _actionNames.length; ++i) {
            string memory n = _actionNames[i];
            console.log(string.concat(n, " calls"), calls[n]);
            console.log(string.concat(n, " done"), done[n]);
        }
        console.log("withdraw (refused early) done", done["withdraw (refused early)"]);
        console.log("hours elapsed", (block.timestamp - _START) / 1 hours);
        console.log("UTC days seen", _days.length);
        console.log("mints refused at maxSupply", ghostCapHits);
    }

    // ================================================================ internal

    /// @dev Opens the book of a UTC day the first time a call sees it. Credit supply changes only through
    ///      this handler, each call touching the day first, so the supply now is the supply at the day's start.
    function _touchDay() internal {
        uint256 day = _today();
        DayBook storage book = _books[day];
        if (!book.seen) {
            book.seen = true;
            book.supplyAtStart = credit.totalSupply();
            _days.push(day);
        }
    }

    function _warpTo(uint256 timestamp) internal {
        vm.warp(timestamp);
        _touchDay();
    }

    function _recordSpend(address account, uint256 usd) internal {
        uint256 day = _today();
        _books[day].spent += usd;
        ghostSpentBy[day][account] += usd;
    }

    function _today() internal view returns (uint256) {
        return block.timestamp / 1 days;
    }

    /// @dev The first actor from `seed` on (cyclically) that satisfies `able`, or address(0).
    function _pick(uint256 seed, function(address) view returns (bool) able) internal view returns (address) {
        uint256 n = _actors.length;
        for (uint256 i; i < n; ++i) {
            address a = _actors[((seed % n) + i) % n];
            if (able(a)) return a;
        }
        return address(0);
    }

    function _hasTokens(address a) internal view returns (bool) {
        return token.balanceOf(a) != 0;
    }

    function _hasFreeStake(address a) internal view returns (bool) {
        return vault.stakeOf(a) > vault.lockedOf(a);
    }

    function _isCooling(address a) internal view returns (bool) {
        (uint256 cooling, ) = vault.coolingOf(a);
        return cooling != 0;
    }

    function _hasEarned(address a) internal view returns (bool) {
        return vault.earned(a) != 0;
    }

    function _hasCredit(address a) internal view returns (bool) {
        return credit.balanceOf(a) != 0;
    }

    function _canBurnCredit(address a) internal view returns (bool) {
        return credit.positionOf(a).credits != 0 && credit.balanceOf(a) != 0;
    }

    function _hasAllowance(address a) internal view returns (bool) {
        return credit.dailyAllowance(a) != 0;
    }
}
