"""The platform's Ed25519 key: signs access tokens and every audit entry (X-Road style).

Generated on first use under GOVSHARE_HOME (mode 0600) unless a deployment points
``GOVSHARE_EXCHANGE_SIGNING_KEY_PATH`` at its own. The key id is the first 16 hex digits of
the SHA-256 of the raw public key, so a verifier can tell which key signed what.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

if TYPE_CHECKING:
    from infra.settings import Settings


@dataclass(frozen=True)
class PlatformKey:
    private: Ed25519PrivateKey
    public: Ed25519PublicKey
    key_id: str

    @classmethod
    def from_private(cls, private: Ed25519PrivateKey) -> PlatformKey:
        public = private.public_key()
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return cls(private=private, public=public, key_id=hashlib.sha256(raw).hexdigest()[:16])

    @classmethod
    def of_deployment(cls, settings: Settings) -> PlatformKey:
        """The key this deployment signs with (for commands that verify outside the server)."""
        from exchange_api.configuration import ExchangeSettings

        return cls.load_or_create(ExchangeSettings().key_path(settings))

    @classmethod
    def load_or_create(cls, path: Path) -> PlatformKey:
        """Read the PEM at ``path``, creating it (owner-only) when it does not exist yet."""
        if path.exists():
            loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(loaded, Ed25519PrivateKey):
                raise ValueError(f"{path} is not an Ed25519 private key")
            return cls.from_private(loaded)
        path.parent.mkdir(parents=True, exist_ok=True)
        private = Ed25519PrivateKey.generate()
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        # O_EXCL: two processes starting at once must not overwrite each other's key.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return cls.load_or_create(path)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        return cls.from_private(private)

    def sign(self, message: bytes) -> bytes:
        return self.private.sign(message)

    def verify(self, signature: bytes, message: bytes) -> bool:
        try:
            self.public.verify(signature, message)
        except InvalidSignature:
            return False
        return True

    def derive_secret(self, label: str) -> bytes:
        """A 32-byte secret for keyed hashes (e.g. of looked-up IDs in the audit log).

        Derived from the private key so a deployment has one secret to guard, not two.
        """
        raw = self.private.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        return hmac.new(raw, f"govshare/{label}".encode(), hashlib.sha256).digest()

    def public_pem(self) -> str:
        return self.public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()
