"""An instructor's demo, in a real browser: JupyterLab opens 01_sampling, runs it, and FrameRateExplorer responds.

Debian's Chromium driven through Playwright (no browser download). Screenshots go to artifacts/browser/.
"""

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright import sync_api

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "01_sampling.ipynb"
ARTIFACTS = ROOT / "artifacts" / "browser"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"

if not Path(CHROMIUM).exists():
    pytest.skip(f"no Chromium at {CHROMIUM}: install it with `apt-get install -y chromium` (.ci/run does)",
                allow_module_level=True)

# JupyterLab settings for a clean, unattended session: start the notebook's kernel without asking, no news pop-up.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"autoStartDefaultKernel": True},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false"},
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    """A JupyterLab server on a free loopback port, serving a temporary folder that holds a copy of 01_sampling."""
    assert NOTEBOOK.exists(), f"{NOTEBOOK} is missing: the demo needs the sampling notebook"
    home = tmp_path_factory.mktemp("lab")
    root = home / "root"
    root.mkdir()
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    for name, values in LAB_SETTINGS.items():
        path = home / "settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    port, token = free_port(), secrets.token_hex(16)
    command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={root}", f"--LabApp.user_settings_dir={home / 'settings'}",
               f"--LabApp.workspaces_dir={home / 'workspaces'}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # containers often run as root; JupyterLab refuses it otherwise
    log_path = home / "lab.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=root)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not start:\n{log_path.read_text()[-3000:]}")
                time.sleep(0.5)
        base = f"http://127.0.0.1:{port}"
        yield f"{base}/lab/tree/{NOTEBOOK.name}?token={token}", f"{base}/api/sessions?token={token}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


@pytest.fixture(scope="module")
def page(jupyterlab):
    url, _ = jupyterlab
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(60_000)
        page.goto(url)
        page.wait_for_selector(".jp-Notebook .jp-Cell")
        yield page
        browser.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def wait_for_idle_kernel(api: str, timeout_s: float = 120) -> None:
    """Ask the server until the notebook's kernel is up and idle (the page can show "Idle" before it exists)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with urllib.request.urlopen(api, timeout=5) as reply:
            sessions = json.load(reply)
        if sessions and all(s["kernel"]["execution_state"] == "idle" for s in sessions):
            return
        time.sleep(0.5)
    raise AssertionError(f"the notebook's kernel did not become idle within {timeout_s} s")


def run_all_cells(page, api: str, timeout_s: float = 600) -> None:
    """Clear the committed outputs, then Kernel > Restart Kernel and Run All Cells, as an instructor starts a demo.

    Waits until every code cell shows an execution count again. The restart also means the page's widget manager
    is listening before the first widget is created.
    """
    wait_for_idle_kernel(api)
    page.get_by_role("menuitem", name="Edit", exact=True).click()
    page.get_by_role("menuitem", name="Clear Outputs of All Cells", exact=True).click()
    page.wait_for_function("""() => [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
                              .every(p => !/\\d/.test(p.textContent))""")
    page.get_by_role("menuitem", name="Kernel", exact=True).click()
    page.get_by_role("menuitem", name="Restart Kernel and Run All Cells…", exact=True).click()
    page.get_by_role("button", name="Confirm Kernel Restart").click()
    page.wait_for_function("""() => {
        const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].map(p => p.textContent);
        return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p));
    }""", timeout=timeout_s * 1000, polling=500)
    wait_for_idle_kernel(api)


def picture(page, selector: str) -> bytes:
    """What the element looks like on screen now (PNG bytes): a change the instructor would see."""
    element = page.locator(selector).first
    element.scroll_into_view_if_needed()
    return element.screenshot(animations="disabled")


def wait_for_change(page, selector: str, before: bytes, timeout_s: float = 20) -> bytes:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        now = picture(page, selector)
        if now != before:
            return now
        page.wait_for_timeout(200)
    raise AssertionError(f"{selector} did not change on screen within {timeout_s} s")


def nudge(page, selector: str) -> None:
    """Change a control the way a person would: arrow keys on a slider, another option in a menu or button bar."""
    control = page.locator(selector).first
    control.scroll_into_view_if_needed()
    handle = control.locator(".noUi-handle")
    if handle.count():
        handle.first.focus()
        page.keyboard.press("ArrowRight")
        return
    menu = control.locator("select")
    if menu.count():
        options = menu.first.locator("option").all_inner_texts()
        current = menu.first.evaluate("m => m.options[m.selectedIndex].text")
        menu.first.select_option(label=next(o for o in options if o != current))
        return
    buttons = control.locator("button:not(.mod-active)")
    assert buttons.count(), f"{selector}: no slider, menu or button to operate"
    buttons.first.click()


def test_frame_rate_explorer_responds_in_jupyterlab(page, jupyterlab):
    run_all_cells(page, api=jupyterlab[1])
    shot(page, "01_after_run_all")
    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error']")
    assert errors.count() == 0, f"a cell raised in the browser: {errors.first.inner_text()[:500]}"
    for part in ("sf-frame", "sf-timeline", "sf-frame-slider", "sf-alpha", "sf-play"):  # rendered once widgets load
        try:
            page.wait_for_selector(f".{part}", state="attached", timeout=30_000)
        except sync_api.TimeoutError:
            raise AssertionError(f"FrameRateExplorer shows no .{part} in the page") from None

    frame, timeline = picture(page, ".sf-frame"), picture(page, ".sf-timeline")
    nudge(page, ".sf-frame-slider")
    frame = wait_for_change(page, ".sf-frame", frame)
    timeline = wait_for_change(page, ".sf-timeline", timeline)
    shot(page, "02_frame_slider_moved")

    nudge(page, ".sf-alpha")
    timeline = wait_for_change(page, ".sf-timeline", timeline)
    shot(page, "03_alpha_changed")

    page.locator(".sf-play button").first.click()
    seen = {frame}
    deadline = time.monotonic() + 30
    while len(seen) < 3 and time.monotonic() < deadline:  # playing shows one new frame after another
        frame = wait_for_change(page, ".sf-frame", frame)
        seen.add(frame)
    shot(page, "04_playing")
    assert len(seen) >= 3, "pressing Play did not step through frames"
    wait_for_change(page, ".sf-timeline", timeline)
