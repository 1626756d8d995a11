"""Every table of the platform, grouped by owner; importing this package registers them all on SQLModel's
metadata, so `init_db` and the migrations always see the same set.

- :mod:`lec.db.models.report` — the report's schema (§4.3.6): communities, users, roles, devices, flows,
  readings, anomalies, derived series, clusters (owner: the oracle's data side).
- :mod:`lec.db.models.proofs` — leaf salts of the notarised periods (owner: the oracle's proofs).
- :mod:`lec.db.models.market` — the time bank's off-chain listings (owner: the market domain).
- :mod:`lec.db.models.community` — zone, region, members' substations and plants (owner: lec.community).
- :mod:`lec.db.models.flex` — flexibility declarations, demand-response events and dispatches (owner: the
  flexibility service).
- :mod:`lec.db.models.lab` — the living lab: polls, snapshots, ballots, projects (owner: `lec/lab`).
- :mod:`lec.db.models.api` — SIWE nonces, registration requests, the audit log and the dashboards' read
  model (owner: the API).

Two community ids exist and carry two names everywhere: ``community_id`` is the database row
(``communities.id``), ``chain_community_id`` the Registry's id on chain.
"""

from sqlmodel import SQLModel

from lec.db.models.api import *  # noqa: F403
from lec.db.models.community import *  # noqa: F403
from lec.db.models.flex import *  # noqa: F403
from lec.db.models.lab import *  # noqa: F403
from lec.db.models.market import *  # noqa: F403
from lec.db.models.proofs import *  # noqa: F403
from lec.db.models.report import *  # noqa: F403

metadata = SQLModel.metadata
"""The metadata holding every table above: what `init_db` creates and the migrations compare against."""
