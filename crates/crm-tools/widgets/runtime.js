// Shared by every sfmcp widget: where a tool result comes from (ChatGPT's window.openai, the MCP
// Apps postMessage bridge, or window.sfmcpWidget.render for previews and tests) and how values
// become text. Every value from a tool result reaches the page through textContent or a checked
// href, never parsed as HTML, so record data cannot become markup.
'use strict';
var sfmcp = (function () {
  var root = document.getElementById('root');
  var render = null;
  var shown = null;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function add(parent) {
    for (var i = 1; i < arguments.length; i++) {
      if (arguments[i]) parent.appendChild(arguments[i]);
    }
    return parent;
  }

  function blank(value) {
    return value === null || value === undefined || value === '';
  }

  // A value as text, '—' when absent.
  function show(value) {
    return blank(value) ? '—' : String(value);
  }

  function finite(value) {
    return typeof value === 'number' && isFinite(value);
  }

  // signDisplay 'negative': no "-0" for negative zero or what rounds to it.
  var wholeNumber = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0, signDisplay: 'negative' });
  var oneDecimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1, signDisplay: 'negative' });

  // Amounts in the org's currency, to whole units: 1234567.5 -> "1,234,568".
  function money(value) {
    return finite(value) ? wholeNumber.format(value) : '—';
  }

  function count(value) {
    return finite(value) ? wholeNumber.format(value) : '—';
  }

  function percent(value) {
    return finite(value) ? oneDecimal.format(value) + '%' : '—';
  }

  // Points and scores: at most one decimal, 12.25 -> "12.3".
  function decimal(value) {
    return finite(value) ? oneDecimal.format(value) : '—';
  }

  function plural(n, one, many) {
    return count(n) + ' ' + (n === 1 ? one : many);
  }

  var months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

  // A Salesforce date or datetime (UTC) as "Nov 25, 2026"; anything else as it came.
  function date(value) {
    var m = typeof value === 'string' && /^(\d{4})-(\d{2})-(\d{2})/.exec(value);
    if (!m || +m[2] < 1 || +m[2] > 12) return show(value);
    return months[+m[2] - 1] + ' ' + +m[3] + ', ' + m[1];
  }

  function safeUrl(href) {
    if (typeof href !== 'string') return false;
    try {
      var url = new URL(href);
      return url.protocol === 'https:' || url.protocol === 'http:';
    } catch (e) {
      return false;
    }
  }

  // A link to a record; plain text unless the URL is http(s) (no javascript: or data: links).
  function link(href, text) {
    if (!safeUrl(href)) return el('span', null, text);
    var a = el('a', null, text);
    a.href = href;
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
    a.addEventListener('click', function (event) {
      if (window.openai && typeof window.openai.openExternal === 'function') {
        event.preventDefault();
        window.openai.openExternal({ href: href });
      } else if (bridge.ready) {
        event.preventDefault();
        bridge.request('ui/open-link', { url: href });
      }
    });
    return a;
  }

  function badge(text, tone) {
    return blank(text) ? null : el('span', 'badge' + (tone ? ' ' + tone : ''), text);
  }

  // A definition list of [label, text] pairs, leaving out absent values.
  function facts(pairs) {
    var dl = el('dl', 'facts');
    pairs.forEach(function (pair) {
      if (blank(pair[1]) || pair[1] === '—') return;
      add(dl, el('dt', null, pair[0]), el('dd', null, pair[1]));
    });
    return dl;
  }

  function tile(label, value) {
    return add(el('div', 'tile'), el('div', 'label', label), el('div', 'value', value));
  }

  // A table: columns are [heading, cell(row) -> text or node, 'num' for numbers].
  function table(rows, columns) {
    var t = el('table');
    var head = add(el('thead'), el('tr'));
    columns.forEach(function (c) {
      head.firstChild.appendChild(el('th', c[2] || null, c[0]));
    });
    var body = el('tbody');
    rows.forEach(function (row) {
      var tr = el('tr');
      columns.forEach(function (c) {
        var value = c[1](row);
        var td = el('td', c[2] || null);
        if (value && typeof value === 'object') td.appendChild(value);
        else td.textContent = show(value);
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    return add(t, head, body);
  }

  function list(value) {
    return Array.isArray(value) ? value : [];
  }

  function clear() {
    while (root.firstChild) root.removeChild(root.firstChild);
  }

  function notice(text, tone) {
    clear();
    root.appendChild(el('p', 'notice' + (tone ? ' ' + tone : ''), text));
    root.setAttribute('data-state', tone || 'notice');
  }

  function paint(data) {
    if (!render) return;
    if (!data || typeof data !== 'object') {
      notice('No data to show.');
      return;
    }
    if (data === shown) return;
    shown = data;
    clear();
    try {
      render(data, root);
      root.setAttribute('data-state', 'rendered');
    } catch (e) {
      notice('This result could not be displayed.', 'error');
    }
  }

  // A CallToolResult from the MCP Apps bridge.
  function paintResult(result) {
    if (result && result.isError) {
      var first = list(result.content)[0];
      notice(first && typeof first.text === 'string' ? first.text : 'The tool failed.', 'error');
    } else {
      paint(result && result.structuredContent);
    }
  }

  function applyTheme(theme) {
    if (theme === 'dark' || theme === 'light') {
      document.documentElement.setAttribute('data-theme', theme);
    }
  }

  function applyStyles(styles) {
    var vars = styles && styles.variables;
    if (!vars || typeof vars !== 'object') return;
    Object.keys(vars).forEach(function (name) {
      // Only the MCP Apps standard custom properties, so a host cannot restyle anything else.
      if (/^--[a-z0-9-]+$/.test(name) && typeof vars[name] === 'string') {
        document.documentElement.style.setProperty(name, vars[name]);
      }
    });
  }

  function applyContext(context) {
    if (!context || typeof context !== 'object') return;
    applyTheme(context.theme);
    applyStyles(context.styles);
  }

  // The MCP Apps bridge: JSON-RPC over postMessage with the host (our parent frame only).
  var bridge = {
    ready: false,
    nextId: 1,
    initializeId: null,
    post: function (message) {
      window.parent.postMessage(message, '*');
    },
    request: function (method, params) {
      var id = bridge.nextId++;
      bridge.post({ jsonrpc: '2.0', id: id, method: method, params: params });
      return id;
    },
    notify: function (method, params) {
      bridge.post({ jsonrpc: '2.0', method: method, params: params });
    },
    start: function () {
      if (!window.parent || window.parent === window) return;
      window.addEventListener('message', bridge.receive);
      bridge.initializeId = bridge.request('ui/initialize', {
        protocolVersion: '2026-01-26',
        appInfo: { name: 'sfmcp-widget', version: '1' },
        appCapabilities: { availableDisplayModes: ['inline'] }
      });
    },
    receive: function (event) {
      if (event.source !== window.parent) return;
      var msg = event.data;
      if (!msg || typeof msg !== 'object' || msg.jsonrpc !== '2.0') return;
      if (msg.method === undefined) {
        if (msg.id === bridge.initializeId && msg.result) {
          bridge.ready = true;
          applyContext(msg.result.hostContext);
          bridge.notify('ui/notifications/initialized', {});
          bridge.watchSize();
        }
        return;
      }
      var params = msg.params || {};
      if (msg.method === 'ui/notifications/tool-result') {
        paintResult(params);
      } else if (msg.method === 'ui/notifications/tool-cancelled') {
        notice('The request was cancelled.');
      } else if (msg.method === 'ui/notifications/host-context-changed') {
        applyContext(params);
      } else if (msg.id !== undefined && (msg.method === 'ui/resource-teardown' || msg.method === 'ping')) {
        bridge.post({ jsonrpc: '2.0', id: msg.id, result: {} });
      }
    },
    watchSize: function () {
      if (typeof ResizeObserver !== 'function') return;
      var last = '';
      new ResizeObserver(function () {
        var width = Math.ceil(document.documentElement.scrollWidth);
        var height = Math.ceil(document.documentElement.scrollHeight);
        var size = width + 'x' + height;
        if (size !== last) {
          last = size;
          bridge.notify('ui/notifications/size-changed', { width: width, height: height });
        }
      }).observe(document.body);
    }
  };

  // ChatGPT (Apps SDK): window.openai.toolOutput is the structuredContent; it is replaced, with an
  // openai:set_globals event, when the widget is re-used for a new result.
  function fromOpenAi() {
    var openai = window.openai;
    if (!openai || typeof openai !== 'object') return;
    applyTheme(openai.theme);
    if (openai.toolOutput) paint(openai.toolOutput);
  }

  // Called once by the widget's own script with its render(data, root) function.
  function mount(renderFn) {
    render = renderFn;
    window.sfmcpWidget = { render: paint };
    window.addEventListener('openai:set_globals', fromOpenAi);
    fromOpenAi();
    bridge.start();
  }

  return {
    el: el, add: add, show: show, money: money, count: count, percent: percent, decimal: decimal, plural: plural,
    date: date, link: link, badge: badge, facts: facts, tile: tile, table: table, list: list,
    blank: blank, finite: finite, mount: mount
  };
})();
