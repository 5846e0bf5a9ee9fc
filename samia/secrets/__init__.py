"""The keyring: versioned keys and credentials with a grace period (OPS_README.md, "Secrets")."""

from samia.secrets.keyring import Key, SecretMissing, credential, current, find, published, retired, verifying

__all__ = ["Key", "SecretMissing", "credential", "current", "find", "published", "retired", "verifying"]
