"""The screens of accounts: signing in, organisations, a provider's users, API keys."""
