// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {CommunityToken} from "./CommunityToken.sol";
import {CommunityRoles} from "./interfaces/ICommunityRoles.sol";

/// @title Marketplace
/// @notice The local token economy of one community (report §3.3, §5.3.2): a time bank extended to shops,
/// associations and the community itself. Every one of the report's eight flow categories is one shape — a
/// deal between a provider and a payer (the payer may be the community treasury), an optional venue that
/// receives a share, a price held in escrow, and the category's fee / incentive / venue policy read from the
/// CommunityToken. Descriptions stay off chain: the chain holds ids, parties, category, amounts, state and
/// the keccak256 of the description.
///
/// Lifecycle: Open → Accepted (price in escrow) → Completed → Settled, or Cancelled (refunded), or
/// Disputed → Resolved by the community admin. A deal accepted but never completed, completed but never
/// confirmed, or disputed but never resolved, can be closed by anyone once its window has passed.
///
/// A deal's terms are frozen when it is created — the category's fee, incentive and venue share, the windows
/// and the expiry rule — so whoever accepts it accepts the terms it shows; the energy-profile weight of a
/// stakeholder→citizen incentive is frozen when the citizen's price goes into escrow. Later policy changes
/// apply to new deals only.
/// @dev Tokens only ever move between members, the treasury (the token contract) and this contract, so the
/// closed loop holds; `escrowTotal` always equals the sum of the escrow of open deals. Once replaced in the
/// Registry this contract is retired: no new deal nor acceptance, but every running deal still closes.
contract Marketplace is ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @notice The report's eight categories, numbered 0 … 7 in the report's order (Categoria 1 … 8).
    enum Category {
        CitizenToCitizen,
        CitizenToCitizenWithVenue,
        StakeholderToCitizen,
        StakeholderToStakeholder,
        CitizenToStakeholder,
        CitizenToCommunity,
        StakeholderToCommunity,
        CitizenToCommunityWithVenue
    }

    /// @notice Who created the deal: a provider's offer, a payer's request, or a community task (a request
    /// whose payer is the treasury).
    enum Side {
        Offer,
        Request,
        Task
    }

    /// @notice State of a deal; `None` marks an id that does not exist.
    enum DealState {
        None,
        Open,
        Accepted,
        Completed,
        Disputed,
        Settled,
        Cancelled,
        Resolved
    }

    /// @notice A deal. `payer` is the treasury (the token's address) for community tasks. The fee, venue and
    /// incentive bps are the category policy and `rulesId` the windows and expiry rule, all frozen at creation;
    /// `profileWeightBps` is the citizen's energy-profile weight (stakeholder→citizen deals only), frozen when
    /// the price goes into escrow.
    struct Deal {
        address provider;
        uint64 updatedAt;
        Category category;
        DealState state;
        Side side;
        address payer;
        uint16 cashbackBps;
        uint16 feeBps;
        uint16 venueBps;
        uint16 incentiveBps;
        uint16 profileWeightBps;
        uint16 rulesId;
        address venue;
        uint96 price;
        bytes32 descriptionHash;
    }

    /// @notice Deadlines and expiry rule a deal runs under: the time a provider has to complete after
    /// acceptance, a payer to confirm after completion, the community admin to resolve a dispute, and whether a
    /// completed deal left unconfirmed settles (silence is consent) or is refunded.
    struct Rules {
        uint64 completionWindow;
        uint64 confirmWindow;
        uint64 disputeWindow;
        bool settleOnExpiry;
    }

    /// @notice Where a settled amount goes, in token units.
    struct Split {
        uint256 toProvider;
        uint256 fee;
        uint256 venueShare;
        uint256 cashback;
        uint256 incentive;
    }

    /// @notice Hard cap of a retailer's cashback: 40 % of the price (fee ≤ 10 % and venue ≤ 50 % leave it room).
    uint16 public constant MAX_CASHBACK_BPS = 4_000;
    /// @notice Shortest window the community admin may set: one hour.
    uint64 public constant MIN_WINDOW = 1 hours;
    /// @notice Longest window the community admin may set: one year.
    uint64 public constant MAX_WINDOW = 365 days;
    uint16 private constant _BPS = 10_000;

    /// @notice The community's token; its own balance is the treasury.
    CommunityToken public immutable token;
    /// @notice Id of the community in the Registry.
    uint256 public immutable communityId;

    /// @notice Share of the escrow the provider's side receives when a dispute's window passes unresolved.
    uint16 public constant UNRESOLVED_DISPUTE_PROVIDER_BPS = 5_000;
    /// @notice Sum of the escrow of every open deal: this contract's balance, barring tokens sent to it directly.
    uint256 public escrowTotal;

    uint256 private _dealCount;
    mapping(uint256 dealId => Deal) private _deals;
    // Every version of the rules, the latest last; a deal keeps the index it was created under.
    Rules[] private _rules;
    // Weight, in bps, of the treasury incentive a citizen receives in a stakeholder→citizen deal, by energy
    // profile (report §5.3.2, the energy manager's bonus: consumer, prosumer, prostormer).
    uint16[3] private _profileWeightBps = [_BPS, _BPS, _BPS];

    /// @notice There is no deal `dealId`.
    error MarketplaceUnknownDeal(uint256 dealId);
    /// @notice Deal `dealId` is in state `state`, where this action is not possible.
    error MarketplaceWrongState(uint256 dealId, DealState state);
    /// @notice `account` is not the party of deal `dealId` that may take this action.
    error MarketplaceNotParty(uint256 dealId, address account);
    /// @notice Deal `dealId` is reserved for `counterparty`, not `account`.
    error MarketplaceNotCounterparty(uint256 dealId, address account, address counterparty);
    /// @notice Only the community admin (COMMUNITY_ADMIN_ROLE on the token) may take this action.
    error MarketplaceNotCommunityAdmin(address account);
    /// @notice The token admin has not enabled category `category`.
    error MarketplaceCategoryDisabled(uint8 category);
    /// @notice Category `category` cannot be used this way (member deals use 0 … 4, community tasks 5 … 7).
    error MarketplaceWrongCategory(uint8 category, Side side);
    /// @notice `account` is not an active member of the kind (1 citizen, 2 stakeholder) category `category` needs.
    error MarketplaceWrongKind(address account, uint8 category, CommunityToken.MemberKind needed);
    /// @notice Category `category` needs a venue (a stakeholder) exactly when it is a "with venue" category.
    error MarketplaceInvalidVenue(uint8 category, address venue);
    /// @notice A deal needs a price above zero and below 2^96 token units.
    error MarketplaceInvalidPrice(uint256 price);
    /// @notice `account` cannot be on both sides of a deal, nor its venue.
    error MarketplaceSelfDeal(address account);
    /// @notice A value in basis points is above its cap.
    error MarketplaceAboveCap(string field, uint256 value, uint256 cap);
    /// @notice A window must be between {MIN_WINDOW} and {MAX_WINDOW}.
    error MarketplaceInvalidWindow(uint256 seconds_);
    /// @notice Deal `dealId` can be closed for expiry only from `deadline`; it is `nowTime`.
    error MarketplaceDeadlineNotReached(uint256 dealId, uint256 deadline, uint256 nowTime);
    /// @notice Cashback is a stakeholder→citizen (category 2) offer term.
    error MarketplaceCashbackNotAllowed(uint8 category);
    /// @notice `creator`, who created deal `dealId`, is no longer an active member of the kind it needs.
    error MarketplaceCreatorNotMember(uint256 dealId, address creator);
    /// @notice This marketplace was replaced in the Registry: it only closes the deals it still holds.
    error MarketplaceRetired(address marketplace);
    /// @notice The rules were changed 65 536 times: deploy a new marketplace.
    error MarketplaceTooManyRuleChanges();

    /// @notice Deal `dealId` was created by `creator` on `side`; `counterparty` is reserved (zero = anyone).
    event DealCreated(
        uint256 indexed dealId,
        Category indexed category,
        Side side,
        address indexed creator,
        address counterparty,
        address venue,
        uint256 price,
        uint16 cashbackBps,
        bytes32 descriptionHash
    );
    /// @notice Deal `dealId` was accepted; `escrow` is held until it closes.
    event DealAccepted(uint256 indexed dealId, address indexed provider, address indexed payer, uint256 escrow);
    /// @notice The provider marked deal `dealId` as completed.
    event DealCompleted(uint256 indexed dealId);
    /// @notice Deal `dealId` was settled with this split; `incentiveTo` received the treasury's incentive.
    event DealSettled(
        uint256 indexed dealId,
        uint256 toProvider,
        uint256 fee,
        uint256 venueShare,
        uint256 cashback,
        uint256 incentive,
        address incentiveTo
    );
    /// @notice Deal `dealId` was cancelled by `by`; `refunded` went back to the payer.
    event DealCancelled(uint256 indexed dealId, address indexed by, uint256 refunded);
    /// @notice `by` disputed deal `dealId`.
    event DealDisputed(uint256 indexed dealId, address indexed by);
    /// @notice The community admin resolved deal `dealId`: `providerBps` of the escrow to the provider's side
    /// (after fee and venue share), `refunded` back to the payer.
    event DealResolved(uint256 indexed dealId, uint256 providerBps, uint256 refunded);
    /// @notice Deal `dealId` passed its deadline and was closed by `by`; `settled` tells which way.
    event DealExpired(uint256 indexed dealId, address indexed by, bool settled);
    /// @notice The completion and confirmation windows of new deals changed.
    event WindowsSet(uint64 completionWindow, uint64 confirmWindow);
    /// @notice The time the community admin has to resolve a dispute of new deals changed.
    event DisputeWindowSet(uint64 disputeWindow);
    /// @notice The expiry rule for unconfirmed new deals changed.
    event ExpiryRuleSet(bool settleOnExpiry);
    /// @notice The energy-profile weights of the stakeholder→citizen incentive changed.
    event ProfileWeightsSet(uint16 consumerBps, uint16 prosumerBps, uint16 prostormerBps);
    /// @notice Tokens sent to the marketplace outside any deal (`amount`) were returned to the treasury.
    event StrayTokensSwept(uint256 amount);

    modifier onlyCommunityAdmin() {
        if (!_isCommunityAdmin(msg.sender)) revert MarketplaceNotCommunityAdmin(msg.sender);
        _;
    }

    /// @notice Creates the marketplace of `token_`'s community. It works once the platform admin proposes it
    /// with `Registry.setMarketplace` and the community's governor accepts it with `Registry.acceptMarketplace`.
    /// Rules of new deals: 30 days to complete, 7 days to confirm, 30 days to resolve a dispute, silence is
    /// consent.
    constructor(CommunityToken token_) {
        token = token_;
        communityId = token_.communityId();
        _rules.push(Rules(30 days, 7 days, 30 days, true));
    }

    // ------------------------------------------------------------------ members' deals

    /// @notice Offers a service or good as provider in member category `category` (0 … 4) for `price` units.
    /// @param counterparty the only member who may accept (zero: anyone of the right kind).
    /// @param venue the stakeholder hosting the deal (category 1 only; zero otherwise).
    /// @param cashbackBps share of the price a new-goods retailer returns to the buyer (category 2 only).
    /// @param descriptionHash keccak256 of the off-chain description.
    /// @dev Emits a {DealCreated} event.
    /// @return dealId the new deal's id.
    function offer(
        uint8 category,
        uint256 price,
        bytes32 descriptionHash,
        address counterparty,
        address venue,
        uint16 cashbackBps
    ) external nonReentrant returns (uint256 dealId) {
        _checkMemberCategory(category, Side.Offer);
        _checkKind(msg.sender, category, true);
        if (cashbackBps != 0 && Category(category) != Category.StakeholderToCitizen) {
            revert MarketplaceCashbackNotAllowed(category);
        }
        if (cashbackBps > MAX_CASHBACK_BPS) revert MarketplaceAboveCap("cashbackBps", cashbackBps, MAX_CASHBACK_BPS);
        dealId = _create(category, Side.Offer, msg.sender, counterparty, venue, price, descriptionHash);
        _deals[dealId].cashbackBps = cashbackBps;
        emit DealCreated(
            dealId, Category(category), Side.Offer, msg.sender, counterparty, venue, price, cashbackBps, descriptionHash
        );
    }

    /// @notice Requests a service or good as payer in member category `category` (0 … 4); the price goes into
    /// escrow now (approve the marketplace first), so a provider who accepts knows it is there.
    /// @param counterparty the only member who may accept as provider (zero: anyone of the right kind).
    /// @dev Emits a {DealCreated} event.
    /// @return dealId the new deal's id.
    function request(uint8 category, uint256 price, bytes32 descriptionHash, address counterparty, address venue)
        external
        nonReentrant
        returns (uint256 dealId)
    {
        _checkMemberCategory(category, Side.Request);
        _checkKind(msg.sender, category, false);
        dealId = _create(category, Side.Request, counterparty, msg.sender, venue, price, descriptionHash);
        _hold(dealId, msg.sender);
        emit DealCreated(
            dealId, Category(category), Side.Request, msg.sender, counterparty, venue, price, 0, descriptionHash
        );
    }

    /// @notice Publishes a community task (categories 5 … 7) paid by the treasury: the price moves from the
    /// treasury into escrow now, and the community admin confirms the work.
    /// @param counterparty the only member who may take the task (zero: anyone of the right kind).
    /// @param venue the stakeholder hosting the task (category 7 only; zero otherwise).
    /// @dev Only the community admin. Emits a {DealCreated} event.
    /// @return dealId the new deal's id.
    function publishTask(uint8 category, uint256 price, bytes32 descriptionHash, address counterparty, address venue)
        external
        nonReentrant
        onlyCommunityAdmin
        returns (uint256 dealId)
    {
        if (category > uint8(Category.CitizenToCommunityWithVenue) || category < uint8(Category.CitizenToCommunity)) {
            revert MarketplaceWrongCategory(category, Side.Task);
        }
        dealId = _create(category, Side.Task, counterparty, address(token), venue, price, descriptionHash);
        _hold(dealId, address(token));
        emit DealCreated(dealId, Category(category), Side.Task, msg.sender, counterparty, venue, price, 0, descriptionHash);
    }

    /// @notice Accepts open deal `dealId` on the terms it shows (frozen at its creation): as payer of an offer
    /// (the price moves into escrow: approve the marketplace first) or as provider of a request or community
    /// task. The deal's creator and venue must still be active members.
    /// @dev Emits a {DealAccepted} event.
    function accept(uint256 dealId) external nonReentrant {
        Deal storage d = _deal(dealId);
        if (d.state != DealState.Open) revert MarketplaceWrongState(dealId, d.state);
        _requireActive();
        uint8 category = uint8(d.category);
        if (!token.categoryPolicy(category).enabled) revert MarketplaceCategoryDisabled(category);
        bool asProvider = d.side != Side.Offer;
        if (d.side != Side.Task) {
            // A member removed since it created the deal (right to be forgotten) can no longer trade.
            address creator = asProvider ? d.payer : d.provider;
            if (!_isKind(creator, _neededKind(category, !asProvider))) {
                revert MarketplaceCreatorNotMember(dealId, creator);
            }
        }
        if (d.venue != address(0) && !_isKind(d.venue, CommunityToken.MemberKind.Stakeholder)) {
            revert MarketplaceInvalidVenue(category, d.venue);
        }
        address reserved = asProvider ? d.provider : d.payer;
        if (reserved != address(0) && reserved != msg.sender) {
            revert MarketplaceNotCounterparty(dealId, msg.sender, reserved);
        }
        if (msg.sender == d.provider || msg.sender == d.payer || msg.sender == d.venue) {
            // A reserved counterparty is the one case where the sender is already recorded.
            if (reserved != msg.sender) revert MarketplaceSelfDeal(msg.sender);
        }
        _checkKind(msg.sender, category, asProvider);
        d.state = DealState.Accepted;
        d.updatedAt = uint64(block.timestamp);
        if (asProvider) {
            d.provider = msg.sender;
        } else {
            d.payer = msg.sender;
            _hold(dealId, msg.sender);
        }
        emit DealAccepted(dealId, d.provider, d.payer, d.price);
    }

    /// @notice The provider marks accepted deal `dealId` as done; the payer then confirms or disputes within
    /// {confirmWindow}.
    /// @dev Emits a {DealCompleted} event.
    function complete(uint256 dealId) external {
        Deal storage d = _deal(dealId);
        if (d.state != DealState.Accepted) revert MarketplaceWrongState(dealId, d.state);
        if (msg.sender != d.provider) revert MarketplaceNotParty(dealId, msg.sender);
        d.state = DealState.Completed;
        d.updatedAt = uint64(block.timestamp);
        emit DealCompleted(dealId);
    }

    /// @notice The payer (the community admin for a community task) confirms deal `dealId`, accepted or
    /// completed, and settles it: fee to the treasury, venue share, cashback, the rest to the provider, and the
    /// category's incentive from the treasury while it can pay.
    /// @dev Emits a {DealSettled} event.
    function confirm(uint256 dealId) external nonReentrant {
        Deal storage d = _deal(dealId);
        if (d.state != DealState.Accepted && d.state != DealState.Completed) {
            revert MarketplaceWrongState(dealId, d.state);
        }
        _checkPayerSide(dealId, d);
        _settle(dealId, d);
    }

    /// @notice Cancels deal `dealId` and refunds any escrow to the payer. An open deal may be cancelled by its
    /// creator (the community admin for a task); an accepted one by its provider, who withdraws.
    /// @dev Emits a {DealCancelled} event.
    function cancel(uint256 dealId) external nonReentrant {
        Deal storage d = _deal(dealId);
        if (d.state == DealState.Open) {
            if (d.side == Side.Task) {
                if (!_isCommunityAdmin(msg.sender)) revert MarketplaceNotCommunityAdmin(msg.sender);
            } else if (msg.sender != (d.side == Side.Offer ? d.provider : d.payer)) {
                revert MarketplaceNotParty(dealId, msg.sender);
            }
        } else if (d.state == DealState.Accepted) {
            if (msg.sender != d.provider) revert MarketplaceNotParty(dealId, msg.sender);
        } else {
            revert MarketplaceWrongState(dealId, d.state);
        }
        uint256 refunded = _escrowOf(d);
        d.state = DealState.Cancelled;
        d.updatedAt = uint64(block.timestamp);
        _refund(d, refunded);
        emit DealCancelled(dealId, msg.sender, refunded);
    }

    /// @notice The provider or the payer (the community admin for a task) disputes accepted or completed deal
    /// `dealId`; the escrow stays until the community admin resolves it.
    /// @dev Emits a {DealDisputed} event.
    function dispute(uint256 dealId) external {
        Deal storage d = _deal(dealId);
        if (d.state != DealState.Accepted && d.state != DealState.Completed) {
            revert MarketplaceWrongState(dealId, d.state);
        }
        if (msg.sender != d.provider) _checkPayerSide(dealId, d);
        d.state = DealState.Disputed;
        d.updatedAt = uint64(block.timestamp);
        emit DealDisputed(dealId, msg.sender);
    }

    /// @notice The community admin resolves disputed deal `dealId`: `providerBps` of the escrow is settled to the
    /// provider's side with the category's fee and venue share (no incentive), the rest is refunded to the payer.
    /// 0 refunds everything, 10 000 pays everything; a provider no longer a member gets nothing.
    /// @dev Emits a {DealSettled} event when something goes to the provider, then a {DealResolved} event.
    function resolve(uint256 dealId, uint16 providerBps) external nonReentrant onlyCommunityAdmin {
        Deal storage d = _deal(dealId);
        if (d.state != DealState.Disputed) revert MarketplaceWrongState(dealId, d.state);
        if (providerBps > _BPS) revert MarketplaceAboveCap("providerBps", providerBps, _BPS);
        _resolve(dealId, d, providerBps);
    }

    /// @notice Closes deal `dealId` after its deadline, by the rules frozen in the deal; anyone may call. An
    /// accepted deal never completed within the completion window is refunded; a completed deal not confirmed
    /// within the confirm window is settled or refunded as the expiry rule says; a dispute left unresolved for
    /// the dispute window is split as {UNRESOLVED_DISPUTE_PROVIDER_BPS} says.
    /// @dev Emits a {DealExpired} event, then a {DealSettled}, {DealCancelled} or {DealResolved} event.
    function expire(uint256 dealId) external nonReentrant {
        Deal storage d = _deal(dealId);
        uint256 deadline = expiryOf(dealId);
        if (deadline == 0) revert MarketplaceWrongState(dealId, d.state);
        if (block.timestamp < deadline) revert MarketplaceDeadlineNotReached(dealId, deadline, block.timestamp);
        // A deal whose provider was removed is refunded (see _settle): the event says so.
        bool settles = d.state == DealState.Completed && _rules[d.rulesId].settleOnExpiry
            && (d.side == Side.Task || token.isMember(d.provider));
        emit DealExpired(dealId, msg.sender, settles);
        if (d.state == DealState.Disputed) {
            _resolve(dealId, d, UNRESOLVED_DISPUTE_PROVIDER_BPS);
        } else if (settles) {
            _settle(dealId, d);
        } else {
            uint256 refunded = _escrowOf(d);
            d.state = DealState.Cancelled;
            d.updatedAt = uint64(block.timestamp);
            _refund(d, refunded);
            emit DealCancelled(dealId, msg.sender, refunded);
        }
    }

    // ------------------------------------------------------------------ community admin's levers

    /// @notice Sets the completion and confirmation windows (each between {MIN_WINDOW} and {MAX_WINDOW}) of deals
    /// created from now on; running deals keep the windows they were created with.
    /// @dev Only the community admin. Emits a {WindowsSet} event.
    function setWindows(uint64 completionWindow_, uint64 confirmWindow_) external onlyCommunityAdmin {
        _checkWindow(completionWindow_);
        _checkWindow(confirmWindow_);
        Rules memory r = _rules[_rules.length - 1];
        r.completionWindow = completionWindow_;
        r.confirmWindow = confirmWindow_;
        _pushRules(r);
        emit WindowsSet(completionWindow_, confirmWindow_);
    }

    /// @notice Sets the time the community admin has to resolve a dispute of deals created from now on, after
    /// which anyone may close it (between {MIN_WINDOW} and {MAX_WINDOW}).
    /// @dev Only the community admin. Emits a {DisputeWindowSet} event.
    function setDisputeWindow(uint64 disputeWindow_) external onlyCommunityAdmin {
        _checkWindow(disputeWindow_);
        Rules memory r = _rules[_rules.length - 1];
        r.disputeWindow = disputeWindow_;
        _pushRules(r);
        emit DisputeWindowSet(disputeWindow_);
    }

    /// @notice Sets what happens to a completed deal, created from now on, left unconfirmed past its confirm
    /// window: settled (true) or refunded (false).
    /// @dev Only the community admin. Emits an {ExpiryRuleSet} event.
    function setExpiryRule(bool settleOnExpiry_) external onlyCommunityAdmin {
        Rules memory r = _rules[_rules.length - 1];
        r.settleOnExpiry = settleOnExpiry_;
        _pushRules(r);
        emit ExpiryRuleSet(settleOnExpiry_);
    }

    /// @notice Sets the weights (bps, at most 20 000 = double) of the treasury incentive a citizen receives in a
    /// stakeholder→citizen deal, by energy profile: the energy manager's bonus (report §5.3.2). A deal keeps the
    /// weight frozen when its price went into escrow.
    /// @dev Only the community admin. Emits a {ProfileWeightsSet} event.
    function setProfileWeights(uint16 consumerBps, uint16 prosumerBps, uint16 prostormerBps)
        external
        onlyCommunityAdmin
    {
        uint16 cap = 2 * _BPS;
        if (consumerBps > cap) revert MarketplaceAboveCap("consumerBps", consumerBps, cap);
        if (prosumerBps > cap) revert MarketplaceAboveCap("prosumerBps", prosumerBps, cap);
        if (prostormerBps > cap) revert MarketplaceAboveCap("prostormerBps", prostormerBps, cap);
        _profileWeightBps = [consumerBps, prosumerBps, prostormerBps];
        emit ProfileWeightsSet(consumerBps, prosumerBps, prostormerBps);
    }

    /// @notice Returns to the treasury any tokens sent to the marketplace outside a deal, which no deal could
    /// ever pay out. Anyone may call.
    /// @dev Emits a {StrayTokensSwept} event when there is something to sweep.
    function sweepToTreasury() external nonReentrant {
        uint256 stray = token.balanceOf(address(this)) - escrowTotal;
        if (stray != 0) {
            _send(address(token), stray);
            emit StrayTokensSwept(stray);
        }
    }

    // ------------------------------------------------------------------ views

    /// @notice Deal `dealId` (state `None` when it does not exist).
    function deal(uint256 dealId) external view returns (Deal memory) {
        return _deals[dealId];
    }

    /// @notice Tokens deal `dealId` holds in escrow now.
    function escrowOf(uint256 dealId) external view returns (uint256) {
        return _escrowOf(_deals[dealId]);
    }

    /// @notice Number of deals created (the highest deal id; ids start at 1).
    function dealCount() external view returns (uint256) {
        return _dealCount;
    }

    /// @notice Energy-profile weights (bps) of the stakeholder→citizen incentive: consumer, prosumer, prostormer.
    function profileWeights() external view returns (uint16[3] memory) {
        return _profileWeightBps;
    }

    /// @notice Completion window of deals created now.
    function completionWindow() external view returns (uint64) {
        return _rules[_rules.length - 1].completionWindow;
    }

    /// @notice Confirmation window of deals created now.
    function confirmWindow() external view returns (uint64) {
        return _rules[_rules.length - 1].confirmWindow;
    }

    /// @notice Time the community admin has to resolve a dispute of deals created now.
    function disputeWindow() external view returns (uint64) {
        return _rules[_rules.length - 1].disputeWindow;
    }

    /// @notice Expiry rule of deals created now: true settles a completed deal left unconfirmed, false refunds it.
    function settleOnExpiry() external view returns (bool) {
        return _rules[_rules.length - 1].settleOnExpiry;
    }

    /// @notice Version `rulesId` of the rules (a deal's `rulesId` names the version it runs under).
    function rules(uint256 rulesId) external view returns (Rules memory) {
        return _rules[rulesId];
    }

    /// @notice When deal `dealId` can be closed by {expire}; zero when no deadline runs (open or closed).
    function expiryOf(uint256 dealId) public view returns (uint256) {
        Deal storage d = _deals[dealId];
        DealState st = d.state;
        if (st != DealState.Accepted && st != DealState.Completed && st != DealState.Disputed) return 0;
        Rules storage r = _rules[d.rulesId];
        uint256 window = st == DealState.Accepted
            ? r.completionWindow
            : (st == DealState.Completed ? r.confirmWindow : r.disputeWindow);
        return uint256(d.updatedAt) + window;
    }

    /// @notice How deal `dealId` would settle now in full, on its frozen terms; `incentive` is what the fee and
    /// the recipient's incentive budget allow (for an open offer, a member with its whole budget left), before
    /// the treasury's availability cap.
    function previewSettlement(uint256 dealId) external view returns (Split memory split, address incentiveTo) {
        Deal storage d = _deals[dealId];
        split = _split(d.price, d.feeBps, d.venueBps, d.cashbackBps, d.venue != address(0));
        incentiveTo = _incentiveRecipient(d);
        // An open stakeholder→citizen offer has no citizen yet, so no profile weight: show the unweighted one.
        uint16 weight = incentiveTo == address(0) ? _BPS : d.profileWeightBps;
        uint256 due = _incentiveOf(d.price, d.incentiveBps, weight, d.category);
        if (d.side != Side.Task) {
            uint256 left = incentiveTo == address(0) ? token.incentiveBudget() : token.incentiveBudgetLeft(incentiveTo);
            if (due > split.fee + left) due = split.fee + left;
        }
        split.incentive = due;
    }

    // ------------------------------------------------------------------ internals

    function _create(
        uint8 category,
        Side side,
        address provider,
        address payer,
        address venue,
        uint256 price,
        bytes32 descriptionHash
    ) private returns (uint256 dealId) {
        _requireActive();
        CommunityToken.CategoryPolicy memory policy = token.categoryPolicy(category);
        if (!policy.enabled) revert MarketplaceCategoryDisabled(category);
        if (price == 0 || price > type(uint96).max) revert MarketplaceInvalidPrice(price);
        bool withVenue = Category(category) == Category.CitizenToCitizenWithVenue
            || Category(category) == Category.CitizenToCommunityWithVenue;
        if (withVenue != (venue != address(0))) revert MarketplaceInvalidVenue(category, venue);
        if (withVenue && !_isKind(venue, CommunityToken.MemberKind.Stakeholder)) {
            revert MarketplaceInvalidVenue(category, venue);
        }
        if (provider == payer) revert MarketplaceSelfDeal(provider);
        if (venue != address(0) && (venue == provider || venue == payer)) revert MarketplaceSelfDeal(venue);
        unchecked {
            // A deal costs a transaction: the counter cannot reach 2^256.
            dealId = ++_dealCount;
        }
        Deal storage d = _deals[dealId];
        d.provider = provider;
        d.payer = payer;
        d.venue = venue;
        d.category = Category(category);
        d.side = side;
        d.state = DealState.Open;
        d.updatedAt = uint64(block.timestamp);
        d.price = uint96(price);
        d.descriptionHash = descriptionHash;
        d.feeBps = policy.feeBps;
        d.incentiveBps = policy.incentiveBps;
        d.venueBps = policy.venueBps;
        unchecked {
            // _pushRules keeps the number of versions at most 2^16, and there is always one.
            d.rulesId = uint16(_rules.length - 1);
        }
    }

    /// @dev Moves the price from `from` (a member, or the treasury for a task) into escrow and, in a
    /// stakeholder→citizen deal, freezes the paying citizen's profile weight.
    function _hold(uint256 dealId, address from) private {
        Deal storage d = _deals[dealId];
        if (d.category == Category.StakeholderToCitizen) {
            d.profileWeightBps = _profileWeightBps[uint8(token.member(from).profile)];
        }
        uint96 price = d.price;
        escrowTotal += price;
        if (from == address(token)) {
            token.payFromTreasury(address(this), price);
        } else {
            IERC20(address(token)).safeTransferFrom(from, address(this), price);
        }
    }

    /// @dev Settles in full, or refunds the payer when the provider was removed from the community meanwhile
    /// (nobody can be paid for its work any more, so the payer gets its price back).
    function _settle(uint256 dealId, Deal storage d) private {
        uint256 escrow = d.price;
        d.updatedAt = uint64(block.timestamp);
        escrowTotal -= escrow;
        if (d.side != Side.Task && !token.isMember(d.provider)) {
            d.state = DealState.Cancelled;
            _send(d.payer, escrow);
            emit DealCancelled(dealId, msg.sender, escrow);
            return;
        }
        d.state = DealState.Settled;
        _payOut(dealId, d, escrow, true);
    }

    /// @dev Splits the escrow: `providerBps` to the provider's side (nothing when the provider was removed),
    /// the rest back to the payer.
    function _resolve(uint256 dealId, Deal storage d, uint16 providerBps) private {
        uint256 escrow = d.price;
        uint256 toProviderSide = token.isMember(d.provider) ? (escrow * providerBps) / _BPS : 0;
        d.state = DealState.Resolved;
        d.updatedAt = uint64(block.timestamp);
        escrowTotal -= escrow;
        if (toProviderSide != 0) _payOut(dealId, d, toProviderSide, false);
        uint256 refunded = escrow - toProviderSide;
        if (refunded != 0) _send(d.payer, refunded);
        emit DealResolved(dealId, providerBps, refunded);
    }

    /// @dev Pays `amount` of the escrow out to the provider's side with the frozen policy, then the incentive:
    /// in a members' deal, the part of the incentive above the deal's fee comes out of the recipient's budget.
    function _payOut(uint256 dealId, Deal storage d, uint256 amount, bool withIncentive) private {
        Split memory s = _split(amount, d.feeBps, d.venueBps, d.cashbackBps, d.venue != address(0));
        if (s.fee != 0) _send(address(token), s.fee);
        if (s.venueShare != 0) _send(d.venue, s.venueShare);
        if (s.cashback != 0) _send(d.payer, s.cashback);
        if (s.toProvider != 0) _send(d.provider, s.toProvider);
        address incentiveTo = _incentiveRecipient(d);
        if (withIncentive && token.isMember(incentiveTo)) {
            uint256 due = _incentiveOf(amount, d.incentiveBps, d.profileWeightBps, d.category);
            if (due != 0) {
                // Community tasks are published and confirmed by the community admin: no budget applies.
                uint256 budgeted = d.side == Side.Task || due <= s.fee ? 0 : due - s.fee;
                s.incentive = token.payIncentive(incentiveTo, due, budgeted);
            }
        }
        emit DealSettled(dealId, s.toProvider, s.fee, s.venueShare, s.cashback, s.incentive, incentiveTo);
    }

    /// @dev `amount` is the deal's escrow read before its state changed (the escrow follows from the state).
    function _refund(Deal storage d, uint256 amount) private {
        if (amount != 0) {
            escrowTotal -= amount;
            _send(d.payer, amount);
        }
    }

    /// @dev The price is in escrow from acceptance (at creation for requests and tasks) until the deal closes.
    function _escrowOf(Deal storage d) private view returns (uint256) {
        DealState st = d.state;
        bool held = st == DealState.Accepted || st == DealState.Completed || st == DealState.Disputed
            || (st == DealState.Open && d.side != Side.Offer);
        return held ? d.price : 0;
    }

    /// @dev Sends from escrow. A party removed from the community in the meantime (right to be forgotten) can
    /// no longer hold tokens: its share goes to the treasury, where a removed member's balance goes anyway.
    function _send(address to, uint256 amount) private {
        if (to != address(token) && !token.isMember(to)) to = address(token);
        IERC20(address(token)).safeTransfer(to, amount);
    }

    function _split(uint256 amount, uint16 feeBps, uint16 venueBps, uint16 cashbackBps, bool withVenue)
        private
        pure
        returns (Split memory s)
    {
        s.fee = (amount * feeBps) / _BPS;
        s.venueShare = withVenue ? (amount * venueBps) / _BPS : 0;
        s.cashback = (amount * cashbackBps) / _BPS;
        // The token caps fee at 10 % and venue at 50 %, and cashback is capped at 40 %: the three shares never
        // exceed `amount`.
        s.toProvider = amount - s.fee - s.venueShare - s.cashback;
    }

    /// @dev The treasury's incentive rewards the provider, except in stakeholder→citizen deals, where it is the
    /// citizen's bonus for buying locally, weighted by the citizen's energy profile.
    function _incentiveRecipient(Deal storage d) private view returns (address) {
        return d.category == Category.StakeholderToCitizen ? d.payer : d.provider;
    }

    function _incentiveOf(uint256 amount, uint16 incentiveBps, uint16 weightBps, Category category)
        private
        pure
        returns (uint256 due)
    {
        if (category == Category.StakeholderToCitizen) {
            // One division after both multiplications, so the profile weight loses no precision.
            due = (amount * incentiveBps * weightBps) / (uint256(_BPS) * _BPS);
        } else {
            due = (amount * incentiveBps) / _BPS;
        }
    }

    function _requireActive() private view {
        if (!token.isCommunityContract(address(this))) revert MarketplaceRetired(address(this));
    }

    function _checkWindow(uint64 window) private pure {
        if (window < MIN_WINDOW || window > MAX_WINDOW) revert MarketplaceInvalidWindow(window);
    }

    function _pushRules(Rules memory r) private {
        if (_rules.length > type(uint16).max) revert MarketplaceTooManyRuleChanges();
        _rules.push(r);
    }

    function _checkMemberCategory(uint8 category, Side side) private pure {
        if (category > uint8(Category.CitizenToStakeholder)) revert MarketplaceWrongCategory(category, side);
    }

    /// @dev `account` must be an active member of the kind the category needs as provider or as payer.
    function _checkKind(address account, uint8 category, bool asProvider) private view {
        CommunityToken.MemberKind needed = _neededKind(category, asProvider);
        if (!_isKind(account, needed)) revert MarketplaceWrongKind(account, category, needed);
    }

    /// @dev The member kind category `category` needs as provider or as payer.
    function _neededKind(uint8 category, bool asProvider) private pure returns (CommunityToken.MemberKind) {
        Category c = Category(category);
        bool stakeholder = asProvider
            ? (c == Category.StakeholderToCitizen || c == Category.StakeholderToStakeholder
                || c == Category.StakeholderToCommunity)
            : (c == Category.StakeholderToStakeholder || c == Category.CitizenToStakeholder);
        return stakeholder ? CommunityToken.MemberKind.Stakeholder : CommunityToken.MemberKind.Citizen;
    }

    function _isKind(address account, CommunityToken.MemberKind kind) private view returns (bool) {
        CommunityToken.Member memory m = token.member(account);
        return m.active && m.kind == kind;
    }

    /// @dev The payer's side acts: the payer itself, or the community admin when the treasury pays.
    function _checkPayerSide(uint256 dealId, Deal storage d) private view {
        if (d.side == Side.Task) {
            if (!_isCommunityAdmin(msg.sender)) revert MarketplaceNotCommunityAdmin(msg.sender);
        } else if (msg.sender != d.payer) {
            revert MarketplaceNotParty(dealId, msg.sender);
        }
    }

    function _isCommunityAdmin(address account) private view returns (bool) {
        return token.hasRole(CommunityRoles.COMMUNITY_ADMIN, account);
    }

    function _deal(uint256 dealId) private view returns (Deal storage d) {
        d = _deals[dealId];
        if (d.state == DealState.None) revert MarketplaceUnknownDeal(dealId);
    }
}
