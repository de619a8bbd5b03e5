#!/usr/bin/python3
"""Loads Tusk's live page in headless Chromium over the DevTools protocol and reports what it drew.

Usage: page_check.py URL SCREENSHOT.png TRIGGER-COMMAND
Prints one JSON object: links drawn, links in /topology/json, elephant paths drawn, the SSE event
count before and after TRIGGER-COMMAND (a shell command that makes the daemon emit an event), and
whether the DOM changed. Exits non-zero when the page never became ready.
"""
import base64, json, os, socket, subprocess, sys, tempfile, time, urllib.request

import websocket  # Debian: python3-websocket

url, shot, trigger = sys.argv[1], sys.argv[2], sys.argv[3]
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
profile = tempfile.mkdtemp(prefix="tusk-chromium-")
browser = subprocess.Popen(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                            f"--remote-debugging-port={port}", f"--user-data-dir={profile}",
                            "--window-size=1400,1000", "about:blank"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    deadline = time.time() + 30
    target = None
    while time.time() < deadline and target is None:
        try:
            targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json", timeout=2))
            target = next((t for t in targets if t.get("type") == "page"), None)
        except OSError:
            time.sleep(0.3)
    if target is None:
        sys.exit("chromium did not offer a page target")
    ws = websocket.create_connection(target["webSocketDebuggerUrl"], timeout=30)
    seq = [0]

    def call(method, **params):
        seq[0] += 1
        ws.send(json.dumps({"id": seq[0], "method": method, "params": params}))
        while True:
            m = json.loads(ws.recv())
            if m.get("id") == seq[0]:
                if "error" in m:
                    raise RuntimeError(m["error"])
                return m["result"]

    def js(expr):
        r = call("Runtime.evaluate", expression=expr, returnByValue=True)
        return r["result"].get("value")

    call("Page.enable")
    call("Page.navigate", url=url)
    deadline = time.time() + 30
    while time.time() < deadline and js("document.body && document.body.dataset.ready") != "1":
        time.sleep(0.3)
    if js("document.body && document.body.dataset.ready") != "1":
        sys.exit("the page did not become ready: " + str(js("document.getElementById('status') && document.getElementById('status').textContent")))
    # Let the flows feed colour the links and fill the table once.
    deadline = time.time() + 15
    while time.time() < deadline and not js("document.getElementById('updated').textContent"):
        time.sleep(0.3)
    topo = json.load(urllib.request.urlopen(url.rstrip("/") + "/topology/json", timeout=10))
    before_count = js("Number(document.getElementById('sse-count').dataset.count)")
    before_dom = js("document.getElementById('events').innerHTML")
    subprocess.run(trigger, shell=True, check=False)
    deadline = time.time() + 20
    while time.time() < deadline and js("Number(document.getElementById('sse-count').dataset.count)") <= before_count:
        time.sleep(0.3)
    after_count = js("Number(document.getElementById('sse-count').dataset.count)")
    result = {
        "linksDrawn": js("document.querySelectorAll('line.link').length"),
        "linksInTopology": len(topo["links"]),
        "linksColoured": js("[...document.querySelectorAll('line.link')].filter(l => l.getAttribute('stroke') && l.getAttribute('stroke') !== '#bbb').length"),
        "elephantsDrawn": js("document.querySelectorAll('polyline.elephant').length"),
        "flowRows": js("document.querySelectorAll('#flows tr').length"),
        "decisionsListed": js("document.querySelectorAll('#decisions li').length"),
        "sseEventsBefore": before_count,
        "sseEventsAfter": after_count,
        "domChangedAfterEvent": js("document.getElementById('events').innerHTML") != before_dom,
        "chartDrawn": js("document.querySelectorAll('#chart-svg polyline.history').length") > 0,
    }
    png = call("Page.captureScreenshot", format="png")["data"]
    with open(shot, "wb") as f:
        f.write(base64.b64decode(png))
    print(json.dumps(result))
finally:
    browser.terminate()
    try:
        browser.wait(5)
    except subprocess.TimeoutExpired:
        browser.kill()
