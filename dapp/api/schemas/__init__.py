"""What the API accepts and answers, one module per route module; `common` holds the shared building blocks.

Request bodies are strict (`StrictModel`, or `extra="forbid", strict=True` on a table's `XCreate`): unknown
fields, and strings or booleans where numbers are expected, are refused instead of being coerced silently.
Where a body or a view has a table behind it, it derives from the table's `XBase` in :mod:`lec.db.models`, so
a field and its constraints are declared once.
"""
