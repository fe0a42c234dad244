"""The domain: data model, portfolio import, compliance, scheduling and reports."""
