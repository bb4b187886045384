"""The screens of realisation: a provider's reports and uploads, the review, the dashboard."""
