"""deploy/nats/county-cluster.conf is a config nats-server accepts (`nats-server -t`), laid out as
the systemd unit runs it: the file in /etc/tongxin/nats, its TLS certificate in /etc/tongxin/tls,
its key where `LoadCredential=` puts it, the access directory's users.conf in the store dir (an
include nats-server reads relative to the file). Every absolute path is moved under a temp root;
nothing else is changed."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import trustme

from shared.nats_access import AccessDir
from tongxin.natsd import find_binary

TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "nats" / "county-cluster.conf"
PREFIXES = ("/etc/tongxin", "/var/lib/tongxin", "/run/credentials")


def moved(text: str, root: Path) -> str:
    """`text` with every absolute path of PREFIXES moved under `root`."""
    for prefix in PREFIXES:
        text = text.replace(f'"{prefix}', f'"{root}{prefix}').replace(f" {prefix}", f" {root}{prefix}")
    return text


def unmoved(text: str, root: Path) -> list[str]:
    """The settings (not comments) of `text` that still name an absolute path of PREFIXES."""
    settings = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    left = re.compile("|".join(rf"(?<![\w.]){re.escape(p)}" for p in PREFIXES))  # not ../../../var/lib
    return [line for line in settings if left.search(line.replace(str(root), "_"))]


def test_the_cluster_template_is_a_valid_config(tmp_path: Path) -> None:
    text = moved(TEMPLATE.read_text(), tmp_path)
    conf = tmp_path / "etc" / "tongxin" / "nats" / "county-n1.conf"
    conf.parent.mkdir(parents=True, exist_ok=True)
    conf.write_text(text)
    AccessDir(tmp_path / "var" / "lib" / "tongxin" / "nats" / "access").ensure()
    ca = trustme.CA()
    cert = ca.issue_cert("county-n1")
    tls = tmp_path / "etc" / "tongxin" / "tls"
    tls.mkdir(parents=True, exist_ok=True)
    cert.cert_chain_pems[0].write_to_path(str(tls / "county-n1.pem"))
    ca.cert_pem.write_to_path(str(tls / "ca.pem"))
    credentials = tmp_path / "run" / "credentials" / "tongxin-nats@county-n1.service"
    credentials.mkdir(parents=True, exist_ok=True)
    cert.private_key_pem.write_to_path(str(credentials / "tls-key.pem"))
    done = subprocess.run([find_binary(), "-t", "-c", str(conf)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert unmoved(text, tmp_path) == [], "every absolute path moved under the temp root"
