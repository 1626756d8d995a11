"""Reward models (DESIGN §5.6) in integer arithmetic, and the GSE incentive report."""
