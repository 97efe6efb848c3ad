"""The HTTP service behind the links in counterparts' emails."""
