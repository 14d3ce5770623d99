"""The browser plugin in a real Chromium (Debian's `chromium` + `chromium-driver`), driven
with selenium: the tests' and bench/prover.py's way to run it as a user would.

`PluginBrowser` starts headless Chromium with the built plugin loaded (build/plugin, from
`node plugin/build.mjs`), and does what a user does on its pages: set the node and the key
on the options page, switch it on and off in the popup, read the popup, screenshot it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from chain.testing.node_process import REPO

PLUGIN_SOURCE = REPO / "plugin"
PLUGIN_BUILD = REPO / "build" / "plugin"
PROVE_IN_PAGE = PLUGIN_SOURCE / "test" / "prove_in_page.js"
CHROMIUM_ENV = "DUET_CHROMIUM"  # a Chromium binary to use instead of Debian's
CHROMEDRIVER_ENV = "DUET_CHROMEDRIVER"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
DEFAULT_CHROMEDRIVER = "/usr/bin/chromedriver"
INSTALL_HINT = (
    "Debian's chromium and chromium-driver are needed: ./demo.sh setup installs them when it "
    "runs as root (apt-get install chromium chromium-driver); otherwise install them, or "
    f"point {CHROMIUM_ENV} and {CHROMEDRIVER_ENV} at a Chromium and its driver"
)
T = TypeVar("T")


class BrowserMissing(RuntimeError):
    """No Chromium, driver or selenium here: the message says what to install."""


def find_browser() -> tuple[str, str]:
    """(chromium, chromedriver) paths; BrowserMissing if either is absent."""
    chromium = os.environ.get(CHROMIUM_ENV) or shutil.which("chromium") or DEFAULT_CHROMIUM
    driver = (
        os.environ.get(CHROMEDRIVER_ENV) or shutil.which("chromedriver") or DEFAULT_CHROMEDRIVER
    )
    for path in (chromium, driver):
        if not Path(path).is_file():
            raise BrowserMissing(f"{path} not found. {INSTALL_HINT}")
    try:
        import selenium  # noqa: F401
    except ImportError:
        raise BrowserMissing("selenium is not installed in .venv: run ./demo.sh setup") from None
    return chromium, driver


def build_plugin() -> Path:
    """Build the plugin (skipped when its stamp is current) and return its folder."""
    result = subprocess.run(
        ["node", str(PLUGIN_SOURCE / "build.mjs")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        raise RuntimeError(f"the plugin's build failed:\n{result.stdout}{result.stderr}")
    return Path(result.stdout.strip().splitlines()[-1])


def compute_extension_id(manifest: dict[str, Any]) -> str:
    """Chrome's id for an extension with this manifest `key`: the first 128 bits of the
    SHA-256 of its public key, each hex digit written as a letter a..p."""
    digest = hashlib.sha256(base64.b64decode(manifest["key"])).hexdigest()[:32]
    return "".join(chr(ord("a") + int(c, 16)) for c in digest)


def wait_for(predicate: Callable[[], T | None], timeout_s: float, what: str) -> T:
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(0.2)


class PluginBrowser:
    """Headless Chromium with the plugin loaded, in a profile of its own."""

    def __init__(self, profile: Path, plugin: Path = PLUGIN_BUILD) -> None:
        self.profile = profile
        self.plugin = plugin
        manifest = json.loads((plugin / "manifest.json").read_text())
        self.extension_id = compute_extension_id(manifest)
        self.driver: Any = None

    def __enter__(self) -> PluginBrowser:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        chromium, driver = find_browser()
        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for arg in (
            "--headless=new",
            "--no-sandbox",  # root in a container has no user namespace for the sandbox
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            f"--user-data-dir={self.profile}",
            f"--load-extension={self.plugin}",
            f"--disable-extensions-except={self.plugin}",
            "--window-size=420,760",
        ):
            options.add_argument(arg)
        self.driver = webdriver.Chrome(service=Service(driver), options=options)
        self.driver.set_script_timeout(600)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.driver is not None:
            self.driver.quit()
            self.driver = None

    def url(self, page: str) -> str:
        return f"chrome-extension://{self.extension_id}/{page}"

    def open(self, page: str) -> None:
        self.driver.get(self.url(page))
        wait_for(
            lambda: self.driver.execute_script("return document.readyState") == "complete",
            30,
            f"{page} to load",
        )

    def element(self, element_id: str) -> Any:
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.ID, element_id)

    def configure(self, node_url: str, key: bytes) -> str:
        """On the options page: the node URL and an imported key. Returns the address shown."""
        self.configure_node(node_url)
        self.element("import-key").send_keys("0x" + key.hex())
        self.element("import").click()
        return self.wait_for_address()

    def configure_node(self, node_url: str) -> None:
        """On the options page: the node URL, saved."""
        self.open("options.html")
        field = self.element("node-url")
        field.clear()
        field.send_keys(node_url)
        self.element("save-node").click()
        wait_for(lambda: "saved" in self.element("message").text, 10, "the node URL saved")

    def wait_for_address(self) -> str:
        """The prover's address, once the options page shows one."""
        return str(wait_for(lambda: self._address_shown(), 10, "the key's address"))

    def _address_shown(self) -> str | None:
        text = str(self.element("address").text)
        return text if text.startswith("0x") else None

    def set_active(self, active: bool) -> None:
        """Flip the popup's switch (the popup page, opened in a tab)."""
        self.open("popup.html")
        box = self.element("active")
        if bool(box.is_selected()) != active:
            box.click()
        wait_for(lambda: self.read_settings().get("active") == active, 10, "the switch")

    def read_settings(self) -> dict[str, Any]:
        return dict(self._storage("local", ["active", "nodeUrl", "address"]))

    def read_status(self) -> dict[str, Any] | None:
        """The prover's last report (what the popup shows), or None before the first."""
        status = self._storage("session", ["status"]).get("status")
        return None if status is None else dict(status)

    def _storage(self, area: str, keys: list[str]) -> dict[str, Any]:
        script = (
            "const done = arguments[arguments.length - 1];"
            f"chrome.storage.{area}.get({json.dumps(keys)}).then(done);"
        )
        if not self.driver.current_url.startswith(self.url("")):
            self.open("popup.html")
        return dict(self.driver.execute_async_script(script))

    def popup_text(self, element_id: str) -> str:
        return str(self.element(element_id).text)

    def screenshot_popup(self, path: Path) -> None:
        from selenium.webdriver.common.by import By

        path.parent.mkdir(parents=True, exist_ok=True)
        self.driver.find_element(By.TAG_NAME, "body").screenshot(str(path))

    def prove_in_page(
        self, node_url: str, circuit: str, witness: dict[str, Any], repeat: int
    ) -> dict[str, Any]:
        """Prove `witness` with circuit `circuit` in the plugin's own prover worker, `repeat`
        times after one warm-up, its files fetched from the node: each run's seconds, and
        whether every proof verified."""
        self.open("popup.html")
        script = PROVE_IN_PAGE.read_text()
        result = dict(self.driver.execute_async_script(script, node_url, circuit, witness, repeat))
        if "error" in result:
            raise RuntimeError(f"proving {circuit} in the browser failed: {result['error']}")
        return result
