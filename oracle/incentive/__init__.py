"""The GSE incentive (DM 414/2023 "CACER", ARERA TIAD) and its split among members: rules, prices, service."""
