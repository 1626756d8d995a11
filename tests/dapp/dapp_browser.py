"""Shared by the dApp's tests (imported by name: tests/dapp is on sys.path under pytest)."""

from __future__ import annotations

import time

import requests

PASSWORD = "demo-password-1"  # of the demo users created in the realm for the tests (its policy: 12 characters)


def wait_for(check, what: str, attempts: int = 300) -> None:
    """Polls until `check()` is true; gives up with a sentence after `attempts` tries (0.1 s apart)."""
    for _ in range(attempts):
        try:
            if check():
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not come up.")


def keycloak_login(page, username: str, password: str) -> None:
    """Fills Keycloak's own login form (its `keycloak.v2` theme) and submits it."""
    from playwright.sync_api import expect

    field = page.get_by_label("Username or email")
    expect(field).to_be_visible(timeout=30_000)
    field.fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign In").click()


SIGN_IN = "Accedi"  # the dApp's sign-in button: Italian until the person picks a language (after signing in)


def pick_language(page, name: str = "English") -> None:
    """Picks the dApp's language in the sidebar, as a person does (the session keeps it across pages)."""
    from playwright.sync_api import expect

    sidebar = page.get_by_test_id("stSidebar")
    box = sidebar.get_by_test_id("stSelectbox").first
    box.click()
    page.get_by_role("option", name=name, exact=True).click()
    label = {"English": "Language", "Italiano": "Lingua"}[name]  # the picker's own label follows the language
    expect(box.get_by_text(label, exact=True)).to_be_visible(timeout=30_000)
