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
/// rewards are minted only against the rewards root the oracle notarised for a period. Who may move which
/// tokens is written down in docs/security.md ("Trust model").
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

    /// @notice What the token lets one of the community's own contracts do: nothing (`None`), pay and receive
    /// (`Active`, the registered marketplace), or only pay out what it holds (`Retired`, a replaced marketplace
    /// winding down its escrow; it never receives and never draws on the treasury).
    enum ContractStatus {
        None,
        Active,
        Retired
    }

    /// @dev One slot per (period, account): what the account was paid for the period over all record versions,
    /// its recorded over-payment (paid above its amount in the latest version it settled) and that version.
    /// Amounts fit 96 bits because the Notary refuses a period total above 2^96 - 1 and every settled leaf is
    /// checked against its version's total.
    struct AccountClaim {
        uint96 paid;
        uint96 overpaid;
        uint32 version;
    }

    /// @dev One slot per period: tokens minted for it over all versions, the sum of the leaves of `version`
    /// settled so far (checked against that version's total) and the version those leaves belong to.
    struct PeriodClaims {
        uint128 claimed;
        uint96 settled;
        uint32 version;
    }

    bytes32 public constant COMMUNITY_ADMIN_ROLE = CommunityRoles.COMMUNITY_ADMIN;
    bytes32 public constant TOKEN_ADMIN_ROLE = CommunityRoles.TOKEN_ADMIN;
    bytes32 public constant ORACLE_ADMIN_ROLE = CommunityRoles.ORACLE_ADMIN;
    bytes32 public constant RELAYER_ROLE = CommunityRoles.CLAIM_RELAYER;

    /// @notice Hard cap of any fee: 10 %.
    uint16 public constant MAX_FEE_BPS = 1_000;
    /// @notice Hard cap of a category's incentive: 50 % of the price.
    uint16 public constant MAX_INCENTIVE_BPS = 5_000;
    /// @notice Hard cap of a venue's share: 50 % of the price.
    uint16 public constant MAX_VENUE_BPS = 5_000;
    /// @notice Number of marketplace flow categories (report §5.3.2); categories are 0 … 7.
    uint8 public constant CATEGORY_COUNT = 8;
    /// @notice Length of an incentive-budget epoch: a member's budget refills every 30 days.
    uint256 public constant INCENTIVE_EPOCH = 30 days;
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
    uint256 private _incentiveBudget;
    mapping(address account => Member) private _members;
    mapping(address account => ContractStatus) private _communityContracts;
    mapping(MemberKind kind => uint256 amount) private _welcomeBonus;
    mapping(uint8 category => CategoryPolicy) private _policies;
    mapping(bytes32 receiptHash => bool) private _receipts;
    mapping(uint256 epoch => mapping(address account => uint256 spent)) private _budgetSpent;
    mapping(uint256 periodId => mapping(address account => AccountClaim)) private _claims;
    // Non-zero from the moment the Notary opens the period (version 1): the Notary pays for creating the slot
    // when it publishes, so the first member to claim does not.
    mapping(uint256 periodId => PeriodClaims) private _periods;
    mapping(uint256 periodId => uint256 amount) private _overpaidTotal;

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
    /// @notice `account` is a replaced marketplace: it may only pay out the escrow it still holds.
    error CommunityTokenContractRetired(address account);
    /// @notice Only `account` itself or a holder of the relayer role may claim `account`'s rewards.
    error CommunityTokenUnauthorizedRelayer(address caller, address account);
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
    /// @notice `account` already claimed `claimed` for this period, which covers `amount` (or already settled
    /// its leaf of the latest version).
    error CommunityTokenNothingToClaim(address account, uint256 periodId, uint256 amount, uint256 claimed);
    /// @notice `account` was paid `claimed`, less than `amount`: nothing is over-paid, claim the difference.
    error CommunityTokenNotOverpaid(address account, uint256 periodId, uint256 amount, uint256 claimed);
    /// @notice `account`'s leaf of record `version` was already settled.
    error CommunityTokenLeafSettled(address account, uint256 periodId, uint256 version);
    /// @notice The leaves of the latest record version settled so far plus this one (`requested`) would exceed
    /// that version's notarised total (`available` is what is left of it).
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
    /// @notice The per-member, per-epoch incentive budget changed.
    event IncentiveBudgetSet(uint256 perMemberPerEpoch);
    /// @notice `account` has now received `spent` of incentives above the deals' own fees in epoch `epoch`.
    event IncentiveBudgetSpent(address indexed account, uint256 indexed epoch, uint256 spent);
    /// @notice `account` received `amount` of energy rewards for `periodId` against record `version`.
    event RewardClaimed(uint256 indexed periodId, address indexed account, uint256 amount, uint256 version);
    /// @notice After record `version` of `periodId`, `account` holds `overpaid` more than its amount in that
    /// version (paid under an earlier version; it is not taken back, only recorded).
    event RewardOverpaymentRecorded(
        uint256 indexed periodId, address indexed account, uint256 version, uint256 overpaid
    );
    /// @notice The Notary published the first record of `periodId`: its rewards can be claimed.
    event PeriodOpened(uint256 indexed periodId);
    /// @notice `account` was registered (`allowed`) as one of the community's own contracts, or retired.
    event CommunityContractSet(address indexed account, bool allowed);

    modifier whenNotPaused() {
        _requireNotPaused();
        _;
    }

    modifier onlyCommunityContract() {
        if (_communityContracts[msg.sender] != ContractStatus.Active) {
            revert CommunityTokenNotCommunityContract(msg.sender);
        }
        _;
    }

    /// @notice Creates the token of community `communityId_`; each role goes to the key `admins` names for it.
    constructor(
        string memory name_,
        string memory symbol_,
        uint256 communityId_,
        address registry_,
        INotary notary_,
        CommunityRoles.Admins memory admins
    ) ERC20(name_, symbol_) ERC20Permit(name_) {
        communityId = communityId_;
        registry = registry_;
        notary = notary_;
        _grantRole(DEFAULT_ADMIN_ROLE, admins.governor);
        _grantRole(COMMUNITY_ADMIN_ROLE, admins.communityAdmin);
        _grantRole(TOKEN_ADMIN_ROLE, admins.tokenAdmin);
        _grantRole(ORACLE_ADMIN_ROLE, admins.oracleAdmin);
        _grantRole(RELAYER_ROLE, admins.relayer);
    }

    // ------------------------------------------------------------------ membership

    /// @notice Adds `account` as an active member and mints the welcome bonus of its kind.
    /// @dev While the token is paused a member whose kind has a welcome bonus cannot join (the bonus is a
    /// movement the pause stops). Emits a {MemberAdded} event.
    function addMember(address account, MemberKind kind, EnergyProfile profile)
        external
        onlyRole(COMMUNITY_ADMIN_ROLE)
    {
        if (account == address(0) || account == address(this) || _communityContracts[account] != ContractStatus.None) {
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

    /// @notice Sets how much incentive above a deal's own fee a member may receive per {INCENTIVE_EPOCH}.
    /// @dev A member-to-member deal's incentive is paid up to the deal's fee freely (it only returns what the
    /// deal paid to the treasury) and above it only within this budget, so a closed cycle of deals can never
    /// take more than the budgets of its members from the treasury (docs/token-economy.md). Emits an
    /// {IncentiveBudgetSet} event.
    function setIncentiveBudget(uint256 perMemberPerEpoch) external onlyRole(TOKEN_ADMIN_ROLE) {
        _incentiveBudget = perMemberPerEpoch;
        emit IncentiveBudgetSet(perMemberPerEpoch);
    }

    /// @notice Sells tokens from the treasury to stakeholder `buyer`, who paid `paidCents` euro cents off
    /// chain; `receiptHash` is the hash of the payment receipt and can be used once.
    /// @dev Stopped by {pause}. Emits a {TokensSold} event.
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

    /// @notice Stops every token movement until {unpause}: transfers, claims, welcome bonuses, issuance, sales,
    /// escrow moves and treasury payments. Only a member's removal (right to be forgotten) still returns its
    /// balance to the treasury.
    /// @dev Emits a {Paused} event.
    function pause() external onlyRole(TOKEN_ADMIN_ROLE) whenNotPaused {
        _paused = true;
        emit Paused(msg.sender);
    }

    /// @notice Resumes every token movement.
    /// @dev Emits an {Unpaused} event.
    function unpause() external onlyRole(TOKEN_ADMIN_ROLE) {
        if (!_paused) revert ExpectedPause();
        _paused = false;
        emit Unpaused(msg.sender);
    }

    /// @notice Whether token movements are stopped.
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

    /// @notice Incentive above a deal's own fee a member may receive per {INCENTIVE_EPOCH}.
    function incentiveBudget() external view returns (uint256) {
        return _incentiveBudget;
    }

    /// @notice The current incentive-budget epoch (Unix time divided by {INCENTIVE_EPOCH}).
    function incentiveEpoch() public view returns (uint256) {
        return block.timestamp / INCENTIVE_EPOCH;
    }

    /// @notice What `account` may still receive in this epoch as incentive above the deals' own fees.
    function incentiveBudgetLeft(address account) public view returns (uint256) {
        uint256 spent = _budgetSpent[incentiveEpoch()][account];
        return _incentiveBudget > spent ? _incentiveBudget - spent : 0;
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

    /// @notice Registers one of the community's own contracts (`allowed`: it may pay and receive), or retires it
    /// (it may only pay out what it holds, e.g. a replaced marketplace's escrow).
    /// @dev Only the Registry, once the platform admin proposed and the community's governor accepted the
    /// contract. Emits a {CommunityContractSet} event.
    function setCommunityContract(address account, bool allowed) external {
        if (msg.sender != registry) revert CommunityTokenOnlyRegistry(msg.sender);
        if (account == address(0) || account == address(this) || _members[account].kind != MemberKind.None) {
            revert CommunityTokenInvalidAccount(account);
        }
        _communityContracts[account] = allowed ? ContractStatus.Active : ContractStatus.Retired;
        emit CommunityContractSet(account, allowed);
    }

    /// @notice Whether `account` is one of the community's own active contracts.
    function isCommunityContract(address account) external view returns (bool) {
        return _communityContracts[account] == ContractStatus.Active;
    }

    /// @notice What `account` may do as one of the community's own contracts.
    function communityContractStatus(address account) external view returns (ContractStatus) {
        return _communityContracts[account];
    }

    /// @notice Pays `amount` from the treasury to `to` (a community task, a refund of the treasury's share).
    /// @dev Only the community's active contracts; stopped by {pause}. Emits a {TreasuryPaid} event.
    function payFromTreasury(address to, uint256 amount) external onlyCommunityContract {
        _payFromTreasury(to, amount);
    }

    /// @notice Pays an incentive of up to `amount` from the treasury to `to`: the part above `budgeted` freely,
    /// the `budgeted` part only within what is left of `to`'s incentive budget for this epoch, and all of it
    /// only while the treasury can pay. A retired contract is paid nothing (it never draws on the treasury).
    /// @dev Only the community's contracts; stopped by {pause}. Emits an {IncentiveBudgetSpent} event when
    /// budget is used and a {TreasuryPaid} event when something is paid.
    /// @return paid the amount actually paid.
    function payIncentive(address to, uint256 amount, uint256 budgeted) external returns (uint256 paid) {
        ContractStatus status = _communityContracts[msg.sender];
        if (status == ContractStatus.None) revert CommunityTokenNotCommunityContract(msg.sender);
        if (status == ContractStatus.Retired) return 0;
        if (budgeted > amount) budgeted = amount;
        uint256 free;
        unchecked {
            // budgeted <= amount was just ensured.
            free = amount - budgeted;
        }
        uint256 wanted = free;
        if (budgeted != 0) {
            uint256 left = incentiveBudgetLeft(to);
            wanted += budgeted < left ? budgeted : left;
        }
        uint256 available = treasuryBalance();
        paid = wanted < available ? wanted : available;
        // Only when something was budgeted: paid <= wanted, which is `free` otherwise.
        if (paid > free) _spendBudget(to, paid - free);
        if (paid != 0) _payFromTreasury(to, paid);
    }

    // ------------------------------------------------------------------ rewards

    /// @notice Claims the caller's energy rewards of `periodId`, proven against the rewards root of the period's
    /// latest record version: mints what the leaf's amount exceeds what the caller was already paid.
    /// @dev Stopped by {pause}. Emits a {RewardClaimed} event.
    function claim(uint256 periodId, uint256 amount, bytes32[] calldata proof) external {
        _claim(msg.sender, periodId, amount, proof);
    }

    /// @notice Claims the rewards of `account` on its behalf; the tokens always go to `account`.
    /// @dev Only `account` itself or a holder of {RELAYER_ROLE} (the oracle), so that nobody can pay a member
    /// under a record the oracle is about to correct. Emits a {RewardClaimed} event.
    function claimFor(address account, uint256 periodId, uint256 amount, bytes32[] calldata proof) external {
        if (msg.sender != account && !hasRole(RELAYER_ROLE, msg.sender)) {
            revert CommunityTokenUnauthorizedRelayer(msg.sender, account);
        }
        _claim(account, periodId, amount, proof);
    }

    /// @notice Records that `account` was paid more for `periodId` than its `amount` in the latest record
    /// version (a correction lowered it after the account claimed). Nothing is taken back: the over-payment
    /// is shown to the community admin by {overpaid} and {overpaidTotal}. Anyone may call, once per version.
    /// @dev Counts the leaf towards the version's total like a claim. Emits a {RewardOverpaymentRecorded} event.
    function recordOverpayment(address account, uint256 periodId, uint256 amount, bytes32[] calldata proof)
        external
    {
        (uint256 version, uint256 total) = _verifyLeaf(account, periodId, amount, proof);
        AccountClaim memory c = _claims[periodId][account];
        if (amount > c.paid) revert CommunityTokenNotOverpaid(account, periodId, amount, c.paid);
        if (c.version == version) revert CommunityTokenLeafSettled(account, periodId, version);
        _countLeaf(periodId, version, total, amount, 0);
        uint256 overpaidNow;
        unchecked {
            // amount <= c.paid was checked above.
            overpaidNow = c.paid - amount;
        }
        _overpaidTotal[periodId] = _overpaidTotal[periodId] - c.overpaid + overpaidNow;
        // overpaidNow <= c.paid, which fits 96 bits; version comes from the Notary's uint32 counter.
        _claims[periodId][account] = AccountClaim(c.paid, uint96(overpaidNow), uint32(version));
        emit RewardOverpaymentRecorded(periodId, account, version, overpaidNow);
    }

    /// @notice Rewards `account` was paid for `periodId`, over every record version.
    function claimed(uint256 periodId, address account) external view returns (uint256) {
        return _claims[periodId][account].paid;
    }

    /// @notice Rewards minted for `periodId`, over every record version.
    function claimedTotal(uint256 periodId) external view returns (uint256) {
        return _periods[periodId].claimed;
    }

    /// @notice What `account` was paid for `periodId` above its amount in the latest version it settled.
    function overpaid(uint256 periodId, address account) external view returns (uint256) {
        return _claims[periodId][account].overpaid;
    }

    /// @notice Sum of the recorded over-payments of `periodId`.
    function overpaidTotal(uint256 periodId) external view returns (uint256) {
        return _overpaidTotal[periodId];
    }

    /// @notice Opens the claim counter of `periodId` when the Notary publishes its first record.
    /// @dev Only the Notary. Emits a {PeriodOpened} event.
    function openPeriod(uint256 periodId) external {
        if (msg.sender != address(notary)) revert CommunityTokenOnlyNotary(msg.sender);
        if (_periods[periodId].version == 0) {
            _periods[periodId].version = 1;
            emit PeriodOpened(periodId);
        }
    }

    // ------------------------------------------------------------------ internals

    /// @dev The rule of corrections (docs/proofs.md): whatever earlier versions paid, an account may always be
    /// brought up to its amount in the latest version, `max(0, amount - paid)`; each leaf of a version counts
    /// once towards that version's total, so a consistent record never locks anyone out, and an inconsistent
    /// one (leaves above its total) cannot mint more than its total.
    function _claim(address account, uint256 periodId, uint256 amount, bytes32[] calldata proof) private {
        if (!_members[account].active) revert CommunityTokenNotMember(account);
        (uint256 version, uint256 total) = _verifyLeaf(account, periodId, amount, proof);
        AccountClaim memory c = _claims[periodId][account];
        if (amount <= c.paid || c.version == version) {
            revert CommunityTokenNothingToClaim(account, periodId, amount, c.paid);
        }
        uint256 due;
        unchecked {
            // amount > c.paid was checked above.
            due = amount - c.paid;
        }
        _countLeaf(periodId, version, total, amount, due);
        // amount passed _countLeaf, so it is at most the version's total, below 2^96.
        _claims[periodId][account] = AccountClaim(uint96(amount), 0, uint32(version));
        if (c.overpaid != 0) {
            // A raise above what was paid clears the over-payment an earlier version left.
            _overpaidTotal[periodId] -= c.overpaid;
            emit RewardOverpaymentRecorded(periodId, account, version, 0);
        }
        _mint(account, due);
        emit RewardClaimed(periodId, account, due, version);
    }

    /// @dev The latest record version of `periodId` and its total, once `(account, amount)` is proven a leaf of it.
    function _verifyLeaf(address account, uint256 periodId, uint256 amount, bytes32[] calldata proof)
        private
        view
        returns (uint256 version, uint256 total)
    {
        bytes32 root;
        (version, root, total) = notary.latestRewards(communityId, periodId);
        if (root == bytes32(0)) revert CommunityTokenPeriodNotNotarised(periodId);
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(account, amount))));
        if (!MerkleProof.verifyCalldata(proof, root, leaf)) {
            revert CommunityTokenInvalidProof(account, periodId, amount);
        }
    }

    /// @dev Counts a leaf of `amount` towards `version`'s total (starting from zero when the version is new to the
    /// counter) and `minted` towards the period's minted total.
    function _countLeaf(uint256 periodId, uint256 version, uint256 total, uint256 amount, uint256 minted) private {
        PeriodClaims memory p = _periods[periodId];
        uint256 settled = p.version == version ? p.settled : 0;
        if (amount > total || settled > total - amount || total > type(uint96).max) {
            revert CommunityTokenPeriodTotalExceeded(periodId, amount, total > settled ? total - settled : 0);
        }
        // settled + amount <= total < 2^96; the minted total is bounded by 2^32 versions of 2^96 each.
        _periods[periodId] = PeriodClaims(uint128(p.claimed + minted), uint96(settled + amount), uint32(version));
    }

    function _spendBudget(address account, uint256 amount) private {
        uint256 epoch = incentiveEpoch();
        uint256 spent = _budgetSpent[epoch][account] + amount;
        _budgetSpent[epoch][account] = spent;
        emit IncentiveBudgetSpent(account, epoch, spent);
    }

    function _requireNotPaused() private view {
        if (_paused) revert EnforcedPause();
    }

    function _payFromTreasury(address to, uint256 amount) private {
        _requireNotPaused();
        uint256 available = treasuryBalance();
        if (available < amount) revert CommunityTokenTreasuryInsufficient(available, amount);
        if (!_members[to].active && _communityContracts[to] != ContractStatus.Active) {
            revert CommunityTokenNotMember(to);
        }
        super._update(address(this), to, amount);
        emit TreasuryPaid(to, amount, msg.sender);
    }

    /// @dev The one hook for balance changes: enforces the closed loop and the pause, and takes the fee of
    /// member-to-member transfers. Internal moves decided by the rules above call `super._update` directly
    /// (treasury payments check the pause themselves; a removal deliberately does not).
    function _update(address from, address to, uint256 value) internal override {
        _requireNotPaused();
        // No path burns: ERC20 refuses transfers to the zero address and a removed member's balance
        // returns to the treasury.
        if (from == address(0)) {
            // Minting: welcome bonuses and rewards to members, issuance to the treasury.
            if (to != address(this) && !_members[to].active) revert CommunityTokenNotMember(to);
            super._update(from, to, value);
            return;
        }
        bool fromMember = _members[from].active;
        bool toMember = _members[to].active;
        // An active or a retired community contract may send (a retired one only pays out its escrow).
        if (!fromMember && _communityContracts[from] == ContractStatus.None) revert CommunityTokenNotMember(from);
        if (!toMember && to != address(this) && _communityContracts[to] != ContractStatus.Active) {
            if (_communityContracts[to] == ContractStatus.Retired) revert CommunityTokenContractRetired(to);
            revert CommunityTokenNotMember(to);
        }
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
