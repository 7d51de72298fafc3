// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;
import {ICinderErrors} from "./ICinderErrors.sol";

/// @title IModelRegistry
/// @notice The models Cinder serves. A centralised, silently mutable model list is a top failure mode of
///         inference networks, so every change here comes only from the admin (the timelock, i.e. delayed
///         and public in advance) and emits an event.
interface IModelRegistry is ICinderErrors {
    /// @notice A registered model.
    struct Model {
        bytes32 weightsHash; // e.g. sha256 of the GGUF file: providers and watchers check what they run
        string name;
        string metadataURI;
        string unit; // the unit of account, e.g. "1000 output tokens"
        bool active;
        uint64 registeredAt;
        uint64 updatedAt;
    }

    /// @notice Thrown for a zero model id or weights hash.
    error InvalidModel(bytes32 modelId, bytes32 weightsHash);
    /// @notice Thrown when an empty name or unit is given.
    error EmptyField(bytes32 field);
    /// @notice Thrown when registering an id that exists.
    error ModelAlreadyRegistered(bytes32 modelId);
    /// @notice Thrown when a model id is unknown.
    error UnknownModel(bytes32 modelId);

    /// @notice Emitted when a model is registered (active).
    event ModelRegistered(
        bytes32 indexed modelId,
        bytes32 weightsHash,
        string name,
        string metadataURI,
        string unit
    );
    /// @notice Emitted when a model's weights, metadata or unit change.
    event ModelUpdated(bytes32 indexed modelId, bytes32 weightsHash, string metadataURI, string unit);
    /// @notice Emitted when a model is activated or deactivated.
    event ModelActivationChanged(bytes32 indexed modelId, bool active);

    /// @notice Registers an active model.
    /// @dev Only DEFAULT_ADMIN_ROLE (the timelock). Reverts with {InvalidModel}, {EmptyField} or
    ///      {ModelAlreadyRegistered}.
    function registerModel(
        bytes32 modelId,
        bytes32 weightsHash,
        string calldata name,
        string calldata metadataURI,
        string calldata unit
    ) external;

    /// @notice Replaces a model's weights hash, metadata URI and unit.
    /// @dev Only DEFAULT_ADMIN_ROLE. Reverts with {UnknownModel}, {InvalidModel} or {EmptyField}.
    function updateModel(
        bytes32 modelId,
        bytes32 weightsHash,
        string calldata metadataURI,
        string calldata unit
    ) external;

    /// @notice Activates or deactivates a model; inactive models take no new jobs or offers.
    /// @dev Only DEFAULT_ADMIN_ROLE. Reverts with {UnknownModel}.
    function setActive(bytes32 modelId, bool active) external;

    /// @notice The model `modelId`. Reverts with {UnknownModel}.
    function getModel(bytes32 modelId) external view returns (Model memory);

    /// @notice Whether `modelId` is registered and active.
    function isActive(bytes32 modelId) external view returns (bool);

    /// @notice Every registered model id, in registration order.
    function modelIds() external view returns (bytes32[] memory);
}
