#!/usr/bin/env python3
"""Renders rnnspec's HTML report of the suite in headless Chromium and fails when the page is broken.

It writes two reports with `rnnspec report`: the real suite (`suite.html`), and the same suite copied
to a temporary directory with one golden deliberately broken (`failing.html`: the hidden states of
theory/s01_vanilla_rnn_sequence moved by 1e-3 from step 2 on). Each page is loaded in Chromium, driven
over the DevTools protocol (--remote-debugging-pipe; standard library only), at a desktop width
(1100 px) and a phone width (390 px). The check fails when

  - the browser logs a console error, an uncaught exception or a failed load;
  - the load event takes longer than --max-load-seconds (default 5);
  - any SVG has zero width or height once every card is opened;
  - the page is wider than the window (horizontal scrolling on the page itself).

Before the reports it loads a deliberately broken page and exits if any of these goes unnoticed.

It saves full-page screenshots of both pages at both widths in --out (default
.build/browser-check/), and with --readme-shots DIR the two pictures of docs/html-report.md: the top of the passing
suite's page and the failing case's card with its heatmap.

Usage: tools/browser-check/check.py [--rnnspec .build/debug/rnnspec] [--out DIR] [--readme-shots docs/]
"""
import argparse
import base64
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BROKEN_CASE = "theory/s01_vanilla_rnn_sequence"


class Browser:
    """Chromium with the DevTools protocol on file descriptors 3 (commands) and 4 (replies)."""

    def __init__(self, binary):
        self.profile = tempfile.mkdtemp(prefix="rnnspec-chromium-")
        to_child_r, self.to_child = os.pipe()
        self.from_child, from_child_w = os.pipe()
        # Move the child's ends out of the way of 3 and 4 before the child dup2s them there.
        a = os.dup(to_child_r) if to_child_r < 5 else to_child_r
        b = os.dup(from_child_w) if from_child_w < 5 else from_child_w
        while a < 5: a = os.dup(a)
        while b < 5: b = os.dup(b)

        def setup():
            os.dup2(a, 3)
            os.dup2(b, 4)

        args = [binary, "--headless=new", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                "--disable-background-networking", "--hide-scrollbars", "--mute-audio",
                f"--user-data-dir={self.profile}", "about:blank"]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, preexec_fn=setup, close_fds=False)
        for fd in {to_child_r, from_child_w, a, b}:
            try:
                os.close(fd)
            except OSError:
                pass
        self.next_id = 0
        self.replies = {}
        self.events = queue.Queue()
        self.lock = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        buf = b""
        while True:
            chunk = os.read(self.from_child, 1 << 20)
            if not chunk:
                with self.lock:
                    self.closed = True
                    self.lock.notify_all()
                return
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                msg = json.loads(raw)
                if "id" in msg:
                    with self.lock:
                        self.replies[msg["id"]] = msg
                        self.lock.notify_all()
                else:
                    self.events.put(msg)

    def send(self, method, params=None, session=None, timeout=60):
        self.next_id += 1
        mid = self.next_id
        msg = {"id": mid, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.to_child, json.dumps(msg).encode() + b"\0")
        deadline = time.time() + timeout
        with self.lock:
            while mid not in self.replies:
                left = deadline - time.time()
                if left <= 0 or getattr(self, "closed", False):
                    raise RuntimeError(f"no reply to {method}")
                self.lock.wait(left)
            reply = self.replies.pop(mid)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def close(self):
        try:
            self.send("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.profile, ignore_errors=True)


def check_page(browser, path, width, height, shots, name, max_load, readme=None):
    """Loads one page at one width; returns the list of problems."""
    problems = []
    target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    for domain in ("Page", "Runtime", "Log"):
        browser.send(f"{domain}.enable", session=session)
    browser.send("Emulation.setDeviceMetricsOverride",
                 {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600}, session=session)
    while not browser.events.empty():
        browser.events.get()
    start = time.time()
    browser.send("Page.navigate", {"url": "file://" + os.path.abspath(path)}, session=session)
    loaded = None
    console = []
    while loaded is None:
        try:
            ev = browser.events.get(timeout=max(0.1, start + max_load + 10 - time.time()))
        except queue.Empty:
            break
        if ev.get("sessionId") != session:
            continue
        method, params = ev.get("method"), ev.get("params", {})
        if method == "Page.loadEventFired":
            loaded = time.time() - start
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            console.append("console." + params["type"] + ": " + " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", [])))
        elif method == "Runtime.exceptionThrown":
            console.append("exception: " + params.get("exceptionDetails", {}).get("text", ""))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            console.append("log: " + params["entry"].get("text", ""))
    if loaded is None:
        problems.append(f"{name}: the page did not finish loading within {max_load + 10:.0f} s")
        return problems, None
    if loaded > max_load:
        problems.append(f"{name}: the load event took {loaded:.2f} s (limit {max_load} s)")
    time.sleep(0.2)
    # Late console messages (after load).
    while not browser.events.empty():
        ev = browser.events.get()
        if ev.get("sessionId") == session and ev.get("method") in ("Runtime.exceptionThrown",) or (
                ev.get("method") == "Log.entryAdded" and ev.get("params", {}).get("entry", {}).get("level") == "error"):
            console.append("late: " + json.dumps(ev.get("params"))[:300])
    problems += [f"{name}: {c}" for c in console]

    def evaluate(expr):
        r = browser.send("Runtime.evaluate", {"expression": expr, "returnByValue": True}, session=session)
        return r.get("result", {}).get("value")

    def screenshot(file, clip=None):
        metrics = browser.send("Page.getLayoutMetrics", session=session)
        size = metrics["cssContentSize"]
        if clip is None:
            clip = {"x": 0, "y": 0, "width": width, "height": min(size["height"], 16000)}
        clip["scale"] = 1
        data = browser.send("Page.captureScreenshot", {"format": "png", "clip": clip, "captureBeyondViewport": True},
                            session=session)["data"]
        with open(file, "wb") as f:
            f.write(base64.b64decode(data))

    os.makedirs(shots, exist_ok=True)
    screenshot(os.path.join(shots, f"{name}.png"))
    if readme:
        readme(screenshot, evaluate)
    # Every card open, then every SVG must have a size.
    info = evaluate("""(() => {
        document.querySelectorAll('details').forEach(d => d.open = true);
        const svgs = Array.from(document.querySelectorAll('svg'));
        const empty = svgs.filter(s => { const r = s.getBoundingClientRect(); return r.width < 1 || r.height < 1; })
            .map(s => (s.querySelector('title') || {}).textContent || '(untitled)');
        return {svgs: svgs.length, empty: empty.slice(0, 10), emptyCount: empty.length,
                overflow: document.documentElement.scrollWidth - window.innerWidth,
                untitled: svgs.filter(s => !s.querySelector('title')).length};
    })()""")
    if info["svgs"] == 0:
        problems.append(f"{name}: the page has no SVG plot at all")
    if info["emptyCount"]:
        problems.append(f"{name}: {info['emptyCount']} SVGs have zero size, e.g. {info['empty']}")
    if info["untitled"]:
        problems.append(f"{name}: {info['untitled']} SVGs have no <title>")
    if info["overflow"] > 1:
        problems.append(f"{name}: the page is {info['overflow']} px wider than the {width} px window")
    browser.send("Target.closeTarget", {"targetId": target})
    return problems, {"load_s": round(loaded, 2), "svgs": info["svgs"]}


def break_golden(text):
    """Moves every value of output `h` by 1e-3 from row 2 on (the hidden state from step 2)."""
    out, in_h, row = [], False, 0
    for line in text.splitlines(keepends=True):
        if re.match(r"^  \w", line):
            in_h = line.strip() == "h:"
        if in_h and line.startswith("      - ["):
            if row >= 2:
                line = re.sub(r"-?\d+\.\d+(e-?\d+)?", lambda m: repr(float(m.group(0)) + 1e-3), line)
            row += 1
        out.append(line)
    return "".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rnnspec", default=os.path.join(ROOT, ".build", "debug", "rnnspec"))
    ap.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    ap.add_argument("--out", default=os.path.join(ROOT, ".build", "browser-check"))
    ap.add_argument("--readme-shots", help="write report-suite.png and report-failing.png here")
    ap.add_argument("--max-load-seconds", type=float, default=5.0)
    args = ap.parse_args()
    args.rnnspec = os.path.abspath(args.rnnspec)  # the broken suite runs in another directory
    os.makedirs(args.out, exist_ok=True)
    env = dict(os.environ)

    suite = os.path.join(args.out, "suite.html")
    r = subprocess.run([args.rnnspec, "report", "--output", suite], cwd=ROOT, capture_output=True, text=True, env=env)
    if not os.path.exists(suite) or r.returncode not in (0, 1):
        sys.exit(f"browser-check: rnnspec report failed ({r.returncode}): {r.stderr.strip()}")
    print("suite:", r.stdout.strip().splitlines()[-2])

    work = tempfile.mkdtemp(prefix="rnnspec-broken-")
    try:
        for d in ("cases", "golden"):
            shutil.copytree(os.path.join(ROOT, d), os.path.join(work, d))
        golden = os.path.join(work, "golden", BROKEN_CASE + ".yaml")
        with open(golden) as f:
            text = f.read()
        with open(golden, "w") as f:
            f.write(break_golden(text))
        failing = os.path.join(args.out, "failing.html")
        r = subprocess.run([args.rnnspec, "report", "--output", failing], cwd=work, capture_output=True, text=True, env=env)
        if r.returncode != 1 or f"FAIL: {BROKEN_CASE}" not in r.stdout:
            sys.exit(f"browser-check: the broken golden did not fail its case ({r.returncode}):\n{r.stdout[-2000:]}{r.stderr}")
        print("failing:", r.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def suite_shot(screenshot, evaluate):
        if args.readme_shots:
            h = evaluate("document.getElementById('cases-h').getBoundingClientRect().top + window.scrollY + 160")
            screenshot(os.path.join(args.readme_shots, "report-suite.png"), {"x": 0, "y": 0, "width": 1100, "height": h})

    def failing_shot(screenshot, evaluate):
        if args.readme_shots:
            box = evaluate("""(() => { const c = document.querySelector('details.s-fail');
                const f = c.querySelector('figure.mismatch'); const r = c.getBoundingClientRect(), e = f.getBoundingClientRect();
                return {x: r.left, y: r.top + window.scrollY, width: r.width, height: e.bottom - r.top + 8}; })()""")
            screenshot(os.path.join(args.readme_shots, "report-failing.png"), box)

    problems = []
    browser = Browser(args.chromium)
    try:
        # First the checker itself: a page with each fault must give each problem.
        bad = os.path.join(args.out, "bad.html")
        with open(bad, "w") as f:
            f.write('<!DOCTYPE html><html><body><svg width="0" height="0"><title>empty</title></svg>'
                    '<div style="width: 3000px">wide</div><script>console.error("deliberate")</script></body></html>')
        found, _ = check_page(browser, bad, 800, 600, args.out, "self-test", args.max_load_seconds)
        expected = ["console.error: deliberate", "1 SVGs have zero size", "wider than the 800 px window"]
        missing = [e for e in expected if not any(e in p for p in found)]
        if missing:
            sys.exit(f"browser-check: the checker missed {missing} on a deliberately broken page (found {found})")
        print("self-test: a console error, a zero-size SVG and a too-wide page are each caught")
        for page, path, hook in (("suite", suite, suite_shot), ("failing", failing, failing_shot)):
            for label, width, height in (("desktop", 1100, 800), ("phone", 390, 844)):
                name = f"{page}-{label}"
                p, stats = check_page(browser, path, width, height, args.out, name, args.max_load_seconds,
                                      readme=hook if label == "desktop" else None)
                problems += p
                if stats:
                    print(f"{name}: loaded in {stats['load_s']} s, {stats['svgs']} SVGs, {len(p)} problems")
    finally:
        browser.close()
    if problems:
        print("browser-check: FAILED", *problems, sep="\n  ", file=sys.stderr)
        sys.exit(1)
    print(f"browser-check: OK (screenshots in {os.path.relpath(args.out, ROOT)})")


if __name__ == "__main__":
    main()
