"""The realm roles of the `lec` Keycloak realm (DESIGN §1), as the API's checks name them.

A role in the token says what kind of caller this is; the two community roles (`community-admin`,
`token-holder`) count only in the communities where `user_roles` grants them (see :mod:`dapp.api.deps`).
"""

PLATFORM_ADMIN = "platform-admin"
COMMUNITY_ADMIN = "community-admin"
TOKEN_ADMIN = "token-admin"
ORACLE_ADMIN = "oracle-admin"
TOKEN_HOLDER = "token-holder"
AUDITOR = "auditor"
METER_GATEWAY = "meter-gateway"
