// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {CoreFixture} from "../utils/CoreFixture.sol";
import {StakingCoreHandler} from "./handlers/StakingCoreHandler.sol";
import {IDailyCredit} from "../../../contracts/interfaces/IDailyCredit.sol";

/// @notice Invariants of ProtocolToken + StakingVault + DailyCredit under random sequences of every user,
///         rewarder and spender action and of time (DESIGN.md, invariants 1–3). forge calls only the
///         handler's action functions (targetContract + targetSelector); the handler bounds inputs and
///         keeps ghost totals.
/// forge-config: default.invariant.show-metrics = true
contract StakingCoreInvariantTest is CoreFixture {
    StakingCoreHandler internal handler;
    address[] internal actors;

    /// @dev Room for 4 M tokens of emissions (1 M streamed in setUp, rewards up to 3 M a call): runs that
    ///      notify a few times reach the cap, where the handler checks the mint is refused.
    uint256 internal constant EMISSION_ROOM = 4_000_000e18;

    function setUp() public {
        _deployCore(INITIAL_SUPPLY, INITIAL_SUPPLY + EMISSION_ROOM);

        // Unequal holdings: the large holder alone can push credit supply a good way up the curve.
        uint256[4] memory grants = [uint256(3_000_000e18), 1_000_000e18, 250_000e18, 20_000e18];
        for (uint256 i; i < grants.length; ++i) {
            address a = makeAddr(string.concat("actor", vm.toString(i)));
            actors.push(a);
            token.transfer(a, grants[i]);
        }

        handler = new StakingCoreHandler(token, vault, credit, actors);
        vault.grantRole(vault.REWARDER_ROLE(), address(handler));
        credit.grantRole(credit.SPENDER_ROLE(), address(handler));
        token.grantRole(token.MINTER_ROLE(), address(handler));

        // A live starting state, built through the handler so its ghosts see it: everyone stakes 60 %,
        // the two largest holders mint credit, the two smallest are cooling down, a reward stream runs.
        for (uint256 i; i < actors.length; ++i) {
            handler.stake(i, (grants[i] * 6) / 10);
        }
        handler.mintCredit(0, 5_000e18);
        handler.mintCredit(1, 2_000e18);
        handler.requestUnstake(2, 50_000e18);
        handler.requestUnstake(3, 5_000e18);
        handler.notifyReward(1_000_000e18);

        bytes4[] memory selectors = new bytes4[](13);
        selectors[0] = StakingCoreHandler.stake.selector;
        selectors[1] = StakingCoreHandler.requestUnstake.selector;
        selectors[2] = StakingCoreHandler.cancelUnstake.selector;
        selectors[3] = StakingCoreHandler.withdraw.selector;
        selectors[4] = StakingCoreHandler.claim.selector;
        selectors[5] = StakingCoreHandler.notifyReward.selector;
        selectors[6] = StakingCoreHandler.burnTokens.selector;
        selectors[7] = StakingCoreHandler.mintCredit.selector;
        selectors[8] = StakingCoreHandler.burnCredit.selector;
        selectors[9] = StakingCoreHandler.transferCredit.selector;
        selectors[10] = StakingCoreHandler.spend.selector;
        selectors[11] = StakingCoreHandler.warp.selector;
        selectors[12] = StakingCoreHandler.stake.selector; // weight: staking feeds every other action
        targetSelector(FuzzSelector(address(handler), selectors));
        targetContract(address(handler));
    }

    /// @notice (a) The vault's tokens are exactly the stakes plus the reward reserve, the reserve is exactly
    ///         notified minus claimed, and it covers every reward accrued.
    function invariant_vaultHoldsStakesPlusRewardReserve() public view {
        uint256 staked;
        uint256 cooling;
        uint256 earned;
        for (uint256 i; i < actors.length; ++i) {
            staked += vault.stakeOf(actors[i]);
            (uint256 c, ) = vault.coolingOf(actors[i]);
            cooling += c;
            earned += vault.earned(actors[i]);
        }
        uint256 reserve = vault.rewardReserve();
        vm.assertEq(staked, vault.totalStaked(), "sum stakeOf = totalStaked");
        vm.assertEq(cooling, vault.totalCooling(), "sum cooling = totalCooling");
        vm.assertEq(
            staked + cooling + reserve,
            token.balanceOf(address(vault)),
            "stakes + reserve = vault balance"
        );
        vm.assertEq(
            staked + cooling,
            handler.ghostStaked() - handler.ghostWithdrawn(),
            "stakes = staked - withdrawn"
        );
        vm.assertEq(reserve, handler.ghostNotified() - handler.ghostClaimed(), "reserve = notified - claimed");
        vm.assertLe(earned, reserve, "sum earned <= reserve");
    }

    /// @notice (b) No actor has more locked than staked, and the vault's lock by DailyCredit is exactly the
    ///         stake of the actor's credit position.
    function invariant_locksWithinStakeAndMatchPositions() public view {
        for (uint256 i; i < actors.length; ++i) {
            address a = actors[i];
            vm.assertLe(vault.lockedOf(a), vault.stakeOf(a), "lockedOf <= stakeOf");
            vm.assertEq(
                vault.lockedBy(a, address(credit)),
                credit.positionOf(a).stakeLocked,
                "lockedBy = position stake"
            );
            vm.assertEq(vault.lockedOf(a), vault.lockedBy(a, address(credit)), "DailyCredit is the only locker");
        }
    }

    /// @notice (c) On every UTC day seen, Σ spent ≤ creditPerDay × (supply at day start + minted that day).
    ///         Also: the ghost spend of today matches the contract's per-account ledger.
    function invariant_dailySpendWithinSupplyAtDayStartPlusMinted() public view {
        uint256[] memory seen = handler.daysSeen();
        for (uint256 i; i < seen.length; ++i) {
            StakingCoreHandler.DayBook memory book = handler.dayBook(seen[i]);
            vm.assertLe(
                book.spent,
                Math.mulDiv(book.supplyAtStart + book.minted, credit.creditPerDay(), 1e18),
                string.concat("day ", vm.toString(seen[i]), ": spent > creditPerDay x (start supply + minted)")
            );
        }
        uint256 today = block.timestamp / 1 days;
        for (uint256 i; i < actors.length; ++i) {
            vm.assertEq(
                credit.spentToday(actors[i]),
                handler.ghostSpentBy(today, actors[i]),
                "spentToday = ghost"
            );
        }
    }

    /// @notice (d) Token supply is initial + minted − burned and never above maxSupply.
    function invariant_tokenSupplyWithinMax() public view {
        uint256 supply = token.totalSupply();
        vm.assertEq(
            supply,
            INITIAL_SUPPLY + handler.ghostTokenMinted() - handler.ghostTokenBurned(),
            "initial + minted - burned"
        );
        vm.assertLe(supply, token.maxSupply(), "supply <= maxSupply");
    }

    /// @notice Credit supply is minted − burned, Σ balances, and Σ open positions (transfers move balances,
    ///         never positions).
    function invariant_creditSupplyMatchesBalancesAndPositions() public view {
        uint256 balances;
        uint256 positions;
        for (uint256 i; i < actors.length; ++i) {
            balances += credit.balanceOf(actors[i]);
            IDailyCredit.Position memory p = credit.positionOf(actors[i]);
            positions += p.credits;
        }
        uint256 supply = credit.totalSupply();
        vm.assertEq(supply, handler.ghostCreditMinted() - handler.ghostCreditBurned(), "minted - burned");
        vm.assertEq(balances, supply, "sum balances");
        vm.assertEq(positions, supply, "sum positions");
    }

    /// @notice Single-call rules the handler checks (claims pay earned, early withdraws / over-spends /
    ///         over-unstakes / over-limit mints / mints past the cap revert with the documented error).
    function invariant_handlerChecksHold() public view {
        vm.assertEq(handler.violations(), 0, handler.lastViolation());
    }

    /// @notice Prints the handler's call statistics after each run (visible with -vv).
    function afterInvariant() public view {
        handler.logCallSummary();
    }
}
