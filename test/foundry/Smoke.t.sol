// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Test} from "./utils/Test.sol";
import {ProtocolToken} from "../../contracts/ProtocolToken.sol";

contract SmokeTest is Test {
    ProtocolToken internal token;

    function setUp() public {
        token = new ProtocolToken("Cinder", "CNDR", 100e18, 1000e18, address(this), address(this));
    }

    function testFuzz_burnReducesSupply(uint256 amount) public {
        amount = bound(amount, 0, 100e18);
        token.burn(amount);
        vm.assertEq(token.totalSupply(), 100e18 - amount, "supply");
    }
}
