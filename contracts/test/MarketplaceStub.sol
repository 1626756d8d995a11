// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {CommunityToken} from "../CommunityToken.sol";

/// @title MarketplaceStub
/// @notice Test only: a contract that names a community's token and id as a Marketplace does, and forwards the
/// token's community-contract hooks for anyone. What the Registry's checks alone cannot tell from the real
/// Marketplace, so the tests show that the governor's acceptance is what guards the treasury.
contract MarketplaceStub {
    /// @notice The community token this stub claims to serve.
    CommunityToken public immutable token;
    /// @notice The community id this stub claims to serve.
    uint256 public immutable communityId;

    /// @notice A stub for `token_`'s community.
    constructor(CommunityToken token_) {
        token = token_;
        communityId = token_.communityId();
    }

    /// @notice Forwards {CommunityToken.payFromTreasury}.
    function payFromTreasury(address to, uint256 amount) external {
        token.payFromTreasury(to, amount);
    }

    /// @notice Forwards {CommunityToken.payIncentive}.
    function payIncentive(address to, uint256 amount, uint256 budgeted) external returns (uint256) {
        return token.payIncentive(to, amount, budgeted);
    }

    /// @notice Takes `amount` from `from` (which approved this stub) into the stub.
    function pull(address from, uint256 amount) external {
        require(IERC20(address(token)).transferFrom(from, address(this), amount));
    }

    /// @notice Sends `amount` the stub holds to `to`.
    function send(address to, uint256 amount) external {
        require(IERC20(address(token)).transfer(to, amount));
    }
}
