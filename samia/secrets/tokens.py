"""JWT signed with the keyring's `jwt` key: HS256, the key id in the header, verified by that key."""

from __future__ import annotations

from typing import Any

import jwt
from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.exceptions import TokenBackendError

from samia.secrets import catalog, keyring

# Tokens issued before the keyring carry no kid: they were signed with the environment key, version 1.
ENVIRONMENT_KEY_ID = catalog.ENVIRONMENT_KEY_ID


class KeyringTokenBackend(TokenBackend):
    """Sign with the active `jwt` version (kid header); verify with the live version the kid names."""

    def encode(self, payload: dict[str, Any]) -> str:
        key = keyring.current("jwt")
        claims = payload.copy()
        if self.audience is not None:
            claims["aud"] = self.audience
        if self.issuer is not None:
            claims["iss"] = self.issuer
        return jwt.encode(
            claims, key.value, algorithm=self.algorithm, headers={"kid": key.key_id}, json_encoder=self.json_encoder
        )

    def get_verifying_key(self, token) -> Any:
        try:
            kid = jwt.get_unverified_header(token).get("kid") or ENVIRONMENT_KEY_ID
        except jwt.PyJWTError as error:
            raise TokenBackendError(_("Token is invalid")) from error
        key = keyring.find("jwt", str(kid))
        if key is None:  # retired, or never ours
            raise TokenBackendError(_("Token is invalid"))
        return key.value


def install() -> None:
    """Make simplejwt's tokens use the keyring (called from SecretsConfig.ready)."""
    from rest_framework_simplejwt import state
    from rest_framework_simplejwt.settings import api_settings

    state.token_backend = KeyringTokenBackend(
        api_settings.ALGORITHM,
        api_settings.SIGNING_KEY,
        api_settings.VERIFYING_KEY,
        api_settings.AUDIENCE,
        api_settings.ISSUER,
        api_settings.JWK_URL,
        api_settings.LEEWAY,
        api_settings.JSON_ENCODER,
    )
