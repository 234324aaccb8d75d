"""The Windows and macOS routing plans (they cannot run here: their commands and files are
checked), and the Linux rules file as `nft` itself parses it."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from abhaya.installer.backend import backend_for
from abhaya.installer.routing import macos
from abhaya.installer.routing.linux import RoutingLinux
from abhaya.installer.routing.nft import quoted_name, render_rules
from abhaya.installer.settings import InstallSettings, TargetOS
from abhaya.installer.steps import RunCommand, WriteFile


def settings(target: TargetOS) -> InstallSettings:
    return InstallSettings(target, ("abhaya",), unfiltered_accounts=("mum", "dad"))


def commands(target: TargetOS) -> dict[str, RunCommand]:
    steps = backend_for(target).plan(settings(target)).steps
    return {step.name: step for step in steps if isinstance(step, RunCommand)}


def test_windows_blocks_everyone_but_the_exempt_accounts_and_sets_the_proxy() -> None:
    found = commands(TargetOS.WINDOWS)
    script = found["windows-firewall"].argv[-1]
    assert "-Direction Outbound -Action Block -Protocol TCP -RemotePort 80,443,853" in script
    assert "-Direction Outbound -Action Block -Protocol UDP -RemotePort 443,853" in script
    # Deny ACEs for SYSTEM (the agent) and the parents, then allow Everyone: the block rule
    # applies to every other account.
    assert "(D;;CC;;;S-1-5-18)" in script and "(A;;CC;;;WD)" in script
    assert "@('mum', 'dad')" in script and "-LocalUser $sddl" in script
    assert found["windows-firewall"].undo_argv is not None
    assert "Remove-NetFirewallRule -Group 'Abhaya'" in found["windows-firewall"].undo_argv[-1]
    assert found["winhttp-proxy"].argv[:4] == ("netsh", "winhttp", "set", "proxy")
    assert "proxy-server=127.0.0.1:8080" in found["winhttp-proxy"].argv
    assert found["winhttp-proxy"].undo_argv == ("netsh", "winhttp", "reset", "proxy")
    assert found["proxy-per-machine"].argv[-4:] == ("REG_DWORD", "/d", "0", "/f")
    assert "127.0.0.1:8080" in found["proxy-proxyserver"].argv
    assert all(step.undo_argv is not None for step in found.values())


def test_macos_anchor_passes_exempt_accounts_then_blocks_people() -> None:
    plan = backend_for(TargetOS.MACOS).plan(settings(TargetOS.MACOS))
    files = {
        str(step.path): step.content.decode() for step in plan.steps if isinstance(step, WriteFile)
    }
    anchor = files[str(macos.ANCHOR_PATH)]
    lines = [line for line in anchor.splitlines() if not line.startswith("#")]
    assert lines[0] == "pass out quick proto { tcp, udp } from any to any user { abhaya, dad, mum }"
    assert (
        "block return out quick proto tcp from any to any port { 80, 443, 853 } user >= 501"
        in lines
    )
    assert "block drop out quick proto udp from any to any port { 443, 853 } user >= 501" in lines
    assert 'anchor "abhaya"' in files[str(macos.MAIN_PATH)]
    assert "<string>-E</string>" in files[str(macos.DAEMON_PATH)]
    found = commands(TargetOS.MACOS)
    assert found["pf-load"].argv == ("/sbin/pfctl", "-E", "-f", str(macos.MAIN_PATH))
    assert found["pf-load"].undo_argv == ("/sbin/pfctl", "-a", "abhaya", "-F", "all")
    proxy = found["system-proxy"].argv[-1]
    assert 'networksetup -setwebproxy "$service" 127.0.0.1 8080' in proxy
    assert 'networksetup -setsecurewebproxy "$service" 127.0.0.1 8080' in proxy


def test_the_macos_proxy_script_walks_every_listed_service(tmp_path: Path) -> None:
    """The shell loop, run with a stand-in `networksetup` that prints what a Mac lists."""
    fake = tmp_path / "networksetup"
    log = tmp_path / "calls"
    fake.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = -listallnetworkservices ]; then\n'
        "  printf 'An asterisk (*) denotes a disabled service.\\nWi-Fi\\n*USB LAN\\n'\n"
        f'else echo "$@" >> {log}; fi\n'
    )
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"}
    subprocess.run(["sh", "-c", macos.proxy_script("127.0.0.1", 8080)], env=env, check=True)
    calls = log.read_text().splitlines()
    assert "-setwebproxy Wi-Fi 127.0.0.1 8080" in calls
    assert "-setsecurewebproxy USB LAN 127.0.0.1 8080" in calls
    assert len(calls) == 6


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("nft") is None, reason="nft -c needs root")
def test_the_dry_run_rules_are_valid_nft(tmp_path: Path) -> None:
    """The plan shows names (`meta skuid "root"`), which nft itself also accepts."""
    rules = tmp_path / "rules.nft"
    rules.write_text(render_rules("root", ("daemon", "root"), 1000, "127.0.0.1:8080", quoted_name))
    done = subprocess.run(["nft", "-c", "-f", str(rules)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_the_linux_plan_leaves_gnome_out_without_dconf() -> None:
    without = RoutingLinux(dconf_installed=lambda: False).steps(settings(TargetOS.LINUX))
    assert not any("dconf" in step.key for step in without)
    with_dconf = RoutingLinux(dconf_installed=lambda: True).steps(settings(TargetOS.LINUX))
    assert any(step.key.startswith("dconf-proxy:") for step in with_dconf)
