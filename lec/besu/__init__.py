"""Generator for the platform's Hyperledger Besu network: a QBFT chain with free gas and local allowlists.

Pure builders (`keys`, `extradata`, `genesis`, `layout`, `join`) turn node keys and parameters into file
contents; `files` writes them (private keys with mode 0600); `cli` is `lec besu init|join|allow-account`.
"""
