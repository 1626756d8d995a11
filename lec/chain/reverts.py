"""The one table of sentences for the contracts' custom errors, used by the ape scripts, the oracle's chain
client, the API and the dApp alike: a refusal reads the same wherever a person meets it.

A sentence says what was wrong and what to do, in words a resident understands; it never names a variable,
a file or a command (callers add their own hint where the reader is an operator).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from eth_utils import keccak

from lec.chain.contracts import abi

CONTRACTS = ("CommunityToken", "Marketplace", "Notary", "Registry", "RewardModels")

SENTENCES: dict[str, str] = {
    # Roles and pause (OpenZeppelin)
    "AccessControlUnauthorizedAccount": "The connected account does not hold the role this action needs.",
    "EnforcedPause": "The community token is paused by its token admin: try again later.",
    "ExpectedPause": "The community token is not paused.",
    # ERC20 (OpenZeppelin)
    "ERC20InsufficientBalance": "The balance is too low for this transfer.",
    "ERC20InsufficientAllowance": "Approve the escrow first: the marketplace may not yet take the price.",
    "ERC20InvalidReceiver": "That recipient cannot receive tokens.",
    # CommunityToken
    "CommunityTokenNotMember": "That account is not an active member of the community: tokens only move between "
    "members. Ask the community admin to approve the membership.",
    "CommunityTokenAlreadyMember": "That account is already a member of the community.",
    "CommunityTokenAccountRetired": "That account was removed from the community and cannot join again: "
    "use a new wallet.",
    "CommunityTokenInvalidAccount": "That address cannot be a member (zero address, treasury or a contract).",
    "CommunityTokenInvalidKind": "The member kind must be citizen or stakeholder.",
    "CommunityTokenAboveCap": "The value is above the hard cap set in the contract.",
    "CommunityTokenTreasuryInsufficient": "The treasury does not hold enough tokens.",
    "CommunityTokenNotStakeholder": "Only stakeholders may buy tokens.",
    "CommunityTokenExchangeRateNotSet": "The token admin has not published an exchange rate yet.",
    "CommunityTokenReceiptUsed": "That payment receipt was already used for a sale.",
    "CommunityTokenInvalidCategory": "Marketplace categories are numbered 0 to 7.",
    "CommunityTokenInvalidProof": "The proof does not match the rewards notarised for that period: fetch the proof "
    "again for the connected account.",
    "CommunityTokenNothingToClaim": "These rewards were already claimed: nothing is left to claim for that period.",
    "CommunityTokenPeriodNotNotarised": "That period has not been notarised yet: rewards can be claimed once the "
    "oracle has published it.",
    "CommunityTokenPeriodTotalExceeded": "The period's notarised total is already paid out; contact the oracle admin.",
    "CommunityTokenUnauthorizedRelayer": "Only the member itself or the oracle may claim a member's rewards.",
    "CommunityTokenLeafSettled": "This reward was already settled for the latest version of the period.",
    "CommunityTokenNotOverpaid": "That member was not paid more than the corrected amount: there is no over-payment "
    "to record; the member can claim the difference.",
    "CommunityTokenContractRetired": "That marketplace was replaced and takes no more tokens: reload the page.",
    "CommunityTokenInvalidSale": "A sale needs an amount above zero and the payment receipt's reference.",
    "CommunityTokenNotCommunityContract": "Only the community's own contracts may do this.",
    "CommunityTokenOnlyNotary": "Only the Notary may do this.",
    "CommunityTokenOnlyRegistry": "Only the Registry may do this.",
    # Registry, RewardModels
    "RegistryUnknownCommunity": "There is no community with that id.",
    "RegistryInvalidCommunity": "A community needs a name, a symbol and a non-zero address for every admin.",
    "RegistryZeroAddress": "A contract address is needed here, not the zero address.",
    "RegistryCoreAlreadySet": "The Notary and the reward models were already set.",
    "RegistryCoreNotSet": "Set the Notary and the reward models before creating communities.",
    "RegistryInvalidMarketplace": "That address is not a marketplace deployed for this community's token.",
    "RegistryMarketplaceNotProposed": "The platform admin has not proposed that marketplace for this community.",
    "RegistryNotCommunityGovernor": "Only the community's governor (its default admin) may accept a marketplace.",
    "RewardModelsUnknownModel": "There is no reward model with that id.",
    # Notary
    "NotaryUnauthorized": "The connected account is not an oracle admin of this community.",
    "NotaryUnknownCommunity": "There is no community with that id.",
    "NotaryUnknownModel": "That reward model is not registered.",
    "NotaryInvalidPeriod": "A period is a date written as YYYYMMDD.",
    "NotaryMissingRoot": "A period with rewards needs a rewards root, and one with data a data root.",
    "NotaryPeriodExists": "That period is already notarised: publish a correction with its reason instead.",
    "NotaryPeriodNotFound": "That period was never notarised: there is nothing to correct or read.",
    "NotaryVersionNotFound": "That version of the period does not exist.",
    "NotaryEmptyReason": "A correction must say why it was made.",
    "NotaryValueTooLarge": "A value is too large for the record.",
    "NotaryNotCommunityAdmin": "The connected account is not a community admin of this community.",
    "NotaryPollExists": "That poll's result is already notarised; it cannot be replaced.",
    "NotaryPollNotFound": "That poll's result was never notarised.",
    "NotaryEmptyPoll": "A poll's result needs its tally hash, and a ballots root when ballots were counted.",
    "RewardModelsEmptyField": "Name, kind and parameters of a model must not be empty.",
    # Marketplace
    "MarketplaceUnknownDeal": "There is no deal with that id.",
    "MarketplaceWrongState": "The deal is not in a state that allows this step any more: reload the page.",
    "MarketplaceNotParty": "Only the deal's own provider or payer may do this.",
    "MarketplaceNotCounterparty": "The deal is reserved for another member.",
    "MarketplaceNotCommunityAdmin": "Only the community admin may do this.",
    "MarketplaceCategoryDisabled": "The token admin has closed this category of deals.",
    "MarketplaceWrongCategory": "Community tasks are categories 5-7; members' deals are 0-4.",
    "MarketplaceWrongKind": "That member is not of the kind (citizen or stakeholder) the category needs.",
    "MarketplaceInvalidVenue": "Categories 1 and 7 need a stakeholder venue; the others take none.",
    "MarketplaceInvalidPrice": "The price must be above zero.",
    "MarketplaceSelfDeal": "An account cannot be on both sides of a deal, nor its venue.",
    "MarketplaceAboveCap": "The value is above the cap set in the contract.",
    "MarketplaceInvalidWindow": "A window must be between 1 hour and 1 year.",
    "MarketplaceDeadlineNotReached": "The deal's deadline has not passed yet.",
    "MarketplaceCashbackNotAllowed": "Only stakeholder-to-citizen offers (category 2) carry a cashback.",
    "MarketplaceCreatorNotMember": "The member who created this deal has left the community: it cannot be taken.",
    "MarketplaceRetired": "This marketplace was replaced: it only closes the deals it still holds. Use the "
    "community's current marketplace.",
    "MarketplaceTooManyRuleChanges": "The marketplace's rules were changed too often: deploy a new marketplace.",
}


def sentence(name: str) -> str:
    """The sentence for a custom error by name; a generic one naming the error when the table has none."""
    return SENTENCES.get(name, f"The contract refused the transaction ({name}).")


@lru_cache(maxsize=8)
def _selectors(contracts: tuple[str, ...]) -> dict[str, str]:
    return {
        "0x" + keccak(text=f"{e['name']}({','.join(i['type'] for i in e['inputs'])})")[:4].hex(): e["name"]
        for name in contracts
        for e in abi(name)
        if e.get("type") == "error"
    }


def error_name(data: Any, contracts: Iterable[str] = CONTRACTS) -> str | None:
    """The custom error a revert's data (0x selector + arguments) encodes, among these contracts' errors."""
    if not isinstance(data, str) or len(data) < 10:
        return None
    return _selectors(tuple(contracts)).get(data[:10].lower())


def sentence_for_data(data: Any, contracts: Iterable[str] = CONTRACTS) -> str:
    """The sentence for a revert's data; a generic refusal when the data names no known error."""
    name = error_name(data, contracts)
    return sentence(name) if name else "The contract refused the transaction."
