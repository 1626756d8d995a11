// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {CommunityRoles} from "./interfaces/ICommunityRoles.sol";
import {INotary} from "./interfaces/INotary.sol";

/// @title CommunityToken
/// @notice The closed-loop token of one Local Energy Community (1 token = 1 hour of the time bank).
/// Tokens move only between the community's active members, its treasury and the community's own
/// contracts (the marketplace). The treasury is this contract's own balance: no private key controls it,
/// only the rules below move it. A member transfer pays a fee in basis points to the treasury. Energy
/// rewards are minted only against the rewards root the oracle notarised for a period.
contract CommunityToken is ERC20, ERC20Permit, AccessControl {
    /// @notice Kind of membership; `None` marks an address that never joined.
    enum MemberKind {
        None,
        Citizen,
        Stakeholder
    }

    /// @notice Energy profile of a member (report §5.3.2: the energy manager's bonus depends on it).
    enum EnergyProfile {
        Consumer,
        Prosumer,
        Prostormer
    }

    /// @notice A member's on-chain record; no personal data is ever stored.
    struct Member {
        MemberKind kind;
        EnergyProfile profile;
        bool active;
        bool retired;
        uint64 joinedAt;
    }

    /// @notice Fee, incentive and venue share of a marketplace category, in basis points of the price.
    struct CategoryPolicy {
        uint16 feeBps;
        uint16 incentiveBps;
        uint16 venueBps;
        bool enabled;
    }

    bytes32 public constant COMMUNITY_ADMIN_ROLE = CommunityRoles.COMMUNITY_ADMIN;
    bytes32 public constant TOKEN_ADMIN_ROLE = CommunityRoles.TOKEN_ADMIN;
    bytes32 public constant ORACLE_ADMIN_ROLE = CommunityRoles.ORACLE_ADMIN;

    /// @notice Hard cap of any fee: 10 %.
    uint16 public constant MAX_FEE_BPS = 1_000;
    /// @notice Hard cap of a category's incentive: 50 % of the price.
    uint16 public constant MAX_INCENTIVE_BPS = 5_000;
    /// @notice Hard cap of a venue's share: 50 % of the price.
    uint16 public constant MAX_VENUE_BPS = 5_000;
    /// @notice Number of marketplace flow categories (report §5.3.2); categories are 0 … 7.
    uint8 public constant CATEGORY_COUNT = 8;
    uint16 private constant _BPS = 10_000;

    /// @notice Id of this community in the Registry.
    uint256 public immutable communityId;
    /// @notice The platform registry that created this token.
    address public immutable registry;
    /// @notice The notary whose rewards roots back reward claims.
    INotary public immutable notary;

    // Read on every transfer: the fee and the pause flag share one storage slot (OpenZeppelin's Pausable
    // would keep the flag in a slot of its own, a cold read more per transfer and claim).
    uint16 private _feeBps;
    bool private _paused;

    uint256 private _memberCount;
    uint256 private _exchangeRate;
    mapping(address account => Member) private _members;
    mapping(address account => bool) private _communityContracts;
    mapping(MemberKind kind => uint256 amount) private _welcomeBonus;
    mapping(uint8 category => CategoryPolicy) private _policies;
    mapping(bytes32 receiptHash => bool) private _receipts;
    mapping(uint256 periodId => mapping(address account => uint256 amount)) private _claimed;
    // Claimed so far plus one once the Notary opened the period (0 = never opened): the Notary pays for
    // creating the counter when it publishes, so the first member to claim does not.
    mapping(uint256 periodId => uint256 claimedPlusOne) private _claimedTotal;

    /// @notice `account` is not an active member of this community.
    error CommunityTokenNotMember(address account);
    /// @notice `account` is already an active member.
    error CommunityTokenAlreadyMember(address account);
    /// @notice `account` was removed from the community and cannot join again: use a new wallet.
    error CommunityTokenAccountRetired(address account);
    /// @notice `account` cannot be a member (zero address, the treasury or a community contract).
    error CommunityTokenInvalidAccount(address account);
    /// @notice The member kind must be Citizen or Stakeholder.
    error CommunityTokenInvalidKind();
    /// @notice A value in basis points is above its hard cap.
    error CommunityTokenAboveCap(string field, uint256 bps, uint256 cap);
    /// @notice Only the community's own contracts may call this function.
    error CommunityTokenNotCommunityContract(address caller);
    /// @notice Only the Registry may call this function.
    error CommunityTokenOnlyRegistry(address caller);
    /// @notice Only the Notary may call this function.
    error CommunityTokenOnlyNotary(address caller);
    /// @notice The treasury holds `balance`, less than the `needed` amount.
    error CommunityTokenTreasuryInsufficient(uint256 balance, uint256 needed);
    /// @notice Only stakeholders may buy tokens.
    error CommunityTokenNotStakeholder(address account);
    /// @notice The token admin has not published an exchange rate yet.
    error CommunityTokenExchangeRateNotSet();
    /// @notice This payment receipt was already used for a sale.
    error CommunityTokenReceiptUsed(bytes32 receiptHash);
    /// @notice A sale needs a non-zero payment and receipt hash.
    error CommunityTokenInvalidSale();
    /// @notice No rewards root was notarised for this period.
    error CommunityTokenPeriodNotNotarised(uint256 periodId);
    /// @notice The proof does not show `(account, amount)` in the period's rewards tree.
    error CommunityTokenInvalidProof(address account, uint256 periodId, uint256 amount);
    /// @notice `account` already claimed `claimed` for this period, which covers `amount`.
    error CommunityTokenNothingToClaim(address account, uint256 periodId, uint256 amount, uint256 claimed);
    /// @notice Claims would exceed the total rewards notarised for the period.
    error CommunityTokenPeriodTotalExceeded(uint256 periodId, uint256 requested, uint256 available);
    /// @notice Category ids are 0 … 7.
    error CommunityTokenInvalidCategory(uint8 category);
    /// @notice The token is paused (same error as OpenZeppelin's Pausable).
    error EnforcedPause();
    /// @notice The token is not paused (same error as OpenZeppelin's Pausable).
    error ExpectedPause();

    /// @notice `account` joined as `kind` with `profile` and received `welcomeBonus`.
    event MemberAdded(address indexed account, MemberKind kind, EnergyProfile profile, uint256 welcomeBonus);
    /// @notice `account` left; its balance `returnedToTreasury` went back to the treasury.
    event MemberRemoved(address indexed account, uint256 returnedToTreasury);
    /// @notice The energy profile of `account` changed.
    event MemberProfileUpdated(address indexed account, EnergyProfile profile);
    /// @notice The fee on member transfers changed.
    event TransferFeeSet(uint256 previousBps, uint256 newBps);
    /// @notice The token was paused by `account` (same event as OpenZeppelin's Pausable).
    event Paused(address account);
    /// @notice The token was unpaused by `account` (same event as OpenZeppelin's Pausable).
    event Unpaused(address account);
    /// @notice The policy of a marketplace category changed.
    event CategoryPolicySet(uint8 indexed category, uint256 feeBps, uint256 incentiveBps, uint256 venueBps, bool enabled);
    /// @notice The welcome bonus of a member kind changed.
    event WelcomeBonusSet(MemberKind kind, uint256 amount);
    /// @notice The exchange rate for stakeholder purchases changed (token units per euro cent).
    event ExchangeRateSet(uint256 unitsPerCent);
    /// @notice `buyer` paid `paidCents` off chain (receipt hash `receiptHash`) and received `amount` tokens.
    event TokensSold(address indexed buyer, uint256 paidCents, uint256 amount, uint256 unitsPerCent, bytes32 receiptHash);
    /// @notice New tokens were issued to the treasury.
    event TreasuryFunded(uint256 amount, string reason);
    /// @notice The community contract `by` paid `amount` from the treasury to `to`.
    event TreasuryPaid(address indexed to, uint256 amount, address indexed by);
    /// @notice `account` received `amount` of energy rewards for `periodId` against record `version`.
    event RewardClaimed(uint256 indexed periodId, address indexed account, uint256 amount, uint256 version);
    /// @notice The Notary published the first record of `periodId`: its rewards can be claimed.
    event PeriodOpened(uint256 indexed periodId);
    /// @notice `account` was (un)registered as one of the community's own contracts.
    event CommunityContractSet(address indexed account, bool allowed);

    modifier whenNotPaused() {
        _requireNotPaused();
        _;
    }

    modifier onlyCommunityContract() {
        if (!_communityContracts[msg.sender]) revert CommunityTokenNotCommunityContract(msg.sender);
        _;
    }

    /// @notice Creates the token of community `communityId_`; `admin` receives every community role.
    constructor(
        string memory name_,
        string memory symbol_,
        uint256 communityId_,
        address registry_,
        INotary notary_,
        address admin
    ) ERC20(name_, symbol_) ERC20Permit(name_) {
        communityId = communityId_;
        registry = registry_;
        notary = notary_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(COMMUNITY_ADMIN_ROLE, admin);
        _grantRole(TOKEN_ADMIN_ROLE, admin);
        _grantRole(ORACLE_ADMIN_ROLE, admin);
    }

    // ------------------------------------------------------------------ membership

    /// @notice Adds `account` as an active member and mints the welcome bonus of its kind.
    /// @dev Emits a {MemberAdded} event.
    function addMember(address account, MemberKind kind, EnergyProfile profile)
        external
        onlyRole(COMMUNITY_ADMIN_ROLE)
    {
        if (account == address(0) || account == address(this) || _communityContracts[account]) {
            revert CommunityTokenInvalidAccount(account);
        }
        if (kind == MemberKind.None) revert CommunityTokenInvalidKind();
        Member storage m = _members[account];
        if (m.active) revert CommunityTokenAlreadyMember(account);
        if (m.retired) revert CommunityTokenAccountRetired(account);
        _members[account] = Member(kind, profile, true, false, uint64(block.timestamp));
        _memberCount += 1;
        uint256 bonus = _welcomeBonus[kind];
        if (bonus != 0) _mint(account, bonus);
        emit MemberAdded(account, kind, profile, bonus);
    }

    /// @notice Removes `account` (right to be forgotten): the wallet is deactivated for good and its
    /// balance returns to the treasury.
    /// @dev Works while paused, so that a deletion request is never blocked. Emits a {MemberRemoved} event.
    function removeMember(address account) external onlyRole(COMMUNITY_ADMIN_ROLE) {
        Member storage m = _members[account];
        if (!m.active) revert CommunityTokenNotMember(account);
        m.active = false;
        m.retired = true;
        _memberCount -= 1;
        uint256 balance = balanceOf(account);
        if (balance != 0) super._update(account, address(this), balance);
        emit MemberRemoved(account, balance);
    }

    /// @notice Changes the energy profile of member `account`.
    /// @dev Emits a {MemberProfileUpdated} event.
    function updateProfile(address account, EnergyProfile profile) external onlyRole(COMMUNITY_ADMIN_ROLE) {
        Member storage m = _members[account];
        if (!m.active) revert CommunityTokenNotMember(account);
        m.profile = profile;
        emit MemberProfileUpdated(account, profile);
    }

    /// @notice Whether `account` is an active member.
    function isMember(address account) public view returns (bool) {
        return _members[account].active;
    }

    /// @notice The on-chain record of `account` (kind `None` when it never joined).
    function member(address account) external view returns (Member memory) {
        return _members[account];
    }

    /// @notice Number of active members.
    function memberCount() external view returns (uint256) {
        return _memberCount;
    }

    // ------------------------------------------------------------------ token admin

    /// @notice Sets the fee on member-to-member transfers, in basis points (at most {MAX_FEE_BPS}).
    /// @dev Emits a {TransferFeeSet} event.
    function setTransferFee(uint16 bps) external onlyRole(TOKEN_ADMIN_ROLE) {
        if (bps > MAX_FEE_BPS) revert CommunityTokenAboveCap("feeBps", bps, MAX_FEE_BPS);
        emit TransferFeeSet(_feeBps, bps);
        _feeBps = bps;
    }

    /// @notice Sets the policy of marketplace category `category` (0 … 7).
    /// @dev Emits a {CategoryPolicySet} event.
    function setCategoryPolicy(uint8 category, uint16 feeBps_, uint16 incentiveBps, uint16 venueBps, bool enabled)
        external
        onlyRole(TOKEN_ADMIN_ROLE)
    {
        if (category >= CATEGORY_COUNT) revert CommunityTokenInvalidCategory(category);
        if (feeBps_ > MAX_FEE_BPS) revert CommunityTokenAboveCap("feeBps", feeBps_, MAX_FEE_BPS);
        if (incentiveBps > MAX_INCENTIVE_BPS) {
            revert CommunityTokenAboveCap("incentiveBps", incentiveBps, MAX_INCENTIVE_BPS);
        }
        if (venueBps > MAX_VENUE_BPS) revert CommunityTokenAboveCap("venueBps", venueBps, MAX_VENUE_BPS);
        _policies[category] = CategoryPolicy(feeBps_, incentiveBps, venueBps, enabled);
        emit CategoryPolicySet(category, feeBps_, incentiveBps, venueBps, enabled);
    }

    /// @notice Sets the welcome bonus minted to new members of `kind`.
    /// @dev Emits a {WelcomeBonusSet} event.
    function setWelcomeBonus(MemberKind kind, uint256 amount) external onlyRole(TOKEN_ADMIN_ROLE) {
        if (kind == MemberKind.None) revert CommunityTokenInvalidKind();
        _welcomeBonus[kind] = amount;
        emit WelcomeBonusSet(kind, amount);
    }

    /// @notice Publishes the exchange rate for stakeholder purchases, in token units per euro cent.
    /// @dev Emits an {ExchangeRateSet} event.
    function setExchangeRate(uint256 unitsPerCent) external onlyRole(TOKEN_ADMIN_ROLE) {
        _exchangeRate = unitsPerCent;
        emit ExchangeRateSet(unitsPerCent);
    }

    /// @notice Issues `amount` new tokens to the treasury, which funds incentives, tasks and sales.
    /// @dev Emits a {TreasuryFunded} event.
    function fundTreasury(uint256 amount, string calldata reason) external onlyRole(TOKEN_ADMIN_ROLE) {
        _mint(address(this), amount);
        emit TreasuryFunded(amount, reason);
    }

    /// @notice Sells tokens from the treasury to stakeholder `buyer`, who paid `paidCents` euro cents off
    /// chain; `receiptHash` is the hash of the payment receipt and can be used once.
    /// @dev Emits a {TokensSold} event.
    /// @return amount the tokens transferred, `paidCents` × the published exchange rate.
    function sellToStakeholder(address buyer, uint256 paidCents, bytes32 receiptHash)
        external
        onlyRole(TOKEN_ADMIN_ROLE)
        returns (uint256 amount)
    {
        Member storage m = _members[buyer];
        if (!m.active) revert CommunityTokenNotMember(buyer);
        if (m.kind != MemberKind.Stakeholder) revert CommunityTokenNotStakeholder(buyer);
        if (paidCents == 0 || receiptHash == bytes32(0)) revert CommunityTokenInvalidSale();
        if (_receipts[receiptHash]) revert CommunityTokenReceiptUsed(receiptHash);
        uint256 rate = _exchangeRate;
        if (rate == 0) revert CommunityTokenExchangeRateNotSet();
        amount = paidCents * rate;
        _payFromTreasury(buyer, amount);
        _receipts[receiptHash] = true;
        emit TokensSold(buyer, paidCents, amount, rate, receiptHash);
    }

    /// @notice Stops every transfer, sale and claim until {unpause}.
    /// @dev Emits a {Paused} event.
    function pause() external onlyRole(TOKEN_ADMIN_ROLE) whenNotPaused {
        _paused = true;
        emit Paused(msg.sender);
    }

    /// @notice Resumes transfers, sales and claims.
    /// @dev Emits an {Unpaused} event.
    function unpause() external onlyRole(TOKEN_ADMIN_ROLE) {
        if (!_paused) revert ExpectedPause();
        _paused = false;
        emit Unpaused(msg.sender);
    }

    /// @notice Whether transfers, sales and claims are stopped.
    function paused() external view returns (bool) {
        return _paused;
    }

    /// @notice Current fee on member transfers, in basis points.
    function feeBps() external view returns (uint256) {
        return _feeBps;
    }

    /// @notice The fee a member transfer of `amount` pays to the treasury.
    function transferFeeOf(uint256 amount) public view returns (uint256) {
        return (amount * _feeBps) / _BPS;
    }

    /// @notice Policy of marketplace category `category`.
    function categoryPolicy(uint8 category) external view returns (CategoryPolicy memory) {
        if (category >= CATEGORY_COUNT) revert CommunityTokenInvalidCategory(category);
        return _policies[category];
    }

    /// @notice Welcome bonus of `kind`.
    function welcomeBonus(MemberKind kind) external view returns (uint256) {
        return _welcomeBonus[kind];
    }

    /// @notice Exchange rate for stakeholder purchases, in token units per euro cent.
    function exchangeRate() external view returns (uint256) {
        return _exchangeRate;
    }

    /// @notice Whether a payment receipt hash was already used for a sale.
    function receiptUsed(bytes32 receiptHash) external view returns (bool) {
        return _receipts[receiptHash];
    }

    /// @notice The community treasury (this contract's own balance).
    function treasury() external view returns (address) {
        return address(this);
    }

    /// @notice Tokens held by the treasury.
    function treasuryBalance() public view returns (uint256) {
        return balanceOf(address(this));
    }

    // ------------------------------------------------------------------ community contracts

    /// @notice Registers (or unregisters) one of the community's own contracts, e.g. its marketplace.
    /// @dev Only the Registry, acting for the platform admin. Emits a {CommunityContractSet} event.
    function setCommunityContract(address account, bool allowed) external {
        if (msg.sender != registry) revert CommunityTokenOnlyRegistry(msg.sender);
        if (account == address(0) || account == address(this) || _members[account].kind != MemberKind.None) {
            revert CommunityTokenInvalidAccount(account);
        }
        _communityContracts[account] = allowed;
        emit CommunityContractSet(account, allowed);
    }

    /// @notice Whether `account` is one of the community's own contracts.
    function isCommunityContract(address account) external view returns (bool) {
        return _communityContracts[account];
    }

    /// @notice Pays `amount` from the treasury to `to` (a community task, a refund of the treasury's share).
    /// @dev Only the community's own contracts. Emits a {TreasuryPaid} event.
    function payFromTreasury(address to, uint256 amount) external onlyCommunityContract whenNotPaused {
        _payFromTreasury(to, amount);
    }

    /// @notice Pays up to `amount` of incentive from the treasury to `to`, as much as the treasury holds.
    /// @dev Only the community's own contracts. Emits a {TreasuryPaid} event when something is paid.
    /// @return paid the amount actually paid.
    function payIncentive(address to, uint256 amount) external onlyCommunityContract whenNotPaused returns (uint256 paid) {
        uint256 available = treasuryBalance();
        paid = amount < available ? amount : available;
        if (paid != 0) _payFromTreasury(to, paid);
    }

    // ------------------------------------------------------------------ rewards

    /// @notice Claims the caller's energy rewards of `periodId`, proven against the notarised rewards root.
    /// @dev Emits a {RewardClaimed} event.
    function claim(uint256 periodId, uint256 amount, bytes32[] calldata proof) external {
        _claim(msg.sender, periodId, amount, proof);
    }

    /// @notice Claims the rewards of `account` on its behalf; the tokens always go to `account`.
    /// @dev Emits a {RewardClaimed} event.
    function claimFor(address account, uint256 periodId, uint256 amount, bytes32[] calldata proof) external {
        _claim(account, periodId, amount, proof);
    }

    /// @notice Rewards `account` has claimed for `periodId`.
    function claimed(uint256 periodId, address account) external view returns (uint256) {
        return _claimed[periodId][account];
    }

    /// @notice Rewards claimed by everyone for `periodId`.
    function claimedTotal(uint256 periodId) external view returns (uint256) {
        uint256 stored = _claimedTotal[periodId];
        return stored == 0 ? 0 : stored - 1;
    }

    /// @notice Opens the claim counter of `periodId` when the Notary publishes its first record.
    /// @dev Only the Notary. Emits a {PeriodOpened} event.
    function openPeriod(uint256 periodId) external {
        if (msg.sender != address(notary)) revert CommunityTokenOnlyNotary(msg.sender);
        if (_claimedTotal[periodId] == 0) {
            _claimedTotal[periodId] = 1;
            emit PeriodOpened(periodId);
        }
    }

    // ------------------------------------------------------------------ internals

    /// @dev A leaf `(account, amount)` of the latest record version may be claimed once; after a correction
    /// only the difference to what was already claimed is minted, so no period ever pays more than its total.
    function _claim(address account, uint256 periodId, uint256 amount, bytes32[] calldata proof)
        private
        whenNotPaused
    {
        if (!_members[account].active) revert CommunityTokenNotMember(account);
        (uint256 version, bytes32 root, uint256 total) = notary.latestRewards(communityId, periodId);
        if (root == bytes32(0)) revert CommunityTokenPeriodNotNotarised(periodId);
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(account, amount))));
        if (!MerkleProof.verifyCalldata(proof, root, leaf)) {
            revert CommunityTokenInvalidProof(account, periodId, amount);
        }
        uint256 already = _claimed[periodId][account];
        if (amount <= already) revert CommunityTokenNothingToClaim(account, periodId, amount, already);
        uint256 due;
        unchecked {
            // amount > already was checked just above.
            due = amount - already;
        }
        uint256 stored = _claimedTotal[periodId];
        uint256 claimedSoFar = stored == 0 ? 0 : stored - 1;
        if (claimedSoFar + due > total) {
            revert CommunityTokenPeriodTotalExceeded(periodId, due, total > claimedSoFar ? total - claimedSoFar : 0);
        }
        _claimed[periodId][account] = amount;
        _claimedTotal[periodId] = claimedSoFar + due + 1;
        _mint(account, due);
        emit RewardClaimed(periodId, account, due, version);
    }

    function _requireNotPaused() private view {
        if (_paused) revert EnforcedPause();
    }

    function _payFromTreasury(address to, uint256 amount) private {
        uint256 available = treasuryBalance();
        if (available < amount) revert CommunityTokenTreasuryInsufficient(available, amount);
        if (!_members[to].active && !_communityContracts[to]) revert CommunityTokenNotMember(to);
        super._update(address(this), to, amount);
        emit TreasuryPaid(to, amount, msg.sender);
    }

    /// @dev The one hook for balance changes: enforces the closed loop and the pause, and takes the fee of
    /// member-to-member transfers. Internal moves decided by the rules above call `super._update` directly.
    function _update(address from, address to, uint256 value) internal override {
        // No path burns: ERC20 refuses transfers to the zero address and a removed member's balance
        // returns to the treasury.
        if (from == address(0)) {
            // Minting: welcome bonuses and rewards to members, issuance to the treasury.
            if (to != address(this) && !_members[to].active) revert CommunityTokenNotMember(to);
            super._update(from, to, value);
            return;
        }
        _requireNotPaused();
        bool fromMember = _members[from].active;
        bool toMember = _members[to].active;
        if (!fromMember && !_communityContracts[from]) revert CommunityTokenNotMember(from);
        if (!toMember && to != address(this) && !_communityContracts[to]) revert CommunityTokenNotMember(to);
        if (fromMember && toMember) {
            uint256 fee = transferFeeOf(value);
            if (fee != 0) {
                // The fee is recorded by its own Transfer event to the treasury (this contract).
                super._update(from, address(this), fee);
                unchecked {
                    // fee = value * feeBps / 10000 with feeBps <= 1000, so fee <= value.
                    value -= fee;
                }
            }
        }
        super._update(from, to, value);
    }
}
