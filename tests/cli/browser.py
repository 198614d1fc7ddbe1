#!/usr/bin/env python3
"""Look at a page in headless Chromium at a given width and colour scheme, through the
DevTools protocol (the command line's --window-size cannot go below 500 px).

    browser.py URL WIDTH light|dark SCREENSHOT.png

Prints one JSON document: the layout width, whether the dark scheme applied, the
elements that stick out of the viewport or are cut off, how many lines each monitor's
name takes, the lowest text contrast found (each text element against the background
it is drawn on), and the number of scripts. Saves a full-page screenshot.
"""

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request

import websocket

MEASURE = r"""
(() => {
  const root = document.documentElement, vw = root.clientWidth, problems = [];
  if (root.scrollWidth > vw) problems.push(`the page is ${root.scrollWidth}px wide`);
  const describe = (el) => el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).replace(/ /g, '.') : '');
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && (r.left < -0.5 || r.right > vw + 0.5)) problems.push(`${describe(el)} spans ${Math.round(r.left)}..${Math.round(r.right)}px`);
    const cs = getComputedStyle(el);
    if (cs.display !== 'inline' && el.scrollWidth > el.clientWidth + 1 && cs.overflowX !== 'visible') problems.push(`${describe(el)} is cut off`);
  }
  const rgb = (s) => (s.match(/[\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map((c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; })
    .reduce((a, c, i) => a + c * [0.2126, 0.7152, 0.0722][i], 0);
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c.slice(0, 3);
    }
    return [255, 255, 255];  // the canvas of a page that sets no background
  };
  let lowest = 21, lowestAt = '';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (!n.textContent.trim()) continue;
    const el = n.parentElement, fg = rgb(getComputedStyle(el).color).slice(0, 3), bg = background(el);
    const [a, b] = [lum(fg), lum(bg)];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < lowest) { lowest = ratio; lowestAt = `${describe(el)} "${n.textContent.trim().slice(0, 30)}"`; }
  }
  const lineHeight = (el) => parseFloat(getComputedStyle(el).lineHeight) || 20;
  return JSON.stringify({
    width: vw,
    dark: matchMedia('(prefers-color-scheme: dark)').matches,
    problems,
    name_lines: Array.from(document.querySelectorAll('.monitor .name')).map((e) => Math.round(e.getBoundingClientRect().height / lineHeight(e))),
    contrast: Math.round(lowest * 100) / 100,
    contrast_at: lowestAt,
    scripts: document.scripts.length,
    height: root.scrollHeight,
  });
})()
"""


class Page:
    def __init__(self, url):
        self.ws = websocket.create_connection(url, timeout=60)
        self.next_id = 0

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def wait_for(self, event):
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("method") == event:
                return msg


def main():
    url, width, scheme, shot = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    browser = os.environ.get("HBMON_TEST_BROWSER", "chromium")
    profile = tempfile.mkdtemp(prefix="hbmon-browser-")
    proc = subprocess.Popen(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1",
         f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        port = None
        for line in proc.stderr:
            if line.startswith("DevTools listening on ws://"):
                port = line.split("ws://", 1)[1].split("/", 1)[0].rsplit(":", 1)[1]
                break
        if port is None:
            raise SystemExit("chromium did not open its DevTools port")
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list"))
        page = Page(next(t for t in targets if t["type"] == "page")["webSocketDebuggerUrl"])
        page.call("Emulation.setDeviceMetricsOverride", width=width, height=900,
                  deviceScaleFactor=1, mobile=width < 600)
        page.call("Emulation.setEmulatedMedia",
                  features=[{"name": "prefers-color-scheme", "value": scheme}])
        page.call("Page.enable")
        page.call("Page.navigate", url=url)
        page.wait_for("Page.loadEventFired")
        report = json.loads(page.call("Runtime.evaluate", expression=MEASURE,
                                      returnByValue=True)["result"]["value"])
        page.call("Emulation.setDeviceMetricsOverride", width=width,
                  height=max(900, int(report["height"])), deviceScaleFactor=1,
                  mobile=width < 600)
        png = page.call("Page.captureScreenshot", format="png")["data"]
        with open(shot, "wb") as f:
            f.write(base64.b64decode(png))
        print(json.dumps(report))
    finally:
        proc.kill()
        proc.wait()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    main()
