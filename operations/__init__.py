"""Client operations: what an operator or an email link can ask of a consultation.

Start, query and update with typed method references, and the dossier rebuilt
from Temporal. Shared by the CLI and the gateway, below both of them.
"""
