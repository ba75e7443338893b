"""reply-copilot: a reply copilot for Chinese e-commerce customer-service agents."""

__version__ = "0.1.0"
