"""The API's use cases: what a route does beyond one database call (Keycloak, the chain, several tables).

A route parses the request, calls one function here and returns its result in a schema. The functions take
plain values (a session, the settings, the caller's access) so the rules read without FastAPI around them; they
belong to the API, so a refusal is raised as the API's error (:mod:`dapp.api.errors`), a sentence saying what to
do.
"""
