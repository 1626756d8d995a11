"""The local token economy's off-chain side: the eight flow categories, settlement arithmetic, listings and the
client of the Marketplace contract."""
