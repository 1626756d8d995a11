"""Reward models (DESIGN §5.6) in integer arithmetic (the GSE incentive is in oracle.incentive)."""
