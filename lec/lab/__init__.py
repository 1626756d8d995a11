"""The living lab's rules (report §3.4, Service 4): neighbourhood projects and their state machine, one-member-one-vote
polls (EIP-712 ballots, tally, salted ballot leaves), and the sentiment of the community's voice.

Pure functions and values only: the API's service (`dapp/api/services/lab.py`) wraps them with the database and
the chain; the poll bundle's verification (`oracle/audit/poll.py`, `lec verify`) recomputes them.
"""
