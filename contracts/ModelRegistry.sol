// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IModelRegistry} from "./interfaces/IModelRegistry.sol";

/// @title ModelRegistry
/// @notice The list of models Cinder serves, changed only by the admin (the timelock), every change evented.
contract ModelRegistry is IModelRegistry, AccessControl {
    mapping(bytes32 modelId => Model) private _models;
    bytes32[] private _ids;

    /// @param admin DEFAULT_ADMIN_ROLE holder (the timelock).
    constructor(address admin) {
        require(admin != address(0), ZeroAddress());
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @inheritdoc IModelRegistry
    function registerModel(
        bytes32 modelId,
        bytes32 weightsHash,
        string calldata name,
        string calldata metadataURI,
        string calldata unit
    ) external onlyRole(DEFAULT_ADMIN_ROLE) {
        require(modelId != bytes32(0) && weightsHash != bytes32(0), InvalidModel(modelId, weightsHash));
        require(bytes(name).length != 0, EmptyField("name"));
        require(bytes(unit).length != 0, EmptyField("unit"));
        Model storage model = _models[modelId];
        require(model.registeredAt == 0, ModelAlreadyRegistered(modelId));

        model.weightsHash = weightsHash;
        model.name = name;
        model.metadataURI = metadataURI;
        model.unit = unit;
        model.active = true;
        // Time: record-keeping only; no decision reads these timestamps.
        // solhint-disable not-rely-on-time
        model.registeredAt = uint64(block.timestamp);
        model.updatedAt = uint64(block.timestamp);
        // solhint-enable not-rely-on-time
        _ids.push(modelId);
        emit ModelRegistered(modelId, weightsHash, name, metadataURI, unit);
    }

    /// @inheritdoc IModelRegistry
    function updateModel(
        bytes32 modelId,
        bytes32 weightsHash,
        string calldata metadataURI,
        string calldata unit
    ) external onlyRole(DEFAULT_ADMIN_ROLE) {
        Model storage model = _existing(modelId);
        require(weightsHash != bytes32(0), InvalidModel(modelId, weightsHash));
        require(bytes(unit).length != 0, EmptyField("unit"));

        model.weightsHash = weightsHash;
        model.metadataURI = metadataURI;
        model.unit = unit;
        // Time: record-keeping only; no decision reads this timestamp.
        // solhint-disable-next-line not-rely-on-time
        model.updatedAt = uint64(block.timestamp);
        emit ModelUpdated(modelId, weightsHash, metadataURI, unit);
    }

    /// @inheritdoc IModelRegistry
    function setActive(bytes32 modelId, bool active) external onlyRole(DEFAULT_ADMIN_ROLE) {
        Model storage model = _existing(modelId);
        model.active = active;
        // Time: record-keeping only; no decision reads this timestamp.
        // solhint-disable-next-line not-rely-on-time
        model.updatedAt = uint64(block.timestamp);
        emit ModelActivationChanged(modelId, active);
    }

    /// @inheritdoc IModelRegistry
    function getModel(bytes32 modelId) external view returns (Model memory) {
        return _existing(modelId);
    }

    /// @inheritdoc IModelRegistry
    function isActive(bytes32 modelId) external view returns (bool) {
        return _models[modelId].active;
    }

    /// @inheritdoc IModelRegistry
    function modelIds() external view returns (bytes32[] memory) {
        return _ids;
    }

    function _existing(bytes32 modelId) private view returns (Model storage model) {
        model = _models[modelId];
        require(model.registeredAt != 0, UnknownModel(modelId));
    }
}
