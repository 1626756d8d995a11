"""The community admin's onboarding: the manifest's schema (`manifest`) and its import (`importer`)."""
