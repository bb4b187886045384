"""The web face shared by every domain: Jinja set-up and macros, error pages, security headers, the
home page of each role, the audit log screens and its export, server-drawn charts, and the list of
every blueprint the core registers."""
