"""Flexibility and demand response (the report's Service 1, DESIGN §10): the rules every floor shares.

- :mod:`lec.flex.declarations` — a member's flexible load (kind, power, days and hours, notice, set point), its
  validation and what it offers in a quarter hour;
- :mod:`lec.flex.aggregate` — the community's offer per 15-minute slot, k-anonymous, with no personal data;
- :mod:`lec.flex.baseline` — customer baselines by the PJM "high 4 of 5" and CAISO "10 in 10" methods;
- :mod:`lec.flex.delivery` — delivered flexibility = baseline − metered, clipped at zero, capped at the dispatch.

Everything is an integer (W, Wh, basis points) so an auditor reproduces every unit; docs/flexibility.md walks
through each rule with numbers.
"""
