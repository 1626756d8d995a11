// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title PlainToken
/// @notice A plain OpenZeppelin ERC20, used only as the reference in gas benchmarks.
contract PlainToken is ERC20 {
    /// @notice Mints `supply` units to the deployer.
    constructor(uint256 supply) ERC20("Plain", "PLN") {
        _mint(msg.sender, supply);
    }

    /// @notice Mints `amount` units to `to` (test helper, no access control).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
