//! Headless Chromium as the widgets' host: one generated page holds each widget in an iframe
//! fed the way a real host feeds it (ChatGPT's `window.openai`, the MCP Apps postMessage bridge,
//! or the `window.sfmcpWidget.render` hook), waits until every frame has drawn, and reports what a
//! person would see (`innerText`), what elements were created and which bridge messages the
//! widget sent. One Chromium launch per page dumps that report (`--dump-dom`) and takes a
//! screenshot, kept under `target/widget-screenshots/`. Used by `crm-tools`' widget tests (the
//! library's tools) and the workspace tests (the server over HTTP).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};

/// Debian's `chromium` package; `SFMCP_CHROMIUM` names another binary.
const DEFAULT_CHROMIUM: &str = "/usr/bin/chromium";
/// Wall-clock bound on one Chromium run (the page itself runs on virtual time).
const RUN_LIMIT: Duration = Duration::from_secs(120);

/// How a frame receives the tool result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feed {
    /// `window.openai = {toolOutput: structuredContent}` set before the widget's scripts run.
    OpenAi,
    /// The MCP Apps handshake answered by the page, then `ui/notifications/tool-result`.
    McpApps,
    /// `window.sfmcpWidget.render(structuredContent)` once the frame has loaded.
    Hook,
}

impl Feed {
    fn id(self) -> &'static str {
        match self {
            Feed::OpenAi => "openai",
            Feed::McpApps => "mcp-apps",
            Feed::Hook => "hook",
        }
    }

    /// How the frame's heading names this feed.
    pub fn label(self) -> &'static str {
        match self {
            Feed::OpenAi => "ChatGPT (window.openai.toolOutput)",
            Feed::McpApps => "MCP Apps (ui/notifications/tool-result)",
            Feed::Hook => "test hook (window.sfmcpWidget.render)",
        }
    }
}

/// One widget in one frame.
pub struct Frame {
    /// The frame's heading on the page (and the name its report carries).
    pub label: String,
    /// The widget document as served.
    pub html: String,
    /// How the result reaches it.
    pub feed: Feed,
    /// The whole `tools/call` result (its `structuredContent` for the `OpenAi` and `Hook` feeds).
    pub result: Value,
    /// The tool call's arguments (`ui/notifications/tool-input`).
    pub arguments: Value,
}

/// What one frame showed.
#[derive(Debug, Clone)]
pub struct Seen {
    /// The frame's [`Frame::label`].
    pub label: String,
    /// `rendered`, or `waiting`/`notice`/`error` when the widget did not draw the data.
    pub state: String,
    /// The frame's visible text.
    pub text: String,
    /// `img`, `iframe`, `object`, `embed`, `svg` and `script` elements in the frame's body
    /// beyond the widget's own two scripts.
    pub foreign_elements: usize,
    /// Every `href` of a link.
    pub hrefs: Vec<String>,
    /// Whether any injected code ran (it sets `__sfmcpXss`).
    pub script_ran: bool,
    /// Methods of the bridge messages the widget sent, in order.
    pub sent: Vec<String>,
}

impl Seen {
    /// Fails unless the frame shows `needle`, compared word by word (every run of whitespace —
    /// line breaks between blocks, tabs between cells — as one space) so layout does not matter.
    #[track_caller]
    pub fn assert_shows(&self, needle: &str) {
        assert!(
            words(&self.text).contains(&words(needle)),
            "{} does not show {needle:?}; it shows:\n{}",
            self.label,
            self.text
        );
    }
}

fn words(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The Chromium binary, or a failure that says how to install it.
fn chromium() -> PathBuf {
    let path = std::env::var_os("SFMCP_CHROMIUM")
        .map_or_else(|| PathBuf::from(DEFAULT_CHROMIUM), PathBuf::from);
    assert!(
        path.is_file(),
        "the widget tests need headless Chromium at {}: install it with `apt-get install -y chromium` \
         (.ci/run does), or set SFMCP_CHROMIUM to a Chromium binary",
        path.display()
    );
    path
}

/// JSON that can sit inside a `<script>` element: `<` never appears literally.
fn script_json(value: &Value) -> String {
    value.to_string().replace('<', "\\u003c")
}

const HOST_SCRIPT: &str = r#"
'use strict';
const box = document.getElementById('frames');
const reports = FRAMES.map(() => ({ sent: [] }));
const iframes = FRAMES.map((spec, i) => {
  const heading = document.createElement('h2');
  heading.textContent = spec.label;
  box.appendChild(heading);
  const frame = document.createElement('iframe');
  let html = spec.html;
  if (spec.feed === 'openai') {
    const inject = '<script>window.openai = ' +
      JSON.stringify({ toolOutput: spec.result.structuredContent, theme: 'light' }).replace(/</g, '\\u003c') +
      ';</' + 'script>';
    html = html.replace('<head>', '<head>' + inject);
  }
  if (spec.feed === 'hook') {
    frame.addEventListener('load', () => frame.contentWindow.sfmcpWidget.render(spec.result.structuredContent));
  }
  box.appendChild(frame);
  frame.srcdoc = html;
  return frame;
});
function reply(i, message) { iframes[i].contentWindow.postMessage(message, '*'); }
window.addEventListener('message', (event) => {
  const i = iframes.findIndex((f) => f.contentWindow === event.source);
  const msg = event.data;
  if (i < 0 || !msg || typeof msg !== 'object') return;
  reports[i].sent.push(msg.method || 'response');
  // Only MCP Apps frames get answers: elsewhere the handshake goes unanswered, as with a host
  // that does not speak MCP Apps.
  if (FRAMES[i].feed !== 'mcp-apps') return;
  if (msg.method === 'ui/initialize') {
    reply(i, { jsonrpc: '2.0', id: msg.id, result: {
      protocolVersion: '2026-01-26', hostInfo: { name: 'sfmcp-test-host', version: '1' },
      hostCapabilities: {}, hostContext: { theme: 'light', displayMode: 'inline' } } });
  } else if (msg.method === 'ui/notifications/initialized') {
    reply(i, { jsonrpc: '2.0', method: 'ui/notifications/tool-input', params: { arguments: FRAMES[i].arguments } });
    reply(i, { jsonrpc: '2.0', method: 'ui/notifications/tool-result', params: FRAMES[i].result });
  }
});
function state(frame) {
  const root = frame.contentDocument && frame.contentDocument.getElementById('root');
  return root ? root.getAttribute('data-state') : 'missing';
}
let polls = 0;
function finish() {
  polls += 1;
  if (iframes.some((f) => state(f) === 'waiting' || state(f) === 'missing') && polls < 200) {
    setTimeout(finish, 25);
    return;
  }
  const out = iframes.map((frame, i) => {
    const doc = frame.contentDocument;
    frame.style.height = (doc.documentElement.scrollHeight + 4) + 'px';
    return {
      label: FRAMES[i].label,
      state: state(frame),
      text: doc.getElementById('root').innerText,
      foreign: doc.body.querySelectorAll('img, iframe, object, embed, svg, script').length - 2,
      hrefs: Array.from(doc.querySelectorAll('a')).map((a) => a.getAttribute('href')).filter((h) => h !== null),
      ran: frame.contentWindow.__sfmcpXss === true || window.__sfmcpXss === true,
      sent: reports[i].sent,
    };
  });
  document.getElementById('probe').textContent = JSON.stringify(out);
}
setTimeout(finish, 25);
"#;

/// Renders `frames` on one page named `name`. `scratch` is the calling test's
/// `CARGO_TARGET_TMPDIR` (`target/tmp`, which only integration tests are given); the
/// screenshot is `target/widget-screenshots/{name}.png`.
pub async fn render(scratch: &Path, name: &str, frames: &[Frame]) -> Vec<Seen> {
    let chromium = chromium();
    let pages = scratch.join("widget-pages");
    let shots = scratch
        .parent()
        .expect("CARGO_TARGET_TMPDIR has a parent")
        .join("widget-screenshots");
    std::fs::create_dir_all(&pages).unwrap();
    std::fs::create_dir_all(&shots).unwrap();
    let specs: Vec<Value> = frames
        .iter()
        .map(|f| {
            json!({
                "label": f.label, "html": f.html, "feed": f.feed.id(),
                "result": f.result, "arguments": f.arguments
            })
        })
        .collect();
    let page = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{name}</title><style>\
body {{ margin: 0; background: #e9ecef; font-family: sans-serif; }} \
h2 {{ font: 600 12px sans-serif; color: #495057; margin: 10px 12px 4px; }} \
iframe {{ display: block; width: 960px; height: 200px; margin: 0 12px; border: 1px solid #ced4da; background: #fff; }}\
</style></head><body><div id=\"frames\"></div><pre id=\"probe\" hidden></pre>\
<script>const FRAMES = {};\n{HOST_SCRIPT}</script></body></html>\n",
        script_json(&Value::Array(specs))
    );
    let page_path = pages.join(format!("{name}.html"));
    std::fs::write(&page_path, page).unwrap();
    let profile = pages.join(format!("{name}.profile"));
    let _ = std::fs::remove_dir_all(&profile);
    let screenshot = shots.join(format!("{name}.png"));
    let height = 80 + 1100 * frames.len();
    let mut command = tokio::process::Command::new(&chromium);
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-extensions",
            "--no-first-run",
            "--hide-scrollbars",
            "--virtual-time-budget=10000",
            "--dump-dom",
        ])
        .arg(format!("--window-size=1000,{height}"))
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", screenshot.display()))
        .arg(format!("file://{}", page_path.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let output = tokio::time::timeout(RUN_LIMIT, command.output())
        .await
        .unwrap_or_else(|_| panic!("Chromium did not finish {name} within {RUN_LIMIT:?}"))
        .unwrap_or_else(|e| panic!("could not run {}: {e}", chromium.display()));
    let _ = std::fs::remove_dir_all(&profile);
    let dom = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "Chromium failed on {name} ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        screenshot.is_file(),
        "no screenshot at {}",
        screenshot.display()
    );
    let probe = dom
        .split_once("<pre id=\"probe\" hidden=\"\">")
        .and_then(|(_, rest)| rest.split_once("</pre>"))
        .map(|(probe, _)| unescape(probe))
        .unwrap_or_else(|| panic!("the page {name} never reported what it showed:\n{dom}"));
    let seen: Vec<Value> = serde_json::from_str(&probe)
        .unwrap_or_else(|e| panic!("bad report from {name} ({e}): {probe}"));
    seen.into_iter()
        .map(|s| Seen {
            label: s["label"].as_str().unwrap().to_owned(),
            state: s["state"].as_str().unwrap_or("missing").to_owned(),
            text: s["text"].as_str().unwrap_or_default().to_owned(),
            foreign_elements: s["foreign"].as_u64().unwrap() as usize,
            hrefs: s["hrefs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| h.as_str().unwrap().to_owned())
                .collect(),
            script_ran: s["ran"].as_bool().unwrap(),
            sent: s["sent"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m.as_str().unwrap().to_owned())
                .collect(),
        })
        .collect()
}

/// Text content as serialised by `--dump-dom` back to text.
fn unescape(html: &str) -> String {
    html.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&")
}
