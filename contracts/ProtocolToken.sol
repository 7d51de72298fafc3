// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Burnable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IProtocolToken} from "./interfaces/IProtocolToken.sol";

/// @title ProtocolToken
/// @notice ERC-20 + ERC-2612 permit. The whole initial supply goes to the treasury at deployment;
///         later supply comes only from MINTER_ROLE (the BurnMintEngine: emissions and redemptions),
///         capped by the immutable `maxSupply`. Holders burn their own tokens.
contract ProtocolToken is ERC20, ERC20Burnable, ERC20Permit, AccessControl, IProtocolToken {
    /// @notice Role allowed to mint new supply (granted to the BurnMintEngine).
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");

    uint256 private immutable _MAX_SUPPLY;

    /// @param name_ ERC-20 name (also the EIP-712 domain name for permit).
    /// @param symbol_ ERC-20 symbol.
    /// @param initialSupply Minted once to `treasury`.
    /// @param maxSupply_ Hard cap on total supply.
    /// @param treasury Receives the initial supply.
    /// @param admin Holds DEFAULT_ADMIN_ROLE (the timelock in production).
    constructor(
        string memory name_,
        string memory symbol_,
        uint256 initialSupply,
        uint256 maxSupply_,
        address treasury,
        address admin
    ) ERC20(name_, symbol_) ERC20Permit(name_) {
        require(treasury != address(0) && admin != address(0), ZeroAddress());
        require(initialSupply <= maxSupply_, InitialSupplyAboveMax(initialSupply, maxSupply_));
        _MAX_SUPPLY = maxSupply_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _mint(treasury, initialSupply);
    }

    /// @inheritdoc IProtocolToken
    function maxSupply() external view returns (uint256) {
        return _MAX_SUPPLY;
    }

    /// @inheritdoc IProtocolToken
    function mint(address to, uint256 amount) external onlyRole(MINTER_ROLE) {
        // totalSupply() <= _MAX_SUPPLY always holds, so the subtraction cannot underflow.
        uint256 available = _MAX_SUPPLY - totalSupply();
        require(amount <= available, MaxSupplyExceeded(amount, available));
        _mint(to, amount);
    }

    /// @inheritdoc IProtocolToken
    function burn(uint256 amount) public override(ERC20Burnable, IProtocolToken) {
        super.burn(amount);
    }

    /// @inheritdoc IProtocolToken
    function burnFrom(address account, uint256 amount) public override(ERC20Burnable, IProtocolToken) {
        super.burnFrom(account, amount);
    }
}
