"""The take-out procedure (DESIGN §5 step 9), in two halves that share only the bundle's format.

``bundle`` is the oracle's side: it gathers what an auditor needs about one member and one period.
``verify`` is the auditor's side: it checks a bundle against the chain with web3 reads alone.
``cli`` is `lec verify`.
"""

BUNDLE_FORMAT = "lec-proof-bundle"
BUNDLE_VERSION = 1
