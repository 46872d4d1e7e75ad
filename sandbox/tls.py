"""The sandbox's local certificate authority and server certificate (made with trustme).

``ensure_certificates(directory)`` creates, once, ``ca.pem`` (the bundle clients trust),
``ca-key.pem`` and a server certificate for localhost / 127.0.0.1 / ::1 signed by it.
"""

from dataclasses import dataclass
from pathlib import Path

import trustme

SERVER_NAMES = ("localhost", "127.0.0.1", "::1")


@dataclass
class Certificates:
    ca: Path
    server_cert: Path
    server_key: Path


def ensure_certificates(directory: Path) -> Certificates:
    """The CA and server certificate in ``directory``, created on first use."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = Certificates(
        directory / "ca.pem", directory / "server.pem", directory / "server-key.pem"
    )
    ca_key = directory / "ca-key.pem"
    if (
        paths.ca.exists()
        and ca_key.exists()
        and paths.server_cert.exists()
        and paths.server_key.exists()
    ):
        return paths
    if paths.ca.exists() and ca_key.exists():
        ca = trustme.CA.from_pem(paths.ca.read_bytes(), ca_key.read_bytes())
    else:
        ca = trustme.CA(organization_name="Leadbridge sandbox org")
        ca.cert_pem.write_to_path(str(paths.ca))
        ca.private_key_pem.write_to_path(str(ca_key))
        ca_key.chmod(0o600)
    server = ca.issue_cert(*SERVER_NAMES)
    with paths.server_cert.open("wb") as out:
        for blob in server.cert_chain_pems:
            out.write(blob.bytes())
    server.private_key_pem.write_to_path(str(paths.server_key))
    paths.server_key.chmod(0o600)
    return paths
