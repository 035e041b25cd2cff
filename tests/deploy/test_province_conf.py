"""deploy/nats/province.conf, and county-cluster.conf with county-to-province.conf's changes, are
configs nats-server accepts (`nats-server -t`), laid out as the systemd units run them: the TLS key
and the leafnode passwords where `LoadCredential=` puts them, the province's CA where the county's
file says. They say what tongxin.natsd_province writes (the province's accounts of anhua and
baojing, the county's deny lists); what that does is tests/province/ (on real servers, over TLS
in test_province_tls.py)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from shared.nats_identity import new_seed, public_key
from tests.deploy import test_nats_cluster_conf as cluster_conf
from tests.pki import issue
from tongxin.natsd import find_binary
from tongxin.natsd_province import county_config, province_config

NATS = cluster_conf.TEMPLATE.parent
PROVINCE, COUNTY = NATS / "province.conf", NATS / "county-to-province.conf"
PLACEHOLDER = "UPROVINCEINGESTPUBLICKEYXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
COUNTIES = ("anhua", "baojing")


def checked(conf: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([find_binary(), "-t", "-c", str(conf)], capture_output=True, text=True, check=False)


def test_the_province_template_is_a_valid_config_with_the_accounts_province_config_makes(
    tmp_path: Path,
) -> None:
    key = public_key(new_seed())
    text = PROVINCE.read_text()
    assert PLACEHOLDER in text and len(PLACEHOLDER) == len(key)
    text = cluster_conf.moved(text, tmp_path).replace(PLACEHOLDER, key)
    assert cluster_conf.unmoved(text, tmp_path) == []
    etc = tmp_path / "etc" / "tongxin"
    (etc / "nats").mkdir(parents=True)
    (etc / "tls").mkdir()
    _, cert_file, key_file = issue(tmp_path / "pki", "province.example.cn")
    shutil.copy(cert_file, etc / "tls" / "province.pem")
    credentials = tmp_path / "run" / "credentials" / "tongxin-nats@province.service"
    credentials.mkdir(parents=True)
    shutil.copy(key_file, credentials / "tls-key.pem")
    conf = etc / "nats" / "province.conf"
    conf.write_text(text)
    done = checked(conf)
    assert done.returncode != 0 and "leaf-users.conf" in done.stderr, "the passwords' include is read"
    leafnodes = json.loads(
        province_config(7422, dict.fromkeys(COUNTIES, "pw"), key)[1].removeprefix("leafnodes: ")
    )
    users = "".join(f"  {json.dumps(u)}\n" for u in leafnodes["authorization"]["users"])  # a line each
    (credentials / "leaf-users.conf").write_text(f"users: [\n{users}]\n")
    done = checked(conf)
    assert done.returncode == 0, done.stdout + done.stderr

    accounts = json.loads(
        province_config(7422, dict.fromkeys(COUNTIES, ""), key)[0].removeprefix("accounts: ")
    )
    for name, account in accounts.items():
        assert f"  {name} {{" in text
        for entry in account.get("exports", []):
            ((kind, subject),) = entry.items()
            assert f'{{ {kind}: "{subject}" }}' in text
        for entry in account.get("imports", []):
            ((kind, source),) = entry.items()
            assert f'{{ {kind}: {{ account: {source["account"]}, subject: "{source["subject"]}" }} }}' in text
    assert text.count("{ service: ") + text.count("{ stream: ") == 12, "nothing more than province_config's"


def test_the_cluster_template_with_the_link_to_the_province_is_a_valid_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    block = COUNTY.read_text()
    remote = json.loads(county_config("anhua", "tls://x").pop().split("remotes: [", 1)[1].rsplit("]", 1)[0])
    for subject in [*remote["deny_imports"], *remote["deny_exports"]]:
        assert f'        "{subject}"\n' in block
    assert block.count('        "') == len(remote["deny_imports"]) + len(remote["deny_exports"])
    original = cluster_conf.TEMPLATE.read_text()
    assert original.count("jetstream {\n") == 1
    opened = original.replace("jetstream {\n", "jetstream {\n  domain: county-anhua\n") + block
    copy = tmp_path / "county-cluster.conf"
    copy.write_text(opened)
    monkeypatch.setattr(cluster_conf, "TEMPLATE", copy)
    root = tmp_path / "root"
    credentials = root / "run" / "credentials" / "tongxin-nats@county-n1.service"
    credentials.mkdir(parents=True)
    (credentials / "province-leaf.conf").write_text('url: "tls://anhua:pw@province.example.cn:7422"\n')
    tls = root / "etc" / "tongxin" / "tls"
    tls.mkdir(parents=True)
    issue(tmp_path / "province-pki")[0].rename(tls / "province-ca.pem")
    cluster_conf.test_the_cluster_template_is_a_valid_config(root)
