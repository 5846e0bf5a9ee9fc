"""The keyring is read and written by the owner role only: no rule, so `samia_app` gets no privilege."""

from samia.rls.registry import declare

SECRET_VERSIONS = declare("secrets.SecretVersion", module=__name__)
