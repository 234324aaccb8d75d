"""A private e2guardian configuration with the same lists as Abhaya's benchmark policy.

The installed configuration (/etc/e2guardian) is copied into the run's folder and every path in
it is pointed there, so the benchmark never touches the system copy or a system service.  Then:

- the 1M domains become the banned site list (e2guardian matches sub-domains, like Abhaya);
- the 10k keywords become banned phrases (`< term >`, matched in page content) and banned
  search terms (words sorted and joined with `+`), with a search-term rule for the origin;
- the shipped phrase lists (weighted and banned) are emptied so only our lists are loaded;
- plain HTTP proxy on one loopback port, no TLS interception, no transparent-HTTPS port,
  foreground (`nodaemon`), access log for blocked requests only (`loglevel = 1`, like Abhaya's
  log of non-allow verdicts).
"""

from __future__ import annotations

import getpass
import grp
import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path

SYSTEM_CONF = Path("/etc/e2guardian")
WORKERS = 64


def binary() -> str | None:
    return shutil.which("e2guardian") or (
        "/usr/sbin/e2guardian" if Path("/usr/sbin/e2guardian").exists() else None
    )


def configure(
    folder: Path,
    port: int,
    origin_port: int,
    domains_file: Path,
    keywords: Iterable[str],
) -> list[str]:
    """Write the configuration under `folder`; return the command that runs e2guardian."""
    exe = binary()
    if exe is None:
        raise FileNotFoundError("e2guardian is not installed (apt-get install -y e2guardian)")
    conf_dir = folder / "conf"
    shutil.copytree(SYSTEM_CONF, conf_dir, symlinks=False)
    _repoint(conf_dir)
    lists = conf_dir / "lists"
    shutil.copyfile(domains_file, lists / "bannedsitelist")
    terms = sorted(set(keywords))
    (lists / "bannedphraselist").write_text("".join(f"< {t} >\n" for t in terms), "utf-8")
    searches = sorted({"+".join(sorted(t.split())) for t in terms})
    (lists / "bannedsearchlist").write_text("\n".join(searches) + "\n", "utf-8")
    (lists / "weightedphraselist").write_text("", "utf-8")
    with (lists / "searchregexplist").open("a", encoding="utf-8") as rules:
        rules.write(f'\n"^http://127\\.0\\.0\\.1:{origin_port}/search\\?q=([^&]*).*"->"\\1"\n')
    main = conf_dir / "e2guardian.conf"
    _set_options(
        main,
        {
            "filterip": "127.0.0.1",
            "filterports": str(port),
            "checkip": "127.0.0.1",
            "transparenthttpsport": "0",
            "loglevel": "1",
            "loglocation": f"'{folder / 'access.log'}'",
            "pidfilename": f"'{folder / 'e2guardian.pid'}'",
            "filecachedir": f"'{folder}'",
            "nodaemon": "on",
            "httpworkers": str(WORKERS),
            "enablessl": "off",
            "daemonuser": f"'{getpass.getuser()}'",
            "daemongroup": f"'{grp.getgrgid(os.getgid()).gr_name}'",
        },
    )
    return [exe, "-N", "-c", str(main)]


def _repoint(conf_dir: Path) -> None:
    """Point every /etc/e2guardian path (configs, stories, list includes) at the copy."""
    for path in conf_dir.rglob("*"):
        if not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        if str(SYSTEM_CONF) in text:
            path.write_text(text.replace(str(SYSTEM_CONF), str(conf_dir)), encoding="utf-8")


def _set_options(conf: Path, options: dict[str, str]) -> None:
    """Replace (or uncomment, or append) `key = value` lines of e2guardian.conf."""
    text = conf.read_text(encoding="utf-8")
    for key, value in options.items():
        line = f"{key} = {value}"
        count = 0
        for pattern in (rf"^\s*{key}\s*=.*$", rf"^#\s*{key}\s*=.*$"):
            text, count = re.subn(
                pattern, line.replace("\\", r"\\"), text, count=1, flags=re.MULTILINE
            )
            if count:
                break
        if count == 0:
            text += f"\n{line}\n"
    conf.write_text(text, encoding="utf-8")
