"""One router per resource: approvals, inputs, the page a link opens, codec, health."""
