// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IComputeCredit} from "./interfaces/IComputeCredit.sol";
import {ICinderErrors} from "./interfaces/ICinderErrors.sol";

/// @title ComputeCredit
/// @notice USD compute credit: minted by the BurnMintEngine when tokens are burned (and as capped subsidy),
///         burned when providers redeem it for tokens. Users cannot trade it among themselves, so its only
///         use is paying for inference; a protocol contract (PROTOCOL_ROLE) must be on one side of every
///         transfer (a requester escrowing to the coordinator, the coordinator paying a provider).
contract ComputeCredit is ERC20, AccessControl, IComputeCredit, ICinderErrors {
    /// @notice Role allowed to mint and burn (the BurnMintEngine).
    bytes32 public constant ENGINE_ROLE = keccak256("ENGINE_ROLE");
    /// @notice Role of protocol contracts that may send or receive credit (the JobCoordinator).
    bytes32 public constant PROTOCOL_ROLE = keccak256("PROTOCOL_ROLE");

    /// @param admin DEFAULT_ADMIN_ROLE holder (the timelock).
    constructor(string memory name_, string memory symbol_, address admin) ERC20(name_, symbol_) {
        require(admin != address(0), ZeroAddress());
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @inheritdoc IComputeCredit
    function mint(address to, uint256 amount) external onlyRole(ENGINE_ROLE) {
        _mint(to, amount);
    }

    /// @inheritdoc IComputeCredit
    function burn(address from, uint256 amount) external onlyRole(ENGINE_ROLE) {
        _burn(from, amount);
    }

    /// @dev Mints and burns pass; a transfer needs a protocol contract on one side.
    function _update(address from, address to, uint256 value) internal override {
        if (from != address(0) && to != address(0)) {
            require(hasRole(PROTOCOL_ROLE, from) || hasRole(PROTOCOL_ROLE, to), NonTransferable(from, to));
        }
        super._update(from, to, value);
    }
}
