"""What the bench needs on the machine (java, wrk; Debian packages as root with apt-get), and the build: through
scripts/drover, which builds what is missing or out of date."""
import os
import shutil
import subprocess

from .logs import BenchError

APT_ENV = dict(os.environ, DEBIAN_FRONTEND="noninteractive")


def _apt(*args):
    return subprocess.run(["apt-get", *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          env=APT_ENV).returncode == 0


def try_install(package, say):
    """apt-get install -y package as root (apt-get update first if that fails); False when it cannot."""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return False
    say(f"installing {package} (apt-get install -y {package})")
    return _apt("install", "-y", "-q", package) or (_apt("update", "-q") and _apt("install", "-y", "-q", package))


def need_tool(tool, package, say):
    if shutil.which(tool):
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise BenchError(f"{tool} is missing: install it (Debian/Ubuntu: sudo apt-get install -y {package})")
    if not try_install(package, say) or not shutil.which(tool):
        raise BenchError(f"could not install {package}: run 'apt-get install -y {package}' yourself")


def need_tools(say):
    if not shutil.which("java"):
        raise BenchError("java is missing: install a JDK 17 (Debian: apt-get install -y openjdk-17-jdk-headless)")
    need_tool("wrk", "wrk", say)


def build(home, say):
    """scripts/drover builds when a jar is missing or the sources are newer (mvn package); `--version` then exits."""
    say("checking the build (scripts/drover builds what is missing or out of date)")
    r = subprocess.run([os.path.join(home, "scripts", "drover"), "--version"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise BenchError(f"the build failed: {r.stderr.strip()}\n(if someone is editing the code, retry in a minute, "
                         "or use --no-build to measure the existing jars)")
